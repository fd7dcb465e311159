"""RFC 3161 time stamps against a local TSA (http.server on 127.0.0.1, SM2 demo TSA key)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2
from app.gm.sm3 import sm3
from app.pdfsign import KeywordPlacement, Seal, SealOptions, seal_pdf
from app.pdfsign.errors import TimestampError
from app.pdfsign.timestamp import OID_TIMESTAMP_TOKEN, build_request, parse_token, request_timestamp
from tests.pdfsign.conftest import KEYWORD, sha256, signatures_in


def _tsa_token(tst_der: bytes, cert, key) -> bytes:
    """SignedData{TSTInfo} signed with SM2 the way app.gm.cms signs (signed attrs, default ID)."""
    ess = tsp.SigningCertificateV2({"certs": [{
        "hash_algorithm": {"algorithm": oids.SM3}, "cert_hash": sm3(cert.der),
    }]})
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [sm3(tst_der)]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
    ])
    attrs_der = attrs.dump(force=True)
    sig = sm2.sign_digest(key, sm2.compute_e(key.public_key, attrs_der))
    si = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value=cms.IssuerAndSerialNumber({
            "issuer": cert.asn1["tbs_certificate"]["issuer"], "serial_number": cert.serial_number})),
        "digest_algorithm": {"algorithm": oids.SM3},
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": oids.SM2_WITH_SM3}),
        "signature": sig,
    })
    sd = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": oids.SM3}],
        "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_der)},
        "certificates": [cms.CertificateChoices(name="certificate", value=asn1_x509.Certificate.load(cert.der))],
        "signer_infos": [si],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump()


class LocalTSA:
    def __init__(self, pki) -> None:
        self.pki = pki
        self.requests: list[bytes] = []
        self.mode = "ok"
        self.serial = 0
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                tsa.requests.append(body)
                reply = tsa.answer(body, self.headers.get("Content-Type"))
                self.send_response(200 if tsa.mode != "http500" else 500)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, body: bytes, ctype: str | None) -> bytes:
        req = tsp.TimeStampReq.load(body)
        if self.mode == "reject" or ctype != "application/timestamp-query":
            return tsp.TimeStampResp({"status": {"status": "rejection",
                                                 "status_string": ["policy refused"]}}).dump()
        self.serial += 1
        imprint = req["message_imprint"]
        if self.mode == "wrong-imprint":
            imprint = {"hash_algorithm": {"algorithm": oids.SM3}, "hashed_message": b"\x01" * 32}
        tst = tsp.TSTInfo({
            "version": "v1", "policy": "1.2.156.1.2.3", "message_imprint": imprint,
            "serial_number": self.serial, "gen_time": datetime.now(UTC).replace(microsecond=0),
            "nonce": req["nonce"].native if self.mode != "wrong-nonce" else 42,
        })
        token = _tsa_token(tst.dump(), self.pki.tsa_cert, self.pki.tsa_key)
        return tsp.TimeStampResp({"status": {"status": "granted"},
                                  "time_stamp_token": cms.ContentInfo.load(token)}).dump()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_tsa(pki):
    tsa = LocalTSA(pki)
    yield tsa
    tsa.close()


def _cms_of(path):
    _br, der = signatures_in(path)[-1]
    return cms.ContentInfo.load(der)


def test_timestamp_is_off_by_default(tmp_path, bid_pdf, signer, seal_png, local_tsa):
    seal_pdf(bid_pdf, tmp_path / "o.pdf", signer, [Seal(KeywordPlacement(KEYWORD), seal_png)])
    assert local_tsa.requests == []


def test_seal_with_timestamp_from_local_tsa(tmp_path, bid_pdf, signer, seal_png, local_tsa, pki,
                                           validate_pyhanko):
    out = tmp_path / "o.pdf"
    res = seal_pdf(bid_pdf, out, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
                   options=SealOptions(timestamp_url=local_tsa.url))
    assert res.seals[0].timestamped and len(local_tsa.requests) == 1
    req = tsp.TimeStampReq.load(local_tsa.requests[0])
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].dotted == oids.SM3
    assert req["cert_req"].native is True

    ci = _cms_of(out)
    si = ci["content"]["signer_infos"][0]
    attrs = {a["type"].dotted: a for a in si["unsigned_attrs"]}
    assert OID_TIMESTAMP_TOKEN in attrs
    token = attrs[OID_TIMESTAMP_TOKEN]["values"][0].dump()
    info = parse_token(token, sm3(bytes(si["signature"].native)))
    assert info.serial_number == 1

    # the verifier sees a valid, trusted timestamp; pyHanko still validates the signature
    from app.pdfsign.verify import verify_pdf

    report = verify_pdf(out, trust_roots=[pki.root_cert])
    sig = report.signatures[0]
    assert sig.status == "valid", sig.reasons
    assert sig.timestamp is not None and sig.timestamp.valid and sig.timestamp.trusted
    assert sig.signing_time_source == "timestamp"
    results = validate_pyhanko(out, [pki.root_cert])
    assert results[0]["intact"] and results[0]["valid"]


@pytest.mark.parametrize("mode", ["reject", "wrong-imprint", "wrong-nonce", "http500"])
def test_bad_tsa_answer_leaves_no_output(tmp_path, bid_pdf, signer, seal_png, local_tsa, mode):
    local_tsa.mode = mode
    before = sha256(bid_pdf)
    out = tmp_path / "o.pdf"
    with pytest.raises(TimestampError) as ei:
        seal_pdf(bid_pdf, out, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
                 options=SealOptions(timestamp_url=local_tsa.url))
    assert ei.value.code == "ERR_TIMESTAMP"
    assert not out.exists() and sha256(bid_pdf) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf"]


def test_unreachable_tsa(tmp_path, bid_pdf, signer, seal_png):
    out = tmp_path / "o.pdf"
    with pytest.raises(TimestampError):
        seal_pdf(bid_pdf, out, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
                 options=SealOptions(timestamp_url="http://127.0.0.1:9/tsa", timestamp_timeout=2))
    assert not out.exists()


def test_request_timestamp_directly(local_tsa):
    token = request_timestamp(local_tsa.url, b"signature-bytes")
    info = parse_token(token, sm3(b"signature-bytes"))
    assert info.tsa_name and info.gen_time.tzinfo is not None
    req = tsp.TimeStampReq.load(build_request(b"\0" * 32, 7))
    assert req["nonce"].native == 7 and isinstance(req["message_imprint"]["hashed_message"], core.OctetString)

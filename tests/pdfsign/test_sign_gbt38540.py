"""Sealing in GB/T 38540 format (/SubFilter /GM.sm2seal, an SES_Signature in /Contents)
and verifying it with the same byte-range, coverage and change rules as CMS seals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pymupdf
import pytest

from app.demo.pki import CertificateAuthority
from app.demo.ses_maker import make_demo_seal
from app.gm import sm2
from app.gm.ses import SESBindingError, SESMakerSignatureError, SESSignature
from app.gm.ses.signature import der_prefix
from app.pdfsign import RectPlacement, Seal, SealOptions, seal_pdf
from app.pdfsign.verify import verify_pdf
from tests.pdfsign.conftest import issue_signer


def _contents(pdf: bytes) -> bytes:
    start = pdf.rindex(b"/Contents<") + len(b"/Contents<")
    return bytes.fromhex(pdf[start:pdf.index(b">", start)].decode())


@pytest.fixture(scope="module")
def ses_seal(pki, seal_png):
    return make_demo_seal(pki.root, [pki.sign_cert], seal_png)


@pytest.fixture
def sealed(tmp_path: Path, bid_pdf: Path, signer, seal_png, ses_seal) -> Path:
    out = tmp_path / "gbt.pdf"
    seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(1, (300, 600, 420, 720)), seal_png)],
             options=SealOptions(ses_seal=ses_seal))
    return out


def test_gbt38540_seal_verifies_and_decodes(sealed: Path, pki, ses_seal) -> None:
    data = sealed.read_bytes()
    assert b"/SubFilter/GM.sm2seal" in data
    sig = SESSignature.decode(der_prefix(_contents(data)))
    assert sig.seal.der == ses_seal.der and sig.signer_certificate == pki.sign_cert
    report = verify_pdf(sealed, trust_roots=[pki.root_cert])
    (s,) = report.signatures
    assert s.sub_filter == "GM.sm2seal" and s.integrity and s.coverage == "entire_file", s.reasons
    assert s.status in ("valid", "untrusted") and s.trusted, [r.code for r in s.reasons]
    assert not [r for r in s.reasons if r.severity.value == "invalid"]
    assert s.signing_time_source == "signing_time" and s.modification == "none"
    assert s.oid_family == "GB/T 38540 V4" and s.signer_cn == pki.sign_cert.common_name
    (untrusted,) = verify_pdf(sealed).signatures
    assert {"SES_MAKER_UNTRUSTED", "NO_TRUST_ROOTS"} <= {r.code for r in untrusted.reasons}
    assert untrusted.integrity
    # the page renders and the widget is there
    with pymupdf.open(sealed) as doc:
        assert any(w.field_type == pymupdf.PDF_WIDGET_TYPE_SIGNATURE for w in doc[1].widgets())


def _codes(path: Path, pki) -> set[str]:
    (s,) = verify_pdf(path, trust_roots=[pki.root_cert]).signatures
    assert s.status == "invalid"
    return {r.code for r in s.reasons}


def test_changed_signed_byte_is_a_digest_mismatch(tmp_path: Path, sealed: Path, pki) -> None:
    data = bytearray(sealed.read_bytes())
    pos = data.index(b"/MediaBox")
    data[pos + 1] ^= 0x20  # /mediaBox: one signed byte
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    assert "DIGEST_MISMATCH" in _codes(bad, pki)


def test_appended_page_content_is_a_modification(tmp_path: Path, sealed: Path, pki) -> None:
    later = tmp_path / "later.pdf"
    shutil.copy(sealed, later)
    doc = pymupdf.open(later)
    doc[0].insert_text((72, 72), "price 9,000,000")
    doc.saveIncr()
    doc.close()
    assert "MODIFIED_AFTER_SIGNING" in _codes(later, pki)


def _replace_contents(src: Path, dst: Path, der: bytes) -> None:
    data = src.read_bytes()
    start = data.rindex(b"/Contents<") + len(b"/Contents<")
    end = data.index(b">", start)
    hexed = der.hex().upper().encode().ljust(end - start, b"0")
    assert len(hexed) == end - start
    dst.write_bytes(data[:start] + hexed + data[end:])


def test_seal_altered_and_resigned_by_the_signer_is_caught(tmp_path: Path, sealed: Path, pki, signer) -> None:
    """The bidder swaps the seal picture inside the SES_Signature and re-signs TBS with his own
    key (he has it): his signature verifies, the maker's does not."""
    from app.gm.ses import SESeal, build_signature

    sig = SESSignature.decode(der_prefix(_contents(sealed.read_bytes())))
    seal_der = bytearray(sig.seal.der)
    pos = seal_der.index(sig.seal.picture[-30:])
    seal_der[pos] ^= 1
    forged = build_signature(SESeal.decode(bytes(seal_der)), None, pki.sign_cert.der,
                             lambda m: sm2.sign(pki.sign_key, m), property_info=sig.property_info,
                             signing_time=sig.signing_time, data_hash=sig.data_hash)
    bad = tmp_path / "forged.pdf"
    _replace_contents(sealed, bad, forged.der)
    assert "SES_SEAL_INVALID" in _codes(bad, pki)


def test_signer_not_holder_is_refused_before_signing(tmp_path: Path, bid_pdf: Path, pki, seal_png, ses_seal) -> None:
    other = issue_signer(pki)
    with pytest.raises(SESBindingError):
        seal_pdf(bid_pdf, tmp_path / "x.pdf", other, [Seal(RectPlacement(1, (300, 600, 420, 720)), seal_png)],
                 options=SealOptions(ses_seal=ses_seal))
    assert not (tmp_path / "x.pdf").exists()


def test_seal_of_another_holder_in_a_pdf_is_not_bound(tmp_path: Path, sealed: Path, pki, seal_png) -> None:
    """A valid seal made for someone else, used by this signer: SES_SEAL_NOT_BOUND."""
    from app.gm.ses import build_signature

    sig = SESSignature.decode(der_prefix(_contents(sealed.read_bytes())))
    other = issue_signer(pki)
    foreign_seal = make_demo_seal(pki.root, [other.certificate], seal_png)
    forged = build_signature(foreign_seal, None, pki.sign_cert.der, lambda m: sm2.sign(pki.sign_key, m),
                             property_info=sig.property_info, signing_time=sig.signing_time, data_hash=sig.data_hash)
    bad = tmp_path / "foreign.pdf"
    _replace_contents(sealed, bad, forged.der)
    assert "SES_SEAL_NOT_BOUND" in _codes(bad, pki)


def test_forged_maker_is_refused_before_signing(tmp_path: Path, bid_pdf: Path, pki, signer, seal_png) -> None:
    fake = CertificateAuthority(pki.root_cert, sm2.PrivateKey.generate())
    with pytest.raises(SESMakerSignatureError):
        seal_pdf(bid_pdf, tmp_path / "x.pdf", signer, [Seal(RectPlacement(1, (300, 600, 420, 720)), seal_png)],
                 options=SealOptions(ses_seal=make_demo_seal(fake, [pki.sign_cert], seal_png)))


def test_openssl_independently_checks_the_pdf_ses_signature(tmp_path: Path, sealed: Path, pki) -> None:
    """OpenSSL 3 (not our code): the signer's SM2 signature over TBS_Sign (GM/T 0009 ID), the
    maker's over eSealInfo, and dataHash = SM3 of the /ByteRange bytes."""
    from tests.gm.conftest_pki import openssl

    data = sealed.read_bytes()
    sig = SESSignature.decode(der_prefix(_contents(data)))
    (tmp_path / "signer.pem").write_bytes(sig.signer_certificate.pem)
    (tmp_path / "maker.pem").write_bytes(sig.seal.maker_certificate.pem)
    (tmp_path / "tbs.der").write_bytes(sig.tbs_der)
    (tmp_path / "tbs.sig").write_bytes(sig.signature)
    (tmp_path / "info.der").write_bytes(sig.seal.seal_info_der)
    (tmp_path / "seal.sig").write_bytes(sig.seal.signed_value)
    for cert, msg, sig_file in (("signer.pem", "tbs.der", "tbs.sig"), ("maker.pem", "info.der", "seal.sig")):
        openssl("x509", "-in", tmp_path / cert, "-pubkey", "-noout", "-out", tmp_path / (cert + ".pub"))
        proc = openssl("pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / (cert + ".pub"), "-rawin",
                       "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", tmp_path / msg,
                       "-sigfile", tmp_path / sig_file, check=False)
        assert proc.returncode == 0 and "Signature Verified Successfully" in proc.stdout, proc.stdout + proc.stderr
    # a changed TBS byte: OpenSSL refuses too
    (tmp_path / "tbs.der").write_bytes(sig.tbs_der[:-1] + bytes([sig.tbs_der[-1] ^ 1]))
    proc = openssl("pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "signer.pem.pub", "-rawin",
                   "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", tmp_path / "tbs.der",
                   "-sigfile", tmp_path / "tbs.sig", check=False)
    assert proc.returncode != 0
    start = data.index(b"/ByteRange[") + len(b"/ByteRange[")
    a, b, c, n = (int(x) for x in data[start:data.index(b"]", start)].split())
    (tmp_path / "ranges.bin").write_bytes(data[a:a + b] + data[c:c + n])
    out = openssl("dgst", "-sm3", "-r", tmp_path / "ranges.bin").stdout.split()[0]
    assert bytes.fromhex(out) == sig.data_hash


def test_ses_is_told_from_cms_by_structure(tmp_path: Path, bid_pdf: Path, signer, seal_png, sealed: Path) -> None:
    """An SES_Signature under adbe.pkcs7.detached (reported vendor practice) is recognised by
    its shape; a CMS ContentInfo never is, so the CMS path is unchanged."""
    from app.gm.ses.signature import looks_like_ses_signature

    cms_pdf = tmp_path / "cms.pdf"
    seal_pdf(bid_pdf, cms_pdf, signer, [Seal(RectPlacement(1, (300, 600, 420, 720)), seal_png)])
    assert not looks_like_ses_signature(_contents(cms_pdf.read_bytes()))
    assert looks_like_ses_signature(_contents(sealed.read_bytes()))
    assert not looks_like_ses_signature(b"\x30\x80") and not looks_like_ses_signature(b"")

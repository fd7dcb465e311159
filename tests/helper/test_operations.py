"""The operations end to end over real HTTP on 127.0.0.1 (software key, scripted consent)."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pymupdf
import pytest

from app.authtoken import MemoryNonceStore, TokenVerifier
from app.demo.pki import DemoPKI
from app.envelope import encrypt_file
from app.envelope.rewrap import decrypt_rewrapped, read_head
from app.gm import cms
from app.helper.consent import Decision, ScriptedConsent
from app.helper.keys import SoftwareKeys
from app.helper.review import ScriptedReview
from app.pdfsign.verify import verify_pdf
from tests.helper.conftest import HUB, Running, start_helper


def test_certificates_lists_the_key(helper: Running, pki: DemoPKI) -> None:
    r = helper.post("certificates")
    assert r.status_code == 200
    (c,) = r.json()["certificates"]
    assert c["unitCode"] == pki.sign_cert.unit_code
    assert c["signCertificate"]["serial"] == pki.sign_cert.serial_hex
    assert c["encCertificate"]["serial"] == pki.enc_cert.serial_hex
    assert c["seals"] == ["company"]
    assert helper.consent.asked == []  # listing needs no consent


def test_login_token_verifies_at_the_hub(helper: Running, pki: DemoPKI) -> None:
    nonces = MemoryNonceStore()
    nonce = nonces.issue()
    r = helper.post("login", {"nonce": nonce})
    assert r.status_code == 200, r.text
    login = TokenVerifier(HUB, [pki.root_cert], nonces).verify(r.json(), nonce)
    assert login.certificate == pki.sign_cert
    (asked,) = helper.consent.asked
    assert asked.operation == "login" and asked.origin.origin == HUB and asked.origin.domain == "example.cn"
    lines = [json.loads(x) for x in helper.audit_path.read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["operation"] == "login" and lines[-1]["result"] == "ok"
    assert lines[-1]["certificate"] == pki.sign_cert.serial_hex
    assert nonce not in helper.audit_path.read_text(encoding="utf-8")


def test_login_refused_by_the_bidder(helper: Running) -> None:
    helper.consent.then(Decision(False))
    r = helper.post("login", {"nonce": "N" * 44})
    assert r.status_code == 403 and r.json()["error"]["code"] == "ERR_USER_CANCELLED"
    assert r.headers["access-control-allow-origin"] == HUB


def test_login_with_an_unknown_certificate_id(helper: Running) -> None:
    r = helper.post("login", {"nonce": "N" * 44, "certificate": "0" * 32})
    assert r.json()["error"]["code"] == "ERR_CERT_NOT_FOUND"
    assert helper.consent.asked == []


def test_decrypt_short_ciphertext(helper: Running, pki: DemoPKI) -> None:
    der = cms.envelope("开标一览表：报价 1,234,567.00 元".encode(), [pki.enc_cert])
    r = helper.post("decrypt", {"kind": "cms", "ciphertext": base64.b64encode(der).decode(), "taskId": "T-1"})
    assert r.status_code == 200, r.text
    assert base64.b64decode(r.json()["plaintext"]).decode() == "开标一览表：报价 1,234,567.00 元"


def test_decrypt_ciphertext_for_someone_else_asks_nothing(helper: Running, hub_pki: DemoPKI) -> None:
    der = cms.envelope(b"secret", [hub_pki.enc_cert])
    r = helper.post("decrypt", {"kind": "cms", "ciphertext": base64.b64encode(der).decode()})
    assert r.json()["error"]["code"] == "ERR_CERT_MISMATCH"
    assert helper.consent.asked == []


def _envelope(tmp_path: Path, pki: DemoPKI, project: str) -> tuple[Path, bytes]:
    plain = os.urandom(100_000)
    src = tmp_path / "bid.pdf"
    src.write_bytes(plain)
    env = tmp_path / "bid.bse"
    encrypt_file(src, env, [pki.enc_cert, pki.emergency_cert], project_id=project)
    return env, plain


def test_decrypt_envelope_head_rewraps_to_the_hub(helper: Running, pki: DemoPKI, hub_pki: DemoPKI,
                                                   tmp_path: Path) -> None:
    env, plain = _envelope(tmp_path, pki, "LNGG-2026-001")
    head = read_head(env)
    r = helper.post("decrypt", {"kind": "envelope-head", "head": base64.b64encode(head).decode(),
                                "project": "LNGG-2026-001"})
    assert r.status_code == 200, r.text
    assert r.json()["hubCertificateSerial"] == hub_pki.enc_cert.serial_hex
    rewrapped = base64.b64decode(r.json()["rewrappedKey"])
    decrypt_rewrapped(env, tmp_path / "out.pdf", rewrapped, hub_pki.unwrapper())
    assert (tmp_path / "out.pdf").read_bytes() == plain
    facts = {f.en: f.value for f in helper.consent.asked[0].facts}
    assert facts["Project / section"] == "LNGG-2026-001"
    assert pki.emergency_cert.serial_hex in facts["Envelope recipients"]


@pytest.mark.parametrize(("project", "claimed"), [
    ("OTHER-2026-001", "OTHER-2026-001"),   # another hub's project
    ("LNGG-2026-001", "LNGG-2026-002"),     # page claims another project than the envelope's
])
def test_decrypt_envelope_of_another_project_is_refused(helper: Running, pki: DemoPKI, tmp_path: Path,
                                                        project: str, claimed: str) -> None:
    env, _ = _envelope(tmp_path, pki, project)
    r = helper.post("decrypt", {"kind": "envelope-head", "head": base64.b64encode(read_head(env)).decode(),
                                "project": claimed})
    assert r.json()["error"]["code"] == "ERR_PROJECT_MISMATCH"
    assert helper.consent.asked == []


def test_sign_pdf_seals_exactly_the_upload(helper: Running, pki: DemoPKI, tmp_path: Path) -> None:
    pdf = Path(__file__).resolve().parents[2] / "resources" / "samples" / "bid-sample.pdf"
    data = pdf.read_bytes()
    with helper.client(**{"Content-Type": "application/pdf"}) as c:
        r = c.post("/v1/sign-pdf", params={"keyword": "投标人（盖章）", "fileName": "bid.pdf"}, content=data)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    signed = r.content
    assert signed.startswith(data) and len(signed) > len(data)
    out = tmp_path / "signed.pdf"
    out.write_bytes(signed)
    report = verify_pdf(out, trust_roots=[pki.root_cert])
    assert report.signatures and all(s.status.name == "VALID" for s in report.signatures), report
    (req,) = helper.review.requests
    assert req.hints.keyword == "投标人（盖章）" and req.page_count == pymupdf.open(pdf).page_count
    # The spool file goes in the request's `finally`, just after the last byte of the answer
    # was sent: give the server's event loop its turn before looking.
    deadline = time.monotonic() + 5
    while req.pdf_path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not req.pdf_path.exists()  # the spool file is gone


def test_sign_pdf_swapped_after_review_is_refused(tmp_path: Path, pki: DemoPKI, seal_png: bytes) -> None:
    pdf = Path(__file__).resolve().parents[2] / "resources" / "samples" / "bid-sample.pdf"

    def swap(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[-10] ^= 1
        path.write_bytes(bytes(data))

    keys = SoftwareKeys(pki.signer(), pki.unwrapper(), seals={"company": seal_png})
    running = start_helper(tmp_path, keys, review=ScriptedReview(tamper=swap))
    try:
        with running.client(**{"Content-Type": "application/pdf"}) as c:
            r = c.post("/v1/sign-pdf", content=pdf.read_bytes())
        assert r.json()["error"]["code"] == "ERR_INVALID_DATA"
    finally:
        running.server.stop()


def test_sign_pdf_refused_review_signs_nothing(tmp_path: Path, pki: DemoPKI, seal_png: bytes) -> None:
    pdf = Path(__file__).resolve().parents[2] / "resources" / "samples" / "bid-sample.pdf"
    keys = SoftwareKeys(pki.signer(), pki.unwrapper(), seals={"company": seal_png})
    running = start_helper(tmp_path, keys, review=ScriptedReview(approve=False))
    try:
        with running.client(**{"Content-Type": "application/pdf"}) as c:
            r = c.post("/v1/sign-pdf", content=pdf.read_bytes())
        assert r.json()["error"]["code"] == "ERR_USER_CANCELLED"
    finally:
        running.server.stop()


@pytest.mark.parametrize("body", [b"%PDF-1.7 not really", os.urandom(5000), b""])
def test_sign_pdf_garbage_is_invalid_data(helper: Running, body: bytes) -> None:
    with helper.client(**{"Content-Type": "application/pdf"}) as c:
        r = c.post("/v1/sign-pdf", content=body)
    assert r.json()["error"]["code"] == "ERR_INVALID_DATA"
    assert helper.consent.asked == []


def test_consent_picks_among_several(helper: Running) -> None:
    helper.consent.then(Decision(True, certificate=5))
    r = helper.post("login", {"nonce": "N" * 44})
    assert r.json()["error"]["code"] == "ERR_CERT_NOT_FOUND"


def test_refusing_consent_three_times_pauses_the_origin(helper: Running) -> None:
    helper.consent.default = Decision(False)
    for _ in range(3):
        assert helper.post("login", {"nonce": "N" * 44}).json()["error"]["code"] == "ERR_USER_CANCELLED"
    r = helper.post("login", {"nonce": "N" * 44})
    assert r.status_code == 429 and r.json()["error"]["code"] == "ERR_TOO_MANY_CANCELS"
    assert len(helper.consent.asked) == 3
    assert helper.post("status").status_code == 200  # listing and status still work


def test_scripted_consent_records_the_project(helper: Running) -> None:
    assert isinstance(helper.consent, ScriptedConsent)


class WindowSignsReview(ScriptedReview):
    """Like the GUI's sealing workspace: the front end seals the reviewed file itself and
    hands back the signed file (``forge`` replaces it with another document instead;
    ``signer_pki`` seals with another key than the one the bidder consented to)."""

    def __init__(self, pki: DemoPKI, seal_png: bytes, forge: bool = False, signer_pki: DemoPKI | None = None) -> None:
        super().__init__()
        self.pki, self.seal_png, self.forge = signer_pki or pki, seal_png, forge

    async def review(self, request):  # type: ignore[no-untyped-def]
        from app.helper.review import ReviewResult, placement_for
        from app.pdfsign import Seal, seal_pdf

        self.requests.append(request)
        out = request.pdf_path.with_name(request.pdf_path.name + ".window.pdf")
        src = request.pdf_path
        if self.forge:
            doc = pymupdf.open()
            doc.new_page().insert_text((72, 72), "another bid")
            src = request.pdf_path.with_name("forged.pdf")
            doc.save(src)
        seal_pdf(src, out, self.pki.signer(), [Seal(placement_for(request), self.seal_png)])
        return ReviewResult(True, signed_pdf=out)


@pytest.mark.parametrize("case", ["consented key", "forged document", "another key"])
def test_sign_pdf_sealed_by_the_window(tmp_path: Path, pki: DemoPKI, hub_pki: DemoPKI, seal_png: bytes,
                                       case: str) -> None:
    # The window seals with the key selected in its own panel; a file sealed with any other
    # certificate than the consented one must not reach the page.
    pdf = Path(__file__).resolve().parents[2] / "resources" / "samples" / "bid-sample.pdf"
    keys = SoftwareKeys(pki.signer(), pki.unwrapper(), seals={"company": seal_png})
    review = WindowSignsReview(pki, seal_png, forge=case == "forged document",
                               signer_pki=hub_pki if case == "another key" else None)
    running = start_helper(tmp_path, keys, review=review)
    try:
        with running.client(**{"Content-Type": "application/pdf"}) as c:
            r = c.post("/v1/sign-pdf", content=pdf.read_bytes())
        if case != "consented key":
            assert r.json()["error"]["code"] == "ERR_INVALID_DATA"
        else:
            assert r.status_code == 200 and r.content.startswith(pdf.read_bytes())
        assert len(running.review.requests) == 1
    finally:
        running.server.stop()

"""Verifier: valid signatures, the report, garbage input and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli.main import main as cli_main
from app.gm import oids
from app.pdfsign.pdfstructure import (
    NotAPdfError,
    PdfReadError,
    PdfStructureError,
    PdfTruncatedError,
)
from app.pdfsign.verify import VerificationCancelled, verify_pdf
from tests.pdfsign import verify_fixtures as vf


@pytest.fixture(scope="module")
def two_sigs(signed: bytes) -> bytes:
    return vf.sign_pdf(signed, None, vf.SignOptions(field_name="Sig2", pages=(1,)))


# -- valid signatures -----------------------------------------------------------------------


def test_single_signature_is_valid_and_reports_signer(signed: bytes, roots: list) -> None:
    r = verify_pdf(signed, trust_roots=roots)
    assert r.status == "valid" and r.all_valid
    (sig,) = r.signatures
    p = vf.pki()
    assert sig.status == "valid", sig.reasons
    assert sig.field_name == "Sig1"
    assert sig.pages == [1]
    assert sig.coverage == "entire_file"
    assert sig.modification == "none"
    assert sig.signer_cn == p.sign_cert.common_name
    assert sig.unit_name == p.sign_cert.unit_name
    assert sig.unit_code == p.sign_cert.unit_code and sig.unit_code
    assert sig.certificate_serial == p.sign_cert.serial_hex
    assert "BidSeal Demo Root CA" in (sig.issuer or "")
    assert sig.signing_time is not None and sig.signing_time_source == "signing_time"
    assert sig.reason == "投标" and sig.location == "Shenyang"
    assert sig.sm2_id == "default" and sig.oid_family == "pkcs7"
    assert sig.integrity and sig.trusted
    # the test PKI is the demo CA: reported as such, and nothing else
    assert [r.code for r in sig.reasons] == ["DEMO_CERTIFICATE"] and sig.demo


def test_two_successive_signatures_first_reports_signature_added(two_sigs: bytes, roots: list) -> None:
    r = verify_pdf(two_sigs, trust_roots=roots)
    assert r.status == "valid"
    first, second = r.signatures
    assert [first.field_name, second.field_name] == ["Sig1", "Sig2"]
    assert first.status == second.status == "valid"
    assert first.coverage == "entire_revision" and first.signed_revision == 2
    assert first.modification == "signature_added"
    assert second.coverage == "entire_file" and second.modification == "none"
    assert second.pages == [2]


def test_cross_page_signature_lists_every_page(roots: list) -> None:
    data = vf.sign_pdf(vf.make_pdf(pages=3), None, vf.SignOptions(pages=(0, 1, 2)))
    r = verify_pdf(data, trust_roots=roots)
    (sig,) = r.signatures
    assert sig.status == "valid", sig.reasons
    assert sig.pages == [1, 2, 3]
    assert sig.widget_count == 3


def test_gm_oid_family_is_accepted(roots: list) -> None:
    data = vf.signed_pdf(content_type_oids="gm", signature_oid=oids.SM2_SIGN)
    (sig,) = verify_pdf(data, trust_roots=roots).signatures
    assert sig.status == "valid", sig.reasons
    assert sig.oid_family == "gm"
    assert sig.signature_algorithm == "sm2-1"


def test_empty_sm2_id_is_accepted_and_flagged(roots: list) -> None:
    data = vf.signed_pdf(uid=b"")
    (sig,) = verify_pdf(data, trust_roots=roots).signatures
    assert sig.status == "valid"
    assert sig.sm2_id == "empty"
    assert [r.code for r in sig.reasons] == ["EMPTY_SM2_ID", "DEMO_CERTIFICATE"]
    assert {r.severity for r in sig.reasons} == {"info"}


def test_form_filled_after_an_approval_signature_is_modified(roots: list, tmp_path: Path) -> None:
    """Deliberately stricter than pyHanko (which says FORM_FILLING): after an approval
    signature a reader would see a value the signer never signed ("seal one price, show
    another", and the Hide/Replace shadow attacks via form fields)."""
    path = tmp_path / "form.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions()))
    vf.fill_text_field(path, "1000000")
    (sig,) = verify_pdf(path, trust_roots=roots).signatures
    assert sig.modification == "modified" and sig.status == "invalid"
    assert [c["code"] for c in sig.changes] == ["form_changed"], sig.changes


@pytest.mark.parametrize("p", [2, 3])
def test_form_filled_after_a_certification_that_permits_it_is_allowed(roots: list, tmp_path: Path,
                                                                       p: int) -> None:
    path = tmp_path / "form.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions(docmdp=p)))
    vf.fill_text_field(path, "1000000")
    (sig,) = verify_pdf(path, trust_roots=roots).signatures
    assert sig.kind == "certification" and sig.modification == "form_filled", sig.changes
    assert sig.status == "valid", sig.reasons
    assert "form fields filled in" in sig.modification_text("en")


def test_report_json_has_stable_keys(two_sigs: bytes, roots: list) -> None:
    d = verify_pdf(two_sigs, trust_roots=roots).to_dict()
    json.dumps(d, ensure_ascii=False, default=str)
    assert set(d) == {"file", "size", "status", "revision_count", "signature_count", "reasons", "signatures",
                      "demo"}
    s = d["signatures"][0]
    for key in ("field_name", "status", "reasons", "pages", "signer", "signing_time", "coverage",
                "modification", "sm2_id", "oid_family", "byte_range", "reason", "location", "demo"):
        assert key in s
    assert set(s["signer"]) >= {"common_name", "unit_name", "unit_code", "certificate_serial", "issuer"}


def test_text_report_is_chinese_first_with_english_available(signed: bytes, roots: list) -> None:
    r = verify_pdf(signed, trust_roots=roots)
    assert "签名 1" in r.to_text() and "有效" in r.to_text()
    en = r.to_text("en")
    assert "Signature 1" in en and "valid" in en and "签名 1" not in en


def test_file_object_and_path_inputs(signed: bytes, roots: list, tmp_path: Path) -> None:
    path = tmp_path / "s.pdf"
    path.write_bytes(signed)
    assert verify_pdf(path, trust_roots=roots).status == "valid"
    assert verify_pdf(str(path), trust_roots=roots).status == "valid"
    with open(path, "rb") as f:
        assert verify_pdf(f, trust_roots=roots).status == "valid"
    assert verify_pdf(io.BytesIO(signed), trust_roots=roots).status == "valid"


def test_progress_and_cancel(two_sigs: bytes, roots: list) -> None:
    seen: list[tuple[int, int, str]] = []
    verify_pdf(two_sigs, trust_roots=roots, progress=lambda d, t, s: seen.append((d, t, s)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert {s for _, _, s in seen} == {"verify"}
    with pytest.raises(VerificationCancelled):
        verify_pdf(two_sigs, trust_roots=roots, cancel=lambda: True)
    import threading

    from app.cancel import CancelToken

    token = CancelToken()
    token.cancel()
    event = threading.Event()
    event.set()
    for c in (token, event):
        with pytest.raises(VerificationCancelled):
            verify_pdf(two_sigs, trust_roots=roots, cancel=c)
    assert verify_pdf(two_sigs, trust_roots=roots, cancel=CancelToken()).status == "valid"


def test_unsigned_pdf_reports_no_signatures() -> None:
    r = verify_pdf(vf.make_pdf())
    assert r.status == "invalid" and not r.signatures
    assert [x.code for x in r.reasons] == ["NO_SIGNATURES"]


# -- the production signer -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["single", "per-page"])
def test_production_signer_output_verifies(tmp_path: Path, roots: list, mode: str) -> None:
    from app.pdfsign import seal_pdf
    from app.pdfsign.placement import CrossPageMode, CrossPagePlacement, RectPlacement, Seal
    from tests.pdfsign.conftest import make_pdf, make_seal_png

    src = make_pdf(tmp_path / "bid.pdf", pages=3)
    png = make_seal_png()
    out1, out2 = tmp_path / "out1.pdf", tmp_path / "out2.pdf"
    seal_pdf(src, out1, vf.pki().signer(), [Seal(RectPlacement(0, (100, 100, 200, 200)), png)])
    seal_pdf(out1, out2, vf.pki().signer(),
             [Seal(CrossPagePlacement(mode=CrossPageMode(mode)), png)])
    r = verify_pdf(out2, trust_roots=roots)
    assert r.status == "valid", r.to_text("en")
    first = r.signatures[0]
    assert first.modification == "signature_added" and first.pages == [1]
    later = r.signatures[1:]
    if mode == "single":
        assert len(later) == 1 and later[0].pages == [1, 2, 3] and later[0].widget_count == 3
    else:
        assert [s.pages for s in later] == [[1], [2], [3]]
        assert [s.modification for s in later] == ["signature_added", "signature_added", "none"]


@pytest.mark.parametrize("origin", ["xref_streams", "libreoffice"])
def test_successive_signatures_on_other_pdf_origins(tmp_path: Path, roots: list, origin: str) -> None:
    """Object streams + xref streams (pymupdf) and a LibreOffice export, signed twice."""
    from tests.pdfsign.conftest import FIXTURES, make_pdf

    if origin == "xref_streams":
        data = make_pdf(tmp_path / "o.pdf", pages=2, use_objstms=True).read_bytes()
    else:
        data = (FIXTURES / "libreoffice-bid.pdf").read_bytes()
    pages = tuple(range(len(vf.page_object_numbers(data))))
    once = vf.sign_pdf(data)
    twice = vf.sign_pdf(once, None, vf.SignOptions(field_name="Sig2", pages=pages))
    r = verify_pdf(twice, trust_roots=roots)
    assert r.status == "valid", r.to_text("en")
    assert [s.modification for s in r.signatures] == ["signature_added", "none"]
    assert r.signatures[1].pages == [p + 1 for p in pages]


# -- time-stamps ----------------------------------------------------------------------------------


def test_embedded_timestamp_sets_the_signing_time(roots: list) -> None:
    from datetime import UTC, datetime, timedelta

    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    (sig,) = verify_pdf(vf.signed_pdf(timestamp=True, timestamp_time=when), trust_roots=roots).signatures
    assert sig.status == "valid", sig.reasons
    assert sig.signing_time == when and sig.signing_time_source == "timestamp"
    assert sig.timestamp is not None and sig.timestamp.valid and sig.timestamp.trusted


def test_timestamp_before_expiry_keeps_an_expired_certificate_valid(roots: list) -> None:
    """The token proves the signature existed while the certificate was valid."""
    from datetime import UTC, datetime, timedelta

    from app.gm import sm2
    from app.gm.keyops import SoftwareSigner

    p, now = vf.pki(), datetime.now(UTC).replace(microsecond=0)
    key = sm2.PrivateKey.generate()
    cert = p.root.issue(key.public_key, p.subject, "sign", not_before=now - timedelta(days=10),
                        not_after=now - timedelta(minutes=1))
    signer = SoftwareSigner(cert, key)
    before = now - timedelta(minutes=2)  # after the demo root's start, before the expiry
    plain = vf.sign_pdf(vf.make_pdf(), signer)
    stamped = vf.sign_pdf(vf.make_pdf(), signer, vf.SignOptions(timestamp=True, timestamp_time=before))
    assert "CERT_EXPIRED_AT_SIGNING" in {x.code for x in verify_pdf(plain, trust_roots=roots).signatures[0].reasons}
    (sig,) = verify_pdf(stamped, trust_roots=roots).signatures
    assert sig.status == "valid", sig.reasons
    assert sig.signing_time == before < datetime.now(UTC)


def test_bad_timestamp_token_is_invalid(roots: list) -> None:
    (sig,) = verify_pdf(vf.signed_pdf(timestamp=True, bad_timestamp=True), trust_roots=roots).signatures
    assert sig.status == "invalid" and "TIMESTAMP_INVALID" in {x.code for x in sig.reasons}


def test_document_timestamp_after_a_signature(signed: bytes, roots: list) -> None:
    stamped = vf.sign_pdf(signed, None, vf.SignOptions(field_name="TS", doc_timestamp=True))
    r = verify_pdf(stamped, trust_roots=roots)
    assert r.status == "valid", r.to_text("en")
    sig, ts = r.signatures
    assert sig.modification == "signature_added"
    assert ts.kind == "timestamp" and ts.signing_time_source == "timestamp"
    assert ts.timestamp is not None and ts.timestamp.valid
    i = stamped.index(b"42696420646f63756d656e74")
    r2 = verify_pdf(stamped[:i] + b"42616420" + stamped[i + 8:], trust_roots=roots)
    assert r2.signatures[1].status == "invalid"
    assert "TIMESTAMP_INVALID" in {x.code for x in r2.signatures[1].reasons}


# -- garbage in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data, exc", [
    (b"", NotAPdfError),
    (b"hello world, this is not a PDF", NotAPdfError),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, NotAPdfError),
    (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", PdfTruncatedError),
    (b"%PDF-1.7\nstartxref\n999999\n%%EOF\n", PdfTruncatedError),
])
def test_garbage_raises_clear_error(data: bytes, exc: type) -> None:
    with pytest.raises(exc) as info:
        verify_pdf(data)
    assert info.value.zh and info.value.en and info.value.code.startswith("ERR_")


def test_missing_file_raises_read_error(tmp_path: Path) -> None:
    with pytest.raises(PdfReadError):
        verify_pdf(tmp_path / "nope.pdf")


def test_pdf_cut_before_first_eof_is_truncated() -> None:
    data = vf.make_pdf()
    with pytest.raises(PdfStructureError):
        verify_pdf(data[: len(data) // 2])


# -- CLI ---------------------------------------------------------------------------------------


def _write_root(tmp_path: Path) -> Path:
    p = tmp_path / "root.pem"
    p.write_bytes(vf.pki().root_cert.pem)
    return p


def test_cli_valid_exits_0(tmp_path: Path, signed: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(signed)
    assert cli_main(["verify", str(pdf), "--trust", str(_write_root(tmp_path))]) == 0
    assert "有效" in capsys.readouterr().out


def test_cli_json_and_english(tmp_path: Path, signed: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(signed)
    assert cli_main(["verify", str(pdf), "--json", "--trust", str(_write_root(tmp_path))]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "valid" and d["signatures"][0]["sm2_id"] == "default"
    assert cli_main(["verify", str(pdf), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "not trusted" in out


def test_cli_untrusted_exits_1(tmp_path: Path, signed: bytes, foreign_root_pem: Path) -> None:
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(signed)
    assert cli_main(["verify", str(pdf), "--trust", str(foreign_root_pem)]) == 1


def test_cli_unsigned_exits_1_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "u.pdf"
    pdf.write_bytes(vf.make_pdf())
    assert cli_main(["verify", str(pdf)]) == 1
    captured = capsys.readouterr()
    assert "没有" in captured.out and "no signatures" in captured.err


@pytest.mark.parametrize("content", [b"", b"not a pdf at all", b"%PDF-1.4\ntruncated"])
def test_cli_garbage_exits_2(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "g.pdf"
    pdf.write_bytes(content)
    assert cli_main(["verify", str(pdf)]) == 2
    err = capsys.readouterr().err
    assert "错误" in err and "ERR_" in err


def test_cli_missing_file_and_bad_trust_exit_2(tmp_path: Path, signed: bytes) -> None:
    assert cli_main(["verify", str(tmp_path / "missing.pdf")]) == 2
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(signed)
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"garbage")
    assert cli_main(["verify", str(pdf), "--trust", str(bad)]) == 2
    assert cli_main(["verify", str(pdf), "--trust", str(tmp_path / "none.pem")]) == 2
    assert cli_main(["verify", str(pdf), "--crl", str(bad)]) == 2


def test_cli_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["verify"]) == 2  # argument mistakes are bilingual usage errors, no SystemExit
    assert "bidseal verify --help" in capsys.readouterr().err


@pytest.mark.slow
def test_large_file_is_hashed_in_chunks(tmp_path: Path, roots: list) -> None:
    """A 40 MB PDF verifies without reading it into memory (mmap + 1 MiB chunks)."""
    import os
    import tracemalloc

    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "large bid")
    doc.embfile_add("annex.bin", os.urandom(40 * 1024 * 1024))
    src = tmp_path / "big0.pdf"
    doc.save(src)
    doc.close()
    path = tmp_path / "big.pdf"
    path.write_bytes(vf.sign_pdf(src.read_bytes()))
    tracemalloc.start()
    try:
        r = verify_pdf(path, trust_roots=roots)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status == "valid"
    assert peak < 16 * 1024 * 1024, peak

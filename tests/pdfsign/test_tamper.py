"""Tampered, forged and wrongly-signed PDFs must come out invalid, modified or untrusted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli.main import main as cli_main
from app.gm import sm2
from app.pdfsign.pdfstructure import PdfSource, PdfStructure
from app.pdfsign.report import PdfVerificationReport
from app.pdfsign.verify import verify_pdf
from tests.pdfsign import verify_fixtures as vf


def codes(report: PdfVerificationReport, i: int = 0) -> set[str]:
    return {r.code for r in report.signatures[i].reasons}


def sig_object(data: bytes) -> tuple[int, int]:
    """(start, end) of the last /Sig dictionary object's text."""
    m = list(re.finditer(rb"\d+ 0 obj\s*<</Type/Sig", data))[-1]
    return m.start(), data.index(b"endobj", m.start()) + 6


def byte_range(data: bytes) -> tuple[list[int], int, int]:
    start, end = sig_object(data)
    m = re.search(rb"/ByteRange\s*\[([^\]]*)\]", data[start:end])
    assert m
    return [int(x) for x in m.group(1).split()], start + m.start(1), start + m.end(1)


def set_byte_range(data: bytes, br: list[int]) -> bytes:
    _old, s, e = byte_range(data)
    text = " ".join(str(x) for x in br).encode()
    assert len(text) <= e - s
    return data[:s] + text.ljust(e - s) + data[e:]


def test_untampered_baseline_is_valid(signed: bytes, roots: list) -> None:
    assert verify_pdf(signed, trust_roots=roots).status == "valid"


# -- bytes inside the signed range --------------------------------------------------------------


def test_flipped_byte_in_page_content_is_invalid(signed: bytes, roots: list) -> None:
    i = signed.index(b"42696420646f63756d656e74")  # "Bid document" as written by MuPDF
    tampered = signed[:i] + b"42616420" + signed[i + 8:]
    r = verify_pdf(tampered, trust_roots=roots)
    assert r.status == "invalid"
    assert "DIGEST_MISMATCH" in codes(r)


def test_flipped_byte_in_signature_dictionary_is_invalid(signed: bytes, roots: list) -> None:
    i = signed.index(b"(Shenyang)")
    tampered = signed[:i] + b"(Shanghai)" + signed[i + 10:]
    r = verify_pdf(tampered, trust_roots=roots)
    assert r.signatures[0].status == "invalid" and "DIGEST_MISMATCH" in codes(r)


def test_flipped_byte_in_cms_is_invalid(signed: bytes, roots: list) -> None:
    br, _s, _e = byte_range(signed)
    pos = br[1] + 200  # inside the hex of the certificate / signed attributes
    c = b"A" if signed[pos:pos + 1] != b"A" else b"B"
    r = verify_pdf(signed[:pos] + c + signed[pos + 1:], trust_roots=roots)
    assert r.status == "invalid"


# -- byte range manipulation --------------------------------------------------------------------


def test_byte_range_skipping_the_end_is_partial(signed: bytes, roots: list) -> None:
    br, _s, _e = byte_range(signed)
    r = verify_pdf(set_byte_range(signed, [0, br[1], br[2], br[3] - 50]), trust_roots=roots)
    assert r.status == "invalid"
    assert "COVERAGE_PARTIAL" in codes(r)


def test_byte_range_with_wider_gap_is_rejected(signed: bytes, roots: list) -> None:
    br, _s, _e = byte_range(signed)
    r = verify_pdf(set_byte_range(signed, [0, br[1] - 10, br[2], br[3]]), trust_roots=roots)
    assert "BYTERANGE_GAP_MISMATCH" in codes(r)
    assert r.signatures[0].status == "invalid"


@pytest.mark.parametrize("br", [[5, 10, 20, 30], [0, -1, 20, 30], [0, 100, 50, 10], [0, 10, 20, 10**7]])
def test_malformed_byte_ranges(signed: bytes, roots: list, br: list[int]) -> None:
    r = verify_pdf(set_byte_range(signed, br), trust_roots=roots)
    assert r.signatures[0].status == "invalid"
    assert codes(r) & {"BYTERANGE_MALFORMED", "BYTERANGE_OUT_OF_BOUNDS"}


# -- shadow / universal signature forgery ---------------------------------------------------------


def test_usf_new_dictionary_pointing_at_old_signature(signed: bytes, roots: list) -> None:
    """A later revision adds a second signature whose /ByteRange and /Contents are
    copied from the real one: the gap points at the OLD /Contents, not its own."""
    start, end = sig_object(signed)
    body = re.sub(rb"^\d+ 0 obj\s*", b"", signed[start:end])[: -len(b"endobj")].strip()
    s = PdfStructure(PdfSource(signed))
    size = int(s.trailer()["Size"])
    sig_num, field_num = size, size + 1
    page = vf.page_object_numbers(signed)[1]
    acro = s.resolve(s.trailer()["Root"])["AcroForm"]
    acro_dict = s.resolve(acro)
    fields = " ".join(f"{r.num} 0 R" for r in acro_dict["Fields"]) + f" {field_num} 0 R"
    forged = vf.append_update(signed, {
        sig_num: body,
        field_num: (b"<</Type/Annot/Subtype/Widget/FT/Sig/T(Forged)/F 132/Rect[0 0 0 0]"
                    b"/P %d 0 R/V %d 0 R>>" % (page, sig_num)),
        page: vf.object_body(signed, page).replace(b">>", b"/Annots[%d 0 R]>>" % field_num, 1)
        if b"/Annots" not in vf.object_body(signed, page) else vf.object_body(signed, page),
        acro.num: b"<</Fields[" + fields.encode() + b"]/SigFlags 3>>",
    })
    r = verify_pdf(forged, trust_roots=roots)
    by_name = {s.field_name: s for s in r.signatures}
    assert "BYTERANGE_GAP_MISMATCH" in {x.code for x in by_name["Forged"].reasons}
    assert by_name["Forged"].status == "invalid"
    assert r.status == "invalid"


def test_shadow_signature_dictionary_redefined_later(signed: bytes, roots: list) -> None:
    """A later revision redefines the /Sig object itself (same text, new offset)."""
    start, end = sig_object(signed)
    num = int(re.match(rb"(\d+)", signed[start:end]).group(1))
    body = vf.object_body(signed, num)
    forged = vf.append_update(signed, {num: body})
    r = verify_pdf(forged, trust_roots=roots)
    assert r.signatures[0].status == "invalid"
    assert "BYTERANGE_GAP_MISMATCH" in codes(r)


def test_second_contents_key_in_signature_dictionary(signed: bytes, roots: list) -> None:
    """Duplicate /Contents: the gap must be the one this dictionary really uses."""
    i = signed.index(b"/Location(Shenyang)")
    tampered = signed[:i] + b"/Contents<0011>    " + signed[i + 19:]
    r = verify_pdf(tampered, trust_roots=roots)
    assert r.signatures[0].status == "invalid"
    assert codes(r) & {"BYTERANGE_GAP_MISMATCH", "DIGEST_MISMATCH"}


# -- later revisions ---------------------------------------------------------------------------------


def _content_num(data: bytes) -> tuple[int, int]:
    s = PdfStructure(PdfSource(data))
    page = vf.page_object_numbers(data)[0]
    contents = s.get(page)["Contents"]
    return page, (contents[0] if isinstance(contents, list) else contents).num


def test_revision_changing_page_content_is_modified(signed: bytes, roots: list) -> None:
    _page, content = _content_num(signed)
    new_stream = b"BT /F1 24 Tf 72 700 Td (PRICE: 1 YUAN) Tj ET"
    forged = vf.append_update(signed, {content: b"<</Length %d>>\nstream\n%s\nendstream" % (
        len(new_stream), new_stream)})
    r = verify_pdf(forged, trust_roots=roots)
    sig = r.signatures[0]
    assert sig.status == "invalid" and sig.modification == "modified"
    assert "MODIFIED_AFTER_SIGNING" in codes(r)
    assert any(c["code"] == "page_content_changed" for c in sig.changes)


def test_revision_replacing_page_contents_reference_is_modified(signed: bytes, roots: list) -> None:
    page, content = _content_num(signed)
    s = PdfStructure(PdfSource(signed))
    new_num = int(s.trailer()["Size"])
    body = vf.object_body(signed, page).replace(b"%d 0 R" % content, b"%d 0 R" % new_num)
    stream = b"BT ET"
    forged = vf.append_update(signed, {
        new_num: b"<</Length %d>>\nstream\n%s\nendstream" % (len(stream), stream),
        page: body,
    })
    r = verify_pdf(forged, trust_roots=roots)
    assert r.signatures[0].modification == "modified"
    assert r.status == "invalid"


def test_revision_replacing_unrelated_object_is_modified(signed: bytes, roots: list) -> None:
    s = PdfStructure(PdfSource(signed))
    pages_num = s.resolve(s.trailer()["Root"])["Pages"].num
    body = vf.object_body(signed, pages_num).replace(b"/Type/Pages", b"/Type/Pages/Rotate 90")
    r = verify_pdf(vf.append_update(signed, {pages_num: body}), trust_roots=roots)
    assert r.signatures[0].modification == "modified"


def test_removed_field_in_later_revision_is_modified(roots: list) -> None:
    signed = vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions())
    s = PdfStructure(PdfSource(signed))
    root = s.trailer()["Root"]
    acro = s.get(root.num)["AcroForm"]
    holder = acro.num if hasattr(acro, "num") else root.num  # the object that holds /Fields
    fields = s.resolve(acro)["Fields"]
    keep = [f for f in fields if s.get(f.num).get("FT") == "Sig"]
    assert len(keep) < len(fields)
    new_fields = b"/Fields[" + b" ".join(b"%d 0 R" % f.num for f in keep) + b"]"
    body = re.sub(rb"/Fields\s*\[[^\]]*\]", new_fields, vf.object_body(signed, holder))
    r = verify_pdf(vf.append_update(signed, {holder: body}), trust_roots=roots)
    sig = r.signatures[0]
    assert sig.modification == "modified"
    assert any(c["code"] == "field_removed" for c in sig.changes)


def test_removed_signature_is_still_reported(roots: list) -> None:
    """Hiding the first signature (removing its field and widget) after a second one
    was added: the first is still found in its revision and reported invalid."""
    first = vf.signed_pdf()
    both = vf.sign_pdf(first, None, vf.SignOptions(field_name="Sig2", pages=(1,)))
    s = PdfStructure(PdfSource(both))
    acro = s.resolve(s.trailer()["Root"])["AcroForm"]
    fields = s.resolve(acro)["Fields"]
    page0 = vf.page_object_numbers(both)[0]
    page_body = re.sub(rb"/Annots\s*\[[^\]]*\]", b"", vf.object_body(both, page0))
    body = b"<</Fields[%d 0 R]/SigFlags 3>>" % fields[-1].num
    r = verify_pdf(vf.append_update(both, {acro.num: body, page0: page_body}), trust_roots=roots)
    names = {x.field_name: x for x in r.signatures}
    assert set(names) == {"Sig1", "Sig2"}
    assert names["Sig1"].status == "invalid"
    assert "SIGNATURE_REMOVED" in {x.code for x in names["Sig1"].reasons}
    assert names["Sig2"].modification == "modified"
    assert r.status == "invalid"


def test_new_non_widget_annotation_is_modified(signed: bytes, roots: list) -> None:
    page = vf.page_object_numbers(signed)[0]
    s = PdfStructure(PdfSource(signed))
    num = int(s.trailer()["Size"])
    body = vf.object_body(signed, page)
    body = re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % num, body)
    forged = vf.append_update(signed, {
        num: b"<</Type/Annot/Subtype/FreeText/Rect[10 10 300 60]/Contents(VOID)/DA(/Helv 20 Tf)>>",
        page: body,
    })
    r = verify_pdf(forged, trust_roots=roots)
    assert r.signatures[0].modification == "modified"
    assert any(c["code"] == "annotation_added" for c in r.signatures[0].changes)


def test_stray_garbage_after_eof_is_modified(signed: bytes, roots: list) -> None:
    r = verify_pdf(signed + b"\n% trailing junk\nBT (x) Tj ET\n", trust_roots=roots)
    assert r.status == "invalid"
    assert "FILE_INCOMPLETE" in {x.code for x in r.reasons}
    assert r.signatures[0].modification == "modified"


def test_whitespace_after_eof_is_fine(signed: bytes, roots: list) -> None:
    assert verify_pdf(signed + b"\r\n\n", trust_roots=roots).signatures[0].modification == "none"


def test_truncated_signed_file(signed: bytes, roots: list) -> None:
    r = verify_pdf(signed[:-10], trust_roots=roots)
    assert r.status == "invalid"
    assert "FILE_INCOMPLETE" in {x.code for x in r.reasons}
    br, _s, _e = byte_range(signed)
    r2 = verify_pdf(signed[: br[2] + 100], trust_roots=roots)
    assert r2.status == "invalid"


@pytest.mark.parametrize("junk", [b"99 0 obj (hidden) endobj\n", b"BT (x) Tj ET\n"])
def test_unregistered_bytes_inside_an_update_are_modified(signed: bytes, roots: list, junk: bytes) -> None:
    page, _content = _content_num(signed)
    harmless = vf.append_update(signed, {page: vf.object_body(signed, page)})
    assert verify_pdf(harmless, trust_roots=roots).signatures[0].modification == "none"
    forged = vf.append_update(signed, {page: vf.object_body(signed, page)}, junk=junk)
    sig = verify_pdf(forged, trust_roots=roots).signatures[0]
    assert sig.modification == "modified"
    assert [c["code"] for c in sig.changes] == ["malformed_update"]


@pytest.mark.parametrize("p, level, status", [
    (1, "modified", "invalid"), (2, "signature_added", "valid"), (3, "signature_added", "valid"),
])
def test_certification_signature_honours_docmdp(roots: list, p: int, level: str, status: str) -> None:
    certified = vf.signed_pdf(docmdp=p)
    (cert_sig,) = verify_pdf(certified, trust_roots=roots).signatures
    assert cert_sig.kind == "certification" and cert_sig.docmdp_permissions == p
    assert cert_sig.status == "valid"
    both = vf.sign_pdf(certified, None, vf.SignOptions(field_name="Sig2", pages=(1,)))
    first = verify_pdf(both, trust_roots=roots).signatures[0]
    assert (first.modification, first.status) == (level, status)
    if p == 1:
        assert any(c["code"] == "docmdp_forbids" for c in first.changes)


def test_signature_dictionary_in_object_stream_is_rejected(roots: list, tmp_path: Path) -> None:
    """Rewriting a signed file with object streams compresses the /Sig dictionary:
    its /Contents no longer sits at the byte range gap."""
    import pymupdf

    doc = pymupdf.open(stream=vf.signed_pdf(), filetype="pdf")
    data = doc.tobytes(use_objstms=1, garbage=1)
    doc.close()
    r = verify_pdf(data, trust_roots=roots)
    assert r.signatures[0].status == "invalid"
    assert codes(r) & {"SIG_DICT_COMPRESSED", "BYTERANGE_GAP_MISMATCH", "COVERAGE_PARTIAL",
                       "DIGEST_MISMATCH", "BYTERANGE_OUT_OF_BOUNDS"}
    assert "SIG_DICT_COMPRESSED" in codes(r)


# -- the CMS and the certificate ------------------------------------------------------------------------


def test_wrong_message_digest_is_invalid(roots: list) -> None:
    r = verify_pdf(vf.signed_pdf(wrong_digest=True), trust_roots=roots)
    assert r.status == "invalid" and "DIGEST_MISMATCH" in codes(r)


def test_signature_by_another_key_is_invalid(roots: list) -> None:
    r = verify_pdf(vf.signed_pdf(other_key=sm2.PrivateKey.generate()), trust_roots=roots)
    assert r.status == "invalid" and "SIGNATURE_INVALID" in codes(r)


def test_expired_certificate_at_signing_time_is_invalid(roots: list) -> None:
    r = verify_pdf(vf.sign_pdf(vf.make_pdf(), vf.expired_signer()), trust_roots=roots)
    assert r.status == "invalid" and "CERT_EXPIRED_AT_SIGNING" in codes(r)


def test_certificate_not_yet_valid_at_signing_time_is_invalid(roots: list) -> None:
    from datetime import UTC, datetime, timedelta

    early = datetime.now(UTC) - timedelta(days=3650)
    r = verify_pdf(vf.signed_pdf(signing_time=early), trust_roots=roots)
    assert "CERT_NOT_YET_VALID_AT_SIGNING" in codes(r)


def test_encryption_only_certificate_is_invalid(roots: list) -> None:
    r = verify_pdf(vf.sign_pdf(vf.make_pdf(), vf.encryption_signer()), trust_roots=roots)
    assert r.status == "invalid" and "CERT_NOT_FOR_SIGNING" in codes(r)


def test_untrusted_root_is_untrusted(signed: bytes) -> None:
    _s, other = vf.foreign_signer()
    r = verify_pdf(signed, trust_roots=[other])
    assert r.status == "untrusted" and r.signatures[0].status == "untrusted"
    assert "CHAIN_UNTRUSTED" in codes(r)
    assert r.signatures[0].integrity


def test_foreign_signer_with_our_root_is_untrusted(roots: list) -> None:
    signer, _root = vf.foreign_signer()
    r = verify_pdf(vf.sign_pdf(vf.make_pdf(), signer), trust_roots=roots)
    assert r.signatures[0].status == "untrusted"


def test_no_trust_roots_is_untrusted(signed: bytes) -> None:
    r = verify_pdf(signed)
    assert r.status == "untrusted"
    assert codes(r) == {"NO_TRUST_ROOTS"}


def test_revoked_certificate_is_invalid(signed: bytes, roots: list) -> None:
    from datetime import UTC, datetime, timedelta

    p = vf.pki()
    crl = p.root.make_crl([(p.sign_cert.serial_number, datetime.now(UTC) - timedelta(days=1))])
    r = verify_pdf(signed, trust_roots=roots, crls=[crl])
    assert r.status == "invalid" and "CHAIN_REVOKED" in codes(r)


def test_cli_untrusted_and_tampered_exit_1(tmp_path: Path, signed: bytes, foreign_root_pem: Path) -> None:
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(signed)
    assert cli_main(["verify", str(pdf), "--trust", str(foreign_root_pem)]) == 1
    pdf.write_bytes(signed + b"junk")
    own = tmp_path / "own.pem"
    own.write_bytes(vf.pki().root_cert.pem)
    assert cli_main(["verify", str(pdf), "--trust", str(own)]) == 1


# -- random damage never escapes as a traceback ------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from app.errors import BidSealError  # noqa: E402

_BASE = vf.sign_pdf(vf.signed_pdf(), None, vf.SignOptions(field_name="Sig2", pages=(0, 1)))
_BASE_REPORT = verify_pdf(_BASE, trust_roots=[vf.pki().root_cert])


@settings(max_examples=int(__import__("os").environ.get("BIDSEAL_FUZZ_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_BASE) - 1), st.binary(min_size=0, max_size=8)),
                min_size=1, max_size=4),
       st.integers(0, len(_BASE)))
def test_random_damage_gives_a_report_or_a_bidseal_error(edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(_BASE)
    for pos, repl in edits:
        data[pos:pos + len(repl)] = repl
    data = data[:max(cut, 1)] if cut < len(_BASE) // 50 else data
    try:
        r = verify_pdf(bytes(data), trust_roots=[vf.pki().root_cert])
    except BidSealError:
        return
    gaps = [(s.byte_range[1], s.byte_range[2]) for s in _BASE_REPORT.signatures if s.byte_range]
    changed = len(data) != len(_BASE) or any(
        data[i] != _BASE[i] and not any(a <= i < b for a, b in gaps) for i in range(len(data))
    )
    if changed:
        assert r.status != "valid", [(s.field_name, s.modification) for s in r.signatures]


def test_validation_time_moves_the_chain_check(signed: bytes, roots: list) -> None:
    from datetime import timedelta

    cert = vf.pki().sign_cert
    assert verify_pdf(signed, trust_roots=roots, at=cert.not_before + timedelta(hours=1)).status == "valid"
    r = verify_pdf(signed, trust_roots=roots, at=cert.not_after + timedelta(days=1))
    assert r.status == "invalid" and "CHAIN_EXPIRED" in codes(r)


def test_cli_crl_revokes(tmp_path: Path, signed: bytes) -> None:
    from datetime import UTC, datetime, timedelta

    p = vf.pki()
    pdf, root, crl = tmp_path / "s.pdf", tmp_path / "root.pem", tmp_path / "crl.pem"
    pdf.write_bytes(signed)
    root.write_bytes(p.root_cert.pem)
    crl.write_bytes(p.root.make_crl([(p.sign_cert.serial_number, datetime.now(UTC) - timedelta(days=1))]).pem)
    assert cli_main(["verify", str(pdf), "--trust", str(root), "--crl", str(crl)]) == 1
    empty = tmp_path / "empty-crl.pem"
    empty.write_bytes(p.root.make_crl([]).pem)
    assert cli_main(["verify", str(pdf), "--trust", str(root), "--crl", str(empty)]) == 0


def test_absurdly_long_number_is_a_structure_error(signed: bytes) -> None:
    """Found by the random-damage property: a 10,000-digit integer must not crash int()."""
    from app.errors import BidSealError

    pos = signed.index(b"/Count ") + len(b"/Count ")
    damaged = signed[:pos] + b"9" * 10_000 + signed[pos + 1:]
    try:
        report = verify_pdf(damaged)
    except BidSealError:
        return
    assert report.status != "valid"

"""The published PDF signature attacks, built for real, each shown valid before and
invalid (exit 1) after; where the change is visual, MuPDF renders it to prove the
attack changes what a reader sees.

Classes (issue 8): the frozen object graph of a signed revision (free, missing and
dangling references, xref entries past the revision's end, replaced object
streams); Incremental Saving Attacks and Universal Signature Forgery and Signature
Wrapping (Mladenov et al., NDSS 2019); the shadow attacks Hide, Replace and
Hide-and-Replace (Mainka et al., NDSS 2021); a shadow document prepared before
signing and revealed by an update.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli.main import main as cli_main
from app.pdfsign.pdfstructure import PdfSource, PdfStructure
from app.pdfsign.report import PdfVerificationReport, SignatureReport
from app.pdfsign.verify import verify_pdf
from tests.pdfsign import verify_fixtures as vf

RED_BOX = b"q 1 0 0 rg 100 300 300 200 re f Q"
PRICE_1 = b"BT /helv 36 Tf 120 380 Td (PRICE: 1 YUAN) Tj ET"


@pytest.fixture
def roots() -> list:
    return [vf.pki().root_cert]


def verdict(data: bytes, roots: list, tmp_path: Path, expect_exit: int) -> PdfVerificationReport:
    """verify_pdf's report, after checking that ``bidseal verify`` exits ``expect_exit``."""
    pdf, root = tmp_path / "v.pdf", tmp_path / "root.pem"
    pdf.write_bytes(data)
    root.write_bytes(roots[0].pem)
    assert cli_main(["verify", str(pdf), "--no-default-trust", "--trust", str(root)]) == expect_exit
    return verify_pdf(data, trust_roots=roots)


def first(report: PdfVerificationReport) -> SignatureReport:
    return report.signatures[0]


def change_codes(sig: SignatureReport) -> list[str]:
    return [c["code"] for c in sig.changes]


def visibly_different(a: bytes, b: bytes, page: int = 0) -> bool:
    return vf.render(a, page) != vf.render(b, page)


def stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<<%s/Length %d>>\nstream\n%s\nendstream" % (extra, len(body), body)


def page_and_content(data: bytes) -> tuple[int, int]:
    s = PdfStructure(PdfSource(data))
    page = vf.page_object_numbers(data)[0]
    contents = s.get(page)["Contents"]
    return page, (contents[0] if isinstance(contents, list) else contents).num


def signed_one_page(pre: bytes | None = None, **opts: object) -> bytes:
    return vf.sign_pdf(pre if pre is not None else vf.make_pdf(pages=1), None, vf.SignOptions(**opts))  # type: ignore[arg-type]


# -- 1. the frozen object graph; a shadow document prepared before signing ---------------------


def test_dangling_reference_defined_after_signing(roots: list, tmp_path: Path) -> None:
    """Before signing the page's /Contents already names object N, which does not exist
    (a reader sees nothing of it). After signing, an update defines N: the unchanged,
    signed page now draws it."""
    base = vf.make_pdf(pages=1)
    page, content = page_and_content(base)
    n = vf.next_free_number(base) + 5  # missing: beyond /Size, never defined
    body = vf.object_body(base, page).replace(b"%d 0 R" % content, b"%d 0 R %d 0 R" % (content, n))
    shadow = vf.append_update(base, {page: body}, size=vf.next_free_number(base))
    signed = signed_one_page(shadow)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    attacked = vf.append_update(signed, {n: stream(RED_BOX)})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert sig.status == "invalid" and sig.modification == "modified"
    assert "dangling_reference_defined" in change_codes(sig)
    assert any(r.code == "MODIFIED_AFTER_SIGNING" and "did not exist when signing" in r.en for r in sig.reasons)


def test_free_object_defined_after_signing(roots: list, tmp_path: Path) -> None:
    """The same with a number that the signed xref table lists as free."""
    base = vf.make_pdf(pages=1)
    page, content = page_and_content(base)
    n = vf.next_free_number(base)
    body = vf.object_body(base, page).replace(b"%d 0 R" % content, b"%d 0 R %d 0 R" % (content, n))
    shadow = vf.append_update(base, {page: body}, free=(n,))
    signed = signed_one_page(shadow)
    assert PdfStructure(PdfSource(signed)).locate(n).kind == "f"
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    attacked = vf.append_update(signed, {n: stream(RED_BOX)})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert "dangling_reference_defined" in change_codes(sig)


def test_xref_entry_past_the_signed_end_filled_in_later(roots: list, tmp_path: Path) -> None:
    """The signed xref points object N at an offset beyond the end of the file; after
    signing, padding and an object appended exactly there make N appear, with no new
    xref entry for it at all."""
    base = vf.make_pdf(pages=1)
    page, content = page_and_content(base)
    n = vf.next_free_number(base)
    target = 200_000
    body = vf.object_body(base, page).replace(b"%d 0 R" % content, b"%d 0 R %d 0 R" % (content, n))
    shadow = vf.append_update(base, {page: body}, entries={n: target})
    signed = vf.sign_pdf_raw(shadow)  # MuPDF would repair this file and refuse to sign it
    assert len(signed) < target
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    tail = signed + b"\n%" + b" " * (target - len(signed) - 3) + b"\n"
    assert len(tail) == target
    tail += b"%d 0 obj\n%s\nendobj\n" % (n, stream(RED_BOX))
    attacked = vf.append_update(tail, {})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert sig.modification == "modified"
    assert set(change_codes(sig)) & {"dangling_reference_defined", "malformed_update"}
    assert "dangling_reference_defined" in change_codes(sig)


def test_object_stream_replaced_after_signing(roots: list, tmp_path: Path) -> None:
    """The page's font dictionary sits in an object stream. An update replaces the
    object stream with one whose copy of the font names another typeface; the font's
    own xref entry (compressed, same stream, same index) does not change."""
    import pymupdf

    doc = pymupdf.open(stream=vf.make_pdf(pages=1), filetype="pdf")
    packed = doc.tobytes(use_objstms=1, garbage=1)
    doc.close()
    signed = signed_one_page(packed)
    s = PdfStructure(PdfSource(signed))
    font = next(n for n in s.object_map() if isinstance(s.get(n), dict) and s.get(n).get("Type") == "Font")
    loc = s.locate(font)
    assert loc.kind == "c"
    stm = s._objstm(loc.offset, None)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    members = []
    for num, _off in sorted(stm.offsets.items(), key=lambda kv: kv[1]):
        value_text = _value_text(stm, num)
        if num == font:
            value_text = value_text.replace(b"/Helvetica", b"/Courier-Bold")
        members.append((num, value_text))
    header = b" ".join(b"%d %d" % (num, sum(len(v) + 1 for _n, v in members[:i]))
                       for i, (num, _v) in enumerate(members))
    data = b"\n".join(v for _n, v in members) + b"\n"
    body = stream(header + b"\n" + data, b"/Type/ObjStm/N %d/First %d" % (len(members), len(header) + 1))
    attacked = vf.append_update(signed, {loc.offset: body})
    assert PdfStructure(PdfSource(attacked)).locate(font) == loc  # the same xref entry
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert "object_stream_changed" in change_codes(sig), sig.changes


def _value_text(stm: object, num: int) -> bytes:
    """The source text of a compressed object's value (up to the next member)."""
    offsets = sorted(stm.offsets.values())  # type: ignore[attr-defined]
    start = stm.offsets[num]  # type: ignore[attr-defined]
    later = [o for o in offsets if o > start]
    raw = stm.source.raw  # type: ignore[attr-defined]
    end = stm.first + later[0] if later else len(raw)  # type: ignore[attr-defined]
    return bytes(raw[stm.first + start:end]).strip()  # type: ignore[attr-defined]


# -- 2. Incremental Saving Attacks (Mladenov et al.) -------------------------------------------


def test_isa_update_redefines_page_content(roots: list, tmp_path: Path) -> None:
    signed = signed_one_page()
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    _page, content = page_and_content(signed)
    attacked = vf.append_update(signed, {content: stream(PRICE_1)})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert sig.modification == "modified" and "page_content_changed" in change_codes(sig)


def test_isa_objects_appended_without_xref_or_trailer(roots: list, tmp_path: Path) -> None:
    """ISA variant: the new objects (a redefined page content) are appended after the
    last %%EOF with no xref and no trailer; a repairing viewer may still use them."""
    signed = signed_one_page()
    _page, content = page_and_content(signed)
    attacked = signed + b"%d 0 obj\n%s\nendobj\n" % (content, stream(PRICE_1))
    report = verdict(attacked, roots, tmp_path, 1)
    assert report.status == "invalid" and "FILE_INCOMPLETE" in {r.code for r in report.reasons}
    assert first(report).modification == "modified"


def test_isa_update_without_prev(roots: list, tmp_path: Path) -> None:
    """ISA variant: the update's trailer has no /Prev, so its xref replaces the whole
    chain; the signed revision is no longer a revision of the document."""
    signed = signed_one_page()
    s = PdfStructure(PdfSource(signed))
    everything = {n: vf.object_body(signed, n) for n, loc in s.object_map().items() if loc.kind == "n"}
    _page, content = page_and_content(signed)
    everything[content] = stream(PRICE_1)
    attacked = vf.append_update(signed, everything, prev=-1)
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert sig.status == "invalid"
    assert {r.code for r in sig.reasons} & {"COVERAGE_PARTIAL", "BYTERANGE_GAP_MISMATCH"}


def test_isa_update_with_prev_into_the_middle_of_the_signed_bytes(roots: list, tmp_path: Path) -> None:
    """ISA variant: /Prev names an offset that is not an xref section."""
    signed = signed_one_page()
    _page, content = page_and_content(signed)
    attacked = vf.append_update(signed, {content: stream(PRICE_1)}, prev=100)
    report = verify_pdf(attacked, trust_roots=roots) if _parses(attacked) else None
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(attacked)
    assert cli_main(["verify", str(pdf), "--no-default-trust"]) == 1
    if report is not None:
        assert report.status == "invalid"


def _parses(data: bytes) -> bool:
    from app.errors import BidSealError

    try:
        PdfStructure(PdfSource(data))
    except BidSealError:
        return False
    return True


# -- 3. Universal Signature Forgery (Mladenov et al.) ------------------------------------------


def _forged_second_signature(signed: bytes, sig_text: bytes) -> bytes:
    """A later revision adds a signature field whose /Sig dictionary is ``sig_text``,
    with an appearance that paints a red "seal" on page 1."""
    s = PdfStructure(PdfSource(signed))
    n = vf.next_free_number(signed)
    sig_num, field_num, ap_num = n, n + 1, n + 2
    page = vf.page_object_numbers(signed)[0]
    acro = s.resolve(s.trailer()["Root"])["AcroForm"]
    fields = " ".join(f"{r.num} 0 R" for r in s.resolve(acro)["Fields"]) + f" {field_num} 0 R"
    page_body = re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % field_num, vf.object_body(signed, page))
    return vf.append_update(signed, {
        sig_num: sig_text,
        field_num: (b"<</Type/Annot/Subtype/Widget/FT/Sig/T(Forged)/F 132/Rect[50 600 250 700]"
                    b"/P %d 0 R/V %d 0 R/AP<</N %d 0 R>>>>" % (page, sig_num, ap_num)),
        ap_num: stream(b"1 0 0 rg 0 0 200 100 re f", b"/Type/XObject/Subtype/Form/BBox[0 0 200 100]"),
        page: page_body,
        acro.num: b"<</Fields[" + fields.encode() + b"]/SigFlags 3>>",
    })


USF_VARIANTS = {
    "contents_missing": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/ByteRange[0 10 20 30]>>",
    "contents_null": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents null"
                     b"/ByteRange[0 10 20 30]>>",
    "contents_empty": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents<>"
                      b"/ByteRange[0 10 20 30]>>",
    "contents_literal": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents(x)"
                        b"/ByteRange[0 10 20 30]>>",
    "byterange_missing": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents<3000>>>",
    "byterange_null": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents<3000>"
                      b"/ByteRange null>>",
    "byterange_empty": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents<3000>"
                       b"/ByteRange[]>>",
    "byterange_zero": b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/Contents<3000>"
                      b"/ByteRange[0 0 0 0]>>",
    "filter_missing": b"<</Type/Sig/Contents<3000>/ByteRange[0 10 20 30]>>",
    "not_a_dictionary": b"(forged)",
}


@pytest.mark.parametrize("variant", sorted(USF_VARIANTS))
def test_universal_signature_forgery(roots: list, tmp_path: Path, variant: str) -> None:
    signed = signed_one_page()
    assert verdict(signed, roots, tmp_path, 0).status == "valid"
    attacked = _forged_second_signature(signed, USF_VARIANTS[variant])
    assert visibly_different(signed, attacked)
    report = verdict(attacked, roots, tmp_path, 1)
    forged = next(s for s in report.signatures if s.field_name == "Forged")
    assert forged.status == "invalid" and not forged.integrity
    assert report.status == "invalid"
    # and the genuine signature does not pass the forged "seal" off as "only signatures added"
    sig = first(report)
    assert sig.modification == "modified" and "unsigned_widget_added" in change_codes(sig)
    added = next(c for c in sig.changes if c["code"] == "unsigned_widget_added")
    assert added["details"] == {"kind": "Widget", "page": 1, "rect": [50.0, 600.0, 250.0, 700.0]}
    assert "/Widget, page 1, [50 600 250 700]" in sig.to_text("en")


def test_usf_copy_of_the_genuine_signature(roots: list, tmp_path: Path) -> None:
    """USF with a copy of the real /Sig dictionary (its /ByteRange and /Contents point
    at the genuine signature): the gap is not this dictionary's /Contents."""
    signed = signed_one_page()
    start = list(re.finditer(rb"\d+ 0 obj\s*<</Type/Sig", signed))[-1].start()
    body = re.sub(rb"^\d+ 0 obj\s*", b"", signed[start:signed.index(b"endobj", start)]).strip()
    report = verdict(_forged_second_signature(signed, body), roots, tmp_path, 1)
    forged = next(s for s in report.signatures if s.field_name == "Forged")
    assert "BYTERANGE_GAP_MISMATCH" in {r.code for r in forged.reasons}


# -- 4. Signature Wrapping (Mladenov et al.) ----------------------------------------------------


def test_signature_wrapping(roots: list, tmp_path: Path) -> None:
    """/ByteRange follows /Contents, so it lies in the second signed range. The attacker
    moves that whole signed range back, writes a new /ByteRange pointing at its new
    place into the gap, and puts new objects in between. The ranges a naive verifier
    hashes are exactly the signed bytes; the gap is no longer this /Contents."""
    from asn1crypto import cms as asn1_cms

    from app.gm.sm3 import SM3

    signed = signed_one_page(byterange_after_contents=True)
    assert verdict(signed, roots, tmp_path, 0).status == "valid"
    m = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert m and m.start() > int(m.group(1))  # the /ByteRange is in the second range
    b, c, d = (int(x) for x in m.groups())
    _page, content = page_and_content(signed)
    malicious = b"%d 0 obj\n%s\nendobj\n" % (content, stream(PRICE_1))
    new_br = b"/ByteRange[0 %d %%d %d]>>\nendobj\n" % (b, d)
    shift = len(new_br % 0) + len(malicious)
    for _ in range(3):  # the new offset's digits change the length
        shift = len(new_br % (c + shift)) + len(malicious)
    moved = signed[:c] + (new_br % (c + shift)) + malicious + signed[c:]
    assert moved[c + shift:] == signed[c:]
    # a final xref that finds every object at its new place, and the malicious content
    s = PdfStructure(PdfSource(signed))
    entries = {n: loc.offset + (shift if loc.offset >= c else 0)
               for n, loc in s.object_map().items() if loc.kind == "n"}
    entries[content] = c + len(new_br % (c + shift))
    wrapped = vf.append_update(moved, {}, entries=entries, prev=s.revisions[0].startxref)
    assert vf.render(wrapped) != vf.render(signed)
    digest = SM3(wrapped[:b] + wrapped[c + shift:c + shift + d]).digest()
    der = bytes.fromhex(signed[b + 1:c - 1].decode())
    si = asn1_cms.ContentInfo.load(der.rstrip(b"\0"))["content"]["signer_infos"][0]
    md = next(a for a in si["signed_attrs"] if a["type"].native == "message_digest")
    assert bytes(md["values"][0].native) == digest  # the naive hash check passes
    sig = first(verdict(wrapped, roots, tmp_path, 1))
    assert sig.status == "invalid"
    assert {r.code for r in sig.reasons} & {"BYTERANGE_GAP_MISMATCH", "COVERAGE_PARTIAL"}

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


# -- 5. Shadow attacks (Mainka et al.): Hide, Replace, Hide-and-Replace ---------------------------


def _with_overlay(base: bytes) -> tuple[bytes, int]:
    """A page whose content draws "PRICE: 1 YUAN" and then an opaque white form XObject
    over it: a reader of the signed file sees a blank area (the hidden shadow content)."""
    page, content = page_and_content(base)
    n = vf.next_free_number(base)
    overlay, resources = n, n + 1
    res = PdfStructure(PdfSource(base)).get(page)["Resources"]
    font = PdfStructure(PdfSource(base)).resolve(res)["Font"]["helv"]
    return vf.append_update(base, {
        content: stream(PRICE_1 + b"\nq /Cover Do Q"),
        overlay: stream(b"1 1 1 rg 100 360 400 80 re f", b"/Type/XObject/Subtype/Form/BBox[0 0 595 842]"),
        resources: b"<</Font<</helv %d 0 R>>/XObject<</Cover %d 0 R>>>>" % (font.num, overlay),
        page: re.sub(rb"/Resources\s*\d+ 0 R", b"/Resources %d 0 R" % resources, vf.object_body(base, page)),
    }), overlay


def test_shadow_hide_by_replacing_the_overlay(roots: list, tmp_path: Path) -> None:
    """Hide: after signing, the update swaps the cover for an empty one."""
    shadow, overlay = _with_overlay(vf.make_pdf(pages=1))
    signed = signed_one_page(shadow)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    attacked = vf.append_update(signed, {overlay: stream(b"", b"/Type/XObject/Subtype/Form/BBox[0 0 595 842]")})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert sig.modification == "modified" and "object_changed" in change_codes(sig)


def _with_cover_field(base: bytes, value: bytes = b"") -> tuple[bytes, int, int]:
    """A text field whose appearance is an opaque white box over "PRICE: 1 YUAN"."""
    page, content = page_and_content(base)
    n = vf.next_free_number(base)
    field, ap, form = n, n + 1, n + 2
    root_num = PdfStructure(PdfSource(base)).trailer()["Root"].num
    root = vf.object_body(base, root_num)
    page_body = vf.object_body(base, page)
    return vf.append_update(base, {
        content: stream(PRICE_1),
        field: (b"<</Type/Annot/Subtype/Widget/FT/Tx/T(cover)/F 4/Rect[100 360 500 440]/P %d 0 R"
                b"/V(%s)/AP<</N %d 0 R>>>>" % (page, value, ap)),
        ap: stream(b"1 1 1 rg 0 0 400 80 re f", b"/Type/XObject/Subtype/Form/BBox[0 0 400 80]"),
        form: b"<</Fields[%d 0 R]>>" % field,
        page: page_body[:page_body.rindex(b">>")] + b"/Annots[%d 0 R]>>" % field,
        root_num: root[:root.rindex(b">>")] + b"/AcroForm %d 0 R>>" % form,
    }), field, ap


def test_shadow_hide_via_a_form_field_appearance(roots: list, tmp_path: Path) -> None:
    """Hide via form filling: the cover is an (empty) text field; after signing its
    appearance becomes empty, which pyHanko would accept as form filling."""
    shadow, field, ap = _with_cover_field(vf.make_pdf(pages=1))
    signed = signed_one_page(shadow)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    attacked = vf.append_update(signed, {ap: stream(b"", b"/Type/XObject/Subtype/Form/BBox[0 0 400 80]")})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert "form_changed" in change_codes(sig)


def test_shadow_replace_via_form_field_value(roots: list, tmp_path: Path) -> None:
    """Replace: the field shows "100" when signed; the update fills in "1"."""
    shadow, field, ap = _with_cover_field(vf.make_pdf(pages=1), b"100")
    signed = signed_one_page(shadow)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    body = vf.object_body(signed, field).replace(b"/V(100)", b"/V(1)")
    attacked = vf.append_update(signed, {
        field: body,
        ap: stream(b"1 1 1 rg 0 0 400 80 re f BT /Helv 30 Tf 0 0 0 rg 10 20 Td (1) Tj ET",
                   b"/Type/XObject/Subtype/Form/BBox[0 0 400 80]"),
    })
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert set(change_codes(sig)) >= {"form_changed"}


def test_shadow_replace_via_overlay_annotation(roots: list, tmp_path: Path) -> None:
    """Replace via overlay: a FreeText annotation painted over the price."""
    signed = signed_one_page()
    page = vf.page_object_numbers(signed)[0]
    n = vf.next_free_number(signed)
    attacked = vf.append_update(signed, {
        n: b"<</Type/Annot/Subtype/FreeText/Rect[60 740 400 800]/Contents(PRICE: 1 YUAN)"
           b"/DA(/Helv 24 Tf 1 0 0 rg)/C[1 1 1]>>",
        page: re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % n, vf.object_body(signed, page)),
    })
    assert visibly_different(signed, attacked)
    report = verdict(attacked, roots, tmp_path, 1)
    sig = first(report)
    added = next(c for c in sig.changes if c["code"] == "annotation_added")
    assert added["details"] == {"kind": "FreeText", "page": 1, "rect": [60.0, 740.0, 400.0, 800.0]}
    assert "/FreeText, page 1, [60 740 400 800]" in report.to_text("en")
    assert "第 1 页" in report.to_text("zh")


def test_shadow_replace_via_font(roots: list, tmp_path: Path) -> None:
    """Replace via font: the font the signed page uses is redefined."""
    signed = signed_one_page()
    s = PdfStructure(PdfSource(signed))
    font = next(n for n in s.object_map() if isinstance(s.get(n), dict) and s.get(n).get("Type") == "Font")
    attacked = vf.append_update(signed, {font: vf.object_body(signed, font).replace(b"/Helvetica",
                                                                                    b"/Courier-Bold")})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert "object_changed" in change_codes(sig)


def test_shadow_hide_and_replace_by_xref_alone(roots: list, tmp_path: Path) -> None:
    """Hide-and-Replace: the signed file already carries a second content stream for
    the page (written before signing, registered nowhere a reader looks). The update
    holds no object at all: only an xref entry moving the page's content number to it."""
    base = vf.make_pdf(pages=1)
    _page, content = page_and_content(base)
    hidden = b"%d 0 obj\n%s\nendobj\n" % (content, stream(PRICE_1))
    shadow = vf.append_update(base, {}, junk=hidden)  # an unregistered body inside the update
    hidden_at = shadow.index(hidden)
    signed = signed_one_page(shadow)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    attacked = vf.append_update(signed, {}, entries={content: hidden_at})
    assert visibly_different(signed, attacked)
    sig = first(verdict(attacked, roots, tmp_path, 1))
    assert "page_content_changed" in change_codes(sig)


def test_shadow_hide_and_replace_whole_document(roots: list, tmp_path: Path) -> None:
    """Hide-and-Replace with a whole shadow document: catalog, page tree and page
    written before signing but unused; the update points /Root at them."""
    base = vf.make_pdf(pages=1)
    n = vf.next_free_number(base)
    cat, pages, page, content = n, n + 1, n + 2, n + 3
    s = PdfStructure(PdfSource(base))
    res = s.get(vf.page_object_numbers(base)[0])["Resources"]
    shadow = vf.append_update(base, {
        cat: b"<</Type/Catalog/Pages %d 0 R>>" % pages,
        pages: b"<</Type/Pages/Count 1/Kids[%d 0 R]>>" % page,
        page: b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 595 842]/Resources %d 0 R/Contents %d 0 R>>"
              % (pages, res.num, content),
        content: stream(PRICE_1),
    })
    signed = signed_one_page(shadow)
    assert first(verdict(signed, roots, tmp_path, 0)).status == "valid"
    attacked = vf.append_update(signed, {}, root_override=b"%d 0 R" % cat)
    assert visibly_different(signed, attacked)
    report = verdict(attacked, roots, tmp_path, 1)
    assert report.status == "invalid"
    assert "catalog_replaced" in change_codes(first(report))


# -- 6. Time: claimed times are claims; only a trusted time-stamp moves the judgement ---------------


def _old_pki() -> tuple[object, object, object]:
    """A root valid for years, a signer certificate that expired yesterday (valid for the
    year before) and a time-stamping certificate under the same root."""
    from datetime import UTC, datetime, timedelta

    from app.demo.pki import CertificateAuthority
    from app.gm import sm2
    from app.gm.keyops import SoftwareSigner

    now = datetime.now(UTC)
    root = CertificateAuthority.create_root(name="Old Root", not_before=now - timedelta(days=1000), days=3000)
    key = sm2.PrivateKey.generate()
    cert = root.issue(key.public_key, vf.pki().subject, "sign", not_before=now - timedelta(days=366),
                      not_after=now - timedelta(days=1))
    tsa_key = sm2.PrivateKey.generate()
    tsa = root.issue(tsa_key.public_key, vf.pki().subject, "tsa", not_before=now - timedelta(days=900), days=2000)
    return root, SoftwareSigner(cert, key), (tsa, tsa_key)


def test_backdated_signing_time_does_not_rescue_an_expired_certificate(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    root, signer, _tsa = _old_pki()
    roots = [root.certificate]  # type: ignore[attr-defined]
    claimed = datetime.now(UTC) - timedelta(days=100)  # inside the validity: a lie or a fact, unprovable
    data = vf.sign_pdf(vf.make_pdf(pages=1), signer, vf.SignOptions(signing_time=claimed))  # type: ignore[arg-type]
    # judged when the certificate was still valid (a requested validation time): valid
    assert verify_pdf(data, trust_roots=roots, at=claimed).status == "valid"
    # judged now, as every verification without a trusted time-stamp is: expired
    sig = first(verdict(data, roots, tmp_path, 1))
    assert "CERT_EXPIRED" in {r.code for r in sig.reasons}
    assert sig.signing_time_source == "signing_time" and sig.validation_time_source == "verification_time"
    assert "claimed by the signer" in sig.to_text("en")


def test_backdated_signing_time_does_not_hide_a_revocation(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    p = vf.pki()
    now = datetime.now(UTC)
    data = vf.signed_pdf(signing_time=now - timedelta(minutes=3))
    crl = p.root.make_crl([(p.sign_cert.serial_number, now - timedelta(minutes=1))])
    assert verify_pdf(data, trust_roots=[p.root_cert]).status == "valid"
    sig = first(verify_pdf(data, trust_roots=[p.root_cert], crls=[crl]))
    assert sig.status == "invalid" and "CHAIN_REVOKED" in {r.code for r in sig.reasons}


def test_trusted_timestamp_before_revocation_keeps_the_signature_valid() -> None:
    from datetime import UTC, datetime, timedelta

    p = vf.pki()
    now = datetime.now(UTC).replace(microsecond=0)
    stamped = vf.signed_pdf(timestamp=True, timestamp_time=now - timedelta(minutes=3))
    crl = p.root.make_crl([(p.sign_cert.serial_number, now - timedelta(minutes=1))])
    sig = first(verify_pdf(stamped, trust_roots=[p.root_cert], crls=[crl]))
    assert sig.status == "valid", sig.reasons
    assert sig.validation_time_source == "timestamp" and sig.validation_time == now - timedelta(minutes=3)


@pytest.mark.parametrize("who", ["signer_certificate", "foreign_tsa", "eku_not_critical"])
def test_untrusted_timestamp_time_is_never_used(tmp_path: Path, who: str) -> None:
    """A token that verifies but whose signer is not a trusted TSA (no critical
    timeStamping EKU, or not chaining to a trusted root) cannot vouch for the time."""
    from datetime import UTC, datetime, timedelta

    from app.demo.pki import CertificateAuthority
    from app.gm import sm2

    root, signer, (tsa_cert, tsa_key) = _old_pki()  # type: ignore[misc]
    roots = [root.certificate]  # type: ignore[attr-defined]
    before_expiry = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    good = vf.sign_pdf(vf.make_pdf(pages=1), signer, vf.SignOptions(  # type: ignore[arg-type]
        timestamp=True, timestamp_time=before_expiry, tsa=(tsa_cert, tsa_key)))
    assert first(verdict(good, roots, tmp_path, 0)).status == "valid"
    if who == "signer_certificate":
        tsa = (signer.certificate, signer.key)  # type: ignore[attr-defined]
    elif who == "foreign_tsa":
        other = CertificateAuthority.create_root(name="Rogue TSA Root")
        k = sm2.PrivateKey.generate()
        tsa = (other.issue(k.public_key, vf.pki().subject, "tsa"), k)
    else:
        from asn1crypto import x509 as asn1_x509

        k = sm2.PrivateKey.generate()
        eku = bytes(asn1_x509.ExtKeyUsageSyntax(["time_stamping"]).dump())
        tsa = (root.issue(k.public_key, vf.pki().subject, "sign",  # type: ignore[attr-defined]
                          not_before=datetime.now(UTC) - timedelta(days=900), days=2000,
                          extra_extensions=[("2.5.29.37", eku, False)]), k)
    bad = vf.sign_pdf(vf.make_pdf(pages=1), signer, vf.SignOptions(  # type: ignore[arg-type]
        timestamp=True, timestamp_time=before_expiry, tsa=tsa))
    sig = first(verdict(bad, roots, tmp_path, 1))
    codes = {r.code for r in sig.reasons}
    assert "TIMESTAMP_UNTRUSTED" in codes and "CERT_EXPIRED" in codes
    assert sig.timestamp is not None and sig.timestamp.valid and not sig.timestamp.trusted
    assert sig.timestamp.problem == ("chain" if who == "foreign_tsa" else "not_tsa_certificate")
    assert sig.validation_time_source == "verification_time"


def test_claimed_signing_time_in_the_future_is_flagged(roots: list) -> None:
    from datetime import UTC, datetime, timedelta

    sig = first(verify_pdf(vf.signed_pdf(signing_time=datetime.now(UTC) + timedelta(days=1)), trust_roots=roots))
    assert "CLAIMED_TIME_INCONSISTENT" in {r.code for r in sig.reasons}


# -- 7. What was signed: SM2 with Z; signed attributes ---------------------------------------------


def test_sm2_over_a_bare_digest_is_invalid_unless_the_switch_is_on(roots: list, tmp_path: Path) -> None:
    data = vf.signed_pdf(bare_digest=True)
    sig = first(verdict(data, roots, tmp_path, 1))
    assert "SM2_WITHOUT_Z_REJECTED" in {r.code for r in sig.reasons} and sig.sm2_id is None
    accepted = first(verify_pdf(data, trust_roots=roots, accept_sm2_without_z=True))
    assert accepted.status == "valid" and accepted.sm2_id == "none"
    warning = next(r for r in accepted.reasons if r.code == "SM2_WITHOUT_Z")
    assert warning.severity == "info" and "compatibility switch" in warning.en
    pdf, root = tmp_path / "z.pdf", tmp_path / "r.pem"
    pdf.write_bytes(data)
    root.write_bytes(roots[0].pem)
    assert cli_main(["verify", str(pdf), "--no-default-trust", "--trust", str(root),
                     "--accept-sm2-without-z"]) == 0


def test_empty_sm2_id_is_valid_and_reported(roots: list, tmp_path: Path) -> None:
    sig = first(verdict(vf.signed_pdf(uid=b""), roots, tmp_path, 0))
    assert sig.sm2_id == "empty" and "EMPTY_SM2_ID" in {r.code for r in sig.reasons}


def test_no_signed_attributes_signature_over_z_and_the_ranges(roots: list, tmp_path: Path) -> None:
    """Without signed attributes the message is the signed content itself:
    e = SM3(Z || byte ranges), hashed from the file with Z as a prefix."""
    sig = first(verdict(vf.signed_pdf(cms_variant="no_signed_attrs"), roots, tmp_path, 0))
    assert sig.sm2_id == "default"
    bare = vf.signed_pdf(cms_variant="no_signed_attrs", bare_digest=True)
    assert "SM2_WITHOUT_Z_REJECTED" in {r.code for r in first(verdict(bare, roots, tmp_path, 1)).reasons}
    assert first(verify_pdf(bare, trust_roots=roots, accept_sm2_without_z=True)).sm2_id == "none"


@pytest.mark.parametrize("variant, code", [
    ("no_content_type", "CMS_CONTENT_TYPE_ATTR_MISSING"),
    ("no_message_digest", "CMS_MESSAGE_DIGEST_MISSING"),
    ("content_type_mismatch", "CMS_CONTENT_TYPE_MISMATCH"),
])
def test_signed_attributes_must_carry_content_type_and_message_digest(roots: list, tmp_path: Path,
                                                                      variant: str, code: str) -> None:
    sig = first(verdict(vf.signed_pdf(cms_variant=variant), roots, tmp_path, 1))
    assert code in {r.code for r in sig.reasons}, sig.reasons
    assert not sig.integrity


def test_message_digest_of_other_bytes_is_invalid(roots: list, tmp_path: Path) -> None:
    sig = first(verdict(vf.signed_pdf(wrong_digest=True), roots, tmp_path, 1))
    assert "DIGEST_MISMATCH" in {r.code for r in sig.reasons}


# -- 8. What a reader sees: new widgets, certification and field locks -------------------------------


def test_a_second_valid_signature_is_the_only_thing_added(roots: list, tmp_path: Path) -> None:
    signed = signed_one_page()
    both = vf.sign_pdf(signed, None, vf.SignOptions(field_name="Sig2", rect=(100, 80, 200, 180)))
    report = verdict(both, roots, tmp_path, 0)
    sig = first(report)
    assert sig.modification == "signature_added" and change_codes(sig) and \
        set(change_codes(sig)) == {"signature_added"}
    assert sig.modification_text("en") == "only signatures were added after signing"
    assert "签名后仅追加了签名" in report.to_text()


def test_a_new_widget_whose_signature_is_invalid_is_a_visible_modification(roots: list, tmp_path: Path) -> None:
    signed = signed_one_page()
    both = vf.sign_pdf(signed, None, vf.SignOptions(field_name="Sig2", wrong_digest=True, rect=(100, 500, 400, 700),
                                                     appearance=b"1 0 0 rg 0 0 300 200 re f"))
    assert visibly_different(signed, both)
    report = verdict(both, roots, tmp_path, 1)
    sig1 = first(report)
    assert sig1.status == "invalid" and "unsigned_widget_added" in change_codes(sig1)
    assert "only signatures" not in sig1.modification_text("en")


def test_a_widget_reusing_the_genuine_signature_value_is_a_visible_modification(roots: list,
                                                                              tmp_path: Path) -> None:
    """A new widget whose field's /V is the genuine /Sig dictionary: the genuine
    signature is intact, but it never covered this widget."""
    signed = signed_one_page()
    s = PdfStructure(PdfSource(signed))
    sig_num = first(verify_pdf(signed, trust_roots=roots)).object_number
    n, page = vf.next_free_number(signed), vf.page_object_numbers(signed)[0]
    acro = s.resolve(s.trailer()["Root"])["AcroForm"]
    fields = " ".join(f"{r.num} 0 R" for r in s.resolve(acro)["Fields"]) + f" {n} 0 R"
    attacked = vf.append_update(signed, {
        n: b"<</Type/Annot/Subtype/Widget/FT/Sig/T(Copy)/F 4/Rect[100 500 400 700]/P %d 0 R/V %d 0 R"
           b"/AP<</N %d 0 R>>>>" % (page, sig_num, n + 1),
        n + 1: stream(b"1 0 0 rg 0 0 300 200 re f", b"/Type/XObject/Subtype/Form/BBox[0 0 300 200]"),
        page: re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % n, vf.object_body(signed, page)),
        acro.num: b"<</Fields[" + fields.encode() + b"]/SigFlags 3>>",
    })
    assert visibly_different(signed, attacked)
    report = verdict(attacked, roots, tmp_path, 1)
    sig1 = next(x for x in report.signatures if x.field_name == "Sig1")
    assert sig1.integrity and "unsigned_widget_added" in change_codes(sig1)


def test_an_invisible_empty_signature_field_is_harmless(roots: list, tmp_path: Path) -> None:
    signed = signed_one_page()
    s = PdfStructure(PdfSource(signed))
    n, page = vf.next_free_number(signed), vf.page_object_numbers(signed)[0]
    acro = s.resolve(s.trailer()["Root"])["AcroForm"]
    fields = " ".join(f"{r.num} 0 R" for r in s.resolve(acro)["Fields"]) + f" {n} 0 R"
    later = vf.append_update(signed, {
        n: b"<</Type/Annot/Subtype/Widget/FT/Sig/T(ForTheEvaluator)/F 4/Rect[0 0 0 0]/P %d 0 R>>" % page,
        page: re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % n, vf.object_body(signed, page)),
        acro.num: b"<</Fields[" + fields.encode() + b"]/SigFlags 3>>",
    })
    sig = first(verdict(later, roots, tmp_path, 0))
    assert sig.modification == "signature_added" and sig.status == "valid"


def test_a_signature_appearance_swapped_after_it_was_signed(roots: list, tmp_path: Path) -> None:
    """Sig2's appearance is replaced after Sig2: Sig2 is modified, and Sig1 may not say
    "only signatures were added" about a seal nobody signed in that form."""
    both = vf.sign_pdf(signed_one_page(), None, vf.SignOptions(field_name="Sig2", rect=(100, 500, 300, 600)))
    assert verdict(both, roots, tmp_path, 0).status == "valid"
    s = PdfStructure(PdfSource(both))
    widget = next(s.get(n) for n in s.object_map() if isinstance(s.get(n), dict) and s.get(n).get("T") == b"Sig2")
    ap = widget["AP"]["N"].num
    attacked = vf.append_update(both, {ap: stream(PRICE_1, b"/Type/XObject/Subtype/Form/BBox[0 0 200 100]")})
    report = verdict(attacked, roots, tmp_path, 1)
    by_name = {x.field_name: x for x in report.signatures}
    assert "signature_changed" in change_codes(by_name["Sig2"])
    assert "unsigned_widget_added" in change_codes(by_name["Sig1"])


@pytest.mark.parametrize("p, level, status", [
    (1, "modified", "invalid"), (2, "signature_added", "valid"), (3, "signature_added", "valid"),
])
def test_docmdp_certification_levels(roots: list, tmp_path: Path, p: int, level: str, status: str) -> None:
    certified = signed_one_page(docmdp=p)
    assert first(verdict(certified, roots, tmp_path, 0)).kind == "certification"
    both = vf.sign_pdf(certified, None, vf.SignOptions(field_name="Sig2", rect=(100, 80, 200, 180)))
    sig = first(verdict(both, roots, tmp_path, 0 if status == "valid" else 1))
    assert (sig.modification, sig.status) == (level, status)


def test_docmdp_p3_still_refuses_new_annotations(roots: list, tmp_path: Path) -> None:
    """Deliberately stricter than DocMDP P 3 (which permits annotations): an annotation
    painted over a bid is a visible modification here whatever the certifier allowed."""
    certified = signed_one_page(docmdp=3)
    page = vf.page_object_numbers(certified)[0]
    n = vf.next_free_number(certified)
    attacked = vf.append_update(certified, {
        n: b"<</Type/Annot/Subtype/Square/Rect[60 740 400 800]/C[1 0 0]/IC[1 1 1]>>",
        page: re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % n, vf.object_body(certified, page)),
    })
    assert "annotation_added" in change_codes(first(verdict(attacked, roots, tmp_path, 1)))


@pytest.mark.parametrize("fieldmdp, allowed", [
    ("<</Type/TransformParams/Action/Include/Fields[(amount)]/V/1.2>>", False),
    ("<</Type/TransformParams/Action/All/V/1.2>>", False),
    ("<</Type/TransformParams/Action/Exclude/Fields[(amount)]/V/1.2>>", True),
])
def test_fieldmdp_locks_are_enforced(roots: list, tmp_path: Path, fieldmdp: str, allowed: bool) -> None:
    """A certification with P 2 permits filling in forms, except the fields its FieldMDP locks."""
    path = tmp_path / "form.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions(docmdp=2, fieldmdp=fieldmdp)))
    vf.fill_text_field(path, "1")
    sig = first(verdict(path.read_bytes(), roots, tmp_path, 0 if allowed else 1))
    if allowed:
        assert sig.modification == "form_filled"
    else:
        locked = next(c for c in sig.changes if c["code"] == "field_locked")
        assert locked["details"]["field"] == "amount"


def test_a_field_lock_with_p1_forbids_later_signatures(roots: list, tmp_path: Path) -> None:
    locked = signed_one_page(field_lock="<</Type/SigFieldLock/Action/All/P 1>>")
    assert first(verdict(locked, roots, tmp_path, 0)).status == "valid"
    both = vf.sign_pdf(locked, None, vf.SignOptions(field_name="Sig2", rect=(100, 80, 200, 180)))
    sig = first(verdict(both, roots, tmp_path, 1))
    assert "docmdp_forbids" in change_codes(sig)


def test_turning_off_need_appearances_with_filled_fields_is_a_modification(roots: list, tmp_path: Path) -> None:
    """With /NeedAppearances true a viewer draws the fields from their values; turning
    it off makes it draw the stored appearances instead, which may show other values."""
    shadow, _field, _ap = _with_cover_field(vf.make_pdf(pages=1), b"100")
    s = PdfStructure(PdfSource(shadow))
    form = s.resolve(s.trailer()["Root"])["AcroForm"].num
    shadow = vf.append_update(shadow, {form: vf.object_body(shadow, form)[:-2] + b"/NeedAppearances true>>"})
    signed = signed_one_page(shadow)
    s = PdfStructure(PdfSource(signed))
    form_body = vf.object_body(signed, form).replace(b"/NeedAppearances true", b"")
    sig = first(verdict(vf.append_update(signed, {form: form_body}), roots, tmp_path, 1))
    assert "need_appearances_changed" in change_codes(sig)


def test_metadata_only_update_is_not_called_a_signature(roots: list, tmp_path: Path) -> None:
    signed = signed_one_page()
    n = vf.next_free_number(signed)
    s = PdfStructure(PdfSource(signed))
    root = s.trailer()["Root"]
    later = vf.append_update(signed, {n: b"<</Title(Bid)/ModDate(D:20260101000000Z)>>"})
    later = later.replace(b"/Root %d 0 R/Prev" % root.num, b"/Root %d 0 R/Info %d 0 R/Prev" % (root.num, n))
    sig = first(verdict(later, roots, tmp_path, 0))
    assert sig.modification == "signature_added"
    assert sig.modification_text("en") == "only metadata or validation data was updated after signing"

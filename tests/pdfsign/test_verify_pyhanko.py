"""Cross-check: pyHanko (with SM2 plugged in) agrees with our coverage and
modification verdicts on the same files.

Mapping: our ``signature_added`` is pyHanko's FORM_FILLING (it files new signature
fields under form filling) or LTA_UPDATES; our ``modified`` is its OTHER or
ANNOTATIONS (we do not allow new non-widget annotations at all).

Where BidSeal is deliberately stricter, :data:`STRICTER` names the case, what each
verifier says, and why (the adversarial cases of issue 8).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app.pdfsign.pdfstructure import PdfSource, PdfStructure
from app.pdfsign.verify import verify_pdf
from tests.pdfsign import verify_fixtures as vf

COVERAGE = {"entire_file": {"ENTIRE_FILE"}, "entire_revision": {"ENTIRE_REVISION"}}
MODIFICATION = {
    "none": {"NONE"},
    "signature_added": {"FORM_FILLING", "LTA_UPDATES"},
    "form_filled": {"FORM_FILLING"},
    "modified": {"OTHER", "ANNOTATIONS"},
}


def _one() -> bytes:
    return vf.signed_pdf()


def _two() -> bytes:
    return vf.sign_pdf(vf.signed_pdf(), None, vf.SignOptions(field_name="Sig2", pages=(1,)))


def _cross_page() -> bytes:
    return vf.sign_pdf(vf.make_pdf(pages=3), None, vf.SignOptions(pages=(0, 1, 2)))


def _empty_id() -> bytes:
    return vf.signed_pdf(uid=b"")


def _form_filled(tmp: Path) -> bytes:
    path = tmp / "f.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions()))
    vf.fill_text_field(path, "42")
    return path.read_bytes()


def _form_filled_certified(tmp: Path) -> bytes:
    path = tmp / "f.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions(docmdp=2)))
    vf.fill_text_field(path, "42")
    return path.read_bytes()


def _field_restyled(tmp: Path) -> bytes:
    path = tmp / "f.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions()))
    vf.restyle_text_field(path, "42")
    return path.read_bytes()


def _content_replaced() -> bytes:
    one = vf.signed_pdf()
    s = PdfStructure(PdfSource(one))
    page = vf.page_object_numbers(one)[0]
    contents = s.get(page)["Contents"]
    num = (contents[0] if isinstance(contents, list) else contents).num
    return vf.append_update(one, {num: b"<</Length 5>>\nstream\nBT ET\nendstream"})


def _annotation_added() -> bytes:
    one = vf.signed_pdf()
    page = vf.page_object_numbers(one)[0]
    num = int(PdfStructure(PdfSource(one)).trailer()["Size"])
    body = re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % num, vf.object_body(one, page))
    return vf.append_update(one, {
        num: b"<</Type/Annot/Subtype/FreeText/Rect[10 10 300 60]/Contents(VOID)/DA(/Helv 20 Tf)>>",
        page: body,
    })


def _production_cross_page(tmp: Path) -> bytes:
    from app.pdfsign import seal_pdf
    from app.pdfsign.placement import CrossPagePlacement, RectPlacement, Seal
    from tests.pdfsign.conftest import make_pdf, make_seal_png

    png = make_seal_png()
    src = make_pdf(tmp / "bid.pdf", pages=2)
    seal_pdf(src, tmp / "o1.pdf", vf.pki().signer(), [Seal(RectPlacement(0, (100, 100, 200, 200)), png)])
    seal_pdf(tmp / "o1.pdf", tmp / "o2.pdf", vf.pki().signer(), [Seal(CrossPagePlacement(), png)])
    return (tmp / "o2.pdf").read_bytes()


CASES: dict[str, Callable[[Path], bytes]] = {
    "single": lambda t: _one(),
    "two_successive": lambda t: _two(),
    "cross_page": lambda t: _cross_page(),
    "empty_id": lambda t: _empty_id(),
    "form_filled_after_certification": _form_filled_certified,
    "field_restyled": _field_restyled,
    "content_replaced": lambda t: _content_replaced(),
    "annotation_added": lambda t: _annotation_added(),
    "production_cross_page": _production_cross_page,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_pyhanko_agrees(case: str, tmp_path: Path) -> None:
    data = CASES[case](tmp_path)
    roots = [vf.pki().root_cert]
    ours = verify_pdf(data, trust_roots=roots)
    theirs = {r["field"]: r for r in vf.pyhanko_results(data, roots)}
    assert len(theirs) == len(ours.signatures)
    for sig in ours.signatures:
        ph = theirs[sig.field_name]
        assert ph["intact"] and ph["valid"], ph
        assert ph["coverage"] in COVERAGE[sig.coverage], (sig.coverage, ph)
        assert ph["modification"] in MODIFICATION[sig.modification], (sig.modification, ph)
        assert (sig.status == "valid") == bool(ph["bottom_line"] and ph["trusted"]), (sig.status, ph)


def test_pyhanko_agrees_on_untrusted() -> None:
    data = vf.signed_pdf()
    _signer, other = vf.foreign_signer()
    (ours,) = verify_pdf(data, trust_roots=[other]).signatures
    (ph,) = vf.pyhanko_results(data, [other])
    assert ours.status == "untrusted"
    assert ph["intact"] and ph["valid"] and not ph["trusted"]


def test_pyhanko_agrees_on_digest_mismatch() -> None:
    data = vf.signed_pdf()
    i = data.index(b"42696420646f63756d656e74")
    data = data[:i] + b"42616420" + data[i + 8:]
    (ours,) = verify_pdf(data, trust_roots=[vf.pki().root_cert]).signatures
    (ph,) = vf.pyhanko_results(data, [vf.pki().root_cert])
    assert ours.status == "invalid" and not ph["intact"]


# -- where BidSeal is deliberately stricter -------------------------------------------------------


def _form_filled_approval(tmp: Path) -> bytes:
    path = tmp / "f.pdf"
    path.write_bytes(vf.sign_pdf(vf.make_pdf_with_text_field(), None, vf.SignOptions()))
    vf.fill_text_field(path, "42")
    return path.read_bytes()


def _stray_bytes(tmp: Path) -> bytes:
    return vf.signed_pdf() + b"\n% appended after the last %%EOF\nBT (x) Tj ET\n"


def _dangling_reference_defined(tmp: Path) -> bytes:
    from tests.pdfsign import test_attacks as ta

    base = vf.make_pdf(pages=1)
    page, content = ta.page_and_content(base)
    n = vf.next_free_number(base) + 5
    body = vf.object_body(base, page).replace(b"%d 0 R" % content, b"%d 0 R %d 0 R" % (content, n))
    signed = vf.sign_pdf(vf.append_update(base, {page: body}, size=vf.next_free_number(base)))
    return vf.append_update(signed, {n: ta.stream(ta.RED_BOX)})


def _unsigned_widget(tmp: Path) -> bytes:
    from tests.pdfsign import test_attacks as ta

    one = vf.signed_pdf()
    s = PdfStructure(PdfSource(one))
    n, page = vf.next_free_number(one), vf.page_object_numbers(one)[0]
    acro = s.resolve(s.trailer()["Root"])["AcroForm"]
    fields = " ".join(f"{r.num} 0 R" for r in s.resolve(acro)["Fields"]) + f" {n} 0 R"
    return vf.append_update(one, {
        n: b"<</Type/Annot/Subtype/Widget/FT/Sig/T(Empty)/F 132/Rect[50 600 250 700]/P %d 0 R"
           b"/AP<</N %d 0 R>>>>" % (page, n + 1),
        n + 1: ta.stream(b"1 0 0 rg 0 0 200 100 re f", b"/Type/XObject/Subtype/Form/BBox[0 0 200 100]"),
        page: re.sub(rb"/Annots\s*\[", b"/Annots[%d 0 R " % n, vf.object_body(one, page)),
        acro.num: b"<</Fields[" + fields.encode() + b"]/SigFlags 3>>",
    })


#: case -> (builder, our change code, pyHanko's modification level, why we differ)
STRICTER: dict[str, tuple[Callable[[Path], bytes], str, str, str]] = {
    "form_filled_after_approval": (
        _form_filled_approval, "form_changed", "FORM_FILLING",
        "after an approval signature a reader would see a field value the signer never signed "
        "(seal one price, show another; the Hide/Replace shadow attacks use form fields); only a "
        "certification with DocMDP P 2/3 permits filling"),
    "bytes_after_last_eof": (
        _stray_bytes, "stray_bytes", "NONE",
        "bytes after the last %%EOF are not covered by any signature and repairing viewers may use "
        "them (the Incremental Saving Attack without xref/trailer)"),
    "dangling_reference_defined": (
        _dangling_reference_defined, "dangling_reference_defined", "LTA_UPDATES",
        "the signed page referred to a missing object; defining it later changes what the signed, "
        "unchanged page draws (a shadow document revealed after signing)"),
    "unsigned_signature_widget": (
        _unsigned_widget, "unsigned_widget_added", "FORM_FILLING",
        "a new signature widget that paints on the page without a valid signature of its own is "
        "an unsigned overlay (what a USF attacker shows as a seal)"),
}


@pytest.mark.parametrize("case", sorted(STRICTER))
def test_bidseal_is_deliberately_stricter(case: str, tmp_path: Path) -> None:
    build, our_code, their_level, _why = STRICTER[case]
    data = build(tmp_path)
    roots = [vf.pki().root_cert]
    (ours,) = [s for s in verify_pdf(data, trust_roots=roots).signatures if s.field_name == "Sig1"]
    (theirs,) = [r for r in vf.pyhanko_results(data, roots) if r["field"] == "Sig1"]
    # pyHanko: intact, trusted and acceptable, at the level it grants
    assert theirs["intact"] and theirs["valid"] and theirs["bottom_line"], theirs
    assert theirs["modification"] == their_level, theirs
    # BidSeal: the same signature is invalid because of exactly this change
    assert ours.integrity and ours.status == "invalid" and ours.modification == "modified"
    assert our_code in {c["code"] for c in ours.changes}, ours.changes

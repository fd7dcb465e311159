"""Sealing PDFs of several origins; placement, revisions, safety, progress and cancellation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pymupdf
import pytest

from app.pdfsign import (
    MM,
    CancelToken,
    KeywordPlacement,
    RectPlacement,
    Seal,
    SealOptions,
    seal_pdf,
)
from app.pdfsign.errors import SealCancelledError
from app.pdfsign.placement import page_geometry
from tests.pdfsign.conftest import (
    FIXTURES,
    KEYWORD,
    LEGAL_KEYWORD,
    CountingSigner,
    make_pdf,
    sha256,
)

A4 = (595, 842)


def _sig_fields(path: Path) -> list[str]:
    doc = pymupdf.open(path)
    names = []
    for page in doc:
        for w in page.widgets():
            if w.field_type == pymupdf.PDF_WIDGET_TYPE_SIGNATURE:
                names.append(w.field_name)
    doc.close()
    return names


def _assert_all_intact(results: list[dict], roots_given: bool = False) -> None:
    assert results
    for r in results:
        assert r["intact"] and r["valid"], r
        assert r["coverage"] in ("ENTIRE_FILE", "ENTIRE_REVISION"), r
        if roots_given:
            assert r["trusted"], r
    assert results[-1]["coverage"] == "ENTIRE_FILE"


def test_seal_by_rect_is_valid_and_keeps_original_prefix(tmp_path, bid_pdf, signer, seal_png, pki,
                                                       validate_pyhanko):
    before = sha256(bid_pdf)
    original = bid_pdf.read_bytes()
    out = tmp_path / "out.pdf"
    res = seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(2, (300, 600, 420, 720)), seal_png,
                                               reason="投标", location="沈阳")])
    assert sha256(bid_pdf) == before
    data = out.read_bytes()
    assert data.startswith(original) and len(data) > len(original)
    assert [s.field_name for s in res.seals] == ["BidSeal1"]
    assert res.seals[0].pages == (3,)
    results = validate_pyhanko(out, [pki.root_cert])
    _assert_all_intact(results, roots_given=True)
    assert results[0]["modification"] == "NONE"
    # no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf", "out.pdf"]


def test_seal_image_only_in_widget_appearance(tmp_path, bid_pdf, signer, seal_png):
    out = tmp_path / "out.pdf"
    seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(0, (100, 100, 200, 200)), seal_png)])
    a, b = pymupdf.open(bid_pdf), pymupdf.open(out)
    for i in range(a.page_count):
        assert a[i].get_contents() == b[i].get_contents()
        assert a.xref_object(a[i].get_contents()[0]) == b.xref_object(b[i].get_contents()[0])
        assert b[i].get_images() == a[i].get_images()  # page resources untouched
    w = next(b[0].widgets())
    assert w.field_type == pymupdf.PDF_WIDGET_TYPE_SIGNATURE
    assert b.xref_get_key(w.xref, "F") == ("int", "132")
    assert b.xref_get_key(w.xref, "FT") == ("name", "/Sig")
    sig = int(b.xref_get_key(w.xref, "V")[1].split()[0])
    assert b.xref_get_key(sig, "SubFilter") == ("name", "/adbe.pkcs7.detached")
    assert b.xref_get_key(sig, "Filter") == ("name", "/Adobe.PPKLite")
    assert b.xref_get_key(b.pdf_catalog(), "AcroForm/SigFlags")[1] == "3" or \
        b.xref_get_key(int(b.xref_get_key(b.pdf_catalog(), "AcroForm")[1].split()[0]), "SigFlags")[1] == "3"


def test_keyword_every_occurrence_and_nth(tmp_path, signer, seal_png, validate_pyhanko):
    src = make_pdf(tmp_path / "kw.pdf", pages=4, keyword_pages=(1, 3))
    out = tmp_path / "all.pdf"
    res = seal_pdf(src, out, signer, [Seal(KeywordPlacement(KEYWORD, occurrence=None), seal_png)])
    assert [s.pages for s in res.seals] == [(2,), (4,)]
    _assert_all_intact(validate_pyhanko(out))
    out2 = tmp_path / "second.pdf"
    res = seal_pdf(src, out2, signer, [Seal(KeywordPlacement(KEYWORD, occurrence=2), seal_png)])
    assert [s.pages for s in res.seals] == [(4,)]


def test_keyword_seal_is_centred_on_keyword_at_42mm(tmp_path, bid_pdf, signer, seal_png, render_red_box):
    out = tmp_path / "out.pdf"
    seal_pdf(bid_pdf, out, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)])
    doc = pymupdf.open(bid_pdf)
    hit = doc[2].search_for(KEYWORD)[0]
    (x0, y0, x1, y1), top = render_red_box(out, 2)
    assert abs((x1 - x0) - 42 * MM * 0.96) < 4  # ring outer diameter is 96 % of the picture
    assert abs((x0 + x1) / 2 - (hit.x0 + hit.x1) / 2) < 2
    assert abs((y0 + y1) / 2 - (hit.y0 + hit.y1) / 2) < 2
    assert top > 0.55  # upright: the bar is at the top


def test_company_and_legal_rep_seals_are_successive_valid_revisions(tmp_path, bid_pdf, pki, seal_png,
                                                                   validate_pyhanko, counting_signer):
    out = tmp_path / "out.pdf"
    res = seal_pdf(bid_pdf, out, counting_signer, [
        Seal(KeywordPlacement(KEYWORD), seal_png, reason="投标人盖章"),
        Seal(KeywordPlacement(LEGAL_KEYWORD, size_mm=20), seal_png, reason="法定代表人签章"),
    ])
    assert len(counting_signer.calls) == 2  # exactly one device operation per seal
    assert [s.field_name for s in res.seals] == ["BidSeal1", "BidSeal2"]
    results = validate_pyhanko(out, [pki.root_cert])
    _assert_all_intact(results, roots_given=True)
    assert results[0]["coverage"] == "ENTIRE_REVISION"
    assert results[0]["modification"] == "FORM_FILLING"
    # a second call on the sealed output adds a third revision; earlier ones stay valid
    out2 = tmp_path / "out2.pdf"
    res2 = seal_pdf(out, out2, counting_signer, [Seal(RectPlacement(0, (50, 50, 150, 150)), seal_png)])
    assert res2.seals[0].field_name == "BidSeal3"
    _assert_all_intact(validate_pyhanko(out2, [pki.root_cert]), roots_given=True)


@pytest.mark.parametrize("name", ["pymupdf", "libreoffice", "objstm", "form", "history"])
def test_pdfs_of_several_origins(tmp_path, name, signer, seal_png, pki, validate_pyhanko, form_pdf):
    if name == "pymupdf":
        src = make_pdf(tmp_path / "a.pdf")
    elif name == "libreoffice":
        src = tmp_path / "lo.pdf"
        shutil.copy(FIXTURES / "libreoffice-bid.pdf", src)
    elif name == "objstm":
        src = make_pdf(tmp_path / "objstm.pdf", use_objstms=True)
        assert b"/ObjStm" in src.read_bytes()
    elif name == "form":
        src = form_pdf
    else:  # a file with incremental history (edited twice after creation)
        src = make_pdf(tmp_path / "hist.pdf")
        for text in ("edit 1", "edit 2"):
            d = pymupdf.open(src)
            d[0].insert_text((72, 300), text)
            d.save(src, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
            d.close()
        assert src.read_bytes().count(b"%%EOF") >= 3
    before = src.read_bytes()
    out = tmp_path / "out.pdf"
    res = seal_pdf(src, out, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)])
    assert out.read_bytes().startswith(before)
    assert res.seals[0].field_name in _sig_fields(out)
    _assert_all_intact(validate_pyhanko(out, [pki.root_cert]), roots_given=True)
    if name == "form":
        doc = pymupdf.open(out)
        values = {w.field_name: w.field_value for w in doc[0].widgets()}
        assert values["bidder"] == "ACME"
        assert "BidSeal1" in values


def test_existing_acroform_inline_and_indirect_annots(tmp_path, signer, seal_png, validate_pyhanko):
    """AcroForm as an inline dict in the catalog and /Annots as an indirect array."""
    src = tmp_path / "odd.pdf"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "odd structure")
    annot = page.add_text_annot((300, 300), "note")
    arr = doc.get_new_xref()
    doc.update_object(arr, f"[{annot.xref} 0 R]")
    doc.xref_set_key(page.xref, "Annots", f"{arr} 0 R")
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm", "<</Fields[]/DA(/Helv 0 Tf 0 g)>>")
    doc.save(src)
    doc.close()
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, (100, 400, 200, 500)), seal_png)])
    d = pymupdf.open(out)
    assert d.xref_get_key(d.pdf_catalog(), "AcroForm")[0] == "dict"
    assert len(list(d[0].annots())) == 1 and len(list(d[0].widgets())) == 1
    _assert_all_intact(validate_pyhanko(out))


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("renderer", ["mupdf", "poppler"])
def test_rotated_and_cropped_pages_put_the_seal_where_the_user_placed_it(
        tmp_path, rotation, renderer, signer, seal_png, render_red_box):
    src = make_pdf(tmp_path / "rot.pdf", pages=1, rotations={0: rotation},
                   cropboxes={0: (40, 60, 540, 800)})
    doc = pymupdf.open(src)
    geo = page_geometry(doc, 0)
    assert (round(doc[0].rect.width), round(doc[0].rect.height)) == tuple(round(v) for v in geo.visible_size)
    doc.close()
    vis = (60.0, 90.0, 180.0, 210.0)  # visible coordinates, top-left origin
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(RectPlacement(0, vis), seal_png)])
    (x0, y0, x1, y1), top = render_red_box(out, 0, renderer)
    # the ring spans 96 % of the picture; allow 3 px of antialiasing
    assert abs(x0 - (vis[0] + 2.4)) <= 3 and abs(y0 - (vis[1] + 2.4)) <= 3
    assert abs(x1 - (vis[2] - 2.4)) <= 3 and abs(y1 - (vis[3] - 2.4)) <= 3
    assert top > 0.55, "the seal must be upright for the reader"


def test_progress_reports_stages_and_reaches_one(tmp_path, bid_pdf, signer, seal_png):
    seen: list[tuple[float, str]] = []
    seal_pdf(bid_pdf, tmp_path / "o.pdf", signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
             progress=lambda d, t, s: seen.append((d / t, s)))
    stages = [s for _, s in seen]
    for stage in ("check", "copy", "prepare", "digest", "sign", "patch", "verify", "finish", "done"):
        assert stage in stages
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions)


@pytest.mark.parametrize("stage", ["copy", "prepare", "sign", "verify"])
def test_cancellation_between_stages_leaves_nothing(tmp_path, bid_pdf, seal_png, stage, counting_signer):
    token = CancelToken()
    before = sha256(bid_pdf)

    def progress(_d: int, _t: int, s: str) -> None:
        if s == stage:
            token.cancel()

    out = tmp_path / "o.pdf"
    with pytest.raises(SealCancelledError) as ei:
        seal_pdf(bid_pdf, out, counting_signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
                 progress=progress, cancel=token)
    assert ei.value.code == "ERR_CANCELLED"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf"]
    assert sha256(bid_pdf) == before
    if stage in ("copy", "prepare"):
        assert counting_signer.calls == []


def test_signing_failure_in_device_leaves_nothing(tmp_path, bid_pdf, seal_png, signer):
    class Broken(CountingSigner):
        def sign_digest(self, e: bytes) -> bytes:
            raise RuntimeError("device unplugged")

    out = tmp_path / "o.pdf"
    with pytest.raises(Exception) as ei:
        seal_pdf(bid_pdf, out, Broken(signer), [Seal(KeywordPlacement(KEYWORD), seal_png)])
    assert getattr(ei.value, "code", "") == "ERR_PDF_SIGN"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf"]


def test_wrong_key_for_certificate_is_caught(tmp_path, bid_pdf, seal_png, pki, enc_only_signer):
    from app.gm.keyops import SoftwareSigner

    mismatched = SoftwareSigner(pki.sign_cert, enc_only_signer.key)
    out = tmp_path / "o.pdf"
    with pytest.raises(Exception) as ei:
        seal_pdf(bid_pdf, out, mismatched, [Seal(KeywordPlacement(KEYWORD), seal_png)])
    assert ei.value.code == "ERR_SELF_VERIFY"
    assert not out.exists()


def test_contents_reserve_too_small_is_refused_cleanly(tmp_path, bid_pdf, seal_png, signer):
    out = tmp_path / "o.pdf"
    with pytest.raises(Exception) as ei:
        seal_pdf(bid_pdf, out, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
                 options=SealOptions(contents_size=200))
    assert ei.value.code == "ERR_SIGNATURE_TOO_LARGE"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf"]


def test_signature_dictionary_fields(tmp_path, bid_pdf, seal_png, signer):
    out = tmp_path / "o.pdf"
    seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(0, (10, 10, 110, 110)), seal_png, name="张三",
                                         reason="投标", location="沈阳", contact="024-1234")])
    d = pymupdf.open(out)
    w = next(d[0].widgets())
    sig = int(d.xref_get_key(w.xref, "V")[1].split()[0])
    assert d.xref_get_key(sig, "Reason")[1] == "投标"
    assert d.xref_get_key(sig, "Location")[1] == "沈阳"
    assert d.xref_get_key(sig, "Name")[1] == "张三"
    assert d.xref_get_key(sig, "M")[1].startswith("D:")
    assert A4 == (595, 842)

"""Cross-page seals (骑缝章) in both recording modes, checked with pyHanko, pdfsig and rendering."""

from __future__ import annotations

import shutil
import subprocess

import pymupdf

from app.pdfsign import (
    MM,
    CrossPageMode,
    CrossPagePlacement,
    KeywordPlacement,
    Seal,
    seal_pdf,
)
from app.pdfsign.crosspage import page_groups
from tests.pdfsign.conftest import KEYWORD, make_pdf


def _widgets(path):
    doc = pymupdf.open(path)
    out = []
    for page in doc:
        for w in page.widgets():
            if w.field_type == pymupdf.PDF_WIDGET_TYPE_SIGNATURE:
                out.append((page.number, w.field_name, w.xref, doc.xref_get_key(w.xref, "Parent")))
    doc.close()
    return out


def test_single_signature_mode_is_default_one_device_operation(tmp_path, counting_signer, seal_png, pki,
                                                               validate_pyhanko):
    assert CrossPagePlacement().mode is CrossPageMode.SINGLE_SIGNATURE
    src = make_pdf(tmp_path / "bid.pdf", pages=5)
    out = tmp_path / "out.pdf"
    res = seal_pdf(src, out, counting_signer, [Seal(CrossPagePlacement(), seal_png)])
    assert len(counting_signer.calls) == 1
    assert len(res.seals) == 1 and res.seals[0].pages == (1, 2, 3, 4, 5)
    widgets = _widgets(out)
    assert [w[0] for w in widgets] == [0, 1, 2, 3, 4]
    assert {w[1] for w in widgets} == {"BidSeal1"}
    assert all(w[3][0] == "xref" for w in widgets)  # kids of one parent field
    # pyHanko really validates the multi-widget field (its one-widget limit is only for its own signing)
    results = validate_pyhanko(out, [pki.root_cert])
    assert len(results) == 1
    r = results[0]
    assert r["intact"] and r["valid"] and r["trusted"] and r["coverage"] == "ENTIRE_FILE", r


def test_per_page_mode_one_signature_per_page(tmp_path, counting_signer, seal_png, pki, validate_pyhanko):
    src = make_pdf(tmp_path / "bid.pdf", pages=4)
    out = tmp_path / "out.pdf"
    res = seal_pdf(src, out, counting_signer,
                   [Seal(CrossPagePlacement(mode=CrossPageMode.PER_PAGE), seal_png)])
    assert len(counting_signer.calls) == 4  # N device operations, one signer/session
    assert [s.pages for s in res.seals] == [(1,), (2,), (3,), (4,)]
    widgets = _widgets(out)
    assert len({w[1] for w in widgets}) == 4 and all(w[3][0] == "null" for w in widgets)
    results = validate_pyhanko(out, [pki.root_cert])
    assert len(results) == 4
    for r in results:
        assert r["intact"] and r["valid"] and r["trusted"], r
    assert [r["coverage"] for r in results] == ["ENTIRE_REVISION"] * 3 + ["ENTIRE_FILE"]


def test_later_seal_keeps_cross_page_signature_valid(tmp_path, signer, seal_png, pki, validate_pyhanko):
    src = make_pdf(tmp_path / "bid.pdf", pages=3)
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(CrossPagePlacement(), seal_png), Seal(KeywordPlacement(KEYWORD), seal_png)])
    results = validate_pyhanko(out, [pki.root_cert])
    assert results[0]["field"] == "BidSeal1" and results[0]["intact"] and results[0]["valid"]
    assert results[0]["coverage"] == "ENTIRE_REVISION" and results[0]["modification"] == "FORM_FILLING"
    assert results[1]["coverage"] == "ENTIRE_FILE"


def test_verifier_reports_cross_page_seal_once_with_all_pages(tmp_path, signer, seal_png, pki):
    from app.pdfsign import verify
    src = make_pdf(tmp_path / "bid.pdf", pages=3)
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(CrossPagePlacement(), seal_png)])
    report = verify.verify_pdf(out, trust_roots=[pki.root_cert])
    assert len(report.signatures) == 1
    sig = report.signatures[0]
    assert sig.status == "valid" and sig.field_name == "BidSeal1"
    assert sorted(sig.pages) in ([0, 1, 2], [1, 2, 3])


def test_pdfsig_lists_kid_widgets_as_unsigned_but_per_page_signatures_individually(tmp_path, signer, seal_png):
    """Documents poppler's behaviour that the crosspage module docstring relies on."""
    assert shutil.which("pdfsig"), "poppler-utils is installed by installer/bootstrap.sh"
    src = make_pdf(tmp_path / "bid.pdf", pages=3)
    single, per_page = tmp_path / "single.pdf", tmp_path / "per.pdf"
    seal_pdf(src, single, signer, [Seal(CrossPagePlacement(), seal_png)])
    seal_pdf(src, per_page, signer, [Seal(CrossPagePlacement(mode=CrossPageMode.PER_PAGE), seal_png)])
    a = subprocess.run(["pdfsig", str(single)], capture_output=True, text=True).stdout
    b = subprocess.run(["pdfsig", str(per_page)], capture_output=True, text=True).stdout
    assert a.count("Signature Field Name: BidSeal1") == 3
    assert a.count("is not signed") == 3
    assert b.count("Signed Ranges") == 3 and "is not signed" not in b


def test_strips_sit_at_right_edge_and_join_into_the_seal(tmp_path, signer, seal_png, render_red_box):
    src = make_pdf(tmp_path / "bid.pdf", pages=3, rotations={1: 90})
    out = tmp_path / "out.pdf"
    seal_pdf(src, out, signer, [Seal(CrossPagePlacement(size_mm=40), seal_png)])
    doc = pymupdf.open(out)
    widths = []
    for i in range(3):
        w, h = doc[i].rect.width, doc[i].rect.height
        (x0, y0, x1, y1), _ = render_red_box(out, i)
        assert x1 >= w - 3, "strip must touch the right edge"
        assert abs((y0 + y1) / 2 - h / 2) < 3, "strip centred vertically"
        widths.append(x1 - x0)
    assert abs(sum(widths) - 40 * MM * 0.96) < 8


def test_pages_per_seal_restarts_the_seal(tmp_path, counting_signer, seal_png, validate_pyhanko):
    src = make_pdf(tmp_path / "bid.pdf", pages=7)
    out = tmp_path / "out.pdf"
    res = seal_pdf(src, out, counting_signer, [Seal(CrossPagePlacement(pages_per_seal=3), seal_png)])
    assert [s.pages for s in res.seals] == [(1, 2, 3), (4, 5, 6, 7)]
    assert len(counting_signer.calls) == 2
    assert all(r["intact"] and r["valid"] for r in validate_pyhanko(out))


def test_chosen_pages_only(tmp_path, signer, seal_png):
    src = make_pdf(tmp_path / "bid.pdf", pages=5)
    out = tmp_path / "out.pdf"
    res = seal_pdf(src, out, signer, [Seal(CrossPagePlacement(pages=(1, 3)), seal_png)])
    assert res.seals[0].pages == (2, 4)
    assert [w[0] for w in _widgets(out)] == [1, 3]


def test_page_groups():
    assert page_groups((0, 1, 2, 3, 4), None) == [(0, 1, 2, 3, 4)]
    assert page_groups((0, 1, 2, 3, 4), 2) == [(0, 1), (2, 3, 4)]
    assert page_groups((0, 1, 2, 3), 2) == [(0, 1), (2, 3)]

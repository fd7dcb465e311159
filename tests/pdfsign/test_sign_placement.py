"""Placement geometry: visible <-> PDF space, agreement with PyMuPDF, keyword placement."""

from __future__ import annotations

import pymupdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.pdfsign import MM, KeywordPlacement, RectPlacement, Seal, seal_pdf
from app.pdfsign.placement import PageGeometry, page_geometry, resolve
from tests.pdfsign.conftest import KEYWORD, make_pdf

boxes = st.tuples(st.floats(-500, 500), st.floats(-500, 500), st.floats(50, 900), st.floats(50, 900)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3]))


@given(rotation=st.sampled_from([0, 90, 180, 270]), crop=boxes,
       rect=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)))
def test_visible_pdf_round_trip(rotation, crop, rect):
    geo = PageGeometry(index=0, xref=1, rotation=rotation, crop=crop)
    w, h = geo.visible_size
    x0, x1 = sorted((rect[0] * w, rect[2] * w))
    y0, y1 = sorted((rect[1] * h, rect[3] * h))
    back = geo.pdf_to_visible(geo.visible_to_pdf((x0, y0, x1, y1)))
    assert back == pytest.approx((x0, y0, x1, y1), abs=1e-6)
    px0, py0, px1, py1 = geo.visible_to_pdf((x0, y0, x1, y1))
    assert crop[0] - 1e-6 <= px0 <= px1 <= crop[2] + 1e-6 and crop[1] - 1e-6 <= py0 <= py1 <= crop[3] + 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rotation=st.sampled_from([0, 90, 180, 270]),
       crop=st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(300, 595), st.integers(400, 842)))
def test_geometry_agrees_with_pymupdf(tmp_path, rotation, crop):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.set_cropbox(pymupdf.Rect(crop))
    page.set_rotation(rotation)
    geo = page_geometry(doc, 0)
    assert geo.visible_size == pytest.approx((page.rect.width, page.rect.height))
    # a point in unrotated page space maps to the same visible point as PyMuPDF's rotation_matrix
    r = pymupdf.Rect(10, 20, 40, 70)
    expected = r * page.rotation_matrix
    assert geo.unrotated_to_visible((r.x0, r.y0, r.x1, r.y1)) == pytest.approx(tuple(expected), abs=1e-3)


def test_rect_placement_keeps_aspect(tmp_path):
    src = make_pdf(tmp_path / "a.pdf", pages=1)
    doc = pymupdf.open(src)
    (sig,) = resolve(doc, RectPlacement(0, (100, 100, 300, 200)), (120, 120))
    x0, y0, x1, y1 = sig.spots[0].visible_rect
    assert (x1 - x0, y1 - y0) == pytest.approx((100, 100)) and (x0 + x1) / 2 == pytest.approx(200)
    (sig,) = resolve(doc, RectPlacement(0, (100, 100, 300, 200), keep_aspect=False), (120, 120))
    assert sig.spots[0].visible_rect == (100, 100, 300, 200)


def test_keyword_near_the_page_edge_is_pushed_inside(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((520, 835), KEYWORD[:3], fontname="china-s", fontsize=10)
    (sig,) = resolve(doc, KeywordPlacement(KEYWORD[:3]), (100, 100))
    x0, y0, x1, y1 = sig.spots[0].visible_rect
    assert x1 <= 595 + 1e-6 and y1 <= 842 + 1e-6
    assert x1 - x0 == pytest.approx(42 * MM)


@pytest.mark.parametrize("rotation", [90, 270])
def test_keyword_on_rotated_cropped_page(tmp_path, signer, seal_png, render_red_box, rotation):
    src = make_pdf(tmp_path / "r.pdf", pages=1, rotations={0: rotation}, cropboxes={0: (20, 30, 580, 820)})
    out = tmp_path / "o.pdf"
    seal_pdf(src, out, signer, [Seal(KeywordPlacement(KEYWORD, size_mm=30), seal_png)])
    doc = pymupdf.open(src)
    hit = doc[0].search_for(KEYWORD)[0] * doc[0].rotation_matrix  # visible coordinates
    (x0, y0, x1, y1), top = render_red_box(out, 0)
    assert abs((x0 + x1) / 2 - (hit.x0 + hit.x1) / 2) < 2.5
    assert abs((y0 + y1) / 2 - (hit.y0 + hit.y1) / 2) < 2.5
    assert top > 0.55

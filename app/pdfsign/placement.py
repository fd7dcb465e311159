"""Where seals go: the placement model and its mapping to PDF widget rectangles.

A bidder (or the GUI's drag-to-place) describes a seal in the page's *visible*
coordinate space (points, origin top-left of the page as a viewer shows it);
:mod:`app.pdfsign.pagegeometry` maps it to the widget's /Rect.

Three placements exist:

* :class:`RectPlacement` - a page and a rectangle (coordinates);
* :class:`KeywordPlacement` - centred over every, or the n-th, occurrence of a
  text such as ``投标人（盖章）``;
* :class:`CrossPagePlacement` - a cross-page seal (骑缝章) cut into vertical
  strips along the right edge of several pages.

:func:`resolve` turns any of them into :class:`SignatureSpots`: one entry per
signature to make, each listing its widget spots.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pymupdf as _pymupdf
from pymupdf import mupdf

from app.pdfsign import keyword_text
from app.pdfsign.crosspage import CrossPageMode, CrossPagePlacement, resolve_cross_page
from app.pdfsign.errors import KeywordNotFoundError
from app.pdfsign.pagegeometry import (
    MM,
    TOLERANCE,
    Box,
    PageGeometry,
    SignatureSpots,
    WidgetSpot,
    make_spot,
    outside_error,
    page_geometry,
    seal_size,
)

#: PyMuPDF's API is untyped; it is used through ``Any`` (as in app.token.seal_images).
pymupdf: Any = _pymupdf
Document = Any

__all__ = [
    "MM",
    "CrossPageMode",
    "CrossPagePlacement",
    "KeywordPlacement",
    "PageGeometry",
    "Placement",
    "RectPlacement",
    "Seal",
    "SignatureSpots",
    "WidgetSpot",
    "make_spot",
    "page_geometry",
    "resolve",
    "seal_size",
]

#: Keyword search empties MuPDF's resource cache every this many pages.
_STORE_FLUSH_PAGES = 32

@dataclass(frozen=True)
class RectPlacement:
    """A seal at ``rect`` (x0, y0, x1, y1) in the visible space of page ``page`` (0-based).

    With ``keep_aspect`` the image is fitted, centred, inside the rectangle.
    """

    page: int
    rect: Box
    keep_aspect: bool = True


@dataclass(frozen=True)
class KeywordPlacement:
    """A seal centred over the ``occurrence``-th hit (1-based, document order) of
    ``keyword``, or over every hit when ``occurrence`` is None.

    ``size_mm`` is the longer side of the seal (42 mm is a common company seal);
    ``offset_mm`` moves it right/down from the keyword's centre. A seal that would
    stick out of the page is pushed back inside it.
    """

    keyword: str
    occurrence: int | None = 1
    size_mm: float = 42.0
    offset_mm: tuple[float, float] = (0.0, 0.0)
    pages: tuple[int, ...] | None = None


Placement = RectPlacement | KeywordPlacement | CrossPagePlacement


@dataclass(frozen=True)
class Seal:
    """One seal to apply: where, with which image, and what the signature says.

    ``image`` is PNG (or JPEG) bytes: a seal file from the UKey or a user picture.
    ``name`` defaults to the certificate's unit name or common name.
    """

    placement: Placement
    image: bytes = field(repr=False)
    name: str | None = None
    reason: str | None = None
    location: str | None = None
    contact: str | None = None


# -- resolution ---------------------------------------------------------------------
def _fit(box: Box, aspect: float) -> Box:
    """The largest rectangle of width/height ``aspect`` centred in ``box``."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w / h > aspect:
        nw = h * aspect
        return x0 + (w - nw) / 2, y0, x0 + (w + nw) / 2, y1
    nh = w / aspect
    return x0, y0 + (h - nh) / 2, x1, y0 + (h + nh) / 2


def _resolve_rect(doc: Document, pl: RectPlacement, aspect: float) -> list[SignatureSpots]:
    geo = page_geometry(doc, pl.page)
    x0, y0, x1, y1 = pl.rect
    box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
        raise outside_error(geo, box)
    if not geo.contains_visible(box):
        raise outside_error(geo, box)
    if pl.keep_aspect:
        box = _fit(box, aspect)
    return [SignatureSpots((make_spot(geo, box),), "rect")]


_SPACES = re.compile(r"\s+")


def _may_contain(text: str, target: str) -> bool:
    """Cheap prefilter for :func:`keyword_text.find_on_page`: the page text folded like
    :func:`keyword_text.normalise` (NFKC, bracket variants, no white space), but in C."""
    folded = unicodedata.normalize("NFKC", text).translate(keyword_text._BRACKETS)  # noqa: SLF001
    return bool(target) and target in _SPACES.sub("", folded)


def _keyword_hits(doc: Document, pl: KeywordPlacement) -> list[tuple[PageGeometry, Box]]:
    """Hits in document order; stops once the wanted occurrence is found."""
    pages = pl.pages if pl.pages is not None else range(doc.page_count)
    hits: list[tuple[PageGeometry, Box]] = []
    target = keyword_text.normalise(pl.keyword)
    for n, index in enumerate(pages, 1):
        if not 0 <= index < doc.page_count:
            page_geometry(doc, index)  # raises PageOutOfRangeError
        page = doc.load_page(index)
        textpage = page.get_textpage()
        rects = page.search_for(pl.keyword, textpage=textpage)
        if not rects and _may_contain(textpage.extractText(), target):
            # the width/space-tolerant search extracts every character in Python: only on
            # pages whose text (normalised in C, as a whole) can hold a variant of the keyword
            rects = keyword_text.find_on_page(page, pl.keyword)
        if rects:  # the geometry (several dictionary look-ups) only for pages with hits
            geo = page_geometry(doc, index)
            for r in rects:
                hits.append((geo, geo.unrotated_to_visible((r.x0, r.y0, r.x1, r.y1))))
        del page
        if n % _STORE_FLUSH_PAGES == 0:
            # MuPDF caches every image a page references; a 1000-page scan would
            # otherwise keep up to the store limit (256 MB) resident.
            mupdf.fz_empty_store()
        if pl.occurrence is not None and len(hits) >= pl.occurrence:
            break
    return hits


def _resolve_keyword(doc: Document, pl: KeywordPlacement, aspect: float) -> list[SignatureSpots]:
    if not pl.keyword.strip():
        raise KeywordNotFoundError("关键字为空。", "The keyword is empty.")
    hits = _keyword_hits(doc, pl)
    if not hits:
        hint_zh, hint_en, near = keyword_text.not_found_hint(doc, pl.keyword, pl.pages)
        raise KeywordNotFoundError(
            f"文档中没有找到关键字“{pl.keyword}”，无法按关键字盖章。{hint_zh}",
            f'The keyword "{pl.keyword}" was not found in the document, so the seal cannot be placed by keyword.'
            f"{hint_en}",
            keyword=pl.keyword, suggestions=near,
        )
    if pl.occurrence is not None:
        if pl.occurrence < 1 or pl.occurrence > len(hits):
            raise KeywordNotFoundError(
                f"文档中没有找到第 {pl.occurrence} 处关键字“{pl.keyword}”（共找到 {len(hits)} 处）。",
                f'Occurrence {pl.occurrence} of the keyword "{pl.keyword}" was not found '
                f"({len(hits)} found).",
                keyword=pl.keyword, occurrence=pl.occurrence, found=len(hits),
            )
        hits = [hits[pl.occurrence - 1]]
    sw, sh = seal_size(pl.size_mm, aspect)
    out: list[SignatureSpots] = []
    for geo, (x0, y0, x1, y1) in hits:
        pw, ph = geo.visible_size
        if sw > pw + TOLERANCE or sh > ph + TOLERANCE:
            raise outside_error(geo, (0.0, 0.0, sw, sh))
        cx = (x0 + x1) / 2 + pl.offset_mm[0] * MM
        cy = (y0 + y1) / 2 + pl.offset_mm[1] * MM
        left = min(max(cx - sw / 2, 0.0), pw - sw)
        top = min(max(cy - sh / 2, 0.0), ph - sh)
        out.append(SignatureSpots((make_spot(geo, (left, top, left + sw, top + sh)),), "keyword"))
    return out


def resolve(doc: Document, placement: Placement, image_size: tuple[int, int]) -> list[SignatureSpots]:
    """Turn a placement into the signatures to make on ``doc`` (opened read-only on the input).

    ``image_size`` is the seal picture's (width, height) in pixels; only its aspect
    ratio matters. Raises :class:`SealOutsidePageError`, :class:`KeywordNotFoundError`
    or :class:`PageOutOfRangeError`.
    """
    w, h = image_size
    aspect = w / h if w > 0 and h > 0 else 1.0
    if not math.isfinite(aspect) or aspect <= 0:
        aspect = 1.0
    if isinstance(placement, RectPlacement):
        return _resolve_rect(doc, placement, aspect)
    if isinstance(placement, KeywordPlacement):
        return _resolve_keyword(doc, placement, aspect)
    if isinstance(placement, CrossPagePlacement):
        return resolve_cross_page(doc, placement, aspect)
    raise TypeError(f"unknown placement {placement!r}")

"""Where seals go: the placement model and its mapping to PDF widget rectangles.

A bidder (or the GUI's drag-to-place) describes a seal in the page's *visible*
coordinate space: points, origin at the top-left corner of the page as a viewer
shows it, after /Rotate and the /CropBox are applied, y growing downwards (the
space of ``page.rect`` and of a rendered pixmap at 72 dpi). Widget /Rect values
live in default user space (origin bottom-left of the MediaBox coordinate
system, unrotated), so every placement is mapped through :class:`PageGeometry`.

:class:`PageGeometry` is computed from the raw page dictionary (inherited
/MediaBox, /CropBox, /Rotate) instead of ``page.transformation_matrix``,
which PyMuPDF 1.28 gets wrong for rotated pages with a shifted CropBox.

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

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pymupdf as _pymupdf
from pymupdf import mupdf

from app.pdfsign import keyword_text
from app.pdfsign.errors import (
    KeywordNotFoundError,
    PageOutOfRangeError,
    SealOutsidePageError,
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

#: One millimetre in PDF points.
MM = 72.0 / 25.4

#: Keyword search empties MuPDF's resource cache every this many pages.
_STORE_FLUSH_PAGES = 32

#: Rectangles may poke out of the page by this much (points) before we refuse.
_TOLERANCE = 0.5

Box = tuple[float, float, float, float]


class CrossPageMode(enum.Enum):
    """How a cross-page seal is recorded; see :mod:`app.pdfsign.crosspage`."""

    #: One /Sig value on a parent field with one kid widget per page: one device
    #: operation, one revision, one hash of the file. The default.
    SINGLE_SIGNATURE = "single"
    #: One ordinary signature per page: N device operations and N revisions.
    PER_PAGE = "per-page"


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


@dataclass(frozen=True)
class CrossPagePlacement:
    """A cross-page seal (骑缝章) over ``pages`` (0-based; None = every page); see
    :mod:`app.pdfsign.crosspage` for the two recording modes and the default.

    The seal, ``size_mm`` on its longer side, is cut into one vertical strip per
    page; the first page gets the leftmost strip, each at the right edge of the
    visible page, centred at ``center_y`` (fraction of the page height).
    """

    pages: tuple[int, ...] | None = None
    size_mm: float = 40.0
    center_y: float = 0.5
    mode: CrossPageMode = CrossPageMode.SINGLE_SIGNATURE
    pages_per_seal: int | None = None


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


@dataclass(frozen=True)
class PageGeometry:
    """The boxes and rotation of one page and the maps between coordinate spaces.

    ``crop`` is the visible box in default user space (CropBox clipped to the
    MediaBox, normalised). Three spaces are involved:

    * *pdf*: default user space, y up (widget /Rect);
    * *unrotated*: PyMuPDF page space, origin top-left of the CropBox, y down,
      before rotation (``search_for`` results);
    * *visible*: the page as a viewer shows it (``page.rect``).
    """

    index: int
    xref: int
    rotation: int
    crop: Box

    @property
    def unrotated_size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.crop
        return x1 - x0, y1 - y0

    @property
    def visible_size(self) -> tuple[float, float]:
        w, h = self.unrotated_size
        return (h, w) if self.rotation in (90, 270) else (w, h)

    # point maps ---------------------------------------------------------------
    def _pdf_to_unrotated(self, x: float, y: float) -> tuple[float, float]:
        return x - self.crop[0], self.crop[3] - y

    def _unrotated_to_pdf(self, u: float, v: float) -> tuple[float, float]:
        return u + self.crop[0], self.crop[3] - v

    def _unrotated_to_visible(self, u: float, v: float) -> tuple[float, float]:
        w, h = self.unrotated_size
        r = self.rotation
        if r == 90:
            return h - v, u
        if r == 180:
            return w - u, h - v
        if r == 270:
            return v, w - u
        return u, v

    def _visible_to_unrotated(self, x: float, y: float) -> tuple[float, float]:
        w, h = self.unrotated_size
        r = self.rotation
        if r == 90:
            return y, h - x
        if r == 180:
            return w - x, h - y
        if r == 270:
            return w - y, x
        return x, y

    # rectangle maps -------------------------------------------------------------
    @staticmethod
    def _box(points: Sequence[tuple[float, float]]) -> Box:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        return min(xs), min(ys), max(xs), max(ys)

    def unrotated_to_visible(self, rect: Box) -> Box:
        x0, y0, x1, y1 = rect
        return self._box([self._unrotated_to_visible(x, y) for x, y in ((x0, y0), (x1, y1))])

    def visible_to_pdf(self, rect: Box) -> Box:
        x0, y0, x1, y1 = rect
        pts = [self._unrotated_to_pdf(*self._visible_to_unrotated(x, y)) for x, y in ((x0, y0), (x1, y1))]
        return self._box(pts)

    def pdf_to_visible(self, rect: Box) -> Box:
        x0, y0, x1, y1 = rect
        pts = [self._unrotated_to_visible(*self._pdf_to_unrotated(x, y)) for x, y in ((x0, y0), (x1, y1))]
        return self._box(pts)

    def contains_visible(self, rect: Box) -> bool:
        w, h = self.visible_size
        x0, y0, x1, y1 = rect
        t = _TOLERANCE
        return x0 >= -t and y0 >= -t and x1 <= w + t and y1 <= h + t and x1 > x0 and y1 > y0


@dataclass(frozen=True)
class WidgetSpot:
    """One widget to create: page, rectangles, and which strip of the image it shows."""

    page: int
    page_xref: int
    rotation: int
    visible_rect: Box
    pdf_rect: Box
    strip: tuple[int, int] = (0, 1)  # (index, count)


@dataclass(frozen=True)
class SignatureSpots:
    """The widgets of one signature (one spot, or one per page for a cross-page seal)."""

    spots: tuple[WidgetSpot, ...]
    kind: str  # "rect", "keyword", "cross-page"


# -- page geometry from the raw page dictionary -------------------------------------
_NUM = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)")


def _resolve_value(doc: Document, kind: str, value: str) -> tuple[str, str]:
    if kind == "xref":
        xref = int(value.split()[0])
        obj = doc.xref_object(xref, compressed=True).strip()
        return ("array" if obj.startswith("[") else "other"), obj
    return kind, value


def _inherited(doc: Document, page_xref: int, key: str) -> tuple[str, str]:
    xref, seen = page_xref, set()
    while xref and xref not in seen:
        seen.add(xref)
        kind, value = doc.xref_get_key(xref, key)
        if kind != "null":
            return _resolve_value(doc, kind, value)
        pkind, pval = doc.xref_get_key(xref, "Parent")
        xref = int(pval.split()[0]) if pkind == "xref" else 0
    return "null", ""


def _box_value(doc: Document, page_xref: int, key: str) -> Box | None:
    kind, value = _inherited(doc, page_xref, key)
    if kind != "array":
        return None
    nums = [float(m) for m in _NUM.findall(value.encode())]
    if len(nums) != 4:
        return None
    x0, y0, x1, y1 = nums
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def page_geometry(doc: Document, index: int) -> PageGeometry:
    """Geometry of page ``index`` (0-based) read from its inherited dictionary entries."""
    if not 0 <= index < doc.page_count:
        raise PageOutOfRangeError(
            f"页码 {index + 1} 不存在：文档共 {doc.page_count} 页。",
            f"Page {index + 1} does not exist: the document has {doc.page_count} pages.",
            page=index + 1, page_count=doc.page_count,
        )
    xref = doc.page_xref(index)
    media = _box_value(doc, xref, "MediaBox") or (0.0, 0.0, 612.0, 792.0)
    crop = _box_value(doc, xref, "CropBox") or media
    crop = (max(crop[0], media[0]), max(crop[1], media[1]), min(crop[2], media[2]), min(crop[3], media[3]))
    if crop[2] <= crop[0] or crop[3] <= crop[1]:
        crop = media
    kind, value = _inherited(doc, xref, "Rotate")
    try:
        rotation = int(float(value)) % 360 if kind != "null" else 0
    except ValueError:
        rotation = 0
    if rotation % 90:
        rotation = 0
    return PageGeometry(index=index, xref=xref, rotation=rotation, crop=crop)


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


def seal_size(size_mm: float, aspect: float) -> tuple[float, float]:
    side = size_mm * MM
    return (side, side / aspect) if aspect >= 1 else (side * aspect, side)


def _outside(geo: PageGeometry, rect: Box) -> SealOutsidePageError:
    w, h = geo.visible_size
    return SealOutsidePageError(
        f"印章位置超出第 {geo.index + 1} 页的页面范围，请把印章放在页面之内。",
        f"The seal lies outside page {geo.index + 1}; place it within the page.",
        page=geo.index + 1, rect=[round(v, 2) for v in rect], page_size=[round(w, 2), round(h, 2)],
    )


def make_spot(geo: PageGeometry, rect: Box, strip: tuple[int, int] = (0, 1)) -> WidgetSpot:
    if not geo.contains_visible(rect):
        raise _outside(geo, rect)
    return WidgetSpot(
        page=geo.index, page_xref=geo.xref, rotation=geo.rotation,
        visible_rect=tuple(float(v) for v in rect),  # type: ignore[arg-type]
        pdf_rect=geo.visible_to_pdf(rect), strip=strip,
    )


def _resolve_rect(doc: Document, pl: RectPlacement, aspect: float) -> list[SignatureSpots]:
    geo = page_geometry(doc, pl.page)
    x0, y0, x1, y1 = pl.rect
    box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
        raise _outside(geo, box)
    if not geo.contains_visible(box):
        raise _outside(geo, box)
    if pl.keep_aspect:
        box = _fit(box, aspect)
    return [SignatureSpots((make_spot(geo, box),), "rect")]


def _keyword_hits(doc: Document, pl: KeywordPlacement) -> list[tuple[PageGeometry, Box]]:
    """Hits in document order; stops once the wanted occurrence is found."""
    pages = pl.pages if pl.pages is not None else range(doc.page_count)
    hits: list[tuple[PageGeometry, Box]] = []
    for n, index in enumerate(pages, 1):
        if not 0 <= index < doc.page_count:
            page_geometry(doc, index)  # raises PageOutOfRangeError
        page = doc.load_page(index)
        rects = page.search_for(pl.keyword) or keyword_text.find_on_page(page, pl.keyword)
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
        if sw > pw + _TOLERANCE or sh > ph + _TOLERANCE:
            raise _outside(geo, (0.0, 0.0, sw, sh))
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
        from app.pdfsign.crosspage import resolve_cross_page

        return resolve_cross_page(doc, placement, aspect)
    raise TypeError(f"unknown placement {placement!r}")

"""Page geometry: the boxes and rotation of a page and the maps between the
coordinate spaces a seal placement goes through.

A bidder (or the GUI's drag-to-place) describes a seal in the page's *visible*
coordinate space: points, origin at the top-left corner of the page as a viewer
shows it, after /Rotate and the /CropBox are applied, y growing downwards (the
space of ``page.rect`` and of a rendered pixmap at 72 dpi). Widget /Rect values
live in default user space (origin bottom-left of the MediaBox coordinate
system, unrotated), so every placement is mapped through :class:`PageGeometry`.

:class:`PageGeometry` is computed from the raw page dictionary (inherited
/MediaBox, /CropBox, /Rotate) instead of ``page.transformation_matrix``,
which PyMuPDF 1.28 gets wrong for rotated pages with a shifted CropBox.

Shared by :mod:`app.pdfsign.placement` and :mod:`app.pdfsign.crosspage` (which
used to import each other).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.pdfsign.errors import PageOutOfRangeError, SealOutsidePageError, UnsupportedPdfError

#: A PyMuPDF document (its API is untyped).
Document = Any

__all__ = [
    "MM",
    "Box",
    "PageGeometry",
    "SignatureSpots",
    "WidgetSpot",
    "make_spot",
    "outside_error",
    "page_geometry",
    "seal_size",
]

#: One millimetre in PDF points.
MM = 72.0 / 25.4

#: Rectangles may poke out of the page by this much (points) before we refuse.
TOLERANCE = 0.5

Box = tuple[float, float, float, float]


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
    #: /UserUnit (PDF 1.6): one user-space unit is this many points; MuPDF's page space
    #: (and so the visible space here) is scaled by it
    unit: float = 1.0

    @property
    def unrotated_size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.crop
        return (x1 - x0) * self.unit, (y1 - y0) * self.unit

    @property
    def visible_size(self) -> tuple[float, float]:
        w, h = self.unrotated_size
        return (h, w) if self.rotation in (90, 270) else (w, h)

    # point maps ---------------------------------------------------------------
    def _pdf_to_unrotated(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.crop[0]) * self.unit, (self.crop[3] - y) * self.unit

    def _unrotated_to_pdf(self, u: float, v: float) -> tuple[float, float]:
        return u / self.unit + self.crop[0], self.crop[3] - v / self.unit

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
        t = TOLERANCE
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
    if xref <= 0:
        raise UnsupportedPdfError(
            f"第 {index + 1} 页不是独立的页面对象（直接嵌在页面树中），无法在该页盖章。请重新导出 PDF 后再签章。",
            f"Page {index + 1} is not an indirect object (it is written inline in the page tree), "
            "so no seal can be attached to it. Export the PDF again, then seal it.",
            page=index + 1,
        )
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
    kind, value = doc.xref_get_key(xref, "UserUnit")
    try:
        unit = float(value) if kind in ("int", "real") else 1.0
    except ValueError:
        unit = 1.0
    if not 0.01 <= unit <= 75000:
        unit = 1.0
    return PageGeometry(index=index, xref=xref, rotation=rotation, crop=crop, unit=unit)


def seal_size(size_mm: float, aspect: float) -> tuple[float, float]:
    side = size_mm * MM
    return (side, side / aspect) if aspect >= 1 else (side * aspect, side)


def outside_error(geo: PageGeometry, rect: Box) -> SealOutsidePageError:
    w, h = geo.visible_size
    return SealOutsidePageError(
        f"印章位置超出第 {geo.index + 1} 页的页面范围，请把印章放在页面之内。",
        f"The seal lies outside page {geo.index + 1}; place it within the page.",
        page=geo.index + 1, rect=[round(v, 2) for v in rect], page_size=[round(w, 2), round(h, 2)],
    )


def make_spot(geo: PageGeometry, rect: Box, strip: tuple[int, int] = (0, 1)) -> WidgetSpot:
    if not geo.contains_visible(rect):
        raise outside_error(geo, rect)
    return WidgetSpot(
        page=geo.index, page_xref=geo.xref, rotation=geo.rotation,
        visible_rect=tuple(float(v) for v in rect),  # type: ignore[arg-type]
        pdf_rect=geo.visible_to_pdf(rect), strip=strip,
    )

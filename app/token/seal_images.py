"""Seal images for the virtual key, drawn with pymupdf (no Qt): transparent PNGs.

* :func:`company_seal` - the unit's round red seal: double ring, five-pointed star,
  the unit name along the upper arc, "投标专用章" (or another purpose) across the
  bottom and the unit code in small figures along the lower arc.
* :func:`legal_seal` - the legal representative's square red seal: frame and the
  name in two columns (read right to left) followed by "印" as Chinese name seals are.

pymupdf's built-in CJK font ``china-s`` is used, so no system font is needed.
"""

from __future__ import annotations

import math
from typing import Any

import pymupdf as _pymupdf

pymupdf: Any = _pymupdf  # pymupdf's API is untyped

RED = (0.85, 0.08, 0.08)
FONT = "china-s"


def _render(page: Any, dpi: int) -> bytes:
    pix = page.get_pixmap(dpi=dpi, alpha=True)
    return bytes(pix.tobytes("png"))


def _star(cx: float, cy: float, r: float) -> list[Any]:
    pts = []
    for i in range(10):
        ang = -math.pi / 2 + i * math.pi / 5
        rr = r if i % 2 == 0 else r * 0.382
        pts.append(pymupdf.Point(cx + rr * math.cos(ang), cy + rr * math.sin(ang)))
    return pts


def _char_at(page: Any, ch: str, cx: float, cy: float, size: float, angle_deg: float) -> None:
    """One glyph centred at (cx, cy), rotated clockwise by ``angle_deg`` around its centre."""
    w = pymupdf.get_text_length(ch, fontname=FONT, fontsize=size)
    origin = pymupdf.Point(cx - w / 2, cy + size * 0.35)
    page.insert_text(origin, ch, fontname=FONT, fontsize=size, color=RED,
                     morph=(pymupdf.Point(cx, cy), pymupdf.Matrix(-angle_deg)))


def company_seal(unit_name: str, purpose: str = "投标专用章", code: str | None = None, *,
                 size_mm: float = 42.0, dpi: int = 300) -> bytes:
    """Round company seal as PNG bytes (transparent background)."""
    side = size_mm / 25.4 * 72
    doc = pymupdf.open()
    page = doc.new_page(width=side, height=side)
    c = side / 2
    r = side / 2 - 2
    page.draw_circle((c, c), r, color=RED, width=side * 0.035)
    page.draw_circle((c, c), r * 0.9, color=RED, width=side * 0.006)
    page.draw_polyline(_star(c, c, r * 0.24), color=RED, fill=RED, closePath=True, width=0)
    # unit name along the upper arc, clockwise from lower-left to lower-right
    name = unit_name.strip()
    n = max(len(name), 1)
    span = min(250.0, 17.0 * n + 30)
    fs = min(side * 0.12, (2 * math.pi * r * 0.72) * (span / 360) / n * 0.95)
    tr = r * 0.72
    for i, ch in enumerate(name):
        a = -span / 2 + span * (i + 0.5) / n  # degrees from top, clockwise
        rad = math.radians(a)
        _char_at(page, ch, c + tr * math.sin(rad), c - tr * math.cos(rad), fs, a)
    # purpose across the lower middle
    pfs = min(side * 0.085, side * 0.6 / max(len(purpose), 1))
    w = pymupdf.get_text_length(purpose, fontname=FONT, fontsize=pfs)
    page.insert_text((c - w / 2, c + r * 0.5), purpose, fontname=FONT, fontsize=pfs, color=RED)
    if code:
        cfs = side * 0.045
        cr = r * 0.8
        m = len(code)
        cspan = min(120.0, 6.2 * m)
        for i, ch in enumerate(code):
            a = 180 + cspan / 2 - cspan * (i + 0.5) / m
            rad = math.radians(a)
            _char_at(page, ch, c + cr * math.sin(rad), c - cr * math.cos(rad), cfs, a - 180)
    png = _render(page, dpi)
    doc.close()
    return png


def legal_seal(name: str, *, size_mm: float = 20.0, dpi: int = 300) -> bytes:
    """Square personal seal of the legal representative as PNG bytes."""
    side = size_mm / 25.4 * 72
    doc = pymupdf.open()
    page = doc.new_page(width=side, height=side)
    m = side * 0.05
    page.draw_rect(pymupdf.Rect(m, m, side - m, side - m), color=RED, width=side * 0.06)
    chars = list(name.strip()) + (["之印"] if len(name.strip()) == 2 else ["印"])
    chars = [ch for part in chars for ch in part]
    rows = math.ceil(len(chars) / 2)
    inner = side - 4 * m
    fs = min(inner / 2, inner / rows) * 0.92
    # two columns, right column first, top to bottom (traditional reading order)
    for i, ch in enumerate(chars):
        col = 1 - i // rows
        row = i % rows
        cx = 2 * m + inner * (col + 0.5) / 2
        cy = 2 * m + inner * (row + 0.5) / rows
        _char_at(page, ch, cx, cy, fs, 0)
    png = _render(page, dpi)
    doc.close()
    return png

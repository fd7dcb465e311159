"""Draw BidSeal's application icon: ``bidseal.png`` (256 px, Linux .desktop / hicolor)
and ``bidseal.ico`` (Windows: PNG-compressed entries 16-256 px, which Windows Vista and
later read). Run once after a design change and commit both files:

    .venv/bin/python installer/icons/make_icons.py

pymupdf draws (its built-in CJK font, no system font needed); the ICO container is
written here (6-byte header, one 16-byte directory entry per size, then the PNGs).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pymupdf as _pymupdf

pymupdf: Any = _pymupdf
HERE = Path(__file__).resolve().parent
RED = (0.80, 0.07, 0.07)
SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw(px: int) -> bytes:
    """A red round seal with a star and 签 on a white disc, ``px`` pixels square, transparent corners."""
    doc = pymupdf.open()
    page = doc.new_page(width=100, height=100)
    c = 50.0
    shape = page.new_shape()
    shape.draw_circle((c, c), 48)
    shape.finish(color=None, fill=(1, 1, 1))
    shape.draw_circle((c, c), 44)
    shape.finish(color=RED, width=7 if px < 48 else 5)
    if px >= 32:
        star = [pymupdf.Point(c + (13 if i % 2 == 0 else 5) * math.cos(-math.pi / 2 + i * math.pi / 5),
                              27 + (13 if i % 2 == 0 else 5) * math.sin(-math.pi / 2 + i * math.pi / 5))
                for i in range(10)]
        shape.draw_polyline([*star, star[0]])
        shape.finish(color=None, fill=RED)
    shape.commit()
    size = 44 if px >= 32 else 56
    w = pymupdf.get_text_length("签", fontname="china-s", fontsize=size)
    y = 80 if px >= 32 else 70
    page.insert_text((c - w / 2, y), "签", fontname="china-s", fontsize=size, color=RED)
    zoom = px / 100
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=True)
    return bytes(pix.tobytes("png"))


def ico(images: dict[int, bytes]) -> bytes:
    """An ICO file holding PNG images (sizes up to 256; 256 is written as 0 in the directory)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for px, png in sorted(images.items()):
        b = px if px < 256 else 0
        entries += struct.pack("<BBBBHHII", b, b, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    return header + entries + blobs


def main() -> None:
    images = {px: draw(px) for px in SIZES}
    (HERE / "bidseal.png").write_bytes(images[256])
    (HERE / "bidseal.ico").write_bytes(ico(images))


if __name__ == "__main__":
    main()

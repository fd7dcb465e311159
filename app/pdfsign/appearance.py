"""Seal appearances: the seal picture as an image XObject and widget /AP streams.

The seal is drawn only inside widget appearance streams, never into page content,
so a later signature never sees the page's /Contents change (pyHanko rates page
content edits after a signature as OTHER, i.e. suspicious).

One image XObject is shared by every widget of a seal; a cross-page strip is the
same image shifted and clipped inside its own small form XObject. On a rotated
page the form's /Matrix turns the picture so that it stands upright for the
reader, whatever /Rotate says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pymupdf as _pymupdf
from pymupdf import mupdf

from app.pdfsign.errors import SealImageError

#: PyMuPDF's API is untyped; it is used through ``Any`` (as in app.token.seal_images).
pymupdf: Any = _pymupdf
Document = Any

__all__ = ["MAX_IMAGE_PIXELS", "SealImage", "add_appearance", "add_image_xobject", "fmt_num"]

#: Longer side above which a seal picture is downscaled (by halving) before embedding.
MAX_IMAGE_PIXELS = 1200


def fmt_num(v: float) -> str:
    """A compact PDF number (at most 4 decimals, no exponent)."""
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


@dataclass(frozen=True)
class SealImage:
    """A validated seal picture (PNG or JPEG bytes) and its pixel size."""

    data: bytes = field(repr=False)
    width: int
    height: int

    @classmethod
    def load(cls, data: bytes) -> SealImage:
        if not data:
            raise SealImageError("印章图片为空。", "The seal image is empty.")
        try:
            pix = pymupdf.Pixmap(data)
        except Exception as exc:  # MuPDF raises plain RuntimeError/ValueError
            raise SealImageError(
                "印章图片无法读取，请使用 PNG 或 JPEG 图片。",
                "The seal image cannot be read; use a PNG or JPEG picture.",
                reason=str(exc)[:200],
            ) from exc
        if pix.width < 1 or pix.height < 1:
            raise SealImageError("印章图片尺寸无效。", "The seal image has no pixels.")
        return cls(data=bytes(data), width=pix.width, height=pix.height)

    @property
    def aspect(self) -> float:
        return self.width / self.height


def _pixmap_for_pdf(image: SealImage) -> pymupdf.Pixmap:
    pix = pymupdf.Pixmap(image.data)
    if pix.colorspace is None or pix.colorspace.n not in (1, 3):
        pix = pymupdf.Pixmap(pymupdf.csRGB, pix)
    shrink = 0
    while max(pix.width, pix.height) >> shrink > MAX_IMAGE_PIXELS:
        shrink += 1
    if shrink:
        pix.shrink(shrink)
    return pix


def add_image_xobject(doc: Document, image: SealImage) -> int:
    """Add the picture as an image XObject (with /SMask for transparency); returns its xref.

    MuPDF's ``pdf_add_image`` un-premultiplies the alpha channel into the soft mask;
    the streams it writes are then Flate-compressed here.
    """
    pdf = mupdf.pdf_document_from_fz_document(doc.this)
    before = doc.xref_length()
    pix = _pixmap_for_pdf(image)
    fz_image = mupdf.fz_new_image_from_pixmap(pix.this, mupdf.FzImage())
    ref = mupdf.pdf_add_image(pdf, fz_image)
    xref = int(mupdf.pdf_to_num(ref))
    for x in range(before, doc.xref_length()):
        if doc.xref_is_stream(x) and doc.xref_get_key(x, "Filter")[0] == "null":
            doc.update_stream(x, doc.xref_stream(x), compress=True)
            if doc.xref_get_key(x, "DecodeParms")[1] == "<<>>":
                doc.xref_set_key(x, "DecodeParms", "null")
    return xref


def _rotation_matrix(rotation: int) -> str:
    # Counter-clockwise by the page's /Rotate so the picture is upright for the reader.
    c, s = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation % 360]
    return f"[{c} {s} {-s} {c} 0 0]"


def add_appearance(
    doc: Document,
    image_xref: int,
    width: float,
    height: float,
    rotation: int = 0,
    strip: tuple[int, int] = (0, 1),
) -> int:
    """Add a normal-appearance form XObject of ``width`` x ``height`` visible points.

    ``strip=(i, n)`` draws only the i-th of n vertical strips of the picture (the
    picture is n times wider than the form and shifted left by i strips).
    """
    index, count = strip
    w, h = fmt_num(width), fmt_num(height)
    full = fmt_num(width * count)
    shift = fmt_num(-width * index)
    content = f"q 0 0 {w} {h} re W n {full} 0 0 {h} {shift} 0 cm /Im0 Do Q\n"
    xref = int(doc.get_new_xref())
    doc.update_object(
        xref,
        f"<</Type/XObject/Subtype/Form/FormType 1/BBox[0 0 {w} {h}]/Matrix{_rotation_matrix(rotation)}"
        f"/Resources<</XObject<</Im0 {image_xref} 0 R>>>>>>",
    )
    doc.update_stream(xref, content.encode("ascii"), compress=True)
    return int(xref)

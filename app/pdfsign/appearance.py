"""Seal appearances: the seal picture as an image XObject and widget /AP streams.

The seal is drawn only inside widget appearance streams, never into page content,
so a later signature never sees the page's /Contents change (pyHanko rates page
content edits after a signature as OTHER, i.e. suspicious).

The objects are produced as text for our own incremental writer
(:mod:`app.pdfsign.incremental`); MuPDF only encodes the picture, in a scratch
document. One image XObject is shared by every widget of a seal; a cross-page strip is the
same image shifted and clipped inside its own small form XObject. On a rotated
page the form's /Matrix turns the picture so that it stands upright for the
reader, whatever /Rotate says.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import pymupdf as _pymupdf
from pymupdf import mupdf

from app.pdfsign.errors import SealImageError

#: PyMuPDF's API is untyped; it is used through ``Any`` (as in app.token.seal_images).
pymupdf: Any = _pymupdf
Document = Any

__all__ = ["MAX_IMAGE_PIXELS", "ImageObjects", "SealImage", "appearance_object", "fmt_num", "image_objects"]

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


@dataclass(frozen=True)
class ImageObjects:
    """The seal picture as PDF objects: the image dictionary (without /Length and
    /SMask, which the writer adds) and its encoded data, and the same for the soft mask."""

    image_dict: bytes
    image_data: bytes
    smask_dict: bytes | None = None
    smask_data: bytes | None = None


_DROP_KEYS = re.compile(rb"/(?:Length|SMask)[\x00\t\n\x0c\r ]+(?:\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R|\d+)")


_COLORSPACE_REF = re.compile(rb"/ColorSpace[\x00\t\n\x0c\r ]*\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R")


def image_objects(image: SealImage) -> ImageObjects:
    """Encode the picture with MuPDF in a scratch document and take its objects out.

    MuPDF's ``pdf_add_image`` un-premultiplies the alpha channel into the soft mask;
    unfiltered streams are Flate-compressed. Only these new objects come from MuPDF:
    nothing of the document being sealed is ever written by it.
    """
    doc = pymupdf.open()
    try:
        pdf = mupdf.pdf_document_from_fz_document(doc.this)
        pix = _pixmap_for_pdf(image)
        fz_image = mupdf.fz_new_image_from_pixmap(pix.this, mupdf.FzImage())
        xref = int(mupdf.pdf_to_num(mupdf.pdf_add_image(pdf, fz_image)))
        smask = doc.xref_get_key(xref, "SMask")
        parts = []
        for x in (xref, int(smask[1].split()[0]) if smask[0] == "xref" else None):
            if x is None:
                parts.extend([None, None])
                continue
            if doc.xref_get_key(x, "Filter")[0] == "null":
                doc.update_stream(x, doc.xref_stream(x), compress=True)
                if doc.xref_get_key(x, "DecodeParms")[1] == "<<>>":
                    doc.xref_set_key(x, "DecodeParms", "null")
            body = doc.xref_object(x, compressed=True).encode("latin-1")
            # MuPDF gives an sRGB pixmap an ICCBased colour space object of the scratch
            # document; the plain device space it stands for needs no extra object.
            device = b"/ColorSpace/DeviceGray" if x != xref or pix.colorspace.n == 1 else b"/ColorSpace/DeviceRGB"
            body = _COLORSPACE_REF.sub(device, body)
            body = body.replace(b"/DecodeParms null", b"")
            parts.extend([_DROP_KEYS.sub(b"", body), bytes(doc.xref_stream_raw(x))])
        return ImageObjects(parts[0], parts[1], parts[2], parts[3])
    finally:
        doc.close()


def _rotation_matrix(rotation: int) -> str:
    # Counter-clockwise by the page's /Rotate so the picture is upright for the reader.
    c, s = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation % 360]
    return f"[{c} {s} {-s} {c} 0 0]"


def appearance_object(
    image_num: int,
    width: float,
    height: float,
    rotation: int = 0,
    strip: tuple[int, int] = (0, 1),
) -> tuple[bytes, bytes]:
    """A normal-appearance form XObject of ``width`` x ``height`` visible points:
    ``(dictionary without /Length, Flate-compressed content)``.

    ``strip=(i, n)`` draws only the i-th of n vertical strips of the picture (the
    picture is n times wider than the form and shifted left by i strips).
    """
    index, count = strip
    w, h = fmt_num(width), fmt_num(height)
    full = fmt_num(width * count)
    shift = fmt_num(-width * index)
    content = f"q 0 0 {w} {h} re W n {full} 0 0 {h} {shift} 0 cm /Im0 Do Q\n"
    body = (f"<</Type/XObject/Subtype/Form/FormType 1/BBox[0 0 {w} {h}]/Matrix{_rotation_matrix(rotation)}"
            f"/Resources<</XObject<</Im0 {image_num} 0 R>>>>/Filter/FlateDecode>>")
    return body.encode("ascii"), zlib.compress(content.encode("ascii"))

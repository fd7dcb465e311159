"""Placeholders and the incremental update that carries one signature.

For each signature, PyMuPDF opens the *temporary copy* (never the input), adds:

* the seal image XObject and one appearance form per widget (:mod:`.appearance`);
* the signature value dictionary ``/Type/Sig /Filter/Adobe.PPKLite
  /SubFilter/adbe.pkcs7.detached`` with a ``/ByteRange`` placeholder of fixed
  width and ``/Contents <00…>`` of the reserved size, ``/M``, ``/Reason``,
  ``/Location``, ``/Name``;
* either one merged field/widget (``/FT/Sig /F 132 /AP /P /T /V``) or, for a
  cross-page seal, a parent field holding ``/V`` with one kid widget per page;
* the widgets in each page's ``/Annots``, the field in ``/AcroForm/Fields`` and
  ``/SigFlags 3``;

and saves incrementally (no garbage collection, no object streams, encryption
kept) so the original bytes stay an exact prefix and the /Sig dictionary stays a
plain, patchable object. :mod:`.byterange` then finds and fills the placeholders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pymupdf as _pymupdf

from app.pdfsign.appearance import SealImage, add_appearance, add_image_xobject, fmt_num
from app.pdfsign.errors import (
    PdfCertifiedLockedError,
    PdfDamagedError,
    PdfEncryptedError,
    PdfOpenError,
)
from app.pdfsign.placement import WidgetSpot

#: PyMuPDF's API is untyped; it is used through ``Any`` (as in app.token.seal_images).
pymupdf: Any = _pymupdf
Document = Any

__all__ = [
    "BYTERANGE_PLACEHOLDER",
    "PreparedRevision",
    "SignatureInfo",
    "check_document",
    "docmdp_permission",
    "open_pdf",
    "pdf_date",
    "prepare_revision",
    "unique_field_name",
]

#: Written by MuPDF as four numbers; later overwritten in place, space padded.
BYTERANGE_PLACEHOLDER = "[0 9999999999 9999999999 9999999999]"

#: Widget flags: Print (4) + Locked (128).
_WIDGET_FLAGS = 132


@dataclass(frozen=True)
class SignatureInfo:
    """What goes into the /Sig dictionary besides the placeholders."""

    signing_time: datetime
    contents_size: int
    name: str | None = None
    reason: str | None = None
    location: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class PreparedRevision:
    """The result of one incremental save, before the placeholders are filled."""

    sig_xref: int
    field_xref: int
    widget_xrefs: tuple[int, ...]
    field_name: str
    prev_len: int
    size: int
    contents_size: int


def pdf_date(t: datetime) -> str:
    """PDF date string ``D:YYYYMMDDHHmmSS+08'00'`` (naive times are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    off = t.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    if minutes == 0:
        return t.strftime("D:%Y%m%d%H%M%S") + "Z"
    return t.strftime("D:%Y%m%d%H%M%S") + f"{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


def open_pdf(path: str | os.PathLike[str]) -> Document:
    """Open a PDF with PyMuPDF, mapping failures to :class:`PdfOpenError`."""
    try:
        doc = pymupdf.open(os.fspath(path), filetype="pdf")
    except Exception as exc:  # MuPDF raises FileDataError/RuntimeError/ValueError
        raise PdfOpenError(
            "无法打开该 PDF 文件：文件不存在、无法读取或不是 PDF。",
            "The PDF cannot be opened: it is missing, unreadable or not a PDF.",
            file=os.fspath(path), reason=str(exc)[:200],
        ) from exc
    return doc


def check_document(doc: Document, path: str | os.PathLike[str]) -> None:
    """Refuse encrypted PDFs and PDFs MuPDF had to repair (no safe incremental update)."""
    name = os.path.basename(os.fspath(path))
    if not doc.is_pdf:
        raise PdfOpenError("该文件不是 PDF。", "The file is not a PDF.", file=name)
    if doc.needs_pass or doc.is_encrypted or doc.xref_get_key(-1, "Encrypt")[0] != "null":
        raise PdfEncryptedError(
            "该 PDF 已加密，不能签章。请先在编辑软件中取消文档加密/权限密码后再签章。",
            "The PDF is encrypted and cannot be sealed. Remove its password/permissions "
            "in the editing software first.",
            file=name,
        )
    if getattr(doc, "is_repaired", False) or not doc.can_save_incrementally():
        raise PdfDamagedError(
            "该 PDF 文件已损坏（需要修复才能读取），不能在保留原文的前提下签章。"
            "请用原编辑软件重新导出 PDF 后再签章。",
            "The PDF is damaged (it had to be repaired to be read), so it cannot be sealed "
            "while keeping the original bytes. Export the PDF again from the editing software.",
            file=name,
        )
    if doc.page_count < 1:
        raise PdfOpenError("该 PDF 没有页面。", "The PDF has no pages.", file=name)
    if docmdp_permission(doc) == 1:
        raise PdfCertifiedLockedError(
            "该 PDF 已被认证签名锁定（不允许任何修改），再盖章会使原认证失效。",
            "The PDF is certified with 'no changes allowed'; another seal would invalidate "
            "the certification.",
            file=name,
        )


def docmdp_permission(doc: Document) -> int | None:
    """The /P of a certification signature (/Perms/DocMDP), or None when not certified."""
    kind, value = doc.xref_get_key(doc.pdf_catalog(), "Perms/DocMDP")
    if kind != "xref":
        return None
    rkind, ref = doc.xref_get_key(int(value.split()[0]), "Reference")
    if rkind == "xref":
        ref = doc.xref_object(int(ref.split()[0]), compressed=True)
    # /P defaults to 2 (form filling and signing allowed)
    m = re.search(r"/DocMDP.*?/P\s+(\d)", ref, re.S) or re.search(r"/P\s+(\d)", ref)
    return int(m.group(1)) if m else 2


# -- arrays of references -----------------------------------------------------------
def _append_ref(doc: Document, xref: int, key: str, ref: int) -> None:
    """Append ``ref 0 R`` to the array at ``key`` of object ``xref`` (inline, indirect or absent)."""
    kind, value = doc.xref_get_key(xref, key)
    item = f"{ref} 0 R"
    if kind == "xref":
        target = int(value.split()[0])
        body = doc.xref_object(target, compressed=True).strip()
        if body.startswith("[") and body.endswith("]"):
            doc.update_object(target, body[:-1].rstrip() + f" {item}]")
            return
        doc.xref_set_key(xref, key, f"[{item}]")
        return
    if kind == "array":
        inner = value.strip()[1:-1].strip()
        doc.xref_set_key(xref, key, f"[{inner} {item}]" if inner else f"[{item}]")
        return
    doc.xref_set_key(xref, key, f"[{item}]")


def _ref_list(doc: Document, xref: int, key: str) -> list[int]:
    kind, value = doc.xref_get_key(xref, key)
    if kind == "xref":
        value = doc.xref_object(int(value.split()[0]), compressed=True)
    elif kind != "array":
        return []
    return [int(m) for m in re.findall(r"(\d+)\s+\d+\s+R", value)]


def _acroform_lookup(doc: Document) -> tuple[int, str] | None:
    """(xref, key prefix) addressing the AcroForm dictionary, or None when there is none."""
    cat = doc.pdf_catalog()
    kind, value = doc.xref_get_key(cat, "AcroForm")
    if kind == "xref":
        return int(value.split()[0]), ""
    if kind == "dict":
        return cat, "AcroForm/"
    return None


def _acroform(doc: Document) -> tuple[int, str]:
    """(xref, key prefix) addressing the AcroForm dictionary, creating it when absent."""
    found = _acroform_lookup(doc)
    if found is not None:
        return found
    xref = doc.get_new_xref()
    doc.update_object(xref, "<</Fields[]>>")
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm", f"{xref} 0 R")
    return xref, ""


def unique_field_name(doc: Document, base: str = "BidSeal") -> str:
    """``BidSeal1``, ``BidSeal2``… : the first name not used by a top-level field."""
    xref, prefix = _acroform_lookup(doc) or (0, "")
    used: set[str] = set()
    if xref:
        for f in _ref_list(doc, xref, prefix + "Fields"):
            kind, value = doc.xref_get_key(f, "T")
            if kind == "string":
                used.add(value)
    n = 1
    while f"{base}{n}" in used:
        n += 1
    return f"{base}{n}"


# -- objects ------------------------------------------------------------------------
def _text(s: str | None) -> str:
    return str(pymupdf.get_pdf_str(s or ""))


def _rect(r: Sequence[float]) -> str:
    return "[" + " ".join(fmt_num(v) for v in r) + "]"


def _sig_dict(info: SignatureInfo) -> str:
    parts = [
        "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached",
        f"/ByteRange{BYTERANGE_PLACEHOLDER}",
        "/Contents<" + "00" * info.contents_size + ">",
        f"/M{_text(pdf_date(info.signing_time))}",
    ]
    for key, value in (("Name", info.name), ("Reason", info.reason),
                       ("Location", info.location), ("ContactInfo", info.contact)):
        if value:
            parts.append(f"/{key}{_text(value)}")
    parts.append("/Prop_Build<</App<</Name/BidSeal>>>>>>")
    return "".join(parts)


def _add_objects(
    doc: Document,
    spots: Sequence[WidgetSpot],
    image: SealImage,
    info: SignatureInfo,
    field_name: str,
) -> tuple[int, int, tuple[int, ...]]:
    image_xref = add_image_xobject(doc, image)
    sig_xref = doc.get_new_xref()
    doc.update_object(sig_xref, _sig_dict(info))
    name = _text(field_name)

    def widget_body(spot: WidgetSpot) -> str:
        vx0, vy0, vx1, vy1 = spot.visible_rect
        ap = add_appearance(doc, image_xref, vx1 - vx0, vy1 - vy0, spot.rotation, spot.strip)
        return (f"/Type/Annot/Subtype/Widget/F {_WIDGET_FLAGS}/Rect{_rect(spot.pdf_rect)}"
                f"/P {spot.page_xref} 0 R/AP<</N {ap} 0 R>>")

    widgets: list[int] = []
    if len(spots) == 1:
        field_xref = doc.get_new_xref()
        doc.update_object(field_xref, f"<<{widget_body(spots[0])}/FT/Sig/T{name}/V {sig_xref} 0 R>>")
        widgets.append(field_xref)
    else:
        field_xref = doc.get_new_xref()
        for spot in spots:
            kid = doc.get_new_xref()
            doc.update_object(kid, f"<<{widget_body(spot)}/Parent {field_xref} 0 R>>")
            widgets.append(kid)
        kids = " ".join(f"{k} 0 R" for k in widgets)
        doc.update_object(field_xref, f"<</FT/Sig/T{name}/Kids[{kids}]/V {sig_xref} 0 R>>")
    for spot, widget in zip(spots, widgets, strict=True):
        _append_ref(doc, spot.page_xref, "Annots", widget)
    form_xref, prefix = _acroform(doc)
    _append_ref(doc, form_xref, prefix + "Fields", field_xref)
    kind, value = doc.xref_get_key(form_xref, prefix + "SigFlags")
    flags = int(value) if kind == "int" else 0
    doc.xref_set_key(form_xref, prefix + "SigFlags", str(flags | 3))
    return sig_xref, field_xref, tuple(widgets)


def prepare_revision(
    path: str | os.PathLike[str],
    spots: Sequence[WidgetSpot],
    image: SealImage,
    info: SignatureInfo,
    field_base: str = "BidSeal",
) -> PreparedRevision:
    """Append one signature's objects to ``path`` as an incremental update.

    ``path`` must be the temporary copy; it is opened, extended and saved in place.
    """
    path = os.fspath(path)
    prev_len = os.path.getsize(path)
    doc = open_pdf(path)
    try:
        check_document(doc, path)
        field_name = unique_field_name(doc, field_base)
        sig_xref, field_xref, widgets = _add_objects(doc, spots, image, info, field_name)
        doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP,
                 garbage=0, use_objstms=0)
    finally:
        doc.close()
    return PreparedRevision(
        sig_xref=sig_xref, field_xref=field_xref, widget_xrefs=widgets, field_name=field_name,
        prev_len=prev_len, size=os.path.getsize(path), contents_size=info.contents_size,
    )

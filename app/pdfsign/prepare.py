"""Checks before sealing, and the incremental update that carries one signature.

Each signature is one revision written by our own writer
(:mod:`app.pdfsign.incremental`) after the last byte of the temporary copy:

* new objects: the seal image XObject (+ soft mask) and one appearance form per
  widget (:mod:`.appearance`); the signature value ``/Type/Sig
  /Filter/Adobe.PPKLite /SubFilter/adbe.pkcs7.detached`` with a fixed-width
  ``/ByteRange`` placeholder and ``/Contents <00…>`` of the reserved size, ``/M``,
  ``/Reason``, ``/Location``, ``/Name``; one merged field/widget (``/FT/Sig /F 132
  /AP /P /T /V``) or, for a cross-page seal, a parent field holding ``/V`` with one
  kid widget per page;
* changed objects, edited on their exact source text (:mod:`.splice`): each page's
  ``/Annots`` (or the array object it refers to) gets the widget, ``/AcroForm``
  gets the field in ``/Fields`` and ``/SigFlags 3`` (a new AcroForm when there is
  none). Every other byte of those objects is copied as it was.

``/NeedAppearances``
    removed from the AcroForm when it is true, as pyHanko does when it signs.
    With the flag set, poppler-based viewers (Evince, Okular; the default on
    UOS/Kylin) regenerate every field's appearance themselves and draw nothing
    for a signature field, so the seal would be invisible there; ISO 32000-2
    deprecates the flag and says it must not be set in a signed document's
    revisions. Removing it is safe only when every field that shows a value has
    its own appearance stream (what Acrobat, WPS, LibreOffice and Word write);
    a form whose field shows something (a value, a border or background) but has
    no appearance stream of its own for its current state is refused with a
    message saying to re-export it, because sealing would change what that field
    shows in viewers that honoured the flag.

Certified documents (DocMDP) and field locks
    A certification signature with ``/P 1`` (no changes) and a signed field
    whose ``/Lock`` says ``/P 1`` are refused up front. ``/P 2`` (form filling and
    signing) and ``/P 3`` (also annotations) allow a new signature field, which is
    all a seal adds; field locks only protect existing fields, which sealing never
    changes.

MuPDF (PyMuPDF) is used to read the document for the checks and the placement
search, and to encode the seal picture; it never writes the document.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pymupdf as _pymupdf

from app.pdfsign.appearance import (
    ImageObjects,
    SealImage,
    appearance_object,
    fmt_num,
    image_objects,
)
from app.pdfsign.errors import (
    PdfCertifiedLockedError,
    PdfDamagedError,
    PdfEncryptedError,
    PdfOpenError,
    UnsupportedPdfError,
)
from app.pdfsign.incremental import NewObject, SourcePdf, damaged_error
from app.pdfsign.pagegeometry import WidgetSpot
from app.pdfsign.splice import (
    DictEntry,
    ObjectEdit,
    PdfSyntaxError,
    append_to_array,
    find_entry,
    iter_refs,
    scan_dict,
    skip_value,
)

#: PyMuPDF's API is untyped; it is used through ``Any`` (as in app.token.seal_images).
pymupdf: Any = _pymupdf
Document = Any

__all__ = [
    "BYTERANGE_PLACEHOLDER",
    "PreparedRevision",
    "SignatureInfo",
    "check_document",
    "check_form",
    "check_page_tree",
    "docmdp_permission",
    "open_pdf",
    "pdf_date",
    "prepare_revision",
    "quiet_mupdf",
    "signature_contents",
    "unique_field_name",
]

#: Four numbers wide enough for any file; later overwritten in place, space padded.
BYTERANGE_PLACEHOLDER = "[0 9999999999 9999999999 9999999999]"

#: Widget flags: Print (4) + Locked (128).
_WIDGET_FLAGS = 132
_HEADER = re.compile(rb"%PDF-\d\.\d")


def quiet_mupdf() -> None:
    """Send MuPDF's own error and warning lines to the ``pymupdf`` logger, never to
    stdout/stderr (``bidseal sign --json`` must print nothing but JSON)."""
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    with contextlib.suppress(Exception):
        pymupdf.set_messages(pylogging=True)


quiet_mupdf()


@dataclass(frozen=True)
class SignatureInfo:
    """What goes into the /Sig dictionary besides the placeholders."""

    signing_time: datetime
    contents_size: int
    name: str | None = None
    reason: str | None = None
    location: str | None = None
    contact: str | None = None
    #: ``adbe.pkcs7.detached`` (CMS, the default) or ``GM.sm2seal`` (a GB/T 38540 SES_Signature)
    sub_filter: str = "adbe.pkcs7.detached"


@dataclass(frozen=True)
class PreparedRevision:
    """The result of one incremental update, before the placeholders are filled."""

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


# -- opening and checking -----------------------------------------------------------------
def _encrypted(name: str) -> PdfEncryptedError:
    return PdfEncryptedError(
        "该 PDF 已加密，不能签章。请先在编辑软件中取消文档加密/权限密码后再签章。",
        "The PDF is encrypted and cannot be sealed. Remove its password/permissions "
        "in the editing software first.",
        file=name,
    )


def _looks_encrypted(path: str) -> bool:
    """A trailer with /Encrypt near the end of the file (MuPDF cannot open public-key encryption)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(size - (1 << 16), 0))
            tail = f.read()
    except OSError:
        return False
    return re.search(rb"/Encrypt[\x00\t\n\x0c\r /<]", tail) is not None


def has_pdf_header(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as f:
            return _HEADER.search(f.read(1024)) is not None
    except OSError:
        return False


def open_pdf(path: str | os.PathLike[str]) -> Document:
    """Open a PDF with PyMuPDF, mapping failures to specific refusals."""
    name = os.fspath(path)
    try:
        doc = pymupdf.open(name, filetype="pdf")
    except Exception as exc:  # MuPDF raises FileDataError/RuntimeError/ValueError
        if has_pdf_header(name):
            if _looks_encrypted(name):
                raise _encrypted(os.path.basename(name)) from exc
            raise damaged_error(os.path.basename(name), str(exc)) from exc
        raise PdfOpenError(
            "无法打开该 PDF 文件：文件不存在、无法读取或不是 PDF。",
            "The PDF cannot be opened: it is missing, unreadable or not a PDF.",
            file=name, reason=str(exc)[:200],
        ) from exc
    return doc


def repaired_error(name: str) -> PdfDamagedError:
    return PdfDamagedError(
        "该 PDF 文件已损坏（需要修复才能读取），不能在保留原文的前提下签章。"
        "请用原编辑软件重新导出 PDF 后再签章。",
        "The PDF is damaged (it had to be repaired to be read), so it cannot be sealed "
        "while keeping the original bytes. Export the PDF again from the editing software.",
        file=name,
    )


def check_document(doc: Document, path: str | os.PathLike[str]) -> None:
    """Refuse encrypted PDFs and PDFs MuPDF had to repair (no safe incremental update)."""
    name = os.path.basename(os.fspath(path))
    if not doc.is_pdf:
        raise PdfOpenError("该文件不是 PDF。", "The file is not a PDF.", file=name)
    if doc.needs_pass or doc.is_encrypted or doc.xref_get_key(-1, "Encrypt")[0] != "null":
        raise _encrypted(name)
    if getattr(doc, "is_repaired", False) or not doc.can_save_incrementally():
        raise repaired_error(name)
    if doc.page_count < 1:
        try:
            kind, count = doc.xref_get_key(doc.pdf_catalog(), "Pages/Count")
        except Exception:  # noqa: BLE001 - MuPDF cannot even read the catalog
            kind, count = "error", ""
        if kind == "int" and count.strip() == "0":
            raise PdfOpenError("该 PDF 没有页面。", "The PDF has no pages.", file=name)
        raise damaged_error(name, "no page can be read")  # pages announced (or no readable tree)


def check_page_tree(doc: Document, name: str) -> None:
    """Every page must be reachable without a cycle and be an indirect object.

    MuPDF finds a page-tree cycle only when it walks to the page concerned, and it
    accepts a page written inline in its parent's /Kids; a widget cannot point to
    such a page (``/P``) and the verifier cannot follow it, so the file is refused
    whatever page the seal goes on. ``page_xref`` walks the tree in C: cheap even
    for thousands of pages.
    """
    for i in range(doc.page_count):
        if doc.page_xref(i) <= 0:
            raise page_tree_error(name, f"第 {i + 1} 页不是独立对象 / page {i + 1} is not an indirect object")


def page_tree_error(name: str, what: str) -> UnsupportedPdfError:
    return UnsupportedPdfError(
        f"该 PDF 的页面树结构有误（{what}），不能安全签章。请用编辑软件重新导出 PDF 后再签章。",
        f"The PDF's page tree is malformed ({what}), so it cannot be sealed safely. "
        "Export the PDF again from the editing software.",
        file=name,
    )


def mupdf_failure(exc: Exception, name: str) -> PdfDamagedError | UnsupportedPdfError:
    """A specific refusal for an error MuPDF raised while reading pages."""
    text = str(exc)
    low = text.lower()
    if "cycle in page tree" in low or "page tree" in low and "loop" in low:
        return page_tree_error(name, "页面树有循环引用 / a cycle in the page tree")
    if "page tree" in low or "kids" in low:
        return page_tree_error(name, "页面树无效 / invalid page tree")
    if "unknown filter" in low or "unsupported filter" in low or "brotli" in low:
        return UnsupportedPdfError(
            "该 PDF 使用了不支持的压缩方式，无法签章。请用编辑软件重新导出 PDF 后再签章。",
            "The PDF uses a compression filter BidSeal cannot read; export it again from the editing software.",
            file=name, reason=text[:200],
        )
    return damaged_error(name, text)


def reset_mupdf_warnings() -> None:
    pymupdf.TOOLS.reset_mupdf_warnings()


#: MuPDF messages that mean it worked around damage it then hides from us.
_TROUBLE = re.compile(r"cycle in page tree|too many kids in page tree|non-page object in page tree|"
                      r"repair|cannot find object in xref|object out of range|"
                      r"corrupt object stream|cannot load object stream|unknown filter|brotli", re.I)


def mupdf_trouble() -> str | None:
    """The first MuPDF message since :func:`reset_mupdf_warnings` that reveals damage."""
    text = str(pymupdf.TOOLS.mupdf_warnings(reset=False) or "")
    for line in text.splitlines():
        if _TROUBLE.search(line):
            return line.strip()
    return None


def problem_error(message: str, name: str) -> PdfDamagedError | UnsupportedPdfError:
    return mupdf_failure(RuntimeError(message), name)


# -- reading objects through the writer's exact view -------------------------------------------
def _entries(text: bytes, at: int = 0) -> list[DictEntry]:
    if text[at:at + 2] != b"<<":
        return []
    return scan_dict(text, at)[0]


def _value_of(base: SourcePdf, text: bytes, depth: int = 0) -> bytes:
    """Follow references from ``text`` to a direct value (the text itself when direct)."""
    while depth < 32:
        num = base.resolve_ref(text)
        if num is None:
            return text
        if not base.has(num):  # a dangling reference means null
            return b"null"
        text = base.value(num, allow_stream=True)[1]
        depth += 1
    raise damaged_error(base.name, "reference loop")


def _get(base: SourcePdf, text: bytes, key: str) -> bytes | None:
    """The direct value of ``key`` in dictionary ``text`` (references followed), or None."""
    e = find_entry(_entries(text), key)
    return None if e is None else _value_of(base, text[e.value_start:e.value_end])


def _decode_string(raw: bytes) -> str:
    if raw.startswith(b"<") and not raw.startswith(b"<<"):
        hexed = re.sub(rb"[^0-9A-Fa-f]", b"", raw[1:-1])
        data = bytes.fromhex((hexed + b"0" * (len(hexed) % 2)).decode())
    elif raw.startswith(b"("):
        data = _unescape_literal(raw[1:-1])
    else:
        return ""
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace")
    return data.decode("latin-1")


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _unescape_literal(s: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != 0x5C or i + 1 >= len(s):
            out.append(c)
            i += 1
            continue
        n = s[i + 1]
        if n in _ESCAPES:
            out += _ESCAPES[n]
            i += 2
        elif 0x30 <= n <= 0x37:
            m = re.match(rb"[0-7]{1,3}", s[i + 1:i + 4])
            assert m
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        elif n in (0x0A, 0x0D):
            i += 2 + (1 if n == 0x0D and s[i + 2:i + 3] == b"\n" else 0)
        else:
            out.append(n)
            i += 2
    return bytes(out)


def _acroform_text(base: SourcePdf) -> bytes | None:
    return _get(base, base.value(base.root)[1], "AcroForm")


def _iter_fields(base: SourcePdf, limit: int = 100_000) -> Iterator[tuple[int | None, bytes, int]]:
    """Every field dictionary of the AcroForm tree: ``(object number, text, depth)``."""
    form = _acroform_text(base)
    if form is None:
        return
    fields = _get(base, form, "Fields")
    if fields is None or not fields.startswith(b"["):
        return
    stack = [(n, 0) for n in reversed(list(iter_refs(fields, 0, len(fields))))]
    seen: set[int] = set()
    while stack and len(seen) < limit:
        num, depth = stack.pop()
        if num in seen or depth > 32 or not base.has(num):
            continue
        seen.add(num)
        text = base.value(num)[1]
        if not text.startswith(b"<<"):
            continue
        yield num, text, depth
        kids = _get(base, text, "Kids")
        if kids and kids.startswith(b"["):
            stack.extend((k, depth + 1) for k in reversed(list(iter_refs(kids, 0, len(kids)))))


def unique_field_name(base: SourcePdf, base_name: str = "BidSeal") -> str:
    """``BidSeal1``, ``BidSeal2``… : the first name not used by a top-level field."""
    used: set[str] = set()
    for _num, text, depth in _iter_fields(base):
        if depth == 0:
            t = _get(base, text, "T")
            if t:
                used.add(_decode_string(t))
    n = 1
    while f"{base_name}{n}" in used:
        n += 1
    return f"{base_name}{n}"


def _int(text: bytes | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _array_items(text: bytes) -> list[bytes]:
    """The element texts of the array ``text`` (``[...]``)."""
    items, pos = [], 1
    while True:
        m = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*").match(text, pos)
        pos = m.end() if m else pos
        if pos >= len(text) or text[pos:pos + 1] == b"]":
            return items
        end = skip_value(text, pos)
        items.append(text[pos:end])
        pos = end


def _transform_p(base: SourcePdf, sig: bytes, method: str) -> int | None:
    """/P of the /Reference entries of signature ``sig`` that use transform ``method``."""
    refs = _get(base, sig, "Reference")
    if not refs or not refs.startswith(b"["):
        return None
    p: int | None = None
    try:
        items = _array_items(refs)
    except PdfSyntaxError:
        return None
    for item in items:
        p = _merge_p(p, _transform_p_of(base, _value_of(base, item), method))
    return p


def _transform_p_of(base: SourcePdf, ref: bytes, method: str) -> int | None:
    if _get(base, ref, "TransformMethod") != b"/" + method.encode():
        return None
    params = _get(base, ref, "TransformParams")
    if params is None:
        return 2 if method == "DocMDP" else None
    p = _int(_get(base, params, "P"))
    return p if p is not None else (2 if method == "DocMDP" else None)


def _merge_p(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def signature_contents(base: SourcePdf) -> list[bytes]:
    """The decoded /Contents of every signed signature field (CMS DER, zero padded)."""
    out = []
    for _num, text, _depth in _iter_fields(base):
        sig = _get(base, text, "V")
        if sig is None or not sig.startswith(b"<<"):
            continue
        contents = _get(base, sig, "Contents")
        if contents and contents.startswith(b"<"):
            hexed = re.sub(rb"[^0-9A-Fa-f]", b"", contents[1:-1])
            out.append(bytes.fromhex((hexed + b"0" * (len(hexed) % 2)).decode()))
    return out


def docmdp_permission(base: SourcePdf) -> int | None:
    """The /P of a certification signature (/Perms/DocMDP), or None when not certified."""
    perms = _get(base, base.value(base.root)[1], "Perms")
    if perms is None:
        return None
    sig = _get(base, perms, "DocMDP")
    if sig is None or not sig.startswith(b"<<"):
        return None
    return _transform_p(base, sig, "DocMDP") or 2


def lock_permission(base: SourcePdf) -> int | None:
    """The strictest /P a signed field's lock (or FieldMDP reference) sets, or None."""
    p: int | None = None
    for _num, text, _depth in _iter_fields(base):
        if _get(base, text, "FT") != b"/Sig":
            continue
        sig = _get(base, text, "V")
        if sig is None or not sig.startswith(b"<<"):
            continue
        lock = _get(base, text, "Lock")
        if lock is not None:
            p = _merge_p(p, _int(_get(base, lock, "P")))
        p = _merge_p(p, _transform_p(base, sig, "FieldMDP"))
    return p


def _need_appearances(base: SourcePdf) -> bool:
    form = _acroform_text(base)
    return form is not None and _get(base, form, "NeedAppearances") == b"true"


def _widget_texts(base: SourcePdf, field: bytes) -> list[bytes]:
    """The widget dictionaries of a terminal field (the field itself when merged)."""
    kids = _get(base, field, "Kids")
    if kids is None or not kids.startswith(b"["):
        return [field]
    out = []
    for num in iter_refs(kids, 0, len(kids)):
        if base.has(num):
            out.append(base.value(num, allow_stream=True)[1])
    return out


def _has_own_appearance(base: SourcePdf, widget: bytes) -> bool:
    """A normal appearance *stream* for the widget's current state (``/AS`` for buttons)."""
    ap = _get(base, widget, "AP")
    if ap is None or not ap.startswith(b"<<"):
        return False
    e = find_entry(_entries(ap), "N")
    if e is None:
        return False
    n_text = ap[e.value_start:e.value_end]
    if base.resolve_ref(n_text) is not None:
        target = _value_of(base, n_text)
        if not target.startswith(b"<<") or find_entry(_entries(target), "Subtype") is not None \
                or find_entry(_entries(target), "BBox") is not None:
            return True  # a form XObject (its dictionary has /BBox, usually /Subtype/Form)
        n_text = target
    if not n_text.startswith(b"<<"):
        return False
    state = _get(base, widget, "AS")
    if state is None:
        return False
    entry = find_entry(_entries(n_text), state[1:].decode("latin-1") if state.startswith(b"/") else "")
    return entry is not None and base.resolve_ref(n_text[entry.value_start:entry.value_end]) is not None


def _fields_without_appearance(base: SourcePdf) -> list[str]:
    """Fields with a widget that a NeedAppearances viewer draws itself (no appearance stream
    of its own for its current state) but that shows something: a value or a border/background."""
    missing = []
    for _num, text, _depth in _iter_fields(base):
        if _get(base, text, "FT") == b"/Sig":
            continue
        kids = _get(base, text, "Kids")
        if kids is not None and kids.startswith(b"[") and _get(base, text, "T") is not None \
                and all(_get(base, w, "T") is not None for w in _widget_texts(base, text)):
            continue  # a non-terminal field: its kids are fields of their own
        value = _get(base, text, "V")
        shows_value = value not in (None, b"()", b"<>", b"null", b"/Off")
        for widget in _widget_texts(base, text):
            mk = _get(base, widget, "MK")
            decorated = mk is not None and (_get(base, mk, "BC") is not None or _get(base, mk, "BG") is not None)
            if (shows_value or decorated) and not _has_own_appearance(base, widget):
                t = _get(base, text, "T")
                missing.append(_decode_string(t) if t else "?")
                break
    return missing


def check_form(base: SourcePdf) -> None:
    """Refuse what a new signature would break: DocMDP P=1, a lock with P=1, and a
    NeedAppearances form whose filled-in fields have no appearance of their own."""
    if docmdp_permission(base) == 1 or lock_permission(base) == 1:
        raise PdfCertifiedLockedError(
            "该 PDF 已被认证签名锁定（不允许任何修改），再盖章会使原认证失效。",
            "The PDF is certified with 'no changes allowed'; another seal would invalidate "
            "the certification.",
            file=base.name,
        )
    if _need_appearances(base):
        missing = _fields_without_appearance(base)
        if missing:
            raise UnsupportedPdfError(
                "该 PDF 表单中有字段没有自己的外观（由阅读器临时生成），签章后部分阅读器会显示为空白或不同。"
                "请在编辑软件中重新导出（或打印为）PDF 后再签章。",
                "Form fields of this PDF have no appearance of their own (viewers draw them on the fly), "
                "so after sealing some viewers would show them blank or different. Export (or print) "
                "the PDF again, then seal it.",
                file=base.name, fields=missing[:20],
            )


# -- the new revision --------------------------------------------------------------------------
def _text(s: str | None) -> bytes:
    return str(pymupdf.get_pdf_str(s or "")).encode("latin-1")


def _rect(r: Sequence[float]) -> bytes:
    return ("[" + " ".join(fmt_num(v) for v in r) + "]").encode("ascii")


def _sub_filter(name: str) -> bytes:
    if name not in ("adbe.pkcs7.detached", "GM.sm2seal"):
        raise ValueError(f"unsupported SubFilter {name!r}")
    return name.encode("ascii")


def _sig_dict(info: SignatureInfo) -> bytes:
    parts = [
        b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/" + _sub_filter(info.sub_filter),
        b"/ByteRange" + BYTERANGE_PLACEHOLDER.encode(),
        b"/Contents<" + b"00" * info.contents_size + b">",
        b"/M" + _text(pdf_date(info.signing_time)),
    ]
    for key, value in (("Name", info.name), ("Reason", info.reason),
                       ("Location", info.location), ("ContactInfo", info.contact)):
        if value:
            parts.append(b"/" + key.encode() + _text(value))
    parts.append(b"/Prop_Build<</App<</Name/BidSeal>>>>>>")
    return b"".join(parts)


class _Edits:
    """The existing objects this revision changes, each edited on its exact text."""

    def __init__(self, base: SourcePdf) -> None:
        self.base = base
        self.objects: dict[int, tuple[int, ObjectEdit]] = {}

    def of(self, num: int) -> ObjectEdit:
        if num not in self.objects:
            gen, text = self.base.value(num)
            self.objects[num] = (gen, ObjectEdit(text))
        return self.objects[num][1]

    def add_to_array(self, holder: int, dict_at: int, key: str, item: bytes) -> None:
        """Append ``item`` to the array at ``key`` of the dictionary at ``dict_at`` in
        object ``holder`` (inline array, array object, or a new array)."""
        edit = self.of(holder)
        entry = find_entry(scan_dict(edit.text, dict_at)[0], key)
        if entry is None:
            edit.insert(dict_at + 2, b"/" + key.encode() + b"[" + item + b"]")
            return
        value = edit.text[entry.value_start:entry.value_end]
        if value.startswith(b"["):
            append_to_array(edit, entry.value_start, entry.value_end, item)
            return
        target = self.base.resolve_ref(value)
        if target is not None and self.base.has(target):
            arr = self.of(target)
            if arr.text.startswith(b"[") and not arr.changed:
                append_to_array(arr, 0, len(arr.text), item)
                return
            if arr.text.startswith(b"["):
                # already edited in this revision: append after the earlier insertion
                arr.text = arr.apply()
                arr._edits.clear()  # noqa: SLF001
                append_to_array(arr, 0, len(arr.text), item)
                return
        edit.replace(entry.value_start, entry.value_end, b"[" + item + b"]")

    def set_value(self, holder: int, dict_at: int, key: str, value: bytes) -> None:
        edit = self.of(holder)
        entry = find_entry(scan_dict(edit.text, dict_at)[0], key)
        if entry is None:
            edit.insert(dict_at + 2, b"/" + key.encode() + b" " + value)
        else:
            edit.replace(entry.value_start, entry.value_end, value)

    def remove(self, holder: int, dict_at: int, key: str) -> None:
        edit = self.of(holder)
        for entry in scan_dict(edit.text, dict_at)[0]:
            if entry.name == key:
                edit.replace(entry.key_start, entry.value_end, b"")

    def new_objects(self) -> list[NewObject]:
        return [NewObject(num, edit.apply(), gen) for num, (gen, edit) in self.objects.items() if edit.changed]


def _acroform_holder(base: SourcePdf, edits: _Edits, new: list[NewObject]) -> tuple[int, int]:
    """(object number, offset of ``<<``) of the AcroForm dictionary, creating it when absent."""
    root = base.root
    cat = edits.of(root).text
    entry = find_entry(_entries(cat), "AcroForm")
    if entry is not None:
        value = cat[entry.value_start:entry.value_end]
        if value.startswith(b"<<"):
            return root, entry.value_start
        num = base.resolve_ref(value)
        if num is not None and base.has(num) and edits.of(num).text.startswith(b"<<"):
            return num, 0
    num = base.new_num()
    new.append(NewObject(num, b"<<>>"))
    edits.objects[num] = (0, ObjectEdit(b"<<>>"))
    edits.set_value(root, 0, "AcroForm", b"%d 0 R" % num)
    return num, 0


def _update_acroform(base: SourcePdf, edits: _Edits, new: list[NewObject], field_num: int) -> None:
    holder, at = _acroform_holder(base, edits, new)
    edits.add_to_array(holder, at, "Fields", b"%d 0 R" % field_num)
    text = edits.of(holder).text
    flags = _int(_get(base, text[at:scan_dict(text, at)[1]], "SigFlags")) or 0
    edits.set_value(holder, at, "SigFlags", str(flags | 3).encode())
    value = _get(base, text[at:scan_dict(text, at)[1]], "NeedAppearances")
    if value is not None and value != b"false":
        edits.remove(holder, at, "NeedAppearances")


def build_revision(
    base: SourcePdf,
    spots: Sequence[WidgetSpot],
    image: ImageObjects,
    info: SignatureInfo,
    field_name: str,
) -> tuple[list[NewObject], int, int, tuple[int, ...]]:
    """The objects of one signature's revision: (objects, sig number, field number, widget numbers)."""
    new: list[NewObject] = []
    image_num = base.new_num()
    smask_num = base.new_num() if image.smask_dict is not None else None
    smask_ref = b"/SMask %d 0 R" % smask_num if smask_num is not None else b""
    new.append(NewObject(image_num, image.image_dict[:2] + smask_ref + image.image_dict[2:], data=image.image_data))
    if smask_num is not None:
        assert image.smask_dict is not None and image.smask_data is not None
        new.append(NewObject(smask_num, image.smask_dict, data=image.smask_data))
    sig_num = base.new_num()
    new.append(NewObject(sig_num, _sig_dict(info)))
    name = _text(field_name)

    def widget_body(spot: WidgetSpot) -> bytes:
        vx0, vy0, vx1, vy1 = spot.visible_rect
        ap_num = base.new_num()
        body, data = appearance_object(image_num, vx1 - vx0, vy1 - vy0, spot.rotation, spot.strip)
        new.append(NewObject(ap_num, body, data=data))
        return (b"/Type/Annot/Subtype/Widget/F %d/Rect%s/P %d 0 R/AP<</N %d 0 R>>"
                % (_WIDGET_FLAGS, _rect(spot.pdf_rect), spot.page_xref, ap_num))

    widgets: list[int] = []
    field_num = base.new_num()
    if len(spots) == 1:
        new.append(NewObject(field_num, b"<<" + widget_body(spots[0]) + b"/FT/Sig/T" + name
                             + b"/V %d 0 R>>" % sig_num))
        widgets.append(field_num)
    else:
        for spot in spots:
            kid = base.new_num()
            new.append(NewObject(kid, b"<<" + widget_body(spot) + b"/Parent %d 0 R>>" % field_num))
            widgets.append(kid)
        kids = b" ".join(b"%d 0 R" % k for k in widgets)
        new.append(NewObject(field_num, b"<</FT/Sig/T" + name + b"/Kids[" + kids + b"]/V %d 0 R>>" % sig_num))
    edits = _Edits(base)
    try:
        for spot, widget in zip(spots, widgets, strict=True):
            edits.add_to_array(spot.page_xref, 0, "Annots", b"%d 0 R" % widget)
        _update_acroform(base, edits, new, field_num)
    except PdfSyntaxError as exc:
        raise damaged_error(base.name, f"cannot edit a page or form object: {exc.args[0]}") from exc
    created = {o.num for o in new}
    changed = [o for o in edits.new_objects() if o.num not in created]
    for i, o in enumerate(new):
        if o.num in edits.objects and edits.objects[o.num][1].changed:
            new[i] = NewObject(o.num, edits.objects[o.num][1].apply(), o.gen, o.data)
    return new + changed, sig_num, field_num, tuple(widgets)


def prepare_revision(
    base: SourcePdf,
    spots: Sequence[WidgetSpot],
    image: ImageObjects,
    info: SignatureInfo,
    field_base: str = "BidSeal",
) -> PreparedRevision:
    """Append one signature's objects to ``base`` (the temporary copy) as an incremental update."""
    prev_len = base.length
    field_name = unique_field_name(base, field_base)
    objects, sig_num, field_num, widgets = build_revision(base, spots, image, info, field_name)
    base.append(objects)
    return PreparedRevision(
        sig_xref=sig_num, field_xref=field_num, widget_xrefs=widgets, field_name=field_name,
        prev_len=prev_len, size=base.length, contents_size=info.contents_size,
    )


__all__ += ["SealImage", "build_revision", "has_pdf_header", "image_objects", "lock_permission",
            "mupdf_failure", "page_tree_error", "repaired_error"]

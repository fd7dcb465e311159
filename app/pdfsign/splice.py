"""Edit a PDF object's source text in place, keeping every byte we do not mean to change.

An incremental update that re-serialises a page object rewrites all of its values
in the writer's own style: PyMuPDF rounds ``611.971653543307`` to ``611.9717`` and
writes an empty-name key ``/ 6 0 R`` as ``/6 null``. That changes what an earlier
signature covered as *content* (pyHanko then rates the earlier signature as
suspicious) and can change what the page shows. Sealing only has to add one
reference to ``/Annots``, one to ``/AcroForm /Fields``, set ``/SigFlags`` and drop
``/NeedAppearances``; this module does exactly that on the original bytes.

:func:`scan_dict` finds the keys of a dictionary and the byte span of each value
without building Python objects for the values (an ``/Annots`` array with 65,000
references is skipped by one regular expression, not 200,000 tokens), and
:class:`ObjectEdit` collects replacements/insertions and applies them in one go.
Everything works on ``bytes``; offsets are relative to the buffer given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "DictEntry",
    "ObjectEdit",
    "PdfSyntaxError",
    "append_to_array",
    "decode_name",
    "find_entry",
    "scan_dict",
    "skip_value",
]

_WS = b"\x00\t\n\x0c\r "
_WS_RE = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_REGULAR = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
#: A run of array elements that are references, numbers, names or booleans (the
#: common /Annots, /Fields, /Kids, /MediaBox shapes), skipped in one match.
_SIMPLE_RUN = re.compile(
    rb"(?:[\x00\t\n\x0c\r ]*(?:\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
    rb"|[-+]?(?:\d+\.?\d*|\.\d+)(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
    rb"|/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*|true|false|null))*"
)
_REF_AT = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")
MAX_DEPTH = 64


class PdfSyntaxError(ValueError):
    """The object text is not what the PDF syntax allows here (offset in ``args[1]``)."""


def _ws(buf: bytes, pos: int) -> int:
    m = _WS_RE.match(buf, pos)
    return m.end() if m else pos


def decode_name(raw: bytes) -> str:
    """``/Ann#6Fts`` -> ``Annots`` (without the slash; ``#xx`` escapes resolved)."""
    body = raw[1:] if raw.startswith(b"/") else raw
    if b"#" in body:
        body = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), body)
    return body.decode("latin-1")


def _skip_literal_string(buf: bytes, pos: int) -> int:
    depth, i, n = 0, pos, len(buf)
    while i < n:
        c = buf[i]
        if c == 0x5C:  # backslash escapes the next byte
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise PdfSyntaxError("unterminated string", pos)


def skip_value(buf: bytes, pos: int, depth: int = 0) -> int:
    """Offset just after the value that starts at ``pos`` (no leading whitespace)."""
    if depth > MAX_DEPTH:
        raise PdfSyntaxError("nesting too deep", pos)
    if pos >= len(buf):
        raise PdfSyntaxError("value expected", pos)
    c = buf[pos]
    if c == 0x2F:  # name
        return _REGULAR.match(buf, pos + 1).end()  # type: ignore[union-attr]
    if c == 0x28:
        return _skip_literal_string(buf, pos)
    if c == 0x3C:
        if buf[pos + 1:pos + 2] == b"<":
            return scan_dict(buf, pos, depth)[1]
        end = buf.find(b">", pos)
        if end < 0:
            raise PdfSyntaxError("unterminated hex string", pos)
        return end + 1
    if c == 0x5B:
        p = pos + 1
        while True:
            p = _SIMPLE_RUN.match(buf, p).end()  # type: ignore[union-attr]
            p = _ws(buf, p)
            if p >= len(buf):
                raise PdfSyntaxError("unterminated array", pos)
            if buf[p] == 0x5D:
                return p + 1
            p = skip_value(buf, p, depth + 1)
    m = _REF_AT.match(buf, pos)
    if m:
        return m.end()
    end = _REGULAR.match(buf, pos).end()  # type: ignore[union-attr]
    if end == pos:
        raise PdfSyntaxError(f"unexpected byte {buf[pos:pos + 1]!r}", pos)
    return end


@dataclass(frozen=True)
class DictEntry:
    """One key of a dictionary: the key's span and its value's span (buffer offsets)."""

    name: str
    key_start: int
    value_start: int
    value_end: int


def scan_dict(buf: bytes, pos: int, depth: int = 0) -> tuple[list[DictEntry], int]:
    """The entries of the dictionary ``<<…>>`` at ``pos`` and the offset after ``>>``."""
    if buf[pos:pos + 2] != b"<<":
        raise PdfSyntaxError("dictionary expected", pos)
    entries: list[DictEntry] = []
    p = pos + 2
    while True:
        p = _ws(buf, p)
        if buf[p:p + 2] == b">>":
            return entries, p + 2
        if p >= len(buf) or buf[p] != 0x2F:
            raise PdfSyntaxError("dictionary key expected", p)
        kend = _REGULAR.match(buf, p + 1).end()  # type: ignore[union-attr]
        vstart = _ws(buf, kend)
        if buf[vstart:vstart + 2] == b">>":
            raise PdfSyntaxError("dictionary key without value", vstart)
        vend = skip_value(buf, vstart, depth + 1)
        entries.append(DictEntry(decode_name(buf[p:kend]), p, vstart, vend))
        p = vend


def find_entry(entries: list[DictEntry], name: str) -> DictEntry | None:
    """The entry for key ``name`` (the last one if a broken writer repeated it, as most readers do)."""
    found = None
    for e in entries:
        if e.name == name:
            found = e
    return found


def iter_refs(buf: bytes, start: int, end: int) -> Iterator[int]:
    """Object numbers of the ``N G R`` references between ``start`` and ``end``."""
    for m in _REF_AT.finditer(buf, start, end):
        yield int(m.group(1))


@dataclass
class ObjectEdit:
    """Replacements on one object's source text, applied back to front by :meth:`apply`."""

    text: bytes
    _edits: list[tuple[int, int, bytes]] = field(default_factory=list)

    def replace(self, start: int, end: int, new: bytes) -> None:
        for s, e, _ in self._edits:
            if (start < e and s < end) or s < start < e or start < s < end:
                raise PdfSyntaxError("overlapping edits", start)
        self._edits.append((start, end, new))

    def insert(self, at: int, new: bytes) -> None:
        self.replace(at, at, new)

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def apply(self) -> bytes:
        out = self.text
        for start, end, new in sorted(self._edits, key=lambda e: e[0], reverse=True):
            out = out[:start] + new + out[end:]
        return out


def append_to_array(edit: ObjectEdit, start: int, end: int, item: bytes) -> None:
    """Add ``item`` before the closing ``]`` of the array at ``[start, end)``."""
    if edit.text[start:start + 1] != b"[" or edit.text[end - 1:end] != b"]":
        raise PdfSyntaxError("array expected", start)
    inner = edit.text[start + 1:end - 1]
    sep = b"" if not inner.strip(_WS) or inner[-1:] in _WS else b" "
    edit.insert(end - 1, sep + item)

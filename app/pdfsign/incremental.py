"""Our own incremental update: read the latest revision exactly, append a new one.

Why not ``pymupdf.Document.save(incremental=True)``: MuPDF writes back every object
it touched in its own serialisation (numbers rounded to fewer decimals, an empty
name key ``/`` turned into something else, annotations it "repaired" given new
appearance streams), so a page that only needed one more ``/Annots`` entry comes
out with different values. An earlier signature then covers content that changed
in its eyes (pyHanko: suspicious), and our own next seal fails. Here:

* :class:`SourcePdf` reads the file's last revision with the verifier's strict
  parser (:class:`app.pdfsign.pdfstructure.PdfStructure`: xref tables and streams,
  read-only) and returns the *exact source text* of any object, from the file or
  from its object stream; a file that parser cannot read is refused up front, so
  every file we accept can be verified and sealed again;
* callers edit that text with :mod:`app.pdfsign.splice` (only the keys sealing
  needs) and add new objects;
* :meth:`SourcePdf.append` writes them after the last byte: plain objects, then an
  xref section of the same kind as the previous one (classic table, or an xref
  stream for files that use xref streams) whose trailer carries ``/Prev``, the
  previous ``/Root``, ``/Info`` and ``/ID``. Nothing before the previous end of
  file is ever written.

Objects we rewrite stay in memory (an overlay), so several seals in one call build
on each other without re-reading the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.pdfsign.errors import PdfDamagedError, PdfEncryptedError, UnsupportedPdfError
from app.pdfsign.pdfstructure import (
    PdfSource,
    PdfStream,
    PdfString,
    PdfStructure,
    PdfStructureError,
    PdfUnsupportedError,
    Ref,
)
from app.pdfsign.splice import PdfSyntaxError, skip_value

__all__ = ["NewObject", "SourcePdf", "damaged_error", "pdf_literal"]

_OBJ_HEAD = re.compile(rb"[\x00\t\n\x0c\r ]*(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj")
_AFTER_VALUE = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*(endobj|stream)")
_WS = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")


def damaged_error(name: str, reason: str) -> PdfDamagedError:
    """The one "re-export the PDF" refusal for files we cannot extend safely."""
    return PdfDamagedError(
        "该 PDF 文件结构已损坏（交叉引用表或对象位置有误），不能在保留原文的前提下签章。"
        "请用原编辑软件重新导出（另存为）PDF 后再签章。",
        "The PDF's structure is damaged (its cross-reference table or object positions are wrong), "
        "so it cannot be sealed while keeping the original bytes. Export (save as) the PDF again "
        "from the editing software, then seal it.",
        file=name, reason=reason[:300],
    )


def pdf_literal(value: Any) -> bytes:
    """Serialise a trailer value (reference, number, string, array) for our own trailer."""
    if isinstance(value, Ref):
        return f"{value.num} {value.gen} R".encode()
    if isinstance(value, PdfString):
        return b"<" + bytes(value).hex().upper().encode() + b">"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float):
        return str(value).encode()
    if isinstance(value, list):
        return b"[" + b" ".join(pdf_literal(v) for v in value) + b"]"
    raise TypeError(f"cannot write {type(value).__name__} in a trailer")


@dataclass(frozen=True)
class NewObject:
    """An object of the new revision: its number, generation and value text; for a
    stream, ``data`` is the already encoded stream body and ``/Length`` is added here."""

    num: int
    body: bytes
    gen: int = 0
    data: bytes | None = None


class SourcePdf:
    """The latest revision of a PDF file, read exactly, and the writer of the next one."""

    def __init__(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        self.path = os.fspath(path)
        #: the file name used in messages (the input's, when ``path`` is its temporary copy)
        self.name = name or os.path.basename(self.path)
        self._src = PdfSource.open(self.path)
        try:
            self.structure = PdfStructure(self._src)
            rev = self.structure.revisions[-1]
            section = next((s for s in rev.sections if s.offset == self._section_offset(rev.startxref)),
                           rev.sections[0] if rev.sections else None)
            if section is None:
                raise damaged_error(self.name, "no cross-reference section")
            self.trailer = self.structure.trailer()
            self.objects = self.structure.object_map()
        except PdfStructureError as exc:
            self._src.close()
            if isinstance(exc, PdfUnsupportedError):
                raise UnsupportedPdfError(
                    "该 PDF 使用了不支持的压缩方式保存交叉引用，无法签章。请用编辑软件重新导出 PDF 后再签章。",
                    "The PDF stores its cross-reference data in a format BidSeal cannot read; "
                    "export it again from the editing software.",
                    file=self.name, reason=exc.en[:200],
                ) from exc
            raise damaged_error(self.name, exc.en) from exc
        if self.structure.incomplete:
            self._src.close()
            raise damaged_error(self.name, "bytes after the last %%EOF")
        if "Encrypt" in self.trailer:
            self._src.close()
            raise PdfEncryptedError(
                "该 PDF 已加密，不能签章。请先在编辑软件中取消文档加密/权限密码后再签章。",
                "The PDF is encrypted and cannot be sealed. Remove its password/permissions "
                "in the editing software first.",
                file=self.name,
            )
        self.xref_kind = section.kind if section.trailer.get("XRefStm") is None else "table"
        self.startxref = rev.startxref
        self.length = self._src.size
        size = self.trailer.get("Size")
        self.next_num = max(size if isinstance(size, int) else 0, max(self.objects, default=0) + 1)
        self._overlay: dict[int, tuple[int, bytes]] = {}
        self._objstm_data: dict[int, tuple[bytes, dict[int, int]]] = {}

    def _section_offset(self, startxref: int) -> int:
        m = _WS.match(self._src.raw, startxref)
        return m.end() if m else startxref

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> SourcePdf:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------
    @property
    def root(self) -> int:
        root = self.trailer.get("Root")
        if not isinstance(root, Ref):
            raise damaged_error(self.name, "the trailer has no /Root reference")
        return root.num

    def new_num(self) -> int:
        num = self.next_num
        self.next_num += 1
        return num

    def check_xref(self) -> None:
        """Every in-use entry of the latest revision must point at its object: a plain
        object's header at its offset, a compressed one listed in its object stream.

        A wrong entry that no reader happens to touch today (MuPDF repairs lazily)
        breaks a later verification of this file (the verifier reads the objects a
        later revision changes or refers to), so such a file is refused up front
        with the re-export message rather than sealed once and never again.
        """
        # Small positioned reads, not the memory map: touching every object's page through
        # the map would fault most of a 100 MB file into this process's resident set.
        with open(self.path, "rb", buffering=0) as f:
            for num, loc in self.objects.items():
                if loc.kind == "n" and loc.offset == 0:
                    continue  # "0000000000 00000 n": a writer's way of listing a missing object (null)
                if loc.kind == "n":
                    f.seek(loc.offset)
                    m = _OBJ_HEAD.match(f.read(48))
                    if not m or int(m.group(1)) != num:
                        raise damaged_error(self.name, f"the cross-reference entry of object {num} points elsewhere")
                elif loc.kind == "c" and num not in self._objstm_offsets(loc.offset):
                    raise damaged_error(self.name, f"object {num} is missing from object stream {loc.offset}")

    def has(self, num: int) -> bool:
        """True when object ``num`` exists (in use) in the latest revision."""
        if num in self._overlay:
            return True
        loc = self.objects.get(num)
        return loc is not None and loc.kind != "f"

    def value(self, num: int, allow_stream: bool = False) -> tuple[int, bytes]:
        """``(generation, exact value text)`` of object ``num`` in the latest revision.

        A stream object is refused (sealing never edits one) unless ``allow_stream``,
        which returns its dictionary's text for reading."""
        if num in self._overlay:
            return self._overlay[num]
        loc = self.objects.get(num)
        if loc is None or loc.kind == "f":
            raise damaged_error(self.name, f"object {num} is missing")
        try:
            if loc.kind == "n":
                return loc.gen, self._plain_value(num, loc.offset, allow_stream)
            return 0, self._compressed_value(num, loc.offset)
        except PdfSyntaxError as exc:
            raise damaged_error(self.name, f"object {num}: {exc.args[0]} at {exc.args[1:]}") from exc

    def _plain_value(self, num: int, offset: int, allow_stream: bool = False) -> bytes:
        raw = self._src.raw
        m = _OBJ_HEAD.match(raw, offset)
        if not m or int(m.group(1)) != num:
            raise damaged_error(self.name, f"the cross-reference entry of object {num} points elsewhere")
        start = _WS.match(raw, m.end()).end()  # type: ignore[union-attr]
        end = skip_value(raw, start)
        after = _AFTER_VALUE.match(raw, end)
        if not after:
            raise damaged_error(self.name, f"object {num} does not end with endobj")
        if after.group(1) == b"stream" and not allow_stream:
            raise UnsupportedPdfError(
                "该 PDF 的页面或表单对象结构异常（是一个流），无法签章。请重新导出 PDF 后再签章。",
                "A page or form object of this PDF is a stream, which sealing cannot extend; "
                "export the PDF again.",
                file=self.name, obj=num,
            )
        return bytes(raw[start:end])

    def _objstm_offsets(self, stm_num: int) -> dict[int, int]:
        """Object number -> offset in the decoded data of object stream ``stm_num`` (cached)."""
        if stm_num not in self._objstm_data:
            stm = self.structure.get(stm_num)
            if not isinstance(stm, PdfStream):
                raise damaged_error(self.name, f"object stream {stm_num} is missing")
            try:
                data = stm.decoded()
            except PdfStructureError as exc:
                raise UnsupportedPdfError(
                    "该 PDF 的对象流使用了不支持的压缩方式，无法签章。请用编辑软件重新导出 PDF 后再签章。",
                    "An object stream of this PDF uses a compression BidSeal cannot read; "
                    "export the PDF again from the editing software.",
                    file=self.name, obj=stm_num, reason=exc.en[:200],
                ) from exc
            first, n = stm.dict.get("First"), stm.dict.get("N")
            if not isinstance(first, int) or not isinstance(n, int) or not 0 <= first <= len(data):
                raise damaged_error(self.name, f"object stream {stm_num} has a bad header")
            head = data[:first].split()
            offsets: dict[int, int] = {}
            try:
                for i in range(0, min(len(head), 2 * n) - 1, 2):
                    offsets.setdefault(int(head[i]), first + int(head[i + 1]))
            except ValueError as exc:
                raise damaged_error(self.name, f"object stream {stm_num} has a bad header") from exc
            self._objstm_data[stm_num] = (data, offsets)
        return self._objstm_data[stm_num][1]

    def _compressed_value(self, num: int, stm_num: int) -> bytes:
        offsets = self._objstm_offsets(stm_num)
        data = self._objstm_data[stm_num][0]
        if num not in offsets or offsets[num] >= len(data):
            raise damaged_error(self.name, f"object {num} is missing from object stream {stm_num}")
        start = _WS.match(data, offsets[num]).end()  # type: ignore[union-attr]
        return data[start:skip_value(data, start)]

    def resolve_ref(self, text: bytes) -> int | None:
        """The object number when ``text`` is exactly a reference ``N G R``."""
        m = re.fullmatch(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R", text)
        return int(m.group(1)) if m else None

    # -- writing ----------------------------------------------------------------------------
    def append(self, objects: Sequence[NewObject]) -> dict[int, int]:
        """Append ``objects`` as one incremental update; returns object number -> file offset."""
        parts: list[bytes] = []
        pos = self.length
        offsets: dict[int, int] = {}
        with open(self.path, "rb") as f:
            f.seek(max(self.length - 1, 0))
            last = f.read(1)
        if last not in (b"\n", b"\r"):
            parts.append(b"\n")
            pos += 1
        for obj in objects:
            offsets[obj.num] = pos
            if obj.data is None:
                chunk = b"%d %d obj\n%s\nendobj\n" % (obj.num, obj.gen, obj.body)
            else:
                body = obj.body
                if not body.startswith(b"<<"):
                    raise ValueError("a stream needs a dictionary")
                body = b"<</Length %d" % len(obj.data) + body[2:]
                chunk = b"%d %d obj\n%s\nstream\n%s\nendstream\nendobj\n" % (obj.num, obj.gen, body, obj.data)
            parts.append(chunk)
            pos += len(chunk)
        gens = {o.num: o.gen for o in objects}
        xref_at = pos
        if self.xref_kind == "stream":
            xnum = self.new_num()
            offsets_all = dict(offsets)
            offsets_all[xnum] = xref_at
            gens[xnum] = 0
            parts.append(self._xref_stream(xnum, offsets_all, gens, xref_at))
        else:
            parts.append(self._xref_table(offsets, gens))
        parts.append(b"startxref\n%d\n%%%%EOF\n" % xref_at)
        with open(self.path, "ab") as f:
            for p in parts:
                f.write(p)
        for obj in objects:
            if obj.data is None:
                self._overlay[obj.num] = (obj.gen, obj.body)
        self.startxref = xref_at
        self.length = os.path.getsize(self.path)
        return offsets

    def _trailer_entries(self) -> bytes:
        out = [b"/Size %d" % self.next_num]
        for key in ("Root", "Info", "ID"):
            if key in self.trailer and self.trailer[key] is not None:
                out.append(b"/" + key.encode() + b" " + pdf_literal(self.trailer[key]))
        out.append(b"/Prev %d" % self.startxref)
        return b"".join(out)

    @staticmethod
    def _subsections(nums: list[int]) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        for n in sorted(nums):
            if runs and runs[-1][0] + runs[-1][1] == n:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((n, 1))
        return runs

    def _xref_table(self, offsets: dict[int, int], gens: dict[int, int]) -> bytes:
        lines = [b"xref\n"]
        for first, count in self._subsections(list(offsets)):
            lines.append(b"%d %d\n" % (first, count))
            for n in range(first, first + count):
                lines.append(b"%010d %05d n\r\n" % (offsets[n], gens[n]))
        lines.append(b"trailer\n<<" + self._trailer_entries() + b">>\n")
        return b"".join(lines)

    def _xref_stream(self, xnum: int, offsets: dict[int, int], gens: dict[int, int], at: int) -> bytes:
        width = max(4, (max(offsets.values()).bit_length() + 7) // 8)
        runs = self._subsections(list(offsets))
        rows = []
        for first, count in runs:
            for n in range(first, first + count):
                rows.append(b"\x01" + offsets[n].to_bytes(width, "big") + gens[n].to_bytes(2, "big"))
        data = b"".join(rows)
        index = b" ".join(b"%d %d" % r for r in runs)
        body = (b"<</Type/XRef/Length %d/W[1 %d 2]/Index[%s]" % (len(data), width, index)
                + self._trailer_entries() + b">>")
        return b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (xnum, body, data)

"""Revisions and object access: :class:`PdfStructure` finds every revision (one per
``startxref N %%EOF`` that the final xref chain reaches), merges per-revision object
maps, loads objects (also from object streams) in any revision and scans the bytes
of each incremental update."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.pdfsign.pdfstructure.errors import (
    NotAPdfError,
    PdfStructureError,
    PdfTruncatedError,
    PdfUnsupportedError,
    _malformed,
)
from app.pdfsign.pdfstructure.lexer import (
    _OBJ_HEAD,
    IndirectObject,
    parse_indirect,
    parse_value,
    skip_ws,
    skip_ws_only,
)
from app.pdfsign.pdfstructure.objects import PdfDict, PdfStream, Ref
from app.pdfsign.pdfstructure.source import _FAULT_AROUND, PdfSource
from app.pdfsign.pdfstructure.xref import ObjLoc, XrefSection, parse_xref_section


@dataclass
class Revision:
    """One revision: the bytes ``[0, end)``.

    ``eof`` is the offset just after ``%%EOF``; ``end`` also includes one end-of-line
    after it when present. ``startxref`` is the xref offset its trailer names and
    ``sections`` the xref sections written in this revision (newest first).
    """

    index: int
    start: int
    startxref_pos: int
    startxref: int
    eof: int
    end: int
    sections: list[XrefSection] = field(default_factory=list)

    @property
    def trailer(self) -> PdfDict:
        return self.sections[0].trailer if self.sections else PdfDict()


_RAW_WINDOW = 1 << 16


@functools.cache
def _key_not_direct_name(key: str) -> re.Pattern[bytes]:
    """Finds a /``key`` whose value is not a direct name (or a longer key starting so)."""
    return re.compile(b"/" + re.escape(key.encode("latin-1")) + rb"(?=[\x00\t\n\x0c\r ]*[^\x00\t\n\x0c\r /])")


#: More revisions than this is not a document anyone signs: refused rather than
#: analysed revision by revision (each costs an object map and a signature search).
MAX_REVISIONS = 1000
_MAX_FALLBACKS = 64

_STARTXREF_RE = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d{1,15})[\x00\t\n\x0c\r ]*%%EOF")
_HEADER_RE = re.compile(rb"%PDF-(\d)\.(\d)")


class _ObjectStream:
    """One object stream: its header read at once, each object parsed when first asked
    for (a page with 65,000 annotations in object streams must not parse all of them to
    find its few signature widgets) and then kept."""

    def __init__(self, num: int, obj: IndirectObject) -> None:
        stream = obj.value
        d = stream.dict
        self.end = obj.end
        n, first = d.get("N"), d.get("First")
        if not (isinstance(n, int) and isinstance(first, int) and n >= 0 and first >= 0):
            raise _malformed("对象流 /N 或 /First 无效 / bad object stream /N or /First", obj.start)
        data = stream.decoded()
        if first > len(data):
            raise _malformed("对象流 /First 超出数据 / object stream /First beyond its data", obj.start)
        header = data[:first].split()
        if len(header) < 2 * n or not all(h.isdigit() and len(h) <= 12 for h in header[:2 * n]):
            raise _malformed("对象流头部无效 / bad object stream header", obj.start)
        self.num = num
        self.first = first
        self.source = PdfSource(data, "<objstm>")
        #: object number -> offset of its value relative to /First (the first entry wins)
        self.offsets: dict[int, int] = {}
        for i in range(n):
            self.offsets.setdefault(int(header[2 * i]), int(header[2 * i + 1]))
        self._sorted = sorted(set(self.offsets.values()))
        self._values: dict[int, Any] = {}

    def raw(self, num: int) -> bytes:
        """The source text of member ``num``: up to the next member's start."""
        off = self.offsets.get(num)
        if off is None:
            return b""
        i = bisect.bisect_right(self._sorted, off)
        end = self.first + self._sorted[i] if i < len(self._sorted) else self.source.size
        return self.source[self.first + off:end]

    def get(self, num: int) -> Any:
        if num in self._values:
            return self._values[num]
        off = self.offsets.get(num)
        if off is None:
            raise _malformed(f"对象流 {self.num} 中没有对象 {num} / object {num} missing from object stream {self.num}", 0, obj=num)
        val, _ = parse_value(self.source, self.first + off)
        self._values[num] = val
        return val


class PdfStructure:
    """Revisions, xref maps and object access for one file.

    ``trailing_garbage`` is the offset of the first non-whitespace byte after
    the last complete revision, or None. ``incomplete`` is True when the file
    does not end with a complete revision (truncated, or bytes appended).
    """

    def __init__(self, src: PdfSource) -> None:
        self.src = src
        self.size = src.size
        if self.size == 0:
            raise NotAPdfError("文件为空。", "The file is empty.")
        head = src[0:1024]
        hm = _HEADER_RE.search(head)
        if not hm:
            raise NotAPdfError(
                "不是 PDF 文件（缺少 %PDF- 文件头）。", "Not a PDF file (no %PDF- header)."
            )
        self.header_offset = hm.start()
        self._sections: dict[int, XrefSection] = {}
        self._maps: dict[int, dict[int, ObjLoc]] = {}
        #: offset -> object stream (its index; its objects are parsed when first asked for)
        self._objstm_cache: dict[int, _ObjectStream] = {}
        #: offset -> (number, value, end) of objects parsed without resolving anything;
        #: shared between revisions (callers treat parsed values as read-only)
        self._parsed: dict[int, tuple[int, Any, int]] = {}
        #: (num, location, key, value) -> (may_have's answer, the end of the bytes it read)
        self._may_have: dict[tuple[int, ObjLoc, str, str], tuple[bool, int]] = {}
        self.revisions: list[Revision] = []
        self._find_revisions()
        last = self.revisions[-1]
        after = skip_ws_only(src, last.end)
        self.trailing_garbage: int | None = after if after < self.size else None
        self.incomplete = self.trailing_garbage is not None

    # -- revisions ------------------------------------------------------------------
    def section(self, offset: int) -> XrefSection:
        if offset not in self._sections:
            self._sections[offset] = parse_xref_section(self.src, offset)
        return self._sections[offset]

    def _chain(self, offset: int, limit: int | None = None) -> list[int]:
        """Offsets of the xref sections reachable from ``offset`` (newest first). With
        ``limit`` (a revision's end) every section must lie wholly before it: a /Prev
        or /XRefStm pointing at bytes appended later was dangling when that revision
        was written, and may not start resolving afterwards."""
        out: list[int] = []
        seen: set[int] = set()
        todo = [offset]
        while todo:
            off = todo.pop(0)
            if off in seen:
                continue
            seen.add(off)
            if limit is not None and off >= limit:
                raise _malformed("交叉引用链指向本修订之后的数据 / xref chain points past the revision", off)
            sec = self.section(off)
            if limit is not None and sec.end > limit:
                raise _malformed("交叉引用表超出本修订 / xref section runs past the revision", off)
            out.append(off)
            xs = sec.trailer.get("XRefStm")
            if isinstance(xs, int):
                todo.insert(0, xs)
            prev = sec.trailer.get("Prev")
            if isinstance(prev, int):
                todo.append(prev)
            elif prev is not None:
                raise _malformed("trailer /Prev 无效 / bad /Prev", sec.offset)
            if len(out) > MAX_REVISIONS * 2:
                raise _malformed("交叉引用链过长 / xref chain too long", off)
        return out

    def _find_revisions(self) -> None:
        # Same matches as _STARTXREF_RE.finditer over the whole file (every match starts
        # with "startxref", none can contain another), found with a fast substring
        # search that does not keep the whole file resident.
        cands: list[tuple[int, int, int]] = []
        last_end = 0
        for at in self.src.find_all(b"startxref"):
            if at < last_end:
                continue
            m = _STARTXREF_RE.match(self.src.raw, at)
            if m:
                cands.append((m.start(), int(m.group(1)), m.end()))
                last_end = m.end()
        if not cands:
            raise PdfTruncatedError(
                "PDF 文件不完整：找不到 startxref/%%EOF（文件可能被截断）。",
                "The PDF is incomplete: no startxref/%%EOF found (the file may be truncated).",
            )
        # The last candidate whose xref chain parses defines the document (only the last
        # few are tried: a file of thousands of broken startxref lines is not a PDF).
        chain: list[int] | None = None
        last_idx = len(cands) - 1
        error: PdfStructureError | None = None
        while last_idx >= max(0, len(cands) - _MAX_FALLBACKS):
            try:
                chain = self._chain(cands[last_idx][1])
                break
            except PdfStructureError as exc:
                error = error or exc
                last_idx -= 1
        if chain is None:
            assert error is not None
            raise PdfTruncatedError(
                "PDF 文件损坏：交叉引用表无法读取（文件可能被截断或不是有效的 PDF）。",
                "The PDF is damaged: its cross-reference table cannot be read "
                "(the file may be truncated or not a valid PDF).",
                cause=error.en,
            )
        reachable = set(chain)
        revs: list[Revision] = []
        prev_end = 0
        for pos, xoff, eof in cands[: last_idx + 1]:
            if xoff not in reachable or xoff >= pos or pos < prev_end:
                continue
            end = eof
            if self.src[end:end + 2] == b"\r\n":
                end += 2
            elif self.src.byte(end) in (0x0A, 0x0D):
                end += 1
            revs.append(Revision(len(revs), prev_end, pos, xoff, eof, end))
            prev_end = end
        if not revs:
            raise _malformed("找不到有效的修订版本 / no valid revision", 0)
        if len(revs) > MAX_REVISIONS:
            raise PdfUnsupportedError(
                f"PDF 文件有 {len(revs)} 个修订版本，超过上限 {MAX_REVISIONS}，不予处理。",
                f"The PDF has {len(revs)} revisions, more than the {MAX_REVISIONS} this verifier handles.",
                revisions=len(revs),
            )
        for off in chain:
            sec = self._sections[off]
            for rev in revs:
                if off < rev.end:
                    rev.sections.append(sec)
                    break
        for rev in revs:
            rev.sections.sort(key=lambda s: s.offset, reverse=True)
        self.revisions = revs

    def revision_at_end(self, end: int) -> Revision | None:
        """The revision whose ``%%EOF`` (with or without its end-of-line) ends at ``end``."""
        for rev in self.revisions:
            if rev.eof <= end <= rev.end:
                return rev
        return None

    def revision_containing(self, offset: int) -> Revision:
        for rev in self.revisions:
            if offset < rev.end:
                return rev
        return self.revisions[-1]

    # -- object maps ----------------------------------------------------------------------
    def object_map(self, rev: Revision | int | None = None) -> dict[int, ObjLoc]:
        """objnum → location as seen by a reader of revision ``rev`` (default: last).

        Only the bytes of the revision count: an entry that points at or past the
        revision's end (into bytes appended later) is a free entry here, and the xref
        chain may not reach past the end either. A later update can therefore never
        make an object appear "as it was when signed"."""
        r = self._rev(rev)
        if r.index not in self._maps:
            merged: dict[int, ObjLoc] = {}
            for off in self._chain(r.startxref, r.end):
                for num, loc in self._sections[off].entries.items():
                    if num not in merged:
                        merged[num] = loc if loc.kind != "n" or loc.offset < r.end else ObjLoc("f", 0, loc.gen)
            self._maps[r.index] = merged
        return self._maps[r.index]

    def _rev(self, rev: Revision | int | None) -> Revision:
        if rev is None:
            return self.revisions[-1]
        if isinstance(rev, int):
            return self.revisions[rev]
        return rev

    def trailer(self, rev: Revision | int | None = None) -> PdfDict:
        """The merged trailer of revision ``rev`` (newest values win)."""
        r = self._rev(rev)
        out = PdfDict()
        for off in reversed(self._chain(r.startxref, r.end)):
            for k, v in self._sections[off].trailer.items():
                out[k] = v
        return out

    def get(self, num: int, rev: Revision | int | None = None) -> Any:
        """The value of object ``num`` in revision ``rev``; None when absent or free."""
        loc = self.object_map(rev).get(num)
        if loc is None or loc.kind == "f":
            return None
        return self._load(num, loc, rev)

    def locate(self, num: int, rev: Revision | int | None = None) -> ObjLoc | None:
        return self.object_map(rev).get(num)

    def _load(self, num: int, loc: ObjLoc, rev: Revision | int | None) -> Any:
        if loc.kind == "n":
            limit = self._rev(rev).end
            cached = self._parsed.get(loc.offset)
            if cached is not None and cached[0] == num and cached[2] <= limit:
                return cached[1]
            used_resolver = False

            def length(r: Ref) -> Any:
                nonlocal used_resolver
                used_resolver = True
                return self.resolve(r, rev)

            obj = parse_indirect(self.src, loc.offset, length, limit)
            # The kernel maps up to 64 KiB around each touched page; objects spread
            # over a 100 MB file would otherwise add most of it to RSS.
            self.src.release(loc.offset - _FAULT_AROUND, obj.end + _FAULT_AROUND)
            if obj.num != num:
                raise _malformed(f"对象编号不符（期望 {num}，实际 {obj.num}） / object number mismatch (expected {num}, found {obj.num})", loc.offset, obj=num)
            if not used_resolver:
                # The value depends only on the (immutable) bytes at this offset, so
                # every revision that maps this object here and contains all of it sees
                # the same value. A stream with an indirect /Length is not cached:
                # another revision may resolve that /Length differently.
                self._parsed[loc.offset] = (num, obj.value, obj.end)
            return obj.value
        return self._objstm(loc.offset, rev).get(num)

    def may_have(self, num: int, key: str, value: str, rev: Revision | int | None = None) -> bool:
        """False only when the source text of object ``num`` proves that its /``key`` is
        not the name /``value``: the text never spells ``value``, holds no ``#`` escape,
        and every /``key`` in it is followed by a direct name. Lets a caller skip parsing
        the 65,000 annotations of a page to find its few widgets; anything unclear
        answers True (then parse)."""
        r = self._rev(rev)
        loc = self.object_map(r).get(num)
        if loc is None or loc.kind == "f":
            return False
        limit = r.end
        ckey = (num, loc, key, value)
        cached = self._may_have.get(ckey)
        if cached is not None and cached[1] <= limit:
            return cached[0]
        try:
            if loc.kind == "c":
                stm = self._objstm(loc.offset, rev)
                raw, needed = stm.raw(num), stm.end
            else:
                stop = self.src.find(b"endobj", loc.offset, min(limit, loc.offset + _RAW_WINDOW))
                if stop < 0:
                    return True
                raw, needed = self.src[loc.offset:stop], stop + 6
        except PdfStructureError:
            return True
        if not raw or value.encode("latin-1") in raw or b"#" in raw or b"%" in raw or b"stream" in raw:
            result = True
        else:
            result = _key_not_direct_name(key).search(raw) is not None
        self._may_have[ckey] = (result, needed)
        return result

    def object_span(self, num: int, rev: Revision | int | None = None) -> IndirectObject | None:
        """The parsed indirect object with byte offsets (None for compressed/free objects)."""
        loc = self.object_map(rev).get(num)
        if loc is None or loc.kind != "n":
            return None
        obj = parse_indirect(self.src, loc.offset, lambda r: self.resolve(r, rev), self._rev(rev).end)
        if obj.num != num:
            raise _malformed(f"对象编号不符（期望 {num}，实际 {obj.num}） / object number mismatch (expected {num}, found {obj.num})", loc.offset, obj=num)
        return obj

    def _objstm(self, stm_num: int, rev: Revision | int | None) -> _ObjectStream:
        loc = self.object_map(rev).get(stm_num)
        if loc is None or loc.kind != "n":
            raise _malformed(f"对象流 {stm_num} 不存在 / object stream {stm_num} does not exist", 0)
        limit = self._rev(rev).end
        cached = self._objstm_cache.get(loc.offset)
        if cached is not None and cached.end <= limit:
            return cached
        obj = parse_indirect(self.src, loc.offset, lambda r: self.resolve(r, rev), limit)
        if not isinstance(obj.value, PdfStream) or obj.value.dict.get("Type") != "ObjStm":
            raise _malformed(f"对象 {stm_num} 不是对象流 / object {stm_num} is not an object stream", loc.offset)
        stream = _ObjectStream(stm_num, obj)
        if not isinstance(obj.value.dict.get("Length"), Ref):
            self._objstm_cache[loc.offset] = stream
        return stream

    def resolve(self, value: Any, rev: Revision | int | None = None, depth: int = 0) -> Any:
        """Follow references until a direct value (None for dangling ones)."""
        while isinstance(value, Ref):
            if depth > 32:
                raise _malformed("引用循环 / reference loop", 0)
            value = self.get(value.num, rev)
            depth += 1
        return value

    def walk_pages(self, pages: Any, rev: Revision | int | None = None) -> Iterator[tuple[int, dict[str, Any], bool]]:
        """The page tree under ``pages`` (the catalog's /Pages value) in document order:
        ``(object number, node, is_leaf)`` for every node that is an indirect dictionary,
        intermediate /Pages nodes (``is_leaf`` False) before their kids. Each object is
        visited once and the walk stops 64 levels down, so a cyclic or absurdly deep
        tree cannot loop. Lazy: a node's kids are read after the caller has handled it."""
        stack: list[tuple[Any, int]] = [(pages, 0)]
        seen: set[int] = set()
        while stack:
            ref, depth = stack.pop()
            if not isinstance(ref, Ref) or ref.num in seen or depth > 64:
                continue
            seen.add(ref.num)
            node = self.get(ref.num, rev)
            if not isinstance(node, dict):
                continue
            if node.get("Type") == "Pages" or "Kids" in node:
                yield ref.num, node, False
                kids = self.resolve(node.get("Kids"), rev)
                if isinstance(kids, list):
                    stack.extend((k, depth + 1) for k in reversed(kids))
            else:
                yield ref.num, node, True

    # -- increments ------------------------------------------------------------------------
    def scan_increment(self, rev: Revision) -> list[tuple[str, int]]:
        """Check that the bytes of an incremental update hold only objects that
        its xref sections register, the xref section(s), trailer, startxref and
        %%EOF. Returns ``(problem, offset)`` pairs; empty when clean."""
        problems: list[tuple[str, int]] = []
        registered: dict[int, int] = {}
        for sec in rev.sections:
            for num, loc in sec.entries.items():
                if loc.kind == "n":
                    registered[loc.offset] = num
        section_spans = {s.offset: s.end for s in rev.sections}
        pos = rev.start
        end = rev.end
        seen_objects: set[int] = set()
        while True:
            pos = skip_ws(self.src, pos, end)
            if pos >= end:
                break
            if pos in section_spans:
                pos = section_spans[pos]
                continue
            chunk = self.src[pos:min(end, pos + 64)]
            if chunk.startswith(b"startxref"):
                m = _STARTXREF_RE.match(self.src[pos:end])
                if not m:
                    problems.append(("bad_startxref", pos))
                    break
                pos += m.end()
                continue
            m2 = _OBJ_HEAD.match(chunk)
            if m2:
                try:
                    obj = parse_indirect(self.src, pos, lambda r: self.resolve(r, rev), end)
                except PdfStructureError:
                    problems.append(("unparsable_object", pos))
                    break
                if pos in registered and registered[pos] == obj.num:
                    seen_objects.add(pos)
                elif pos not in section_spans:
                    problems.append(("unregistered_object", pos))
                pos = obj.end
                continue
            problems.append(("unexpected_bytes", pos))
            break
        for off in registered:
            if off in section_spans:
                continue  # an xref stream lists itself
            if rev.start <= off < rev.end and off not in seen_objects:
                problems.append(("missing_object", off))
            elif off >= rev.end:
                problems.append(("object_beyond_revision", off))
        return problems

"""Low-level, byte-exact reading of a PDF for signature verification.

A verifier must not trust a PDF library's repaired, merged view of a file: the
questions it asks are about bytes (where does this signature dictionary's
``/Contents`` string start and end, which revision ends at which ``%%EOF``,
which objects did each incremental update redefine). This module answers them
with a small, strict parser of its own:

* :class:`PdfSource` — the file as a read-only buffer (``mmap`` for files, so a
  100 MB bid document is never loaded into memory) with chunked reading;
* a tokenizer and object parser (:func:`parse_value`, :func:`parse_indirect`)
  that records the exact byte span of every dictionary value;
* cross-reference sections (classic tables, xref streams with PNG predictors,
  hybrid ``/XRefStm`` files) and object streams;
* :class:`PdfStructure` — revisions (one per ``startxref N %%EOF`` that the
  final xref chain reaches), per-revision object maps, object lookup in any
  revision, and a structural scan of each incremental update.

Nothing here decides whether a signature is valid; :mod:`app.pdfsign.verify`
and :mod:`app.pdfsign.diff` do that with what this module reports. Every parse
failure is a :class:`PdfStructureError` (a :class:`~app.errors.BidSealError`).
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from app.pdfsign.errors import DetailedError

__all__ = [
    "IndirectObject",
    "NotAPdfError",
    "ObjLoc",
    "PdfArray",
    "PdfDict",
    "PdfName",
    "PdfReadError",
    "PdfSource",
    "PdfStream",
    "PdfString",
    "PdfStructure",
    "PdfStructureError",
    "PdfTruncatedError",
    "PdfUnsupportedError",
    "Ref",
    "Revision",
    "XrefSection",
    "decode_stream",
    "parse_indirect",
    "parse_value",
    "parse_xref_section",
]

WHITESPACE = b"\x00\t\n\x0c\r "
DELIMITERS = b"()<>[]{}/%"
_WS = frozenset(WHITESPACE)
_DELIM = frozenset(DELIMITERS)
_REGULAR_END = _WS | _DELIM
MAX_DEPTH = 64
CHUNK = 1 << 20
_FAULT_AROUND = 1 << 16


class PdfStructureError(DetailedError):
    """The file is not a PDF this verifier can read byte for byte."""

    code = "ERR_PDF_STRUCTURE"


class NotAPdfError(PdfStructureError):
    """Empty input, or no ``%PDF-`` header: not a PDF at all."""

    code = "ERR_NOT_PDF"


class PdfReadError(PdfStructureError):
    """The file could not be opened or read (missing, permissions, I/O error)."""

    code = "ERR_PDF_READ"


class PdfTruncatedError(PdfStructureError):
    """No complete revision could be found: the file is cut short."""

    code = "ERR_PDF_TRUNCATED"


class PdfUnsupportedError(PdfStructureError):
    """A feature this reader does not implement (e.g. an exotic stream filter)."""

    code = "ERR_PDF_UNSUPPORTED"


def _malformed(what: str, offset: int, **details: Any) -> PdfStructureError:
    """``what`` is "中文 / English"; each half goes into its own sentence."""
    zh, _, en = what.partition(" / ")
    return PdfStructureError(
        f"PDF 文件结构损坏（{zh}，位置 {offset}）。",
        f"The PDF structure is damaged ({en or zh} at offset {offset}).",
        offset=offset,
        **details,
    )


# -- the file as bytes ---------------------------------------------------------------


class PdfSource:
    """A read-only view of the whole file; ``mmap`` when the input is a real file.

    Supports ``len()``, slicing (returns ``bytes``), ``find``/``rfind`` and
    :meth:`iter_range` for streaming hashes. Call :meth:`close` (or use it as a
    context manager) to release the mapping.
    """

    def __init__(self, buf: Any, name: str = "", closer: Callable[[], None] | None = None) -> None:
        self._buf = buf
        self.name = name
        self._closer = closer
        self.size = len(buf)

    @classmethod
    def open(cls, source: str | os.PathLike[str] | BinaryIO | bytes) -> PdfSource:
        """Open a path, a binary file object or bytes. I/O errors become
        :class:`PdfStructureError` with code ``ERR_PDF_READ``."""
        if isinstance(source, bytes | bytearray | memoryview):
            return cls(bytes(source), "<bytes>")
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            try:
                fh = open(path, "rb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise PdfReadError(
                    f"无法读取文件：{path}（{exc.strerror or exc}）。",
                    f"Cannot read the file {path} ({exc.strerror or exc}).",
                    path=str(path),
                ) from exc
            try:
                size = os.fstat(fh.fileno()).st_size
                if size == 0:
                    fh.close()
                    return cls(b"", str(path))
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                try:
                    data = fh.read()
                finally:
                    fh.close()
                return cls(data, str(path))

            def close() -> None:
                mm.close()
                fh.close()

            return cls(mm, str(path), close)
        # binary file object
        name = str(getattr(source, "name", "<stream>"))
        try:
            fileno = source.fileno()
            source.seek(0)
            mm = mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
            return cls(mm, name, mm.close)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass
        try:
            source.seek(0)
            data = source.read()
        except (OSError, ValueError) as exc:
            raise PdfReadError(f"无法读取输入：{exc}", f"Cannot read the input: {exc}") from exc
        if not isinstance(data, bytes | bytearray):
            raise PdfReadError("输入不是二进制文件。", "The input is not a binary file.")
        return cls(bytes(data), name)

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> PdfSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, item: slice) -> bytes:
        return bytes(self._buf[item])

    def byte(self, pos: int) -> int:
        """The byte at ``pos`` or -1 past the end."""
        if 0 <= pos < self.size:
            return int(self._buf[pos])
        return -1

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        return int(self._buf.find(sub, start, self.size if end is None else end))

    def rfind(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        return int(self._buf.rfind(sub, start, self.size if end is None else end))

    @property
    def raw(self) -> Any:
        """The underlying buffer (bytes or mmap), for regular expressions."""
        return self._buf

    def iter_range(self, start: int, end: int, chunk: int = CHUNK) -> Iterator[bytes]:
        """Yield ``self[start:end]`` in chunks of at most ``chunk`` bytes."""
        pos = start
        while pos < end:
            nxt = min(end, pos + chunk)
            yield bytes(self._buf[pos:nxt])
            self.release(pos, nxt)
            pos = nxt

    def release(self, start: int, end: int) -> None:
        """Drop the mapped pages of ``[start, end)`` from this process's resident set
        (the data stays in the page cache and is mapped again on the next access), so
        streaming over a large file does not grow RSS by the file size. No-op for
        in-memory sources and where ``madvise`` is not available."""
        advise = getattr(self._buf, "madvise", None)
        flag = getattr(mmap, "MADV_DONTNEED", None)
        if advise is None or flag is None:
            return
        page = mmap.PAGESIZE
        a = -(-max(start, 0) // page) * page
        b = min(end, self.size) // page * page
        if b > a:
            with contextlib.suppress(OSError, ValueError):
                advise(flag, a, b - a)

    def find_all(self, sub: bytes, window: int = 8 * CHUNK) -> Iterator[int]:
        """Offsets of every occurrence of ``sub``, scanned window by window (each
        window's pages are released afterwards, see :meth:`release`)."""
        pos = 0
        while pos < self.size:
            stop = min(self.size, pos + window)
            i = self._buf.find(sub, pos, min(self.size, stop + len(sub) - 1))
            while i >= 0:
                yield i
                i = self._buf.find(sub, i + 1, min(self.size, stop + len(sub) - 1))
            self.release(pos, stop)
            pos = stop


# -- values ----------------------------------------------------------------------------


class Ref(NamedTuple):
    """An indirect reference ``num gen R``."""

    num: int
    gen: int

    def __str__(self) -> str:
        return f"{self.num} {self.gen} R"


class PdfName(str):
    """A PDF name, without the slash (``PdfName("Contents")``)."""

    __slots__ = ()


class PdfString(bytes):
    """A PDF string's bytes; ``hex`` tells whether it was written ``<…>``."""

    hex_form: bool = False

    def __new__(cls, value: bytes, hex_form: bool = False) -> PdfString:
        obj = super().__new__(cls, value)
        obj.hex_form = hex_form
        return obj

    def text(self) -> str:
        """Decode as a PDF text string (UTF-16 with BOM, UTF-8 with BOM, else PDFDoc≈latin-1)."""
        b = bytes(self)
        if b.startswith(b"\xfe\xff"):
            return b[2:].decode("utf-16-be", "replace")
        if b.startswith(b"\xff\xfe"):
            return b[2:].decode("utf-16-le", "replace")
        if b.startswith(b"\xef\xbb\xbf"):
            return b[3:].decode("utf-8", "replace")
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return b.decode("latin-1")


class PdfArray(list[Any]):
    """A PDF array."""


class PdfDict(dict[str, Any]):
    """A PDF dictionary; ``spans[key]`` is the ``(start, end)`` byte range of the
    value's source text (absolute file offsets when parsed from the file)."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: dict[str, tuple[int, int]] = {}
        self.start = 0
        self.end = 0


@dataclass
class PdfStream:
    """A stream object: its dictionary and where the raw (still encoded) data lies."""

    dict: PdfDict
    data_start: int
    data_end: int
    source: PdfSource | None = field(default=None, repr=False, compare=False)
    inline: bytes | None = field(default=None, repr=False)

    def raw(self) -> bytes:
        if self.inline is not None:
            return self.inline
        assert self.source is not None
        return self.source[self.data_start:self.data_end]

    def decoded(self) -> bytes:
        """The data with /FlateDecode (and PNG/TIFF-2 predictors) removed; other filters raise."""
        return decode_stream(self.dict, self.raw())


def _names(value: Any) -> list[str]:
    if isinstance(value, PdfName):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, PdfName)]
    return []


def decode_stream(d: PdfDict, raw: bytes) -> bytes:
    filters = _names(d.get("Filter"))
    parms_raw = d.get("DecodeParms")
    parms_list = parms_raw if isinstance(parms_raw, list) else [parms_raw] * max(1, len(filters))
    data = raw
    for i, flt in enumerate(filters):
        parms = parms_list[i] if i < len(parms_list) else None
        if flt in ("FlateDecode", "Fl"):
            try:
                data = zlib.decompressobj().decompress(data)
            except zlib.error as exc:
                raise _malformed("压缩流无法解压 / bad Flate stream", d.start) from exc
            if isinstance(parms, PdfDict):
                data = _unpredict(data, parms)
        else:
            raise PdfUnsupportedError(
                f"不支持的流过滤器 /{flt}。", f"Unsupported stream filter /{flt}.", filter=flt
            )
    return data


def _unpredict(data: bytes, parms: PdfDict) -> bytes:
    predictor = parms.get("Predictor", 1)
    if not isinstance(predictor, int) or predictor == 1:
        return data
    colors = parms.get("Colors", 1)
    bpc = parms.get("BitsPerComponent", 8)
    columns = parms.get("Columns", 1)
    if not all(isinstance(v, int) and v > 0 for v in (colors, bpc, columns)):
        raise _malformed("预测器参数无效 / bad predictor parameters", parms.start)
    bpp = max(1, colors * bpc // 8)
    rowlen = (colors * bpc * columns + 7) // 8
    if predictor == 2:
        out = bytearray(data)
        for r in range(0, len(out), rowlen):
            for i in range(r + bpp, min(r + rowlen, len(out))):
                out[i] = (out[i] + out[i - bpp]) & 0xFF
        return bytes(out)
    if predictor < 10:
        raise _malformed(f"不支持的预测器 {predictor} / unsupported predictor {predictor}", parms.start)
    out = bytearray()
    prev = bytearray(rowlen)
    pos = 0
    while pos < len(data):
        ftype = data[pos]
        row = bytearray(data[pos + 1:pos + 1 + rowlen])
        row.extend(b"\x00" * (rowlen - len(row)))
        pos += rowlen + 1
        for i in range(rowlen):
            left = row[i - bpp] if i >= bpp else 0
            up = prev[i]
            ul = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                row[i] = (row[i] + left) & 0xFF
            elif ftype == 2:
                row[i] = (row[i] + up) & 0xFF
            elif ftype == 3:
                row[i] = (row[i] + ((left + up) >> 1)) & 0xFF
            elif ftype == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                row[i] = (row[i] + pred) & 0xFF
            elif ftype != 0:
                raise _malformed(f"PNG 预测器类型 {ftype} 无效 / bad PNG predictor type {ftype}", parms.start)
        out += row
        prev = row
    return bytes(out)


# -- tokenizer and parser -----------------------------------------------------------------


class _Keyword(str):
    """A bare keyword token (``obj``, ``R``, ``stream``…), only used while parsing."""


def skip_ws(src: PdfSource, pos: int, end: int | None = None) -> int:
    """Skip whitespace and comments starting at ``pos``."""
    limit = src.size if end is None else end
    if pos >= limit:
        return pos
    m = _SKIP_WS_RE.match(src._buf, pos, limit)
    return m.end() if m else pos


def _read_regular(src: PdfSource, pos: int, end: int) -> int:
    if pos >= end:
        return pos
    m = _REGULAR_RE.match(src._buf, pos, min(end, src.size))
    return m.end() if m else pos


# The same byte classes as the loops they replace, run by the regex engine (in C):
# whitespace, and comments up to (not including) the end of the line.
_SKIP_WS_RE = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_REGULAR_RE = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")


_NUM_RE = re.compile(rb"^[+-]?(\d+\.?\d*|\.\d+)$")


#: Real PDF numbers are far shorter (ISO 32000 implementation limits: 32-bit integers);
#: a longer digit run is damage, and must not reach int() (Python caps digit strings).
_MAX_NUMBER_LEN = 40


def _parse_number(tok: bytes, pos: int) -> int | float:
    if len(tok) > _MAX_NUMBER_LEN:
        raise _malformed("数字过长 / number too long", pos)
    if not _NUM_RE.match(tok):
        raise _malformed(f"无法识别的记号 {tok[:20]!r} / unrecognised token {tok[:20]!r}", pos)
    if b"." in tok:
        return float(tok)
    return int(tok)


def _parse_name(src: PdfSource, pos: int, end: int) -> tuple[PdfName, int]:
    stop = _read_regular(src, pos + 1, end)
    raw = src[pos + 1:stop]
    if b"#" in raw:
        out = bytearray()
        i = 0
        while i < len(raw):
            if raw[i] == 0x23 and i + 2 < len(raw) + 1 and re.match(rb"[0-9A-Fa-f]{2}", raw[i + 1:i + 3]):
                out.append(int(raw[i + 1:i + 3], 16))
                i += 3
            else:
                out.append(raw[i])
                i += 1
        raw = bytes(out)
    return PdfName(raw.decode("latin-1")), stop


def _parse_literal_string(src: PdfSource, pos: int, end: int) -> tuple[PdfString, int]:
    out = bytearray()
    depth = 1
    i = pos + 1
    escapes = {0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0C,
               0x28: 0x28, 0x29: 0x29, 0x5C: 0x5C}
    while i < end:
        c = src.byte(i)
        if c == 0x5C:  # backslash
            i += 1
            c2 = src.byte(i)
            if c2 in escapes:
                out.append(escapes[c2])
                i += 1
            elif 0x30 <= c2 <= 0x37:
                j = i
                while j < i + 3 and 0x30 <= src.byte(j) <= 0x37:
                    j += 1
                out.append(int(src[i:j], 8) & 0xFF)
                i = j
            elif c2 == 0x0D:
                i += 2 if src.byte(i + 1) == 0x0A else 1
            elif c2 == 0x0A:
                i += 1
            elif c2 < 0:
                break
            else:
                out.append(c2)
                i += 1
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return PdfString(bytes(out)), i + 1
        out.append(c)
        i += 1
    raise _malformed("字符串未结束 / unterminated string", pos)


def _parse_hex_string(src: PdfSource, pos: int, end: int) -> tuple[PdfString, int]:
    close = src.find(b">", pos + 1, end)
    if close < 0:
        raise _malformed("十六进制字符串未结束 / unterminated hex string", pos)
    body = re.sub(rb"[\x00\t\n\x0c\r ]", b"", src[pos + 1:close])
    if not re.fullmatch(rb"[0-9A-Fa-f]*", body):
        raise _malformed("十六进制字符串含非法字符 / bad hex string", pos)
    if len(body) % 2:
        body += b"0"
    return PdfString(bytes.fromhex(body.decode("ascii")), hex_form=True), close + 1


#: One token, leading whitespace and comments skipped: group 1 a name's slash,
#: 2 ``<<``/``>>``/brackets/braces, 3 a run of regular characters (number or
#: keyword), 4 any other single byte (string openers and stray delimiters).
_TOKEN_RE = re.compile(
    rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*"
    rb"(?:(/)|(<<|>>|[\[\]{}])|([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)|(.))",
    re.S,
)


def _next_token(src: PdfSource, pos: int, end: int) -> tuple[Any, int, int]:
    """(token, start, end). Tokens: values for scalars/strings/names, or a
    :class:`_Keyword` for delimiters (``<<``, ``>>``, ``[``, ``]``) and bare words."""
    m = _TOKEN_RE.match(src._buf, pos, min(end, src.size)) if pos < end else None
    if m is None:
        raise _malformed("意外的文件结尾 / unexpected end of data", skip_ws(src, pos, end))
    g = m.lastindex
    start = m.start(g)  # type: ignore[arg-type]
    if g == 1:
        name, stop = _parse_name(src, start, end)
        return name, start, stop
    if g == 2:
        return _Keyword(m.group(2).decode("latin-1")), start, m.end()
    if g == 3:
        tok = m.group(3)
        if tok[:1].isdigit() or tok[:1] in (b"+", b"-", b"."):
            return _parse_number(tok, start), start, m.end()
        return _Keyword(tok.decode("latin-1")), start, m.end()
    c = m.group(4)[0]
    if c == 0x28:
        s, stop = _parse_literal_string(src, start, end)
        return s, start, stop
    if c == 0x3C:  # "<<" is group 2, so this opens a hex string
        s, stop = _parse_hex_string(src, start, end)
        return s, start, stop
    if c == 0x3E:
        raise _malformed("孤立的 '>' / stray '>'", start)
    raise _malformed("孤立的 ')' / stray ')'", start)


def parse_value(src: PdfSource, pos: int, end: int | None = None, depth: int = 0) -> tuple[Any, int]:
    """Parse one direct value at ``pos``; returns ``(value, end_offset)``.

    ``N G R`` becomes :class:`Ref`. Dictionaries record each value's span.
    """
    limit = src.size if end is None else end
    if depth > MAX_DEPTH:
        raise _malformed("嵌套过深 / nesting too deep", pos)
    tok, start, stop = _next_token(src, pos, limit)
    if isinstance(tok, _Keyword):
        if tok == "<<":
            d = PdfDict()
            d.start = start
            p = stop
            while True:
                key, kstart, kstop = _next_token(src, p, limit)
                if isinstance(key, _Keyword) and key == ">>":
                    d.end = kstop
                    return d, kstop
                if not isinstance(key, PdfName):
                    raise _malformed("字典键不是名称 / dictionary key is not a name", kstart)
                vstart = skip_ws(src, kstop, limit)
                val, p = parse_value(src, vstart, limit, depth + 1)
                if isinstance(val, _Keyword) and val == ">>":  # malformed: key without value
                    raise _malformed("字典键缺少值 / key without value", vstart)
                d[key] = val
                d.spans[key] = (vstart, p)
        if tok == "[":
            arr = PdfArray()
            p = stop
            while True:
                q = skip_ws(src, p, limit)
                if src.byte(q) == 0x5D:
                    return arr, q + 1
                val, p = parse_value(src, q, limit, depth + 1)
                arr.append(val)
        if tok == "true":
            return True, stop
        if tok == "false":
            return False, stop
        if tok == "null":
            return None, stop
        raise _malformed(f"意外的记号 {tok[:20]!r} / unexpected token {tok[:20]!r}", start)
    if isinstance(tok, int) and tok >= 0:
        # Look ahead for "gen R".
        try:
            tok2, _s2, stop2 = _next_token(src, stop, limit)
            if isinstance(tok2, int) and tok2 >= 0:
                tok3, _s3, stop3 = _next_token(src, stop2, limit)
                if isinstance(tok3, _Keyword) and tok3 == "R":
                    return Ref(tok, tok2), stop3
        except PdfStructureError:
            pass
    return tok, stop


@dataclass
class IndirectObject:
    """``num gen obj … endobj`` as found at ``start``; ``value`` may be a :class:`PdfStream`."""

    num: int
    gen: int
    value: Any
    start: int
    end: int


_OBJ_HEAD = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj(?=[\x00\t\n\x0c\r ()<>\[\]{}/%])")


def parse_indirect(
    src: PdfSource,
    offset: int,
    length_resolver: Callable[[Ref], Any] | None = None,
    end: int | None = None,
) -> IndirectObject:
    """Parse the indirect object whose header starts at ``offset`` (leading
    whitespace tolerated). Stream data is located with /Length (resolved with
    ``length_resolver`` when indirect) and checked to be followed by ``endstream``."""
    limit = src.size if end is None else end
    pos = skip_ws(src, offset, limit)
    m = _OBJ_HEAD.match(src[pos:min(limit, pos + 64)])
    if not m:
        raise _malformed("此处没有对象 / no object header", offset)
    num, gen = int(m.group(1)), int(m.group(2))
    vpos = pos + m.end()
    value, p = parse_value(src, vpos, limit)
    q = skip_ws(src, p, limit)
    if isinstance(value, PdfDict) and src[q:q + 6] == b"stream":
        ds = q + 6
        if src[ds:ds + 2] == b"\r\n":
            ds += 2
        elif src.byte(ds) in (0x0A, 0x0D):
            ds += 1
        else:
            raise _malformed("stream 关键字后缺少换行 / no line break after stream", ds)
        length = value.get("Length")
        if isinstance(length, Ref) and length_resolver is not None:
            length = length_resolver(length)
        de = -1
        if isinstance(length, int) and length >= 0 and ds + length <= limit:
            after = skip_ws(src, ds + length, limit)
            if src[after:after + 9] == b"endstream":
                de = ds + length
                q = after + 9
        if de < 0:
            # /Length wrong or unresolvable: fall back to the next "endstream".
            k = src.find(b"endstream", ds, limit)
            if k < 0:
                raise _malformed("流缺少 endstream / stream without endstream", ds)
            de = k
            while de > ds and src.byte(de - 1) in (0x0A, 0x0D):
                de -= 1
            q = k + 9
        value = PdfStream(value, ds, de, src)
        q = skip_ws(src, q, limit)
    if src[q:q + 6] != b"endobj":
        raise _malformed("对象缺少 endobj / object without endobj", q, obj=num)
    return IndirectObject(num, gen, value, pos, q + 6)


# -- cross-reference sections -----------------------------------------------------------------


class ObjLoc(NamedTuple):
    """Where object ``num`` lives in one xref section.

    ``kind``: ``"n"`` (in use at byte ``offset``), ``"c"`` (compressed in object
    stream ``offset`` at index ``gen``) or ``"f"`` (free).
    """

    kind: str
    offset: int
    gen: int


@dataclass
class XrefSection:
    offset: int
    kind: str  # "table" or "stream"
    entries: dict[int, ObjLoc]
    trailer: PdfDict
    end: int
    stream_num: int | None = None


_XREF_ENTRY = re.compile(rb"(\d{1,10})[ \t]+(\d{1,5})[ \t]+([nf])")


def parse_xref_section(src: PdfSource, offset: int) -> XrefSection:
    """Parse a classic ``xref`` table + trailer or an xref stream at ``offset``."""
    if offset < 0 or offset >= src.size:
        raise _malformed("交叉引用表位置越界 / xref offset out of range", offset)
    pos = skip_ws(src, offset)
    if src[pos:pos + 4] == b"xref":
        return _parse_xref_table(src, pos)
    obj = parse_indirect(src, pos)
    if not isinstance(obj.value, PdfStream) or obj.value.dict.get("Type") != "XRef":
        raise _malformed("此处不是交叉引用表 / not an xref section", offset)
    return _parse_xref_stream(src, obj)


def _parse_xref_table(src: PdfSource, pos: int) -> XrefSection:
    start = pos
    p = pos + 4
    entries: dict[int, ObjLoc] = {}
    while True:
        p = skip_ws(src, p)
        if src[p:p + 7] == b"trailer":
            break
        line_end = p
        while line_end < src.size and src.byte(line_end) not in (0x0A, 0x0D):
            line_end += 1
        head = src[p:line_end].split()
        if len(head) != 2 or not all(h.isdigit() for h in head):
            raise _malformed("交叉引用表子段头无效 / bad xref subsection header", p)
        first, count = int(head[0]), int(head[1])
        p = line_end
        if count > src.size // 18 + 1:
            raise _malformed("交叉引用表条目数不可能 / impossible xref entry count", p)
        for i in range(count):
            p = skip_ws(src, p)
            m = _XREF_ENTRY.match(src[p:p + 24])
            if not m:
                raise _malformed("交叉引用表条目无效 / bad xref entry", p)
            num = first + i
            off, gen, typ = int(m.group(1)), int(m.group(2)), m.group(3)
            if num not in entries:
                entries[num] = ObjLoc("n" if typ == b"n" else "f", off, gen)
            p += m.end()
    trailer, end = parse_value(src, p + 7)
    if not isinstance(trailer, PdfDict):
        raise _malformed("trailer 不是字典 / trailer is not a dictionary", p)
    _drop_free_zero(entries)
    return XrefSection(start, "table", entries, trailer, end)


def _drop_free_zero(entries: dict[int, ObjLoc]) -> None:
    """Object 0 is the head of the free list; it carries no object."""
    if 0 in entries and entries[0].kind == "f":
        del entries[0]


def _parse_xref_stream(src: PdfSource, obj: IndirectObject) -> XrefSection:
    stream = obj.value
    d = stream.dict
    w = d.get("W")
    size = d.get("Size")
    if not (isinstance(w, list) and len(w) == 3 and all(isinstance(x, int) and x >= 0 for x in w)):
        raise _malformed("xref 流 /W 无效 / bad /W", obj.start)
    if not isinstance(size, int) or size < 0:
        raise _malformed("xref 流 /Size 无效 / bad /Size", obj.start)
    index = d.get("Index", PdfArray([0, size]))
    if not (isinstance(index, list) and len(index) % 2 == 0 and all(isinstance(x, int) for x in index)):
        raise _malformed("xref 流 /Index 无效 / bad /Index", obj.start)
    data = stream.decoded()
    width = sum(w)
    if width == 0:
        raise _malformed("xref 流 /W 全为零 / xref stream /W is all zero", obj.start)
    entries: dict[int, ObjLoc] = {}
    p = 0
    for k in range(0, len(index), 2):
        first, count = index[k], index[k + 1]
        for i in range(count):
            if p + width > len(data):
                raise _malformed("xref 流数据不足 / xref stream too short", obj.start)
            fields = []
            q = p
            for wi in w:
                fields.append(int.from_bytes(data[q:q + wi], "big") if wi else None)
                q += wi
            p += width
            typ = 1 if fields[0] is None else fields[0]
            num = first + i
            f2 = fields[1] or 0
            f3 = fields[2] or 0
            if num in entries:
                continue
            if typ == 0:
                entries[num] = ObjLoc("f", f2, f3)
            elif typ == 1:
                entries[num] = ObjLoc("n", f2, f3)
            elif typ == 2:
                entries[num] = ObjLoc("c", f2, f3)
    _drop_free_zero(entries)
    return XrefSection(obj.start, "stream", entries, d, obj.end, stream_num=obj.num)


# -- revisions ---------------------------------------------------------------------------


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


_STARTXREF_RE = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d{1,15})[\x00\t\n\x0c\r ]*%%EOF")
_HEADER_RE = re.compile(rb"%PDF-(\d)\.(\d)")


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
        self._objstm_cache: dict[int, dict[int, tuple[Any, int]]] = {}
        #: offset -> (number, value) of objects parsed without resolving anything;
        #: shared between revisions (callers treat parsed values as read-only)
        self._parsed: dict[int, tuple[int, Any]] = {}
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

    def _chain(self, offset: int) -> list[int]:
        """Offsets of the xref sections reachable from ``offset`` (newest first)."""
        out: list[int] = []
        seen: set[int] = set()
        todo = [offset]
        while todo:
            off = todo.pop(0)
            if off in seen:
                continue
            seen.add(off)
            sec = self.section(off)
            out.append(off)
            xs = sec.trailer.get("XRefStm")
            if isinstance(xs, int):
                todo.insert(0, xs)
            prev = sec.trailer.get("Prev")
            if isinstance(prev, int):
                todo.append(prev)
            elif prev is not None:
                raise _malformed("trailer /Prev 无效 / bad /Prev", sec.offset)
            if len(out) > 10000:
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
        # The last candidate whose xref chain parses defines the document.
        chain: list[int] | None = None
        last_idx = len(cands) - 1
        error: PdfStructureError | None = None
        while last_idx >= 0:
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
        """objnum → location as seen by a reader of revision ``rev`` (default: last)."""
        r = self._rev(rev)
        if r.index not in self._maps:
            merged: dict[int, ObjLoc] = {}
            for off in self._chain(r.startxref):
                for num, loc in self._sections[off].entries.items():
                    merged.setdefault(num, loc)
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
        for off in reversed(self._chain(r.startxref)):
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
            cached = self._parsed.get(loc.offset)
            if cached is not None and cached[0] == num:
                return cached[1]
            used_resolver = False

            def length(r: Ref) -> Any:
                nonlocal used_resolver
                used_resolver = True
                return self.resolve(r, rev)

            obj = parse_indirect(self.src, loc.offset, length)
            # The kernel maps up to 64 KiB around each touched page; objects spread
            # over a 100 MB file would otherwise add most of it to RSS.
            self.src.release(loc.offset - _FAULT_AROUND, obj.end + _FAULT_AROUND)
            if obj.num != num:
                raise _malformed(f"对象编号不符（期望 {num}，实际 {obj.num}） / object number mismatch (expected {num}, found {obj.num})", loc.offset, obj=num)
            if not used_resolver:
                # The value depends only on the (immutable) bytes at this offset, so
                # every revision mapping this object here sees the same value. A stream
                # with an indirect /Length is not cached: another revision may resolve
                # that /Length differently.
                self._parsed[loc.offset] = (num, obj.value)
            return obj.value
        stm_num = loc.offset
        table = self._objstm(stm_num, rev)
        if num not in table:
            raise _malformed(f"对象流 {stm_num} 中没有对象 {num} / object {num} missing from object stream {stm_num}", 0, obj=num)
        return table[num][0]

    def object_span(self, num: int, rev: Revision | int | None = None) -> IndirectObject | None:
        """The parsed indirect object with byte offsets (None for compressed/free objects)."""
        loc = self.object_map(rev).get(num)
        if loc is None or loc.kind != "n":
            return None
        obj = parse_indirect(self.src, loc.offset, lambda r: self.resolve(r, rev))
        if obj.num != num:
            raise _malformed(f"对象编号不符（期望 {num}，实际 {obj.num}） / object number mismatch (expected {num}, found {obj.num})", loc.offset, obj=num)
        return obj

    def _objstm(self, stm_num: int, rev: Revision | int | None) -> dict[int, tuple[Any, int]]:
        loc = self.object_map(rev).get(stm_num)
        if loc is None or loc.kind != "n":
            raise _malformed(f"对象流 {stm_num} 不存在 / object stream {stm_num} does not exist", 0)
        key = loc.offset
        if key in self._objstm_cache:
            return self._objstm_cache[key]
        obj = parse_indirect(self.src, loc.offset, lambda r: self.resolve(r, rev))
        if not isinstance(obj.value, PdfStream) or obj.value.dict.get("Type") != "ObjStm":
            raise _malformed(f"对象 {stm_num} 不是对象流 / object {stm_num} is not an object stream", loc.offset)
        d = obj.value.dict
        n, first = d.get("N"), d.get("First")
        if not isinstance(n, int) or not isinstance(first, int) or n < 0 or first < 0:
            raise _malformed("对象流 /N 或 /First 无效 / bad object stream /N or /First", loc.offset)
        data = obj.value.decoded()
        inner = PdfSource(data, "<objstm>")
        header = data[:first].split()
        if len(header) < 2 * n:
            raise _malformed("对象流头部太短 / object stream header too short", loc.offset)
        table: dict[int, tuple[Any, int]] = {}
        for i in range(n):
            onum, ooff = int(header[2 * i]), int(header[2 * i + 1])
            val, _ = parse_value(inner, first + ooff)
            table.setdefault(onum, (val, i))
        self._objstm_cache[key] = table
        return table

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


def skip_ws_only(src: PdfSource, pos: int) -> int:
    """Skip whitespace (not comments) from ``pos``."""
    if pos >= src.size:
        return pos
    m = _WS_ONLY_RE.match(src.raw, pos, src.size)
    return m.end() if m else pos


_WS_ONLY_RE = re.compile(rb"[\x00\t\n\x0c\r ]*")

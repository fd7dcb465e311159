"""Tokenizer and object parser: :func:`parse_value` for direct values (recording the
byte span of every dictionary value) and :func:`parse_indirect` for ``N G obj … endobj``
with stream data located by /Length."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.pdfsign.pdfstructure.errors import PdfStructureError, _malformed
from app.pdfsign.pdfstructure.objects import PdfArray, PdfDict, PdfName, PdfStream, PdfString, Ref
from app.pdfsign.pdfstructure.source import PdfSource

WHITESPACE = b"\x00\t\n\x0c\r "
DELIMITERS = b"()<>[]{}/%"
_WS = frozenset(WHITESPACE)
_DELIM = frozenset(DELIMITERS)
_REGULAR_END = _WS | _DELIM
MAX_DEPTH = 64


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


#: one or more ``num gen R`` separated by whitespace, each followed by a delimiter or
#: whitespace (a comment in between ends the run; the tokenizer takes over there)
_REF_RUN = re.compile(rb"(?:\d{1,10}[\x00\t\n\x0c\r ]+\d{1,5}[\x00\t\n\x0c\r ]+R(?=[\x00\t\n\x0c\r ()<>\[\]{}/%])"
                      rb"[\x00\t\n\x0c\r ]*)+")
_new_ref = tuple.__new__  # Ref(a, b) without the NamedTuple constructor's Python frame
_REF_PAIR = re.compile(rb"(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+R")


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
            buf, end = src._buf, min(limit, src.size)
            while True:
                q = skip_ws(src, p, limit)
                if src.byte(q) == 0x5D:
                    return arr, q + 1
                # Fast path for the long arrays of references (/Annots, /Kids, /Fields):
                # a run of "num gen R" is matched and split by regular expressions, not
                # token by token (65,000 annotations on one page).
                m = _REF_RUN.match(buf, q, end)
                if m is not None:
                    arr.extend([_new_ref(Ref, (int(a), int(b))) for a, b in _REF_PAIR.findall(buf, q, m.end())])
                    p = m.end()
                    continue
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


def skip_ws_only(src: PdfSource, pos: int) -> int:
    """Skip whitespace (not comments) from ``pos``."""
    if pos >= src.size:
        return pos
    m = _WS_ONLY_RE.match(src.raw, pos, src.size)
    return m.end() if m else pos


_WS_ONLY_RE = re.compile(rb"[\x00\t\n\x0c\r ]*")

"""Stream filters: /FlateDecode with PNG and TIFF-2 predictors; anything else is
:class:`PdfUnsupportedError`.

Decoding is bounded, because a few kilobytes of Flate can expand to gigabytes (a
decompression bomb) and the verifier reads files an attacker wrote. One stream may
expand to :data:`DECODE_FLOOR` bytes whatever its size, beyond that to at most
:data:`MAX_RATIO` times its encoded size, and never beyond :data:`MAX_DECODED`; one
file's streams together to :data:`MAX_DECODED_PER_FILE` (see
:meth:`~app.pdfsign.pdfstructure.source.PdfSource.charge_decoded`). The verifier only
decodes cross-reference and object streams, which compress 5-50 fold; past a limit
the answer is a quick :class:`PdfUnsupportedError`, never memory exhaustion.
"""

from __future__ import annotations

import zlib
from typing import Any

from app.pdfsign.pdfstructure.errors import PdfUnsupportedError, _malformed
from app.pdfsign.pdfstructure.objects import PdfDict, PdfName


def _names(value: Any) -> list[str]:
    if isinstance(value, PdfName):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, PdfName)]
    return []


#: Decoded bytes one stream may always produce.
DECODE_FLOOR = 8 << 20
#: Largest expansion (decoded / encoded size) accepted beyond the floor. Zlib's own
#: ceiling is about 1030:1 (all zeros); real xref and object streams stay below 50:1.
MAX_RATIO = 100
#: Hard cap for one decoded stream.
MAX_DECODED = 64 << 20
#: Hard cap for all streams decoded from one file.
MAX_DECODED_PER_FILE = 256 << 20


def decode_limit(encoded_size: int) -> int:
    """How many decoded bytes a stream of ``encoded_size`` bytes may produce."""
    return min(MAX_DECODED, max(DECODE_FLOOR, MAX_RATIO * encoded_size))


def _too_large(d: PdfDict, limit: int) -> PdfUnsupportedError:
    return PdfUnsupportedError(
        f"压缩流解压后超过 {limit} 字节（可能是“解压炸弹”），不予处理。",
        f"A compressed stream expands beyond {limit} bytes (a decompression bomb?); it is not processed.",
        offset=d.start, limit=limit,
    )


def decode_stream(d: PdfDict, raw: bytes, *, limit: int | None = None) -> bytes:
    """The decoded data of a stream with dictionary ``d`` and encoded bytes ``raw``,
    at most ``limit`` bytes (default :func:`decode_limit`)."""
    cap = decode_limit(len(raw)) if limit is None else limit
    filters = _names(d.get("Filter"))
    parms_raw = d.get("DecodeParms")
    parms_list = parms_raw if isinstance(parms_raw, list) else [parms_raw] * max(1, len(filters))
    data = raw
    for i, flt in enumerate(filters):
        parms = parms_list[i] if i < len(parms_list) else None
        if flt in ("FlateDecode", "Fl"):
            try:
                data = zlib.decompressobj().decompress(data, cap + 1)
            except zlib.error as exc:
                raise _malformed("压缩流无法解压 / bad Flate stream", d.start) from exc
            if len(data) > cap:
                raise _too_large(d, cap)
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
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (colors, bpc, columns)):
        raise _malformed("预测器参数无效 / bad predictor parameters", parms.start)
    if bpc not in (1, 2, 4, 8, 16) or colors > 64:
        raise _malformed("预测器参数无效 / bad predictor parameters", parms.start)
    bpp = max(1, colors * bpc // 8)
    rowlen = (colors * bpc * columns + 7) // 8
    if rowlen > max(len(data), 1):
        # A row longer than all the data would only pad zeros (and allocate them).
        raise _malformed("预测器行长度无效 / predictor row longer than the data", parms.start)
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
    low = int.from_bytes(b"\x7f" * rowlen, "big")
    high = int.from_bytes(b"\x80" * rowlen, "big")
    pos = 0
    while pos < len(data):
        ftype = data[pos]
        row = bytearray(data[pos + 1:pos + 1 + rowlen])
        row.extend(b"\x00" * (rowlen - len(row)))
        pos += rowlen + 1
        if ftype == 0:
            out += row
            prev = row
            continue
        if ftype == 2:
            # "Up", the predictor of nearly every xref stream: add the rows byte by byte
            # (mod 256) as two big integers, without carries across bytes.
            x, y = int.from_bytes(row, "big"), int.from_bytes(prev, "big")
            row = bytearray((((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(rowlen, "big"))
            out += row
            prev = row
            continue
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

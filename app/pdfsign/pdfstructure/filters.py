"""Stream filters: /FlateDecode with PNG and TIFF-2 predictors; anything else is
:class:`PdfUnsupportedError`."""

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

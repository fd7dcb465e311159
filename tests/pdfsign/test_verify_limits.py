"""Resource exhaustion: decompression bombs, deep nesting, absurd parameters and
endless revisions give a quick "damaged/unsupported" verdict, never a traceback or
memory exhaustion (issue 8, item 5)."""

from __future__ import annotations

import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli.main import main as cli_main
from app.pdfsign.pdfstructure import PdfSource, PdfStructure, PdfStructureError, PdfUnsupportedError
from app.pdfsign.pdfstructure.filters import MAX_DECODED, decode_stream
from app.pdfsign.pdfstructure.objects import PdfDict, PdfName
from app.pdfsign.verify import verify_pdf
from tests.pdfsign import verify_fixtures as vf

#: generous bounds for a loaded CI machine; the point is "seconds and megabytes, not
#: minutes and gigabytes"
SECONDS = 20
PEAK_BYTES = 3 * MAX_DECODED


def _bomb(size: int = 1 << 30) -> bytes:
    """``size`` zero bytes, Flate-compressed (about 1,000 to 1)."""
    c = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    return b"".join(c.compress(chunk) for _ in range(size >> 20)) + c.flush()


BOMB = _bomb()


def _bounded(fn: Callable[[], object]) -> object:
    tracemalloc.start()
    start = time.monotonic()
    try:
        return fn()
    finally:
        elapsed = time.monotonic() - start
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < SECONDS, f"took {elapsed:.1f} s"
        assert peak < PEAK_BYTES, f"peak {peak >> 20} MiB"


def test_decode_stream_refuses_a_bomb() -> None:
    d = PdfDict()
    d["Filter"] = PdfName("FlateDecode")
    with pytest.raises(PdfUnsupportedError) as ei:
        _bounded(lambda: decode_stream(d, BOMB))
    assert "decompression bomb" in ei.value.en


def test_a_bomb_in_a_later_object_stream_gives_an_invalid_verdict(tmp_path: Path) -> None:
    signed = vf.signed_pdf()
    n = vf.next_free_number(signed)
    body = b"<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length %d>>\nstream\n%s\nendstream" % (len(BOMB), BOMB)
    page = vf.page_object_numbers(signed)[0]
    attacked = vf.append_update(signed, {n: body}, entries={})
    # the page now lives "in" the bomb
    attacked = attacked[:attacked.rindex(b"xref\n")] + _xref_with_compressed(attacked, n, page)
    report = _bounded(lambda: verify_pdf(attacked, trust_roots=[vf.pki().root_cert]))
    assert report.status == "invalid"  # type: ignore[attr-defined]
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(attacked)
    assert cli_main(["verify", str(pdf), "--no-default-trust"]) == 1


def _xref_with_compressed(data: bytes, stm: int, num: int) -> bytes:
    """Rewrite the last classic xref section as an xref stream that also puts object
    ``num`` into object stream ``stm`` (index 0)."""
    s = PdfStructure(PdfSource(data))
    tail_start = data.rindex(b"xref\n")
    stm_off = s.locate(stm).offset
    prev = s.revisions[-2].startxref
    xnum = stm + 1
    rows = b"".join(bytes([1]) + off.to_bytes(4, "big") + b"\0" for off in (stm_off,)) + \
        bytes([2]) + stm.to_bytes(4, "big") + b"\0"
    xref = (b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 1]/Index[%d 1 %d 1]/Root %s/Prev %d/Length %d>>\nstream\n"
            % (xnum, xnum + 1, stm, num, str(s.trailer()["Root"]).encode(), prev, len(rows))
            + rows + b"\nendstream\nendobj\n")
    return xref + b"startxref\n%d\n%%%%EOF\n" % tail_start


def test_a_bomb_in_the_xref_stream_is_unsupported() -> None:
    data = (b"%PDF-1.7\n1 0 obj\n<</Type/XRef/Size 2/W[1 4 1]/Filter/FlateDecode/Length " +
            str(len(BOMB)).encode() + b">>\nstream\n" + BOMB + b"\nendstream\nendobj\nstartxref\n9\n%%EOF\n")
    with pytest.raises(PdfStructureError):
        _bounded(lambda: verify_pdf(data))


@pytest.mark.parametrize("depth", [65, 10_000, 200_000])
def test_deep_nesting(depth: int) -> None:
    base = vf.make_pdf(pages=1)
    page = vf.page_object_numbers(base)[0]
    nested = b"[" * depth + b"]" * depth
    data = vf.append_update(base, {page: vf.object_body(base, page)[:-2] + b"/Deep " + nested + b">>"})
    try:
        report = _bounded(lambda: verify_pdf(data))
    except PdfStructureError as exc:
        assert "nesting" in exc.en or "damaged" in exc.en
    else:
        assert report.status == "invalid"  # type: ignore[attr-defined]


def test_absurd_predictor_columns_allocate_nothing() -> None:
    d = PdfDict()
    d["Filter"] = PdfName("FlateDecode")
    parms = PdfDict()
    parms["Predictor"], parms["Columns"] = 12, 10**12
    d["DecodeParms"] = parms
    with pytest.raises(PdfStructureError):
        _bounded(lambda: decode_stream(d, zlib.compress(b"\x02" + b"\0" * 100)))


def test_too_many_revisions_are_refused_quickly() -> None:
    data = vf.make_pdf(pages=1)
    page = vf.page_object_numbers(data)[0]
    body = vf.object_body(data, page)
    parts = [data]
    s = PdfStructure(PdfSource(data))
    prev, size, pos = s.revisions[-1].startxref, int(s.trailer()["Size"]), len(data)
    root = str(s.trailer()["Root"]).encode()
    for _ in range(1100):  # built directly: parsing after every update would be quadratic
        obj = b"%d 0 obj\n%s\nendobj\n" % (page, body)
        xref_pos = pos + len(obj)
        tail = (b"xref\n%d 1\n%010d 00000 n \ntrailer\n<</Size %d/Root %s/Prev %d>>\nstartxref\n%d\n%%%%EOF\n"
                % (page, pos, size, root, prev, xref_pos))
        parts.append(obj + tail)
        prev, pos = xref_pos, pos + len(obj) + len(tail)
    many = b"".join(parts)
    with pytest.raises(PdfUnsupportedError) as ei:
        _bounded(lambda: PdfStructure(PdfSource(many)))
    assert "revisions" in ei.value.en

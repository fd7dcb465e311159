"""Finding, filling and hashing the /ByteRange and /Contents placeholders.

After the incremental save, the /Sig dictionary of the new revision is located in
the bytes *after* the previous end of file (nothing before it may change), its
``/ByteRange[...]`` and ``/Contents<...>`` must each occur exactly once inside
that object, and the gap must be exactly ``2 * contents_size + 2`` bytes (the hex
digits and the angle brackets): the same rules pyHanko and our verifier enforce.

Hashing streams the two ranges in fixed-size chunks (``readinto`` a reused
buffer), so a 100 MB bid costs 1 MiB of memory, not 100 MB.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.cancel import is_cancelled
from app.gm.sm3 import SM3
from app.pdfsign.errors import PlaceholderError, SealCancelledError, SignatureTooLargeError

__all__ = [
    "CHUNK_SIZE",
    "Placeholders",
    "RunningHash",
    "CopyHashJob",
    "FsyncJob",
    "PrefixCompareJob",
    "copy_and_hash",
    "files_have_same_prefix",
    "hash_ranges",
    "locate_placeholders",
    "patch_byterange",
    "patch_contents",
    "read_contents",
    "update_from_file",
]

CHUNK_SIZE = 1 << 20

Tick = Callable[[int], None]


@dataclass(frozen=True)
class Placeholders:
    """File offsets of one signature's placeholders.

    ``contents_start`` is the offset of ``<`` and ``contents_end`` the offset just
    after ``>``; ``byterange_start``/``byterange_end`` delimit the text between
    ``[`` and ``]`` of /ByteRange.
    """

    contents_start: int
    contents_end: int
    byterange_start: int
    byterange_end: int
    file_size: int

    @property
    def byte_range(self) -> tuple[int, int, int, int]:
        return 0, self.contents_start, self.contents_end, self.file_size - self.contents_end

    @property
    def contents_size(self) -> int:
        """Reserved bytes for the DER signature (the hex digits are twice as many)."""
        return (self.contents_end - self.contents_start - 2) // 2


def _fail(en: str, **details: object) -> PlaceholderError:
    return PlaceholderError(
        "签名占位区定位失败，未生成签章文件。", f"The signature placeholders could not be located: {en}.",
        **details,
    )


def locate_placeholders(path: str | os.PathLike[str], prev_len: int, sig_xref: int,
                        contents_size: int) -> Placeholders:
    """Locate the placeholders of object ``sig_xref`` written after ``prev_len``."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(prev_len)
        tail = f.read()
    heads = [m for m in re.finditer(rb"(?<![0-9])%d\s+0\s+obj\b" % sig_xref, tail)]
    if len(heads) != 1:
        raise _fail(f"object {sig_xref} found {len(heads)} times in the new revision", xref=sig_xref)
    start = heads[0].end()
    end = tail.find(b"endobj", start)
    if end < 0:
        raise _fail("unterminated signature object", xref=sig_xref)
    body = tail[start:end]
    brs = list(re.finditer(rb"/ByteRange\s*\[([^\]]*)\]", body))
    cts = list(re.finditer(rb"/Contents\s*<([0-9A-Fa-f\s]*)>", body))
    if len(brs) != 1 or len(cts) != 1:
        raise _fail("expected exactly one /ByteRange and one /Contents", byterange=len(brs), contents=len(cts))
    base = prev_len + start
    c0 = base + cts[0].start(1) - 1
    c1 = base + cts[0].end(1) + 1
    if c1 - c0 != 2 * contents_size + 2 or set(cts[0].group(1)) != {ord("0")}:
        raise _fail("the /Contents placeholder is not the reserved zero string",
                    gap=c1 - c0, expected=2 * contents_size + 2)
    b0 = base + brs[0].start(1)
    b1 = base + brs[0].end(1)
    return Placeholders(contents_start=c0, contents_end=c1, byterange_start=b0, byterange_end=b1,
                        file_size=size)


def patch_byterange(path: str | os.PathLike[str], ph: Placeholders) -> tuple[int, int, int, int]:
    """Overwrite the /ByteRange numbers in place (left-aligned, space padded)."""
    br = ph.byte_range
    text = " ".join(str(v) for v in br).encode("ascii")
    width = ph.byterange_end - ph.byterange_start
    if len(text) > width:
        raise _fail("the /ByteRange placeholder is too narrow", width=width, needed=len(text))
    with open(path, "r+b") as f:
        f.seek(ph.byterange_start)
        f.write(text.ljust(width, b" "))
    return br


def update_from_file(h: SM3, path: str | os.PathLike[str], start: int, end: int,
                     tick: Tick | None = None, chunk_size: int = CHUNK_SIZE) -> None:
    """Feed bytes ``start:end`` of ``path`` into ``h`` in chunks."""
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        left = end - start
        while left > 0:
            n = f.readinto(view[: min(chunk_size, left)])
            if not n:
                raise _fail("the file ended inside a byte range", offset=start, length=end - start)
            h.update(view[:n])
            left -= n
            if tick:
                tick(n)


def hash_ranges(path: str | os.PathLike[str], byte_range: tuple[int, int, int, int],
                tick: Tick | None = None, chunk_size: int = CHUNK_SIZE, prefix: RunningHash | None = None) -> bytes:
    """SM3 over the two byte ranges, streamed; ``tick(n)`` is called after each chunk.

    With ``prefix`` (the state over the first ``prefix.offset`` bytes of this very
    file, ``prefix.offset <= byte_range[1]``) only the rest is read.
    """
    if prefix is not None and prefix.offset <= byte_range[1]:
        h, start = prefix.state.copy(), prefix.offset
    else:
        h, start = SM3(), byte_range[0]
    update_from_file(h, path, start, byte_range[0] + byte_range[1], tick, chunk_size)
    update_from_file(h, path, byte_range[2], byte_range[2] + byte_range[3], tick, chunk_size)
    return h.digest()


class RunningHash:
    """SM3 over every byte of a growing file up to :attr:`offset` (no gaps).

    The sealing flow fills it while copying the input, so each signature only has to
    read the bytes its own revision appended, not the whole bid again.
    """

    def __init__(self) -> None:
        self.state = SM3()
        self.offset = 0

    def advance(self, path: str | os.PathLike[str], end: int, tick: Tick | None = None) -> None:
        update_from_file(self.state, path, self.offset, end, tick)
        self.offset = end


def copy_and_hash(src: str | os.PathLike[str], dst_fd: int, tick: Tick | None = None,
                  chunk_size: int = 4 * CHUNK_SIZE) -> RunningHash:
    """Copy ``src`` to the open file ``dst_fd`` in one pass, hashing exactly the bytes written."""
    running = RunningHash()
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as f:
        while True:
            n = f.readinto(view)
            if not n:
                break
            chunk = view[:n]
            written = 0
            while written < n:
                written += os.write(dst_fd, chunk[written:])
            running.state.update(chunk)
            running.offset += n
            if tick:
                tick(n)
    return running


def patch_contents(path: str | os.PathLike[str], ph: Placeholders, der: bytes) -> None:
    """Write ``der`` as upper-case hex into /Contents, zero padded.

    Durability is the caller's: the sealing flow fsyncs the whole temp file once,
    before it is renamed into place."""
    hexed = der.hex().upper().encode("ascii")
    room = ph.contents_end - ph.contents_start - 2
    if len(hexed) > room:
        raise SignatureTooLargeError(
            "签名数据超出预留空间，未生成签章文件。",
            "The signature does not fit the space reserved for it; nothing was written.",
            needed=len(der), reserved=room // 2,
        )
    with open(path, "r+b") as f:
        f.seek(ph.contents_start + 1)
        f.write(hexed.ljust(room, b"0"))


def read_contents(path: str | os.PathLike[str], ph: Placeholders) -> bytes:
    """The hex-decoded /Contents (with its zero padding)."""
    with open(path, "rb") as f:
        f.seek(ph.contents_start + 1)
        raw = f.read(ph.contents_end - ph.contents_start - 2)
    return bytes.fromhex(raw.decode("ascii"))


def files_have_same_prefix(original: str | os.PathLike[str], output: str | os.PathLike[str],
                           length: int, chunk_size: int = 4 * CHUNK_SIZE, tick: Tick | None = None) -> bool:
    """True when the first ``length`` bytes of ``output`` equal the whole of ``original``
    (both read from disk in chunks into two reused buffers)."""
    if os.path.getsize(original) != length or os.path.getsize(output) < length:
        return False
    bufs = (bytearray(chunk_size), bytearray(chunk_size))
    views = (memoryview(bufs[0]), memoryview(bufs[1]))
    with open(original, "rb", buffering=0) as a, open(output, "rb", buffering=0) as b:
        left = length
        while left > 0:
            n = min(chunk_size, left)
            na = a.readinto(views[0][:n])
            nb = b.readinto(views[1][:n])
            if not na or na != nb:
                return False
            # bytearray == bytearray is a memcmp; memoryview == memoryview compares per element
            same = bufs[0] == bufs[1] if na == chunk_size else bufs[0][:na] == bufs[1][:na]
            if not same:
                return False
            left -= na
            if tick:
                tick(na)
    return True


class _Worker:
    """A worker thread whose result (or error) :meth:`result` returns; ``cancel`` (an
    object with ``is_set()``/``cancelled``) stops it between chunks."""

    name = "bidseal-worker"

    def __init__(self, cancel: object | None = None) -> None:
        self._cancel = cancel
        self._result: object = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _tick(self, _n: int) -> None:
        if is_cancelled(self._cancel):  # type: ignore[arg-type]
            raise _Stopped()

    def _work(self) -> object:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:  # re-raised in result()
            self._error = exc

    def stop(self) -> None:
        """Ask the worker to stop and wait for it (used on failure paths)."""
        self._cancel = _ALWAYS_CANCELLED
        self._thread.join()

    def result(self) -> object:
        self._thread.join()
        if self._error is not None:
            if isinstance(self._error, _Stopped):
                raise SealCancelledError()
            raise self._error
        return self._result


class CopyHashJob(_Worker):
    """Copy ``src`` to the open file ``dst_fd`` and hash *the same bytes* with SM3, in
    one read of the input, on a worker thread (:func:`copy_and_hash`).

    hashlib's SM3 releases the GIL, so this runs in parallel with the placement
    search. :meth:`running` returns the SM3 state over exactly the bytes written,
    which each signature then continues over its own revision's bytes only.
    """

    name = "bidseal-copy-sm3"

    def __init__(self, src: str | os.PathLike[str], dst_fd: int, cancel: object | None = None) -> None:
        self.src, self.dst_fd = os.fspath(src), dst_fd
        super().__init__(cancel)

    def _work(self) -> RunningHash:
        return copy_and_hash(self.src, self.dst_fd, self._tick)

    def running(self) -> RunningHash:
        """A copy of the running hash (state and offset) after the copied bytes."""
        r = self.result()
        assert isinstance(r, RunningHash)
        out = RunningHash()
        out.state, out.offset = r.state.copy(), r.offset
        return out


class PrefixCompareJob(_Worker):
    """Re-read the first ``length`` bytes of ``output`` from disk and compare them with
    the whole of ``original`` (also re-read) on a worker thread.

    This is the from-disk check of the original part of a sealed file: byte for
    byte at memory speed, instead of a second SM3 pass over it. Together with
    :class:`CopyHashJob` (which hashed exactly the bytes it wrote) it proves that
    the bytes on disk are the bytes that were hashed and signed.
    """

    name = "bidseal-compare"

    def __init__(self, original: str | os.PathLike[str], output: str | os.PathLike[str], length: int,
                 cancel: object | None = None) -> None:
        self.original, self.output, self.length = os.fspath(original), os.fspath(output), length
        super().__init__(cancel)

    def _work(self) -> bool:
        return files_have_same_prefix(self.original, self.output, self.length, tick=self._tick)

    def same(self) -> bool:
        return bool(self.result())


class _Stopped(Exception):
    pass


class FsyncJob:
    """``fsync`` of a finished file on a worker thread, so the disk flush overlaps
    verification; :meth:`wait` re-raises its ``OSError`` before anything is renamed."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="bidseal-fsync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with open(self.path, "rb+") as f:
                os.fsync(f.fileno())
        except OSError as exc:
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Failure paths: nothing to cancel, just do not leave the thread behind."""
        self._thread.join()


class _AlwaysCancelled:
    def is_set(self) -> bool:
        return True


_ALWAYS_CANCELLED = _AlwaysCancelled()

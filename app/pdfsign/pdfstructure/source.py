"""The file as a read-only buffer: ``mmap`` for real files, so a 100 MB bid document
is never loaded into memory, with chunked reading and page release for streaming."""

from __future__ import annotations

import contextlib
import io
import mmap
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from app.pdfsign.pdfstructure.errors import PdfReadError

CHUNK = 1 << 20
_FAULT_AROUND = 1 << 16


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
        #: bytes decoded from this file's streams so far (see :meth:`charge_decoded`)
        self.decoded_total = 0

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

    def charge_decoded(self, n: int, offset: int) -> None:
        """Count ``n`` decoded bytes against this file's budget
        (:data:`~app.pdfsign.pdfstructure.filters.MAX_DECODED_PER_FILE`)."""
        from app.pdfsign.pdfstructure.errors import PdfUnsupportedError
        from app.pdfsign.pdfstructure.filters import MAX_DECODED_PER_FILE

        self.decoded_total += n
        if self.decoded_total > MAX_DECODED_PER_FILE:
            raise PdfUnsupportedError(
                "PDF 文件中的压缩流解压后总量过大，不予处理。",
                "The compressed streams of this PDF expand to too much data in total; not processed.",
                offset=offset, limit=MAX_DECODED_PER_FILE,
            )

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

"""Streaming the signed byte ranges through SM3 (with progress and cancellation)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from app.cancel import Cancel, OperationCancelled, is_cancelled
from app.gm.sm3 import SM3
from app.pdfsign.pdfstructure import (
    PdfSource,
)
from app.progress import Progress, Stage

#: ``known(byte_range)``: the SM3 of exactly these byte ranges of this file, hashed
#: from disk by the caller, or None to let the verifier hash them itself.
KnownDigests = Callable[[tuple[int, int, int, int]], bytes | None]


class VerificationCancelled(OperationCancelled):
    """Verification was cancelled (:class:`app.cancel.OperationCancelled`)."""

    def __init__(self) -> None:
        super().__init__("已取消验证。", "Verification was cancelled.")


# -- hashing ------------------------------------------------------------------------------------


class _Hasher:
    """Streams byte ranges through SM3 (and another digest if a time-stamp needs it)."""

    def __init__(self, src: PdfSource, total: int, progress: Progress | None, cancel: Cancel | None,
                 known: KnownDigests | None = None) -> None:
        self.src = src
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress
        self.cancel = cancel
        self.known = known

    def digest(self, ranges: Iterable[tuple[int, int]], extra: str | None = None,
               prefix: bytes = b"") -> tuple[bytes, bytes | None]:
        """SM3(prefix || the ranges), and the ``extra`` hashlib digest of the ranges."""
        ranges = list(ranges)
        if self.known is not None and extra is None and not prefix and len(ranges) == 2 and ranges[0][0] == 0:
            (_, b), (c, e) = ranges
            known = self.known((0, b, c, e - c))
            if known is not None:
                return known, None
        h = SM3(prefix)
        other = hashlib.new(extra) if extra else None
        for start, end in ranges:
            for chunk in self.src.iter_range(start, end):
                if is_cancelled(self.cancel):
                    raise VerificationCancelled()
                h.update(chunk)
                if other is not None:
                    other.update(chunk)
                self.done += len(chunk)
                if self.progress is not None:
                    self.progress(min(self.done, self.total), self.total, Stage.VERIFY)
        return h.digest(), (other.digest() if other is not None else None)


_HASHLIB_NAMES = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}

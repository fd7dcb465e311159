"""Outputs that appear whole or not at all.

Every file BidSeal writes for a bidder (sealed PDFs, envelopes, decrypted bids,
demo keys) goes to a temporary file in the target folder and is renamed into
place only when complete, so a crash, a full disk, a cancelled operation or a
failed integrity check never leaves a half-written file under the real name. The
rename stays inside one folder (one file system), which makes it atomic.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO


class AtomicFile:
    """A temporary file beside ``dst``: write to :attr:`file`, then :meth:`commit` or :meth:`discard`.

    Raises ``OSError`` like the file operations it wraps; callers turn it into their
    own sentence. Used as a context manager it discards unless committed.
    """

    def __init__(self, dst: str | os.PathLike[str], *, private: bool = False) -> None:
        self.dst = Path(dst)
        folder = self.dst.parent if str(self.dst.parent) else Path(".")
        fd, name = tempfile.mkstemp(prefix=".bidseal-", suffix=".part", dir=folder)
        self.path = Path(name)
        self.file: IO[bytes] = os.fdopen(fd, "wb", buffering=0)
        self._mode = 0o600 if private else 0o644
        self.committed = False

    def commit(self, fsync: bool = True) -> None:
        """Flush (and fsync) the data, then rename it to ``dst``; discards on failure."""
        try:
            if fsync:
                os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(self.path, self._mode)
            os.replace(self.path, self.dst)
        except BaseException:
            self.discard()
            raise
        self.committed = True

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.committed:
            self.discard()


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``b`` names the file ``a`` (same path after links, or a hard link to it).

    Engines refuse such an output: the original must never be overwritten."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
        return os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def write_atomic(dst: str | os.PathLike[str], data: bytes, *, private: bool = False,
                 fsync: bool = True) -> None:
    """Write ``data`` to ``dst`` through an :class:`AtomicFile`."""
    with AtomicFile(dst, private=private) as out:
        out.file.write(data)
        out.commit(fsync)

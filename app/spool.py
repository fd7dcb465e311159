"""Private spool files for data that arrives over the network (uploaded bids).

An upload (a PDF a hub page sends to the helper for sealing) is written to a file
that only this user can read (mode 0600, random name from ``mkstemp``, in the 0700
folder ``<runtime>/spool``), never to a predictable path in a shared temp folder, and
never beyond ``limit`` bytes: :meth:`Spool.write` raises :class:`SpoolFull` the moment
the limit would be passed, and the partial file is deleted. SM3 is computed while the
data is written, so the caller knows the digest of exactly what landed on disk.

::

    with Spool(limit=50 << 20, suffix=".pdf") as spool:
        for chunk in stream: spool.write(chunk)
        spool.finish()                 # flush + fsync; spool.path, spool.size, spool.sm3
        ...                            # use spool.path
    # the file is gone here, whatever happened
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from app import paths
from app.gm.sm3 import SM3


class SpoolFull(ValueError):
    """More than ``limit`` bytes were offered."""


def spool_dir() -> Path:
    folder = paths.ensure(paths.runtime_dir() / "spool")
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    return folder


class Spool:
    def __init__(self, limit: int, *, suffix: str = "", folder: Path | None = None) -> None:
        self.limit = limit
        fd, name = tempfile.mkstemp(prefix="up-", suffix=suffix, dir=folder or spool_dir())
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = SM3()
        self.size = 0
        self.sm3 = b""

    def write(self, data: bytes) -> None:
        if self.size + len(data) > self.limit:
            self.discard()
            raise SpoolFull(f"more than {self.limit} bytes")
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> None:
        """Flush and close for reading; ``sm3`` is then the digest of the file's content."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.sm3 = self._hash.digest()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def clean_stale(max_age: float = 3600.0, folder: Path | None = None) -> int:
    """Delete spool files older than ``max_age`` seconds (left by a crash); returns how many."""
    folder = folder or spool_dir()
    removed = 0
    for f in folder.glob("up-*"):
        with contextlib.suppress(OSError):
            if time.time() - f.stat().st_mtime > max_age:
                f.unlink()
                removed += 1
    return removed

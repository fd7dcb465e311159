"""Lock files shared by every BidSeal process: who uses a device, who verifies a PIN.

Two BidSeal processes (the GUI, a CLI command, the localhost helper) may reach the
same UKey. The device lease (:mod:`app.token.access`) and the PIN lock (taken by the
token host around ``SKF_VerifyPIN``/``ChangePIN``/``UnblockPIN``, so parallel wrong
PINs cannot lose retry-counter updates in a driver that reads, decrements and writes
the counter) are advisory locks on files under :func:`lock_dir`:
``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows. The operating system drops
them when the process dies, so a killed process never leaves a device locked.

This module does not import :mod:`app.paths` at import time: the token host (which
may run in a bare 32-bit interpreter) gets the folder from its parent in
``BIDSEAL_TOKEN_LOCK_DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

LOCK_POLL = 0.02


def lock_dir() -> Path:
    """``BIDSEAL_TOKEN_LOCK_DIR``, else ``app.paths.runtime_dir()/token-locks``."""
    env = os.environ.get("BIDSEAL_TOKEN_LOCK_DIR")
    if env:
        return Path(env)
    from app import paths

    return paths.runtime_dir() / "token-locks"


def device_key(device: str) -> str:
    """A file-name-safe key for a device name (names may hold any characters)."""
    return hashlib.sha256(device.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _try_lock(f: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(f: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class FileLock:
    """An exclusive lock on ``path`` (created 0600 in a 0700 folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self, timeout: float | None, *, should_stop: Callable[[], bool] | None = None) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (None: forever, 0: try once).
        Returns False when it stays taken or ``should_stop()`` becomes true."""
        if self._file is not None:
            raise RuntimeError("lock already held by this object")
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        f = os.fdopen(fd, "r+b", buffering=0)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if _try_lock(f):
                self._file = f
                return True
            if (deadline is not None and time.monotonic() >= deadline) or (should_stop and should_stop()):
                f.close()
                return False
            time.sleep(LOCK_POLL)

    def release(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        with suppress(OSError):
            _unlock(f)
        f.close()

    def __enter__(self) -> FileLock:
        self.acquire(None)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def pin_lock(device: str) -> FileLock:
    """The lock the token host holds around PIN verification on ``device``."""
    return FileLock(lock_dir() / f"pin-{device_key(device)}.lock")


def lease_lock(device: str) -> FileLock:
    """The lock a device lease holds while a session (or PIN management) uses ``device``."""
    return FileLock(lock_dir() / f"device-{device_key(device)}.lock")


def write_holder(device: str, info: dict[str, Any]) -> None:
    """Note who holds ``device`` (read by a waiter for its "busy" message; best effort)."""
    path = lock_dir() / f"device-{device_key(device)}.owner"
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(info, f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass


def read_holder(device: str) -> dict[str, Any]:
    try:
        data = json.loads((lock_dir() / f"device-{device_key(device)}.owner").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

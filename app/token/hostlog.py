"""The token host's stderr goes to a private, size-capped log file, never into errors.

A vendor library's debug output often contains APDUs, and a VerifyPIN APDU carries
the PIN. Error details travel far (the CLI prints them, the GUI shows them, the
localhost helper returns them to a web page), so they only name this file: "see log
FILE". The file lives under :func:`app.paths.log_dir` (mode 0600 in a 0700 folder),
and is capped: past :data:`MAX_BYTES` it is renamed to ``token-host.log.1`` (the one
older generation kept) and a new file starts.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from app import paths

LOG_NAME = "token-host.log"
MAX_BYTES = 1 << 20
MAX_LINE = 2000

_lock = threading.Lock()


def log_path() -> Path:
    return paths.log_dir() / LOG_NAME


def _open_private(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o600)


def write_lines(lines: list[str], *, pid: int | None, library: str) -> Path | None:
    """Append ``lines`` (tagged with time, host pid and library name); None if the log
    cannot be written (a full or read-only disk must not break a token call)."""
    if not lines:
        return None
    path = log_path()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    tag = f"{stamp} [host {pid or '-'} {os.path.basename(library)}] "
    data = "".join(tag + line[:MAX_LINE] + "\n" for line in lines).encode("utf-8", "replace")
    with _lock:
        try:
            paths.ensure(path.parent)
            try:
                if path.stat().st_size + len(data) > MAX_BYTES:
                    os.replace(path, path.with_name(LOG_NAME + ".1"))
            except FileNotFoundError:
                pass
            fd = _open_private(path)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            return None
    return path

"""Crash logs: an unexpected exception is written to a file in the log folder and the
bidder is told where it is, instead of seeing a traceback (Qt-free).

Tracebacks carry no local variables, so no PIN or document content reaches the file.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import datetime
from pathlib import Path
from types import TracebackType

from app import __version__, paths


def write_crash_log(text: str, context: str = "") -> Path | None:
    """Write ``text`` (a traceback) to ``crash-<time>-<pid>.log``; None if even that fails."""
    try:
        folder = paths.ensure(paths.log_dir())
        name = f"crash-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
        path = folder / name
        head = (f"BidSeal {__version__} / Python {sys.version.split()[0]} / {platform.platform()}\n"
                f"time: {datetime.now().isoformat(timespec='seconds')}\n"
                f"context: {context}\n\n")
        with open(path, "a", encoding="utf-8") as f:
            f.write(head + text.rstrip() + "\n")
        return path
    except OSError:
        return None


def format_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    return "".join(traceback.format_exception(exc_type, exc, tb))

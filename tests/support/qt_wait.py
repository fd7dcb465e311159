"""Waiting for the Qt event loop in scripts (benchmarks, screenshots) without
``processEvents()`` loops.

PySide6 6.12's ``QCoreApplication.processEvents()`` (and ``QTest.qWait``) decrement the
reference count of ``None`` on every call (measured: ``sys.getrefcount(None)`` drops by one
per call). On Python 3.11, where ``None`` is not immortal, a loop of tens of thousands of
calls (a minute of 1 ms polling) ends in "Fatal Python error: none_dealloc". A nested
``QEventLoop`` ended by a single-shot timer runs the same events and does not have the bug.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def run_events(ms: int = 5) -> None:
    """Run the event loop for about ``ms`` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(cond: Callable[[], bool], timeout: float = 120.0, step_ms: int = 5) -> None:
    """Run the event loop until ``cond()`` is true; TimeoutError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("timed out")
        run_events(step_ms)

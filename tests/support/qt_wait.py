"""Waiting for the Qt event loop in scripts (benchmarks, screenshots): a nested
``QEventLoop`` ended by a single-shot timer, instead of a ``processEvents()`` + sleep loop
(fewer Python-to-Qt calls, and the loop sleeps in Qt rather than in ``time.sleep``).

Background: PySide6 6.12.0 drops a reference to ``None`` on every call of a void method
(measured here: ``processEvents()``, ``setText()``, ``setValue()``, ``click()`` each lower
``sys.getrefcount(None)`` by one), which on Python 3.11 ends in "Fatal Python error:
none_dealloc" after some thousands of calls; pyproject.toml excludes that release.
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

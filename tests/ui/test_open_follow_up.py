"""What must happen after a file opens (a hub's keyword hint, selecting the new signature)
is wired before the open starts. The task runner's worker emits its result from its own
thread; a slot connected to the returned handle afterwards misses an open that ended while
the UI thread was busy - under load, the helper's sign-pdf review then never showed its
placement dialog."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def test_follow_up_runs_even_when_the_open_ends_before_the_ui_thread_looks(qtbot: Any, window: Any,
                                                                          bid_pdf: Path) -> None:
    opened: list[Any] = []
    window.open_file(bid_pdf, then=opened.append)
    time.sleep(3)  # the UI thread busy, no event loop: the engine answers and the worker emits meanwhile
    qtbot.waitUntil(lambda: bool(opened), timeout=30000)
    assert Path(opened[0].path) == bid_pdf and window.doc is opened[0]


def test_failure_follow_up_runs_too(qtbot: Any, window: Any, tmp_path: Path) -> None:
    bad = tmp_path / "not.pdf"
    bad.write_bytes(b"hello")
    errors: list[Any] = []
    window.open_file(bad, then=lambda _i: errors.append("opened?"), or_else=errors.append)
    time.sleep(2)
    qtbot.waitUntil(lambda: bool(errors), timeout=30000)
    assert errors[0] != "opened?" and errors[0].code == "ERR_PDF_OPEN"

"""Opens the desktop application when ``bidseal`` runs with no arguments (and for ``bidseal gui``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def _qt_missing(exc: ImportError) -> int:
    print(
        "无法启动图形界面（缺少 Qt 组件），请使用子命令（bidseal --help）。\n"
        f"The desktop window cannot start (Qt is missing: {exc}); use the subcommands (bidseal --help).",
        file=sys.stderr,
    )
    return 2


def launch_gui(files: Sequence[str] = (), *, lang: str | None = None) -> int:
    try:
        from app.ui.main import run
    except ImportError as exc:
        return _qt_missing(exc)
    return int(run(list(files), lang=lang))


def self_test_gui(file: str | None, *, screenshot: str | None = None, timeout: float = 60.0,
                  lang: str | None = None) -> int:
    """``bidseal gui --self-test``: see :mod:`app.ui.self_test`."""
    try:
        from app.ui.self_test import run_self_test
    except ImportError as exc:
        return _qt_missing(exc)
    return run_self_test(file, screenshot=screenshot, timeout=timeout, lang=lang)

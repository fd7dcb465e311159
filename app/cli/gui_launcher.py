"""Opens the desktop application when ``bidseal`` runs with no arguments (and for ``bidseal gui``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def launch_gui(files: Sequence[str] = (), *, lang: str | None = None) -> int:
    try:
        from app.ui.main import run
    except ImportError as exc:
        print(
            "无法启动图形界面（缺少 Qt 组件），请使用子命令（bidseal --help）。\n"
            f"The desktop window cannot start (Qt is missing: {exc}); use the subcommands (bidseal --help).",
            file=sys.stderr,
        )
        return 2
    return int(run(list(files), lang=lang))

"""Opens the desktop application when ``bidseal`` runs with no arguments."""

from __future__ import annotations

import sys


def launch_gui() -> int:
    try:
        from app.ui.main import run
    except ImportError:
        print(
            "图形界面尚未包含在此版本中，请使用子命令（bidseal --help）。\n"
            "The desktop window is not part of this build yet; use the subcommands (bidseal --help).",
            file=sys.stderr,
        )
        return 2
    return int(run())

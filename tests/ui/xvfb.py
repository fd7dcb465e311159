"""Running a script on a real X server: the screenshot script and the GUI benchmark start
themselves again under ``xvfb-run`` (1280x800, 24-bit, Qt's xcb platform) when there is no
display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

SCREEN = "-screen 0 1280x800x24"


def needs_display() -> bool:
    return sys.platform.startswith("linux") and not os.environ.get("DISPLAY")


def rerun_under_xvfb(script: str, argv: Sequence[str]) -> int:
    """Run ``script argv`` under xvfb-run and return its exit code (2 without xvfb-run)."""
    xvfb = shutil.which("xvfb-run")
    if not xvfb:
        print("需要 X 显示或 xvfb-run / needs an X display or xvfb-run (apt install xvfb xauth)", file=sys.stderr)
        return 2
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    return subprocess.call([xvfb, "-a", "-s", SCREEN, sys.executable, script, *argv], env=env)

"""The screenshot script runs (real window, Xvfb, xcb) and its own checks can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QImage

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "resources" / "screenshots" / "make.py"


def _load_script() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bidseal_screenshots", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blank_images_are_caught(qtbot: Any, tmp_path: Path) -> None:
    shots = _load_script()
    blank = QImage(800, 600, QImage.Format.Format_RGB32)
    blank.fill(QColor("#5f6368"))
    blank.save(str(tmp_path / "blank.png"))
    ok, why = shots.not_blank(tmp_path / "blank.png")
    assert not ok, why
    ok, why = shots.cjk_renders()
    assert ok, f"Chinese would render as boxes here: {why} (install fonts-wqy-microhei)"


def test_screenshots_of_the_main_flows(tmp_path: Path) -> None:
    xvfb = shutil.which("xvfb-run")
    assert xvfb, "xvfb-run is installed by installer/linux/gui-deps.txt (bash installer/bootstrap.sh)"
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(REPO))
    env.pop("DISPLAY", None)
    from tests.ui.xvfb import SCREEN

    proc = subprocess.run([xvfb, "-a", "-s", SCREEN, sys.executable, str(SCRIPT),
                           "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == sorted(_load_script().SHOTS)
    for name in names:
        image = QImage(str(tmp_path / name))
        assert (image.width(), image.height()) == (1280, 800)

"""The recovery key dialog: make a file (passphrase twice, never overwriting), remember it in
the settings, and the passphrase drill."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app import recovery, settings
from app.recovery import ScryptParams
from app.ui.dialogs.recovery_dialog import RecoveryDialog

PASS = "bid opening drill 2026 sentence"  # QTest.keyClicks types ASCII only


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    monkeypatch.setattr("app.recovery.keyfile.DEFAULT_PARAMS", ScryptParams(n=1 << 14))


def make_dialog(qtbot: Any, window: Any, folder: Path) -> RecoveryDialog:
    dialog = RecoveryDialog(window, window.runner, unit_name="辽宁示例建设工程有限公司", folder=str(folder))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_make_then_drill(qtbot: Any, window: Any, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, window, tmp_path)
    target = Path(dialog.path.text())
    assert target.parent == tmp_path and target.suffix == ".bsrk"
    QTest.keyClicks(dialog.pass1, PASS)
    QTest.keyClicks(dialog.pass2, PASS)
    qtbot.mouseClick(dialog.make_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.made is not None or dialog.error is not None, timeout=30000)
    assert dialog.error is None, dialog.error
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert dialog.made.fingerprint in dialog.made_label.text().replace("<br>", "\n")
    assert dialog.pass1.text() == "" and dialog.pass2.text() == ""
    assert settings.load().recovery_file == str(target)
    assert recovery.load(target).certificate.unit_name == "辽宁示例建设工程有限公司"
    dialog.tabs.setCurrentIndex(1)
    assert dialog.check_path.text() == str(target)
    QTest.keyClicks(dialog.check_pass, "not my passphrase")
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.checked is not None, timeout=30000)
    assert dialog.checked is False and "口令不正确" in dialog.check_label.text()
    QTest.keyClicks(dialog.check_pass, PASS)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.checked is True, timeout=30000)
    assert "口令正确" in dialog.check_label.text()


def test_mismatch_weak_and_existing_are_refused(qtbot: Any, window: Any, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, window, tmp_path)
    QTest.keyClicks(dialog.pass1, PASS)
    QTest.keyClicks(dialog.pass2, PASS + "x")
    assert dialog.make() is None and "不一致" in dialog.error.zh
    QTest.keyClicks(dialog.pass1, "short")
    QTest.keyClicks(dialog.pass2, "short")
    dialog.make()
    qtbot.waitUntil(lambda: dialog.error is not None and dialog.error.code == "ERR_RECOVERY_WEAK_PASSPHRASE",
                    timeout=30000)
    target = Path(dialog.path.text())
    target.write_text("an older recovery file")
    QTest.keyClicks(dialog.pass1, PASS)
    QTest.keyClicks(dialog.pass2, PASS)
    assert dialog.make() is None and dialog.error.code == "ERR_OUTPUT_EXISTS"
    assert target.read_text() == "an older recovery file"

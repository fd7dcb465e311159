"""PIN handling through BidSeal's own dialogs: wrong PINs show the tries left (warning at
three or fewer) until the key locks, the lock is explained instead of asked for, the
administrator PIN unblocks it, and the PIN can be changed. This module's store has its
own key, so locking it touches no other test."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from tests.ui.conftest import ADMIN_PIN, PIN, enter_pin, open_doc, wait_flow

WRONG = "87654321"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_wrong_pin_until_locked_then_unblock(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    before = sha(bid_pdf)
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    flow = window.sign()
    seen_tries = []
    for attempt in range(1, 6):
        dialog = enter_pin(qtbot, window, WRONG)
        seen_tries.append(dialog.tries.text())
        qtbot.waitUntil(lambda a=attempt: flow.attempts == a and flow.pin_dialog is not None
                        and flow.pin_dialog.isVisible(), timeout=20000)
        again = flow.pin_dialog
        left = 6 - attempt
        assert str(left) in again.error.text(), again.error.text()
        assert again.tries.text().startswith(f"剩余尝试次数：{left}")
        assert again.warning.isVisible() == (left <= 3)
    assert "只剩 1 次" in flow.pin_dialog.warning.text()
    # the sixth wrong PIN locks the key: the lock is explained, nothing more is asked
    enter_pin(qtbot, window, WRONG)
    qtbot.waitUntil(lambda: flow.locked_dialog is not None and flow.locked_dialog.isVisible(), timeout=20000)
    help_label = flow.locked_dialog.findChild(QLabel, "lockedHelp")
    assert "锁定" in help_label.text() and "管理员口令" in help_label.text() and "CA" in help_label.text()
    qtbot.mouseClick(flow.locked_dialog.unblock, Qt.MouseButton.LeftButton)
    wait_flow(qtbot, window)
    assert flow.error is not None and flow.error.code == "ERR_PIN_LOCKED"
    assert sha(bid_pdf) == before and sorted(p.name for p in bid_pdf.parent.iterdir()) == ["bid.pdf"]
    qtbot.waitUntil(lambda: window.key_panel.pin is not None and window.key_panel.pin.locked, timeout=10000)
    assert "锁定" in window.key_panel.pin_label.text()

    # the lock dialog's button opened the unblock dialog
    unblock = window.key_actions.dialog
    qtbot.waitUntil(lambda: unblock is not None and unblock.isVisible())
    assert unblock.objectName() == "unblockDialog"
    QTest.keyClicks(unblock.admin, ADMIN_PIN)
    QTest.keyClicks(unblock.new, "24681357")
    QTest.keyClicks(unblock.again, "2468135")
    assert not unblock.ok.isEnabled() and "不一致" in unblock.problem.text()
    QTest.keyClicks(unblock.again, "7")
    assert unblock.ok.isEnabled()
    qtbot.mouseClick(unblock.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "解锁" in window.last_notice, timeout=20000)
    qtbot.waitUntil(lambda: window.key_panel.pin is not None and window.key_panel.pin.remaining == 6, timeout=10000)

    # sign with the new PIN, then change it back through the change-PIN dialog
    flow = window.sign()
    enter_pin(qtbot, window, "24681357")
    wait_flow(qtbot, window)
    assert flow.error is None, flow.error

    change = window.key_actions.change_pin()
    QTest.keyClicks(change.old, WRONG)
    QTest.keyClicks(change.new, PIN)
    QTest.keyClicks(change.again, PIN)
    qtbot.mouseClick(change.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.key_actions.dialog is not change and window.key_actions.dialog.isVisible(),
                    timeout=20000)
    retry = window.key_actions.dialog
    assert "5" in retry.problem.text(), retry.problem.text()
    QTest.keyClicks(retry.old, "24681357")
    QTest.keyClicks(retry.new, PIN)
    QTest.keyClicks(retry.again, PIN)
    qtbot.mouseClick(retry.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已修改" in window.last_notice, timeout=20000)
    qtbot.waitUntil(lambda: window.key_panel.pin is not None and window.key_panel.pin.remaining == 6, timeout=10000)


def test_change_pin_dialog_checks_before_asking_the_key(qtbot: Any, window: Any) -> None:
    dialog = window.key_actions.change_pin()
    QTest.keyClicks(dialog.old, PIN)
    QTest.keyClicks(dialog.new, "123")
    assert not dialog.ok.isEnabled() and "6" in dialog.problem.text()
    dialog.new.clear()
    QTest.keyClicks(dialog.new, PIN)
    QTest.keyClicks(dialog.again, PIN)
    assert not dialog.ok.isEnabled() and "相同" in dialog.problem.text()
    dialog.reject()


def test_pin_dialog_cancel_writes_nothing(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    open_doc(qtbot, window, bid_pdf)
    window._place_in_middle(window.seal_choices()[0])
    flow = window.sign()
    qtbot.waitUntil(lambda: flow.pin_dialog is not None and flow.pin_dialog.isVisible(), timeout=20000)
    QTest.keyClicks(flow.pin_dialog.edit, "1234")
    assert not flow.pin_dialog.ok.isEnabled()  # too short: not even sent to the key
    flow.pin_dialog.reject()
    wait_flow(qtbot, window)
    assert flow.error.code == "ERR_CANCELLED" and flow.attempts == 0
    assert sorted(p.name for p in bid_pdf.parent.iterdir()) == ["bid.pdf"]

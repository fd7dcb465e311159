"""The diagnostics dialog with the virtual key present, absent and locked; the emergency
guide follows the findings; the support report holds no PIN."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from app.diagnostics import Status
from app.token import find_identity, open_session
from app.token.errors import PinIncorrect, PinLocked
from app.token.softkey import init_softkey, plug, unplug
from app.ui.dialogs.diagnostics_dialog import DiagnosticsDialog
from tests.ui.conftest import ADMIN_PIN, PIN


def open_dialog(qtbot: Any, window: Any) -> DiagnosticsDialog:
    dialog = DiagnosticsDialog(window, window.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.report is not None or dialog.error is not None, timeout=60000)
    return dialog


def test_key_present_then_support_report_without_pin(qtbot: Any, window: Any, ukey: Any, tmp_path: Path) -> None:
    identity = find_identity(ukey.library, ukey.label)
    with open_session(identity, PIN):
        pass  # the PIN was really used in this process
    dialog = open_dialog(qtbot, window)
    assert dialog.status_of("keys") in ([Status.INFO], [Status.OK])
    assert Status.ERROR not in dialog.status_of("pin")
    assert dialog.tree.topLevelItemCount() >= 10
    texts = [dialog.tree.topLevelItem(i).text(2) for i in range(dialog.tree.topLevelItemCount())]
    assert any("演示密钥" in t for t in texts)
    out = tmp_path / "support.zip"
    dialog.write_report(out)
    qtbot.waitUntil(lambda: dialog.support_path is not None or dialog.error is not None, timeout=30000)
    assert dialog.support_path == out
    with zipfile.ZipFile(out) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist())
        assert "bidseal-support/certificates.json" in zf.namelist()
    assert PIN.encode() not in blob and ADMIN_PIN.encode() not in blob
    assert ukey.sign_certificate.serial_hex.encode() in blob
    assert "不含口令" in dialog.overall.text()


def test_no_key_shows_the_problem_and_the_guide(qtbot: Any, window: Any, ukey: Any) -> None:
    unplug(ukey.store, ukey.label)
    try:
        dialog = open_dialog(qtbot, window)
        assert dialog.status_of("keys") == [Status.ERROR]
        assert "需要处理的问题" in dialog.overall.text()
        keys_item = next(dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())
                         if dialog.tree.topLevelItem(i).data(0, 0x0100) == "keys")
        assert keys_item.isExpanded() and "USB" in keys_item.child(0).text(2)
        guide = dialog.guides["cert_unreadable"].text()
        assert guide.count('color:#c5221f') >= 2 and "拔下 UKey" in guide
    finally:
        plug(ukey.store, ukey.label)


def test_locked_key_is_an_error_with_the_unblock_step(qtbot: Any, window: Any, ukey: Any, pki_dir: Path) -> None:
    init_softkey(ukey.store, "UI-LOCKED", PIN, ADMIN_PIN, pki_dir)
    locked = find_identity(ukey.library, "UI-LOCKED")
    for _ in range(20):
        try:
            with open_session(locked, "00000000"):
                pass
        except PinIncorrect:
            continue
        except PinLocked:
            break
    try:
        dialog = open_dialog(qtbot, window)
        pins = [c for c in dialog.report.checks if c.id == "pin" and c.details.get("device") == "UI-LOCKED"]
        assert pins and pins[0].status is Status.ERROR and "管理员口令" in pins[0].fix.zh
        guide = dialog.guides["cannot_decrypt"].text()
        assert '<b style="color:#c5221f">口令已锁定' in guide
    finally:
        unplug(ukey.store, "UI-LOCKED")

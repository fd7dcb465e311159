"""The decrypt dialog: header first, which key can open it, PIN through BidSeal's dialog,
recovery-file decryption, wrong recipient, damaged files, key removal, full disk, cancel,
overwrite only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from app.envelope import encrypt_file
from app.recovery import ScryptParams, new_recovery_key, save
from app.token.softkey import plug, unplug
from app.ui.dialogs.decrypt_dialog import DecryptDialog
from tests.support.small_disk import small_disk
from tests.ui.conftest import PIN, spin
from tests.ui.envelope_support import answer_message_boxes, centre, key_certificate, write_bid

PASSPHRASE = "开标现场 recovery 口令"


@pytest.fixture(scope="module")
def rk():
    return new_recovery_key(PASSPHRASE, params=ScryptParams(n=1 << 12))


def envelope_for(tmp_path: Path, certs: list, size: int = 300_000, name: str = "bid.pdf") -> tuple[Path, Path]:
    bid = write_bid(tmp_path / name, size)
    env = tmp_path / (name + ".bse")
    encrypt_file(bid, env, certs, project_id="LNGG-2026-9")
    bid.rename(tmp_path / ("original-" + name))
    return tmp_path / ("original-" + name), env


def open_dialog(qtbot: Any, window: Any, env: Path) -> DecryptDialog:
    dialog = DecryptDialog(window, window.runner, window.keys, envelope=env)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.plan is not None or dialog.error is not None, timeout=20000)
    qtbot.wait(100)  # the layout grows to what was read before a click lands on it
    return dialog


def type_pin(qtbot: Any, dialog: DecryptDialog, pin: str = PIN) -> None:
    qtbot.waitUntil(lambda: dialog.flow is not None and ((dialog.flow.pin_dialog is not None
                    and dialog.flow.pin_dialog.isVisible()) or dialog.flow.done), timeout=20000)
    assert not dialog.flow.done, dialog.flow.error
    pin_dialog = dialog.flow.pin_dialog
    QTest.keyClicks(pin_dialog.edit, pin)
    qtbot.mouseClick(pin_dialog.ok, Qt.MouseButton.LeftButton)


def wait_end(qtbot: Any, dialog: DecryptDialog, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: dialog.opened is not None or (dialog.error is not None and (
        dialog.flow is None or dialog.flow.done) and dialog.progress is None), timeout=timeout)


def test_decrypt_with_the_inserted_key(qtbot: Any, window: Any, tmp_path: Path) -> None:
    _identity, cert = key_certificate(window)
    bid, env = envelope_for(tmp_path, [cert])
    dialog = open_dialog(qtbot, window, env)
    assert "LNGG-2026-9" in dialog.facts.text() and cert.serial_hex in dialog.facts.text()
    assert dialog.by_key.isChecked() and dialog.key_combo.count() == 1 and dialog.go.isEnabled()
    assert "可以打开" in dialog.who.text()
    assert dialog.output.text() == str(tmp_path / "bid.pdf")
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    type_pin(qtbot, dialog)
    wait_end(qtbot, dialog)
    assert dialog.error is None, dialog.error
    assert (tmp_path / "bid.pdf").read_bytes() == bid.read_bytes()
    assert "通过完整性校验" in dialog.result_label.text()


def test_wrong_recipient_says_what_is_needed(qtbot: Any, window: Any, tmp_path: Path) -> None:
    c = centre()
    _bid, env = envelope_for(tmp_path, [c.emergency_cert])
    dialog = open_dialog(qtbot, window, env)
    text = dialog.who.text()
    assert "都不是此文件的接收者" in text and c.emergency_cert.serial_hex in text
    _identity, cert = key_certificate(window)
    assert cert.serial_hex in text  # what the inserted key holds
    assert not dialog.by_key.isEnabled() and not dialog.go.isEnabled()


def test_decrypt_with_the_recovery_file(qtbot: Any, window: Any, tmp_path: Path, rk: Any) -> None:
    c = centre()
    save(rk, tmp_path / "me.bsrk")
    bid, env = envelope_for(tmp_path, [c.emergency_cert, rk.certificate])
    dialog = open_dialog(qtbot, window, env)
    dialog.set_recovery(str(tmp_path / "me.bsrk"))
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.recovery_ok, timeout=20000)
    assert dialog.by_recovery.isChecked() and dialog.go.isEnabled()
    dialog.passphrase.setText("wrong passphrase!!")
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    wait_end(qtbot, dialog)
    assert dialog.error is not None and dialog.error.code == "ERR_RECOVERY_PASSPHRASE"
    assert not (tmp_path / "bid.pdf").exists() and dialog.passphrase.text() == ""
    dialog.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    wait_end(qtbot, dialog)
    assert dialog.error is None and (tmp_path / "bid.pdf").read_bytes() == bid.read_bytes()


def test_not_an_envelope_and_truncated_are_refused_before_any_key(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = write_bid(tmp_path / "plain.pdf")
    dialog = open_dialog(qtbot, window, pdf)
    assert dialog.error is not None and not dialog.go.isEnabled()
    assert "信封" in dialog.facts.text()
    _identity, cert = key_certificate(window)
    _bid, env = envelope_for(tmp_path, [cert])
    data = env.read_bytes()
    env.write_bytes(data[: len(data) // 2])
    dialog2 = open_dialog(qtbot, window, env)
    assert dialog2.error is not None and dialog2.error.code == "ERR_INTEGRITY"
    assert "截断" in dialog2.facts.text() and not dialog2.go.isEnabled()


def test_tampered_envelope_releases_nothing(qtbot: Any, window: Any, tmp_path: Path, rk: Any) -> None:
    save(rk, tmp_path / "me.bsrk")
    _bid, env = envelope_for(tmp_path, [rk.certificate])
    data = bytearray(env.read_bytes())
    data[-5000] ^= 0x40
    env.write_bytes(bytes(data))
    dialog = open_dialog(qtbot, window, env)
    dialog.set_recovery(str(tmp_path / "me.bsrk"))
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.recovery_ok, timeout=20000)
    dialog.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    wait_end(qtbot, dialog)
    assert dialog.error is not None and dialog.error.code == "ERR_INTEGRITY"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf.bse", "me.bsrk", "original-bid.pdf"]


def test_key_removed_before_login(qtbot: Any, window: Any, ukey: Any, tmp_path: Path) -> None:
    _identity, cert = key_certificate(window)
    _bid, env = envelope_for(tmp_path, [cert])
    dialog = open_dialog(qtbot, window, env)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.flow is not None and dialog.flow.pin_dialog is not None, timeout=20000)
    unplug(ukey.store, ukey.label)
    try:
        type_pin(qtbot, dialog)
        wait_end(qtbot, dialog)
        assert dialog.error is not None and dialog.opened is None
        assert dialog.error.code.startswith(("ERR_DEVICE", "ERR_TOKEN", "ERR_SKF"))
        assert not (tmp_path / "bid.pdf").exists()
    finally:
        plug(ukey.store, ukey.label)
        window.keys.rescan()
        qtbot.waitUntil(lambda: window.key_panel.current is not None, timeout=20000)


def test_disk_full_leaves_no_partial_file(qtbot: Any, window: Any, tmp_path: Path, rk: Any) -> None:
    save(rk, tmp_path / "me.bsrk")
    _bid, env = envelope_for(tmp_path, [rk.certificate], size=6 * 1024 * 1024)
    with small_disk(tmp_path / "small", 1024 * 1024) as (folder, how):
        dialog = open_dialog(qtbot, window, env)
        dialog.set_recovery(str(tmp_path / "me.bsrk"))
        qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.recovery_ok, timeout=20000)
        dialog._output_touched = True
        dialog.output.setText(str(folder / "bid.pdf"))
        dialog.passphrase.setText(PASSPHRASE)
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
        wait_end(qtbot, dialog)
        assert dialog.error is not None and dialog.error.code == "ERR_IO", (how, dialog.error)
        assert "无法写入" in dialog.error.zh
        assert list(folder.iterdir()) == [], how


def test_cancel_midway_leaves_nothing(qtbot: Any, window: Any, tmp_path: Path, rk: Any) -> None:
    save(rk, tmp_path / "me.bsrk")
    _bid, env = envelope_for(tmp_path, [rk.certificate], size=200 * 1024 * 1024)
    dialog = open_dialog(qtbot, window, env)
    dialog.set_recovery(str(tmp_path / "me.bsrk"))
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.recovery_ok, timeout=20000)
    dialog.passphrase.setText(PASSPHRASE)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress is not None and dialog.progress.bar.value() > 50, timeout=60000)
    qtbot.mouseClick(dialog.progress.cancel, Qt.MouseButton.LeftButton)
    wait_end(qtbot, dialog)
    assert dialog.error is not None and dialog.error.code == "ERR_CANCELLED"
    assert "已取消" in dialog.result_label.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bid.pdf.bse", "me.bsrk", "original-bid.pdf"]


def test_existing_output_needs_consent(qtbot: Any, window: Any, tmp_path: Path, rk: Any) -> None:
    save(rk, tmp_path / "me.bsrk")
    bid, env = envelope_for(tmp_path, [rk.certificate])
    (tmp_path / "bid.pdf").write_bytes(b"an earlier copy")
    dialog = open_dialog(qtbot, window, env)
    dialog.set_recovery(str(tmp_path / "me.bsrk"))
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.recovery_ok, timeout=20000)
    dialog.passphrase.setText(PASSPHRASE)
    answer_message_boxes(QMessageBox.StandardButton.No)
    assert dialog.decrypt() is None
    spin(0.2)
    assert (tmp_path / "bid.pdf").read_bytes() == b"an earlier copy"
    answer_message_boxes(QMessageBox.StandardButton.Yes)
    assert dialog.decrypt() is not None
    wait_end(qtbot, dialog)
    assert (tmp_path / "bid.pdf").read_bytes() == bid.read_bytes()

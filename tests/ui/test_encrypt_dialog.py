"""The encrypt dialog: the key's certificate in one click plus certificate files, refused
recipients with their reason, recovery key, opening-date warning, overwrite and cancel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QMessageBox

from app.envelope import decrypt_file, read_info
from app.envelope.records import EnvelopeRecords
from app.recovery import ScryptParams, new_recovery_key, save
from app.ui.dialogs.encrypt_dialog import EncryptDialog
from tests.ui.envelope_support import (
    answer_message_boxes,
    centre,
    expired_enc_certificate,
    key_certificate,
    write_bid,
)


def make_dialog(qtbot: Any, window: Any, bid: Path) -> EncryptDialog:
    _identity, cert = key_certificate(window)
    dialog = EncryptDialog(window, window.runner, key_certificate=cert, key_title="demo", input_path=bid)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def wait_done(qtbot: Any, dialog: EncryptDialog, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: dialog.handle is not None and not dialog.handle.running, timeout=timeout)
    qtbot.waitUntil(lambda: dialog.envelope is not None or dialog.error is not None, timeout=timeout)


def test_encrypt_to_key_certificate_and_centre_file(qtbot: Any, window: Any, tmp_path: Path) -> None:
    bid = write_bid(tmp_path / "投标文件.pdf")
    c = centre()
    (tmp_path / "centre.pem").write_bytes(c.emergency_cert.pem)
    dialog = make_dialog(qtbot, window, bid)
    assert dialog.use_key.isChecked() and dialog.output.text().endswith("投标文件.pdf.bse")
    dialog.add_certificate_files([str(tmp_path / "centre.pem")])
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10000)
    dialog.project.setText("LNGG-2026-001")
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    wait_done(qtbot, dialog)
    assert dialog.error is None, dialog.error
    out = Path(dialog.output.text())
    info = read_info(out)
    _identity, key_cert = key_certificate(window)
    assert [r.serial_hex for r in info.recipients] == [key_cert.serial_hex, c.emergency_cert.serial_hex]
    assert info.project_id == "LNGG-2026-001"
    assert "LNGG-2026-001" in dialog.result_label.text() and dialog.result_label.isVisible()
    decrypt_file(out, tmp_path / "opened.pdf", c.emergency_unwrapper())
    assert (tmp_path / "opened.pdf").read_bytes() == bid.read_bytes()
    assert [r.file_id for r in EnvelopeRecords().entries()][0] == info.file_id


def test_refused_recipients_show_their_reason_and_block(qtbot: Any, window: Any, tmp_path: Path) -> None:
    bid = write_bid(tmp_path / "bid.pdf")
    c = centre()
    (tmp_path / "signing.pem").write_bytes(c.sign_cert.pem)
    (tmp_path / "expired.pem").write_bytes(expired_enc_certificate().pem)
    (tmp_path / "notes.pem").write_text("not a certificate at all")
    dialog = make_dialog(qtbot, window, bid)
    dialog.add_certificate_files([str(tmp_path / n) for n in ("signing.pem", "expired.pem", "notes.pem")])
    qtbot.waitUntil(lambda: dialog.list.count() == 3, timeout=10000)
    texts = [dialog.list.item(i).text() for i in range(3)]
    assert "签名证书" in texts[0] or "signing" in texts[0]
    assert "过期" in texts[1]
    assert "不是证书文件" in texts[2]
    before = sorted(p.name for p in tmp_path.iterdir())
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    assert dialog.error is not None and dialog.error.code == "ERR_ENCRYPT_REFUSED"
    assert "移除" in dialog.error.zh
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    dialog.list.selectAll()
    dialog.remove_selected()
    assert dialog.list.count() == 0


def test_recovery_key_and_opening_warning(qtbot: Any, window: Any, tmp_path: Path) -> None:
    bid = write_bid(tmp_path / "bid.pdf")
    rk = new_recovery_key("恢复密钥口令 for tests", params=ScryptParams(n=1 << 12))
    save(rk, tmp_path / "me.bsrk")
    dialog = make_dialog(qtbot, window, bid)
    dialog.set_recovery(str(tmp_path / "me.bsrk"))
    qtbot.waitUntil(lambda: dialog.recovery is not None, timeout=10000)
    assert rk.fingerprint[:16] in dialog.recovery_info.text()
    _identity, key_cert = key_certificate(window)
    dialog.has_opening.setChecked(True)
    far = QDateTime.fromSecsSinceEpoch(int((key_cert.not_after + timedelta(days=30)).timestamp()))
    dialog.opening.setDateTime(far)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    wait_done(qtbot, dialog)
    info = read_info(dialog.output.text())
    assert info.recipients[-1].serial_hex == rk.serial_hex
    assert dialog.warnings and dialog.warnings[0].code == "expires_before_opening"
    assert dialog.warnings[0].has_fallback
    assert "早于开标时间" in dialog.result_label.text()
    decrypt_file(dialog.output.text(), tmp_path / "via-recovery.pdf", rk.unlock("恢复密钥口令 for tests"))
    assert (tmp_path / "via-recovery.pdf").read_bytes() == bid.read_bytes()


def test_existing_output_is_replaced_only_when_confirmed(qtbot: Any, window: Any, tmp_path: Path) -> None:
    bid = write_bid(tmp_path / "bid.pdf")
    existing = tmp_path / "bid.pdf.bse"
    existing.write_bytes(b"keep me")
    dialog = make_dialog(qtbot, window, bid)
    answer_message_boxes(QMessageBox.StandardButton.No)
    assert dialog.encrypt() is None
    assert existing.read_bytes() == b"keep me"
    answer_message_boxes(QMessageBox.StandardButton.Yes)
    assert dialog.encrypt() is not None
    wait_done(qtbot, dialog)
    assert read_info(existing).file_name == "bid.pdf"


def test_cancel_leaves_no_envelope(qtbot: Any, window: Any, tmp_path: Path) -> None:
    bid = write_bid(tmp_path / "big.pdf", 300 * 1024 * 1024)
    dialog = make_dialog(qtbot, window, bid)
    handle = dialog.encrypt()
    assert handle is not None
    qtbot.waitUntil(lambda: dialog.progress is not None and dialog.progress.bar.value() > 0, timeout=60000)
    qtbot.mouseClick(dialog.progress.cancel, Qt.MouseButton.LeftButton)
    wait_done(qtbot, dialog)
    assert dialog.error is not None and dialog.error.code == "ERR_CANCELLED"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.pdf"]
    assert "已取消" in dialog.result_label.text()


def test_no_recipient_is_refused(qtbot: Any, window: Any, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, window, write_bid(tmp_path / "bid.pdf"))
    dialog.use_key.setChecked(False)
    assert dialog.encrypt() is None and "至少需要一个接收者" in dialog.error.zh


def test_files_dropped_on_the_dialog(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from tests.ui.test_faults import drop_files

    bid = write_bid(tmp_path / "dropped.pdf")
    c = centre()
    (tmp_path / "centre.cer").write_bytes(c.emergency_cert.der)
    dialog = make_dialog(qtbot, window, write_bid(tmp_path / "first.pdf"))
    drop_files(dialog, bid, tmp_path / "centre.cer")
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10000)
    assert dialog.input.text() == str(bid) and dialog.output.text().endswith("dropped.pdf.bse")
    assert c.emergency_cert.serial_hex in dialog.list.item(0).text()

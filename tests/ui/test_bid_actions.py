"""Part 2 reaches the window: menu entries open the dialogs, a dropped .bse opens the
decrypt dialog (and a PDF still opens in the viewer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.envelope import encrypt_file
from app.ui.dialogs.decrypt_dialog import DecryptDialog
from app.ui.dialogs.diagnostics_dialog import DiagnosticsDialog
from app.ui.dialogs.encrypt_dialog import EncryptDialog
from app.ui.i18n import set_language
from tests.ui.envelope_support import key_certificate, write_bid
from tests.ui.test_faults import drop_files


def test_menu_entries_exist_in_both_languages(window: Any) -> None:
    names = {a.objectName() for a in window.tools_menu.actions()} | {a.objectName() for a in window.file_menu.actions()}
    assert {"actEncrypt", "actDecrypt", "actBatch", "actEnvelopes", "actRecovery", "actDiagnostics",
            "actSettings"} <= names
    assert window.bid_actions.act_diagnostics.text() == "一键检测…"
    set_language("en")
    try:
        window.bid_actions.retranslate()  # what the language signal calls (test_window covers the signal)
        assert window.bid_actions.act_diagnostics.text() == "Diagnostics…"
    finally:
        set_language("zh")
        window.bid_actions.retranslate()


def test_encrypt_entry_uses_the_selected_key(qtbot: Any, window: Any, tmp_path: Path) -> None:
    window.bid_actions.act_encrypt.trigger()
    dialog = window.bid_actions.dialog
    assert isinstance(dialog, EncryptDialog)
    qtbot.addWidget(dialog)
    _identity, cert = key_certificate(window)
    assert dialog.use_key.isChecked() and cert.serial_hex in dialog.use_key.text()
    dialog.close()


def test_dropped_envelope_opens_the_decrypt_dialog(qtbot: Any, window: Any, tmp_path: Path) -> None:
    _identity, cert = key_certificate(window)
    bid = write_bid(tmp_path / "bid.pdf", 1000)
    encrypt_file(bid, tmp_path / "bid.pdf.bse", [cert])
    drop_files(window, tmp_path / "bid.pdf.bse")
    dialog = window.bid_actions.dialog
    assert isinstance(dialog, DecryptDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    assert dialog.plan.key_ids and dialog.go.isEnabled()
    dialog.close()


def test_envelope_from_the_command_line_opens_the_decrypt_dialog(qtbot: Any, window: Any, tmp_path: Path) -> None:
    # `bidseal gui bid.bse`, a double-click on a .bse (the .deb's MIME type) or a second launch
    _identity, cert = key_certificate(window)
    encrypt_file(write_bid(tmp_path / "bid.pdf", 1000), tmp_path / "bid.pdf.bse", [cert])
    window.open_any(tmp_path / "bid.pdf.bse")
    dialog = window.bid_actions.dialog
    assert isinstance(dialog, DecryptDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    dialog.close()
    assert window.doc is None  # not opened as a document


def test_diagnostics_entry(qtbot: Any, window: Any) -> None:
    window.bid_actions.act_diagnostics.trigger()
    dialog = window.bid_actions.dialog
    assert isinstance(dialog, DiagnosticsDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)
    dialog.close()

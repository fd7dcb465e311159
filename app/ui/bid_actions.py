"""Part 2 of the window: envelopes, recovery key, pending envelopes, batch, diagnostics,
settings, as menu entries and dropped ``.bse`` files.

The window creates one :class:`BidActions` after its menus exist; everything else
lives in the dialogs (``app/ui/dialogs``). Entries: File → Encrypt a bid file…,
Open an envelope…; Tools → Batch sealing…, Pending envelopes…, Recovery key file…,
Diagnostics…, Settings…. A ``.bse`` dropped on the window opens the decrypt dialog.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog

from app.gm.x509 import Certificate
from app.ui.i18n import pick, tr
from app.ui.widgets.common import language_signal

ENVELOPE_SUFFIX = ".bse"


class BidActions(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None

        def action(name: str, slot: Any, shortcut: str | None = None) -> QAction:
            act = QAction(window)
            act.setObjectName(name)
            act.triggered.connect(lambda _checked=False: slot())
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            return act

        self.act_encrypt = action("actEncrypt", self.encrypt, "Ctrl+E")
        self.act_decrypt = action("actDecrypt", self.decrypt, "Ctrl+D")
        self.act_batch = action("actBatch", self.batch)
        self.act_envelopes = action("actEnvelopes", self.envelopes)
        self.act_recovery = action("actRecovery", self.recovery)
        self.act_diagnostics = action("actDiagnostics", self.diagnostics, "F8")
        self.act_settings = action("actSettings", self.settings)
        file_menu = window.file_menu
        first = file_menu.actions()[0] if file_menu.actions() else None
        anchor = next((a for a in file_menu.actions() if a.isSeparator()), first)
        file_menu.insertActions(anchor, [self.act_encrypt, self.act_decrypt])
        file_menu.insertSeparator(anchor)
        for act in (self.act_batch, self.act_envelopes, self.act_recovery):
            window.add_tool_action(act)
        window.tools_menu.addSeparator()
        window.add_tool_action(self.act_diagnostics)
        window.add_tool_action(self.act_settings)
        self.retranslate()
        language_signal().changed.connect(self.retranslate)  # a bound method: disconnected when self is deleted

    def retranslate(self) -> None:
        self.act_encrypt.setText(tr("加密投标文件…", "Encrypt a bid file…"))
        self.act_decrypt.setText(tr("解密投标文件…", "Open an envelope…"))
        self.act_batch.setText(tr("批量签章…", "Batch sealing…"))
        self.act_envelopes.setText(tr("待开标的投标文件…", "Pending envelopes…"))
        self.act_recovery.setText(tr("恢复密钥文件…", "Recovery key file…"))
        self.act_diagnostics.setText(tr("一键检测…", "Diagnostics…"))
        self.act_settings.setText(tr("设置…", "Settings…"))

    # -- helpers ---------------------------------------------------------------------------------
    def _show(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.show()
        return dialog

    def _key(self) -> tuple[Any, Any]:
        identity, view = self.window.current_identity()
        return identity, view

    def _enc_certificate(self) -> Certificate | None:
        _identity, view = self._key()
        return Certificate.from_der(view.enc.der) if view is not None and view.enc is not None else None

    def open_dropped(self, path: str | os.PathLike[str]) -> bool:
        """A dropped ``.bse`` opens the decrypt dialog (True); anything else is the window's."""
        if Path(path).suffix.lower() == ENVELOPE_SUFFIX:
            self.decrypt(path)
            return True
        return False

    # -- dialogs ------------------------------------------------------------------------------------
    def encrypt(self, path: str | os.PathLike[str] | None = None) -> QDialog:
        from app.ui.dialogs.encrypt_dialog import EncryptDialog

        _identity, view = self._key()
        doc = getattr(self.window, "doc", None)
        return self._show(EncryptDialog(self.window, self.window.runner, key_certificate=self._enc_certificate(),
                                        key_title=pick(view.title) if view else "",
                                        input_path=path or (doc.path if doc else None)))

    def decrypt(self, path: str | os.PathLike[str] | None = None) -> QDialog:
        from app.ui.dialogs.decrypt_dialog import DecryptDialog

        return self._show(DecryptDialog(self.window, self.window.runner, self.window.keys, envelope=path))

    def batch(self) -> QDialog:
        from app.ui.dialogs.batch_dialog import BatchDialog

        return self._show(BatchDialog(self.window, self.window.runner))

    def envelopes(self) -> QDialog:
        from app.ui.dialogs.envelopes_dialog import EnvelopesDialog

        def present() -> list[Certificate]:
            return [i.enc_certificate for i in self.window.keys.identities.values() if i.enc_certificate is not None]

        return self._show(EnvelopesDialog(self.window, self.window.runner, present_certificates=present,
                                          selected_certificate=self._enc_certificate))

    def recovery(self) -> QDialog:
        from app.ui.dialogs.recovery_dialog import RecoveryDialog

        _identity, view = self._key()
        return self._show(RecoveryDialog(self.window, self.window.runner,
                                         unit_name=view.unit_name if view else "",
                                         unit_code=view.unit_code if view else ""))

    def diagnostics(self) -> QDialog:
        from app.ui.dialogs.diagnostics_dialog import DiagnosticsDialog

        return self._show(DiagnosticsDialog(self.window, self.window.runner))

    def settings(self) -> QDialog:
        from app.ui.dialogs.settings_dialog import SettingsDialog

        return self._show(SettingsDialog(self.window, self.window.runner))

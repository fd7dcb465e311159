"""Change the user PIN: the current PIN, then the new PIN twice."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from app.ui.dialogs.new_pin_dialog import NewPinDialog


class ChangePinDialog(NewPinDialog):
    TITLE = ("修改 UKey 口令", "Change the UKey PIN")
    FIRST = ("当前口令", "Current PIN")
    OK = ("修改", "Change")
    FIRST_NAME = "oldPin"
    DIFFERENT = True

    @property
    def old(self) -> QLineEdit:
        return self.first

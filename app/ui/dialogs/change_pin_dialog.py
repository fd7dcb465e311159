"""Change the user PIN: old PIN, new PIN twice."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.ui.dialogs.pin_fields import length_ok, new_pin_problem, pin_edit, show_problem, take
from app.ui.i18n import tr


class ChangePinDialog(QDialog):
    def __init__(self, identity_title: str, parent: QWidget | None = None, *, error: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("changePinDialog")
        self.setWindowTitle(tr("修改 UKey 口令", "Change the UKey PIN"))
        self.setMinimumWidth(420)
        self.old = pin_edit(self, "oldPin")
        self.new = pin_edit(self, "newPin")
        self.again = pin_edit(self, "newPinAgain")
        self.problem = QLabel(error)
        self.problem.setObjectName("pinProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#a00000")
        form = QFormLayout()
        form.addRow(tr("当前口令", "Current PIN"), self.old)
        form.addRow(tr("新口令", "New PIN"), self.new)
        form.addRow(tr("再次输入新口令", "New PIN again"), self.again)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr("修改", "Change"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{html.escape(identity_title)}</b>"))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for e in (self.old, self.new, self.again):
            e.textChanged.connect(self._check)
        self._check()

    def _check(self, *_: object) -> None:
        problem = new_pin_problem(self.new, self.again, self.old)
        show_problem(self.problem, problem, bool(self.new.text() or self.again.text()))
        self.ok.setEnabled(not problem and length_ok(self.old) and length_ok(self.new)
                           and self.new.text() == self.again.text())

    def take_pins(self) -> tuple[bytearray, bytearray]:
        old, new = take(self.old), take(self.new)
        self.again.clear()
        return old, new

"""Unblock a locked user PIN with the administrator PIN (SO PIN) and set a new one."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.ui.dialogs.pin_fields import length_ok, new_pin_problem, pin_edit, show_problem, take
from app.ui.i18n import tr


class UnblockDialog(QDialog):
    def __init__(self, identity_title: str, parent: QWidget | None = None, *, error: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("unblockDialog")
        self.setWindowTitle(tr("解锁 UKey 口令", "Unblock the UKey PIN"))
        self.setMinimumWidth(440)
        intro = QLabel(tr("输入 CA 提供的管理员口令（SO PIN）并设置新的用户口令。管理员口令输错次数过多同样会被锁定。",
                          "Enter the administrator PIN (SO PIN) from your CA and choose a new user PIN. "
                          "Too many wrong administrator PINs lock it too."))
        intro.setWordWrap(True)
        self.admin = pin_edit(self, "adminPin")
        self.new = pin_edit(self, "newPin")
        self.again = pin_edit(self, "newPinAgain")
        self.problem = QLabel(error)
        self.problem.setObjectName("pinProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#a00000")
        form = QFormLayout()
        form.addRow(tr("管理员口令", "Administrator PIN"), self.admin)
        form.addRow(tr("新用户口令", "New user PIN"), self.new)
        form.addRow(tr("再次输入新口令", "New PIN again"), self.again)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr("解锁", "Unblock"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{html.escape(identity_title)}</b>"))
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for e in (self.admin, self.new, self.again):
            e.textChanged.connect(self._check)
        self._check()

    def _check(self, *_: object) -> None:
        problem = new_pin_problem(self.new, self.again)
        show_problem(self.problem, problem, bool(self.new.text() or self.again.text()))
        self.ok.setEnabled(not problem and length_ok(self.admin) and length_ok(self.new)
                           and self.new.text() == self.again.text())

    def take_pins(self) -> tuple[bytearray, bytearray]:
        admin, new = take(self.admin), take(self.new)
        self.again.clear()
        return admin, new

"""The shape both PIN-changing dialogs share: a PIN that authorises the change (the current
user PIN, or the administrator PIN), then the new PIN typed twice, checked before anything
is sent to the key."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.ui.dialogs.pin_fields import length_ok, new_pin_problem, pin_edit, show_problem, take
from app.ui.i18n import tr


class NewPinDialog(QDialog):
    #: (zh, en) of the window title, the first field, the new-PIN field and the OK button
    TITLE = ("", "")
    FIRST = ("", "")
    NEW = ("新口令", "New PIN")
    OK = ("确定", "OK")
    INTRO: tuple[str, str] | None = None
    FIRST_NAME = "firstPin"
    #: The new PIN must differ from the first one (true when the first is the current PIN).
    DIFFERENT = False

    def __init__(self, identity_title: str, parent: QWidget | None = None, *, error: str = "") -> None:
        super().__init__(parent)
        self.setObjectName(type(self).__name__[0].lower() + type(self).__name__[1:])
        self.setWindowTitle(tr(*self.TITLE))
        self.setMinimumWidth(440)
        self.first = pin_edit(self, self.FIRST_NAME)
        self.new = pin_edit(self, "newPin")
        self.again = pin_edit(self, "newPinAgain")
        self.problem = QLabel(error)
        self.problem.setObjectName("pinProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#a00000")
        form = QFormLayout()
        form.addRow(tr(*self.FIRST), self.first)
        form.addRow(tr(*self.NEW), self.new)
        form.addRow(tr("再次输入新口令", "New PIN again"), self.again)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr(*self.OK))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{html.escape(identity_title)}</b>"))
        if self.INTRO is not None:
            intro = QLabel(tr(*self.INTRO))
            intro.setWordWrap(True)
            layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for e in (self.first, self.new, self.again):
            e.textChanged.connect(self._check)
        self._check()

    def _check(self, *_: object) -> None:
        problem = new_pin_problem(self.new, self.again, self.first if self.DIFFERENT else None)
        show_problem(self.problem, problem, bool(self.new.text() or self.again.text()))
        self.ok.setEnabled(not problem and length_ok(self.first) and length_ok(self.new)
                           and self.new.text() == self.again.text())

    def take_pins(self) -> tuple[bytearray, bytearray]:
        """(first PIN, new PIN) as bytearrays the caller wipes; the fields are emptied."""
        first, new = take(self.first), take(self.new)
        self.again.clear()
        return first, new

"""BidSeal's own PIN dialog, the only place a PIN is typed.

It names the key and the operation, shows the tries left (with a warning at three or
fewer), and explains a locked PIN and what to do instead of asking. The PIN leaves
the dialog once, as a ``bytearray`` (:meth:`PinDialog.take_pin`), and is used for
one operation (every seal of it) and wiped.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialogs.pin_fields import length_ok, pin_edit, take
from app.ui.i18n import pick, tr
from app.ui.models.keys import LOCKED_HELP, PinView, pin_warning


class PinDialog(QDialog):
    def __init__(self, identity_title: str, operation: str, pin: PinView | None, parent: QWidget | None = None,
                 *, error: str = "", demo: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("pinDialog")
        self.setWindowTitle(tr("输入 UKey 口令", "Enter the UKey PIN"))
        self.setMinimumWidth(420)
        self.pin = pin
        self.who = QLabel(f"<b>{html.escape(identity_title)}</b>")
        self.who.setWordWrap(True)
        self.what = QLabel(operation)
        self.what.setWordWrap(True)
        self.demo_hint = QLabel(tr("这是演示 UKey，初始口令为 12345678。",
                                   "This is the demo key; its initial PIN is 12345678."))
        self.demo_hint.setVisible(demo)
        self.demo_hint.setStyleSheet("color:#e65100")
        self.edit = pin_edit(self)
        self.edit.setPlaceholderText(tr("口令（6–16 位）", "PIN (6–16 characters)"))
        self.tries = QLabel()
        self.tries.setObjectName("pinTries")
        self.warning = QLabel()
        self.warning.setObjectName("pinWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color:#c0392b;font-weight:600")
        self.error = QLabel(error)
        self.error.setObjectName("pinError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#a00000")
        self.error.setVisible(bool(error))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr("确定", "OK"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.edit.textChanged.connect(self._changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addWidget(self.what)
        layout.addWidget(self.demo_hint)
        layout.addWidget(self.edit)
        layout.addWidget(self.tries)
        layout.addWidget(self.warning)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._render()
        self._changed()

    def _render(self) -> None:
        p = self.pin
        if p is None:
            self.tries.setText(tr("剩余尝试次数：未知", "Tries left: unknown"))
        else:
            self.tries.setText(tr(f"剩余尝试次数：{p.remaining}（共 {p.max_retries} 次）",
                                  f"Tries left: {p.remaining} of {p.max_retries}"))
        warn = pin_warning(p.remaining if p else None)
        self.warning.setText(pick(warn))
        self.warning.setVisible(warn is not None)

    def _changed(self, *_: object) -> None:
        self.ok.setEnabled(length_ok(self.edit))

    def take_pin(self) -> bytearray:
        """The typed PIN, once; the field is emptied. The caller wipes the bytearray."""
        return take(self.edit)

    def reject(self) -> None:
        self.edit.clear()
        super().reject()


class LockedDialog(QDialog):
    """Shown instead of the PIN dialog when the PIN is locked."""

    def __init__(self, identity_title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinLockedDialog")
        self.setWindowTitle(tr("UKey 口令已锁定", "The UKey PIN is locked"))
        self.setMinimumWidth(440)
        text = QLabel(f"<b>{html.escape(identity_title)}</b><br><br>{html.escape(pick(LOCKED_HELP))}")
        text.setObjectName("lockedHelp")
        text.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.unblock = self.buttons.addButton(tr("解锁口令…", "Unblock PIN…"), QDialogButtonBox.ButtonRole.AcceptRole)
        close = self.buttons.addButton(tr("关闭", "Close"), QDialogButtonBox.ButtonRole.RejectRole)
        close.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.buttons)

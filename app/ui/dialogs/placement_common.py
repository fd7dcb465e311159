"""Parts shared by the keyword and cross-page dialogs: the seal chooser and the
preview state (ask the engine where the seals go, show it, confirm)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QWidget

from app.ui.i18n import error_text, pick, tr
from app.ui.models.document import SealChoice

Spots = list[list[tuple[int, tuple[float, float, float, float], tuple[int, int]]]]


class PreviewDialog(QDialog):
    """A non-blocking dialog that asks for a preview (``preview_requested(spec, choice)``),
    shows the engine's answer (:meth:`show_preview` / :meth:`show_error`) and confirms it."""

    preview_requested = Signal(object, object)  # spec dict, SealChoice

    def __init__(self, choices: Sequence[SealChoice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = list(choices)
        self.spots: Spots | None = None
        self.seal = QComboBox()
        self.seal.setObjectName("sealChoice")
        for c in self.choices:
            self.seal.addItem(pick(c.label), c.key)
        self.result_label = QLabel()
        self.result_label.setObjectName("previewResult")
        self.result_label.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.preview = self.buttons.addButton(tr("预览位置", "Preview"), QDialogButtonBox.ButtonRole.ActionRole)
        self.preview.setObjectName("previewButton")
        self.confirm = self.buttons.addButton(tr("确认放置", "Place seals"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.setObjectName("confirmButton")
        cancel = self.buttons.addButton(tr("取消", "Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("cancelButton")
        self.preview.clicked.connect(self.request_preview)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.confirm.setEnabled(False)

    @property
    def choice(self) -> SealChoice | None:
        i = self.seal.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else None

    def spec(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def request_preview(self) -> None:
        spec, choice = self.spec(), self.choice
        self.spots = None
        self.confirm.setEnabled(False)
        if spec is None or choice is None:
            return
        self.result_label.setStyleSheet("")
        self.result_label.setText(tr("正在查找位置…", "Finding the positions…"))
        self.preview.setEnabled(False)
        self.preview_requested.emit(spec, choice)

    def show_preview(self, spots: Spots) -> None:
        self.preview.setEnabled(True)
        self.spots = spots
        self.result_label.setStyleSheet("color:#1b7a3a")
        self.result_label.setText(self.describe(spots))
        self.confirm.setEnabled(bool(spots))

    def show_error(self, exc: Any) -> None:
        self.preview.setEnabled(True)
        self.spots = None
        self.result_label.setStyleSheet("color:#a00000")
        self.result_label.setText(error_text(exc))
        self.confirm.setEnabled(False)

    def describe(self, spots: Spots) -> str:
        raise NotImplementedError

    def invalid(self, text: str) -> None:
        self.result_label.setStyleSheet("color:#a00000")
        self.result_label.setText(text)

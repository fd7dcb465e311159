"""Errors as the bidder sees them: the sentence in the window's language, the other
language under it, and the technical details (code, SKF return code, file, log path)
folded away behind a button. Never a traceback: a bug's traceback is in the crash
log whose path the details give.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.errors import BidSealError
from app.ui.i18n import language, tr


def details_text(exc: BaseException) -> str:
    """Code and details of an error, PIN-free, for the expandable part."""
    if not isinstance(exc, BidSealError):
        return type(exc).__name__
    safe = {k: v for k, v in exc.details.items() if "pin" not in k.lower() or "retr" in k.lower()}
    lines = [f"[{exc.code}]"]
    log = safe.pop("log", None)
    if safe:
        lines.append(json.dumps(safe, ensure_ascii=False, indent=2, default=str))
    if log:
        lines.append(tr(f"日志文件：{log}", f"Log file: {log}"))
    return "\n".join(lines)


def sentences(exc: BaseException) -> tuple[str, str]:
    """(sentence in the window's language, the other language's sentence)."""
    zh = getattr(exc, "zh", None) or str(exc)
    en = getattr(exc, "en", None) or str(exc)
    return (en, zh) if language() == "en" else (zh, en)


class ErrorDialog(QDialog):
    """Shows one :class:`~app.errors.BidSealError`; non-blocking (``open()``)."""

    def __init__(self, exc: BaseException, parent: QWidget | None = None, title: str | None = None) -> None:
        super().__init__(parent)
        self.error = exc
        self.setObjectName("errorDialog")
        self.setWindowTitle(title or tr("出错了", "Something went wrong"))
        self.setMinimumWidth(460)
        first, second = sentences(exc)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(40, 40))
        self.message = QLabel(first)
        self.message.setObjectName("errorMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.message.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.message.setFont(font)
        self.other = QLabel(second)
        self.other.setWordWrap(True)
        self.other.setStyleSheet("color:#666")
        log = exc.details.get("log") if isinstance(exc, BidSealError) else None
        self.log_hint = QLabel(tr(f"详细记录已写入：{log}", f"A detailed record was written to: {log}") if log else "")
        self.log_hint.setWordWrap(True)
        self.log_hint.setVisible(bool(log))
        self.log_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPlainTextEdit(details_text(exc))
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(120)
        self.toggle = QPushButton(tr("显示详细信息", "Show details"))
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._toggle)
        ok = QPushButton(tr("确定", "OK"))
        ok.setDefault(True)
        ok.clicked.connect(self.accept)
        text_box = QVBoxLayout()
        text_box.addWidget(self.message)
        text_box.addWidget(self.other)
        text_box.addWidget(self.log_hint)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text_box, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.toggle)
        buttons.addStretch(1)
        buttons.addWidget(ok)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details)
        layout.addLayout(buttons)

    def _toggle(self, on: bool) -> None:
        self.details.setVisible(on)
        self.toggle.setText(tr("隐藏详细信息", "Hide details") if on else tr("显示详细信息", "Show details"))
        self.adjustSize()


def show_error(parent: QWidget | None, exc: Any, title: str | None = None) -> ErrorDialog:
    dialog = ErrorDialog(exc, parent, title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog

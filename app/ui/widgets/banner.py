"""A coloured bar above the document: a file that can only be viewed, or a web site's
request to review and sign (with its buttons)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

STYLES = {
    "info": "background:#e3f2fd;color:#0d47a1;border-bottom:1px solid #90caf9",
    "warn": "background:#fff3e0;color:#8a4b00;border-bottom:1px solid #ffb74d",
    "review": "background:#ede7f6;color:#311b92;border-bottom:1px solid #9575cd",
}


class Banner(QWidget):
    accepted = Signal()
    declined = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.kind = ""
        self.text = QLabel()
        self.text.setObjectName("bannerText")
        self.text.setWordWrap(True)
        self.accept_button = QPushButton()
        self.accept_button.setObjectName("bannerAccept")
        self.accept_button.clicked.connect(self.accepted)
        self.decline_button = QPushButton()
        self.decline_button.setObjectName("bannerDecline")
        self.decline_button.clicked.connect(self.declined)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.accept_button)
        layout.addWidget(self.decline_button)
        self.hide()

    def show_message(self, text: str, kind: str = "info", accept: str = "", decline: str = "") -> None:
        self.setStyleSheet(f"#banner {{{STYLES.get(kind, STYLES['info'])}}} QLabel {{background:transparent}}")
        self.text.setText(text)
        self.accept_button.setText(accept)
        self.accept_button.setVisible(bool(accept))
        self.decline_button.setText(decline)
        self.decline_button.setVisible(bool(decline))
        self.kind = kind
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.hide()

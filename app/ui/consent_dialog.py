"""The native consent dialog of the localhost helper, and :class:`QtConsent`, the desktop
app's implementation of :class:`app.helper.consent.Consent`.

The dialog shows who asks (the origin in punycode, its registrable domain large and
bold, so ``hub.example.cn.evil.com`` reads as **evil.com**), what for (operation), with
which certificate (a choice when several keys are in), and the facts of the request
(project, envelope recipients, document, SM3, seal position). Anti-clickjacking and
anti-double-click: Cancel is the default button and has the focus, OK is enabled only
after ~1 s, the window stays on top; Esc and closing the window cancel.

:class:`QtConsent` lives on the UI thread. The helper's event loop (another thread)
awaits :meth:`QtConsent.ask`, which hands the request to the UI thread through
:class:`app.ui.ui_questions.UiQuestions` (a queued signal; the dialog resolves an asyncio
future with ``call_soon_threadsafe``); if the helper stops waiting (user timeout, the
page went away) the dialog is closed.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.helper.consent import ConsentRequest, Decision, choices_text
from app.ui.ui_questions import Ticket, UiQuestions

ENABLE_AFTER_MS = 1000


class ConsentDialog(QDialog):
    def __init__(self, request: ConsentRequest, parent: QWidget | None = None,
                 enable_after_ms: int = ENABLE_AFTER_MS) -> None:
        super().__init__(parent)
        self.request = request
        zh, en = request.title
        self.setWindowTitle(f"BidSeal · {zh}")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setModal(True)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)

        title = QLabel(f"<b style='font-size:15pt'>{html.escape(zh)}</b><br>{html.escape(en)}")
        layout.addWidget(title)

        head, domain, tail = request.origin.parts
        self.origin_label = QLabel(
            "<div>网站 / Site:</div><div style='font-size:13pt'>"
            f"<span style='color:#555'>{html.escape(head)}</span>"
            f"<b style='font-size:17pt;color:#b00000'>{html.escape(domain)}</b>"
            f"<span style='color:#555'>{html.escape(tail)}</span></div>")
        self.origin_label.setTextFormat(Qt.TextFormat.RichText)
        self.origin_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.origin_label)

        form = QFormLayout()
        self.certificate_box = QComboBox()
        self.certificate_box.addItems(choices_text(request.certificates))
        self.certificate_box.setEnabled(len(request.certificates) > 1)
        form.addRow("证书 / Certificate:", self.certificate_box)
        for fact in request.facts:
            value = QLabel(fact.value)
            value.setTextFormat(Qt.TextFormat.PlainText)  # page-supplied text (file name) is never markup
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{fact.zh} / {fact.en}:", value)
        layout.addLayout(form)
        layout.addWidget(QLabel("口令只在 BidSeal 自己的窗口中输入，网页永远拿不到它。\n"
                                "The PIN is typed only into BidSeal's own window; the web page never sees it."))

        self.buttons = QDialogButtonBox()
        self.ok_button: QPushButton = self.buttons.addButton("允许 / Allow", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button: QPushButton = self.buttons.addButton("取消 / Cancel",
                                                                 QDialogButtonBox.ButtonRole.RejectRole)
        self.ok_button.setEnabled(False)
        self.ok_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.cancel_button.setAutoDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.cancel_button.setFocus()
        self._enable_timer = QTimer(self)  # owned by the dialog: dies with it
        self._enable_timer.setSingleShot(True)
        self._enable_timer.timeout.connect(lambda: self.ok_button.setEnabled(True))
        self._enable_timer.start(enable_after_ms)

    def decision(self) -> Decision:
        approved = self.result() == QDialog.DialogCode.Accepted
        return Decision(approved, max(0, self.certificate_box.currentIndex()))


class QtConsent(UiQuestions):
    """:class:`~app.helper.consent.Consent` with :class:`ConsentDialog`; create it on the UI thread."""

    def __init__(self, parent_widget: QWidget | None = None, enable_after_ms: int = ENABLE_AFTER_MS) -> None:
        super().__init__()
        self.parent_widget = parent_widget
        self.enable_after_ms = enable_after_ms

    async def ask(self, request: ConsentRequest) -> Decision:
        return await self.ask_ui(request)  # type: ignore[no-any-return]

    def present(self, ticket: Ticket) -> None:
        dialog = ConsentDialog(ticket.question, self.parent_widget, self.enable_after_ms)
        self.open_dialog(ticket, dialog, lambda _code: dialog.decision(), show=dialog.show)

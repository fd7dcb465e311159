"""The native consent dialog of the localhost helper, and :class:`QtConsent`, the desktop
app's implementation of :class:`app.helper.consent.Consent`.

The dialog shows who asks (the origin in punycode, its registrable domain large and
bold, so ``hub.example.cn.evil.com`` reads as **evil.com**), what for (operation), with
which certificate (a choice when several keys are in), and the facts of the request
(project, envelope recipients, document, SM3, seal position). Anti-clickjacking and
anti-double-click: Cancel is the default button and has the focus, OK is enabled only
after ~1 s, the window stays on top; Esc and closing the window cancel.

:class:`QtConsent` lives on the UI thread. The helper's event loop (another thread)
awaits :meth:`QtConsent.ask`, which emits a queued signal to show the dialog and waits on
an asyncio future the dialog resolves with ``call_soon_threadsafe``; if the helper stops
waiting (user timeout, the page went away) the dialog is closed.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
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


@dataclass
class _Ticket:
    request: ConsentRequest
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Decision]
    dialog: ConsentDialog | None = field(default=None, repr=False)


class QtConsent(QObject):
    """:class:`~app.helper.consent.Consent` with :class:`ConsentDialog`; create it on the UI thread."""

    _show = Signal(object)
    _close = Signal(object)
    shown = Signal(object)  # the dialog, for tests and for raising the main window

    def __init__(self, parent_widget: QWidget | None = None, enable_after_ms: int = ENABLE_AFTER_MS) -> None:
        super().__init__()
        self.parent_widget = parent_widget
        self.enable_after_ms = enable_after_ms
        self.current: ConsentDialog | None = None
        self._show.connect(self._on_show, Qt.ConnectionType.QueuedConnection)
        self._close.connect(self._on_close, Qt.ConnectionType.QueuedConnection)

    async def ask(self, request: ConsentRequest) -> Decision:
        loop = asyncio.get_running_loop()
        ticket = _Ticket(request, loop, loop.create_future())
        self._show.emit(ticket)
        try:
            return await ticket.future
        except asyncio.CancelledError:
            self._close.emit(ticket)
            raise

    @Slot(object)
    def _on_show(self, ticket: _Ticket) -> None:
        dialog = ConsentDialog(ticket.request, self.parent_widget, self.enable_after_ms)
        ticket.dialog = dialog
        self.current = dialog

        def done(_code: int) -> None:
            decision = dialog.decision()
            self.current = None if self.current is dialog else self.current

            def resolve(result: Any = decision) -> None:
                if not ticket.future.done():
                    ticket.future.set_result(result)

            if not ticket.loop.is_closed():
                ticket.loop.call_soon_threadsafe(resolve)
            dialog.deleteLater()

        dialog.finished.connect(done)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        self.shown.emit(dialog)

    @Slot(object)
    def _on_close(self, ticket: _Ticket) -> None:
        if ticket.dialog is not None and ticket.dialog.isVisible():
            ticket.dialog.reject()

"""Questions from another thread's asyncio loop, answered on the UI thread.

The localhost helper runs on its own thread and event loop; what it asks the bidder
(consent, PIN, review) must be shown by the UI thread, and the UI thread must never wait
for the helper. :class:`UiQuestions` is that bridge, shared by
:class:`app.ui.consent_dialog.QtConsent` and :mod:`app.ui.helper_host`:

* the coroutine :meth:`UiQuestions.ask_ui` emits a queued signal carrying a
  :class:`Ticket` (the question, the asking loop, an asyncio future) and awaits the future;
* the UI thread's :meth:`UiQuestions.present` shows something (usually a non-blocking
  dialog, :meth:`UiQuestions.open_dialog`) and answers with :meth:`Ticket.answer`, which
  resolves the future through ``loop.call_soon_threadsafe``;
* when the coroutine is cancelled (the helper's user timeout, the page went away, the
  server stops) :meth:`UiQuestions.withdraw` closes what was shown; an answer nobody
  takes any more goes to ``discard`` (a PIN is wiped there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog


@dataclass
class Ticket:
    """One question in flight."""

    question: Any
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    extra: Any = None
    widget: Any = field(default=None, repr=False)  # what the UI thread showed for it

    def answer(self, value: Any, discard: Callable[[Any], None] | None = None) -> None:
        """Resolve the future from the UI thread (``discard`` gets a value nobody took)."""

        def resolve() -> None:
            if self.future.done():
                if discard is not None:
                    discard(value)
            else:
                self.future.set_result(value)

        if self.loop.is_closed():
            if discard is not None:
                discard(value)
            return
        self.loop.call_soon_threadsafe(resolve)


class UiQuestions(QObject):
    """Base class; create the subclass on the UI thread."""

    _show = Signal(object)
    _close = Signal(object)
    shown = Signal(object)  # the dialog shown (tests, raising the main window)

    def __init__(self) -> None:
        super().__init__()
        self.current: QDialog | None = None
        self._show.connect(self.present, Qt.ConnectionType.QueuedConnection)
        self._close.connect(self.withdraw, Qt.ConnectionType.QueuedConnection)

    async def ask_ui(self, question: Any, extra: Any = None) -> Any:
        """Hand ``question`` to the UI thread and wait (on the caller's loop) for the answer."""
        loop = asyncio.get_running_loop()
        ticket = Ticket(question, loop, loop.create_future(), extra)
        self._show.emit(ticket)
        try:
            return await ticket.future
        except asyncio.CancelledError:
            self._close.emit(ticket)
            raise

    def present(self, ticket: Ticket) -> None:  # on the UI thread
        raise NotImplementedError

    def withdraw(self, ticket: Ticket) -> None:  # on the UI thread
        widget = ticket.widget
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()

    def open_dialog(self, ticket: Ticket, dialog: QDialog, answer: Callable[[int], Any], *,
                    discard: Callable[[Any], None] | None = None, show: Callable[[], None] | None = None) -> None:
        """Show ``dialog`` for ``ticket`` without blocking; when it finishes, answer with
        ``answer(result_code)`` and delete it."""
        ticket.widget = dialog
        self.current = dialog

        def done(code: int) -> None:
            self.current = None if self.current is dialog else self.current
            ticket.answer(answer(code), discard)
            dialog.deleteLater()

        dialog.finished.connect(done)
        (show or dialog.open)()
        dialog.raise_()
        dialog.activateWindow()
        self.shown.emit(dialog)

    def close_all(self) -> None:
        """Cancel what is shown now (the window is closing)."""
        if self.current is not None:
            self.current.reject()

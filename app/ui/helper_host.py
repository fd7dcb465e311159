"""The localhost helper inside the desktop application: the window's implementations of the
helper's interfaces, and :class:`HelperHost`, which runs the helper beside the window.

``bidseal gui`` starts the helper (``app.helper``, Qt-free) in the same process: uvicorn
on its own thread with its own asyncio loop (:class:`app.helper.server.HelperServer`),
so the Qt event loop never waits on a web request. The helper's three questions to the
bidder are answered by the window through :class:`app.ui.ui_questions.UiQuestions`: a
queued signal carries the question to the UI thread, a non-modal dialog (``open()``,
never ``exec()``) shows it, and the answer resolves the helper's asyncio future with
``loop.call_soon_threadsafe``; when the helper stops waiting (user timeout, the page
went away) the coroutine is cancelled and the dialog is closed.

* consent: :class:`app.ui.consent_dialog.QtConsent`;
* PIN: :class:`QtPinSource`, BidSeal's own :class:`~app.ui.dialogs.pin_dialog.PinDialog`
  with the tries left read from the key; the PIN leaves the dialog once as a
  ``bytearray`` the helper wipes after the login (wiped here if nobody takes it);
* review: :class:`WindowReview` opens the uploaded PDF in the sealing workspace
  (:meth:`MainWindow.open_for_review` with ``sign=True``): the bidder places the seals and
  signs in the window's own session and PIN dialog, and the helper receives the signed
  file, which ``sign-pdf`` accepts only as an incremental update of exactly the reviewed
  bytes. Declining (banner, closing the file or the window) is the page's refusal.

:class:`HelperHost` binds and starts the server on a worker thread, shows its state in a
permanent status-bar label and the tray icon (:class:`app.ui.helper_tray.HelperTray`),
reports a port conflict or any start failure as a sentence there (never a traceback),
and stops the server when the window closes. A second ``bidseal gui`` hands its file to
the running window before any of this starts (:mod:`app.ui.single_instance`), so one
process runs one helper.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from app.errors import BidSealError
from app.helper.consent import OPERATION_TEXT
from app.helper.keys import KeyAccess
from app.helper.pins import PinPrompt
from app.helper.review import ReviewRequest, ReviewResult
from app.sensitive import wipe
from app.ui.consent_dialog import ENABLE_AFTER_MS, QtConsent
from app.ui.dialogs.pin_dialog import PinDialog
from app.ui.i18n import Text, error_text, pick, tr
from app.ui.models.keys import PinView, pin_view
from app.ui.runner import TaskContext
from app.ui.ui_questions import Ticket, UiQuestions


class QtPinSource(UiQuestions):
    """:class:`app.helper.pins.PinSource` with BidSeal's PIN dialog (create on the UI thread)."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window

    def _identity(self, prompt: PinPrompt) -> tuple[Any, Any]:
        """The window's identity and view for the prompt's key (the first on that device)."""
        keys = self.window.keys
        for view in list(keys.views):
            if view.device == prompt.device:
                return keys.identity(view.key_id), view
        return None, None

    def _pin_state(self, prompt: PinPrompt) -> tuple[PinView | None, Any]:
        """Tries left read from the key (worker thread); the prompt's count if that fails."""
        from app.ui import tokens

        identity, view = self._identity(prompt)
        if identity is not None:
            with contextlib.suppress(BidSealError, OSError):
                return pin_view(tokens.pin_info(identity)), view
        if prompt.retries_left is not None:
            return PinView(prompt.max_retries or prompt.retries_left, prompt.retries_left, False), view
        return None, view

    async def get_pin(self, prompt: PinPrompt) -> bytearray | None:
        state = await asyncio.to_thread(self._pin_state, prompt)
        return await self.ask_ui(prompt, state)  # type: ignore[no-any-return]

    def present(self, ticket: Ticket) -> None:
        prompt: PinPrompt = ticket.question
        pin_state, view = ticket.extra
        title = tr(*view.title) if view is not None else f"{prompt.certificate_label}（{prompt.device}）"
        zh, en = OPERATION_TEXT.get(prompt.operation, (prompt.operation, prompt.operation))
        operation = tr(f"网站 {prompt.origin} 请求：{zh}", f"{prompt.origin} asks: {en}")
        error = "" if prompt.retries_left is None else tr(
            f"口令错误，还可尝试 {prompt.retries_left} 次。", f"Wrong PIN; {prompt.retries_left} tries left.")
        dialog = PinDialog(title, operation, pin_state, self.window, error=error,
                           demo=bool(view is not None and view.is_demo))
        dialog.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)

        def typed(code: int) -> bytearray | None:
            return dialog.take_pin() if code == PinDialog.DialogCode.Accepted else None

        self.open_dialog(ticket, dialog, typed, discard=lambda v: wipe(v) if v is not None else None)


class WindowReview(UiQuestions):
    """:class:`app.helper.review.SignReview` in the sealing workspace (create on the UI thread)."""

    opened = Signal(object)  # the ReviewRequest, once handed to the window

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window

    async def review(self, request: ReviewRequest) -> ReviewResult:
        from app.spool import spool_dir

        signed, error = await self.ask_ui(request)
        if error is not None or signed is None:
            return ReviewResult(False)

        def take_copy() -> Path:
            # the window keeps showing its signed file; the helper gets its own copy to move
            fd, name = tempfile.mkstemp(prefix="window-signed-", suffix=".pdf", dir=spool_dir())
            os.close(fd)
            shutil.copyfile(signed, name)
            return Path(name)

        return ReviewResult(True, signed_pdf=await asyncio.to_thread(take_copy))

    def _select_identity(self, label: str) -> None:
        """Pre-select the identity the bidder chose in the consent dialog (by unit name)."""
        panel = self.window.key_panel
        matches = [i for i, v in enumerate(panel.views) if v.unit_name == label]
        if len(matches) == 1 and (panel.current is None or panel.current.unit_name != label):
            panel.combo.setCurrentIndex(matches[0])

    def present(self, ticket: Ticket) -> None:
        request: ReviewRequest = ticket.question
        self._select_identity(request.certificate_label)
        hints = {"keyword": request.hints.keyword, "page": request.hints.page}

        def on_done(signed: Any, error: BidSealError | None) -> None:
            ticket.answer((signed, error))

        ticket.widget = on_done
        self.window.open_for_review(request.pdf_path, hints, on_done, origin=request.origin, sign=True)
        self.window.bring_to_front()
        self.opened.emit(request)

    def withdraw(self, ticket: Ticket) -> None:
        review = self.window.review
        if review is not None and review.on_done is ticket.widget:
            self.window.decline_review("the web page stopped waiting")


class HelperHost(QObject):
    """Runs the helper for ``window``; see the module docstring.

    ``keys``, ``ports`` and ``allow_http`` are for tests and development; the defaults are
    the UKeys ``app.token`` finds and the configured ports (24821 and two fallbacks)."""

    state_changed = Signal(str)  # "starting", "running", "failed", "stopped"

    def __init__(self, window: Any, *, keys: KeyAccess | None = None, ports: Sequence[int] | None = None,
                 allow_http: bool = False, enable_after_ms: int = ENABLE_AFTER_MS) -> None:
        super().__init__(window)
        self.window = window
        self.consent = QtConsent(window, enable_after_ms)
        self.pins = QtPinSource(window)
        self.review = WindowReview(window)
        self.keys = keys
        self.ports = ports
        self.allow_http = allow_http
        self.server: Any = None
        self.tray: Any = None
        self.error: BidSealError | None = None
        self.state = "stopped"
        self.text: Text = ("", "")
        self.label = QLabel()
        self.label.setObjectName("helperStatus")
        window.statusBar().addPermanentWidget(self.label)
        window.installEventFilter(self)
        from app.ui.widgets.common import language_signal

        language_signal().changed.connect(self._render)

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Bind and serve on a worker thread; the outcome arrives as :attr:`state_changed`."""
        from app.helper.app import create_services
        from app.helper.server import HelperServer

        consent, pins, review = self.consent, self.pins, self.review
        keys, ports, allow_http = self.keys, self.ports, self.allow_http

        def run(ctx: TaskContext) -> Any:
            try:
                services = create_services(consent=consent, pins=pins, review=review, keys=keys,  # type: ignore[arg-type]
                                           allow_http=allow_http, ports=ports)
                server = HelperServer(services)
                server.start()
            except BidSealError:
                raise
            except Exception as exc:  # noqa: BLE001 - a start failure is a sentence, not a crash
                raise HelperStartFailed(f"{type(exc).__name__}: {exc}") from exc
            return server

        self._set_state("starting", ("网页助手正在启动…", "Web helper starting…"))
        self.window.runner.submit(run, name="helper-start", on_result=self._started, on_error=self._failed)

    def _started(self, server: Any) -> None:
        if self.state == "stopped":  # the window closed meanwhile
            server.stop()
            return
        from app.ui.helper_tray import HelperTray

        self.server = server
        self.tray = HelperTray(server, self)
        self.tray.show()
        hubs = len(server.policy.hubs) if server.policy is not None else 0
        self._set_state("running", (f"网页助手：127.0.0.1:{server.port}（{hubs} 个平台）",
                                    f"Web helper: 127.0.0.1:{server.port} ({hubs} hub{'s' if hubs != 1 else ''})"))
        for owner in server.skipped:
            self.window.notify(tr(f"网页助手端口 {owner.describe()} 被占用，改用 {server.port}。",
                                  f"Helper port {owner.describe()} is taken; using {server.port}."))

    def _failed(self, exc: BidSealError) -> None:
        self.error = exc
        self.label.setStyleSheet("color:#b00000")
        self._set_state("failed", ("网页助手未启动", "Web helper not running"), f"{exc.zh}\n{exc.en}")
        self.window.notify(tr("网页助手未启动：", "The web helper did not start: ") + error_text(exc))

    def _set_state(self, state: str, text: Text, tooltip: str = "") -> None:
        """The label shows ``text`` in the window's language; the tooltip has both (or ``tooltip``)."""
        self.state, self.text = state, text
        self.label.setToolTip(tooltip or f"{text[0]}\n{text[1]}")
        self._render()
        self.state_changed.emit(state)

    def _render(self, *_: Any) -> None:
        self.label.setText(pick(self.text))

    # -- stop ----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window and event.type() == QEvent.Type.Close:
            # after the window's own closeEvent (which declines a review in progress)
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self, self.stop)
        return False

    @Slot()
    def stop(self) -> None:
        """Close open questions (the pages get their refusal), then stop the server (idempotent)."""
        self.state = "stopped"
        dialog = self.consent.current
        if dialog is not None:
            dialog.reject()
        self.pins.close_all()
        server, self.server = self.server, None
        if self.tray is not None:
            self.tray.tray.hide()
        if server is not None:
            server.stop()
            self._set_state("stopped", ("网页助手已停止", "Web helper stopped"))


class HelperStartFailed(BidSealError):
    code = "ERR_HELPER_START"

    def __init__(self, reason: str) -> None:
        super().__init__("BidSeal 网页助手无法启动，网页登录和签章暂不可用。",
                         "The BidSeal web helper could not start; web login and signing are unavailable.",
                         details={"reason": reason})


def start_helper(window: QWidget, **kwargs: Any) -> HelperHost:
    """Create the window's :class:`HelperHost`, start it, and keep it as
    ``window.helper_host`` (``bidseal gui``; other features and tests find it there)."""
    host = HelperHost(window, **kwargs)
    window.helper_host = host  # type: ignore[attr-defined]
    host.start()
    return host

"""One UKey operation other than sealing (decrypting an envelope, a batch): PIN, one
session, the work on a worker thread, progress and Cancel.

The same steps as :class:`app.ui.signing.SigningFlow`, for work that needs the whole
session (its unwrapper or its signer) rather than one engine call:

1. ``precheck()`` on a worker thread (everything that can fail without the PIN), then
   the PIN state; a locked PIN is explained (:class:`LockedDialog`) instead of asked;
2. BidSeal's :class:`PinDialog` (tries left, warning at three or fewer);
3. one login; the PIN is wiped as soon as the key has checked it; ``work(session, ctx)``
   runs with ``ctx.progress`` / ``ctx.cancel`` / ``ctx.partial`` and a progress dialog
   whose Cancel sets the token;
4. a wrong PIN asks again with the tries left; any other error ends the flow with its
   sentence. ``finished(result_or_None, error_or_None)`` is emitted once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.errors import BidSealError
from app.ui import tokens
from app.ui.dialogs.error_dialog import show_error
from app.ui.dialogs.pin_dialog import LockedDialog, PinDialog
from app.ui.dialogs.progress_dialog import ProgressDialog
from app.ui.i18n import error_text, pick
from app.ui.models.keys import LOCKED_HELP, IdentityView, PinView, pin_view
from app.ui.runner import TaskContext, TaskHandle, TaskRunner

Work = Callable[[Any, TaskContext], Any]


def run_with_session(identity: Any, pin: bytearray, ctx: TaskContext, work: Work) -> Any:
    """Log in with ``pin`` (wiped once the key has checked it, and on the way out), run
    ``work(session, ctx)``, log out."""
    from app import token

    try:
        ctx.progress(0, 1000, "login")
        with token.open_session(identity, pin) as session:
            tokens.wipe(pin)
            return work(session, ctx)
    finally:
        tokens.wipe(pin)


class KeyFlow(QObject):
    finished = Signal(object, object)  # result | None, BidSealError | None

    def __init__(self, parent: QWidget, runner: TaskRunner, identity: Any, view: IdentityView | None,
                 *, operation: str, progress_title: str, work: Work,
                 precheck: Callable[[], None] | None = None, on_partial: Callable[[Any], None] | None = None,
                 cancelled: tuple[str, str] = ("已取消，未生成任何文件。", "Cancelled; no file was written."),
                 error_title: str = "", show_errors: bool = True, on_unblock: Callable[[], None] | None = None
                 ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.runner = runner
        self.identity = identity
        self.view = view
        self.operation = operation
        self.progress_title = progress_title
        self.work = work
        self.precheck = precheck
        self.on_partial = on_partial
        self.cancelled = cancelled
        self.error_title = error_title
        self.show_errors = show_errors
        self.on_unblock = on_unblock
        self.pin_dialog: PinDialog | None = None
        self.locked_dialog: LockedDialog | None = None
        self.progress: ProgressDialog | None = None
        self.handle: TaskHandle | None = None
        self.done = False
        self.result: Any = None
        self.error: BidSealError | None = None

    # -- 1 ------------------------------------------------------------------------------------
    def start(self) -> None:
        identity, precheck = self.identity, self.precheck

        def check(ctx: TaskContext) -> PinView:
            if precheck is not None:
                precheck()
            return pin_view(tokens.pin_info(identity))

        self.runner.submit(check, name="key-precheck", on_result=self._ask_pin, on_error=self._fail)

    # -- 2 ------------------------------------------------------------------------------------
    def _ask_pin(self, pin: PinView, error: str = "") -> None:
        if self.done:
            return
        title = pick(self.view.title) if self.view else ""
        if pin.locked:
            self.locked_dialog = LockedDialog(title, self.parent_widget)
            self.locked_dialog.finished.connect(self._locked_closed)
            self.locked_dialog.open()
            return
        dialog = PinDialog(title, self.operation, pin, self.parent_widget, error=error,
                           demo=bool(self.view and self.view.is_demo))
        self.pin_dialog = dialog
        dialog.accepted.connect(self._pin_given)
        dialog.rejected.connect(self._pin_cancelled)
        dialog.open()

    def _locked_closed(self, code: int) -> None:
        self._finish(None, BidSealError(LOCKED_HELP[0], LOCKED_HELP[1], code="ERR_PIN_LOCKED"), show=False)
        if code and self.on_unblock is not None:
            self.on_unblock()

    def _pin_cancelled(self) -> None:
        self._finish(None, BidSealError(*self.cancelled, code="ERR_CANCELLED"), show=False)

    # -- 3 ------------------------------------------------------------------------------------
    def _pin_given(self) -> None:
        assert self.pin_dialog is not None
        pin = self.pin_dialog.take_pin()
        self.pin_dialog.deleteLater()
        self.pin_dialog = None
        self.progress = ProgressDialog(self.progress_title, self.parent_widget)
        identity, work = self.identity, self.work

        def run(ctx: TaskContext) -> Any:
            return run_with_session(identity, pin, ctx, work)

        self.handle = self.runner.submit(run, name="key-operation", on_result=self._worked, on_error=self._failed,
                                         on_progress=self.progress.update_progress, on_partial=self.on_partial)
        self.progress.cancel_requested.connect(self.handle.cancel)
        self.progress.open()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        elif self.pin_dialog is not None:
            self.pin_dialog.reject()

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.done(0)
            self.progress.deleteLater()
            self.progress = None

    def _failed(self, exc: BidSealError) -> None:
        self._close_progress()
        self.handle = None
        if exc.code == "ERR_PIN_INCORRECT":
            left = exc.details.get("retries_left")
            remaining = int(left) if left is not None else 0

            def again(ctx: TaskContext) -> PinView:
                return pin_view(tokens.pin_info(self.identity))

            self.runner.submit(again, name="pin-info", on_result=lambda p: self._ask_pin(p, error_text(exc)),
                               on_error=lambda _e: self._ask_pin(PinView(remaining, remaining, False),
                                                                 error_text(exc)))
            return
        if exc.code == "ERR_PIN_LOCKED":
            self._ask_pin(PinView(0, 0, False))
            return
        self._fail(exc)

    def _worked(self, result: Any) -> None:
        self._close_progress()
        self._finish(result, None)

    # -- 4 ------------------------------------------------------------------------------------
    def _fail(self, exc: BidSealError) -> None:
        self._finish(None, exc, show=exc.code != "ERR_CANCELLED")

    def _finish(self, result: Any, error: BidSealError | None, show: bool = True) -> None:
        if self.done:
            return
        self.done = True
        self.result, self.error = result, error
        if error is not None and show and self.show_errors:
            show_error(self.parent_widget, error, self.error_title or None)
        self.finished.emit(result, error)

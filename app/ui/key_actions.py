"""What the UKey panel's buttons do: certificate details and export, change PIN,
unblock PIN. Dialogs on the UI thread, token calls on worker threads."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.errors import BidSealError
from app.ui import tokens
from app.ui.dialogs.cert_dialog import CertificateDialog
from app.ui.dialogs.change_pin_dialog import ChangePinDialog
from app.ui.dialogs.error_dialog import show_error
from app.ui.dialogs.unblock_dialog import UnblockDialog
from app.ui.i18n import error_text, pick, tr
from app.ui.models.keys import IdentityView
from app.ui.runner import TaskContext, TaskRunner


class KeyActions(QObject):
    """``window`` provides ``current_identity() -> (Identity, IdentityView) | (None, None)``,
    ``notify(text)`` and ``refresh_pin()``."""

    def __init__(self, window: Any, runner: TaskRunner) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.dialog: QWidget | None = None

    def _current(self) -> tuple[Any, IdentityView | None]:
        return self.window.current_identity()

    def certificate(self, kind: str) -> CertificateDialog | None:
        _identity, view = self._current()
        if view is None:
            return None
        cert = view.sign if kind == "sign" else view.enc
        if cert is None:
            self.window.notify(tr("该证书不存在。", "There is no such certificate."))
            return None
        dialog = CertificateDialog(cert, view.unit_name, view.unit_code, self.window)
        self.dialog = dialog
        dialog.open()
        return dialog

    def change_pin(self, error: str = "") -> ChangePinDialog | None:
        return self._new_pin(ChangePinDialog, tokens.change_pin, tr("口令已修改。", "The PIN was changed."),
                             self.change_pin, error)

    def unblock(self, error: str = "") -> UnblockDialog | None:
        return self._new_pin(UnblockDialog, tokens.unblock,
                             tr("口令已解锁并设置为新口令。", "The PIN was unblocked and set to the new PIN."),
                             self.unblock, error)

    def _new_pin(self, cls: Any, call: Any, ok_text: str, retry: Any, error: str) -> Any:
        """Show a PIN-changing dialog; on OK run ``call(identity, first, new)`` on a worker."""
        identity, view = self._current()
        if view is None:
            return None
        dialog = cls(pick(view.title), self.window, error=error)
        self.dialog = dialog

        def go() -> None:
            first, new = dialog.take_pins()
            self._run(lambda ctx: call(identity, first, new), ok_text, retry)

        dialog.accepted.connect(go)
        dialog.open()
        return dialog

    def _run(self, fn: Any, ok_text: str, retry: Any) -> None:
        def ok(_result: Any) -> None:
            self.window.notify(ok_text)
            self.window.refresh_pin()

        def failed(exc: BidSealError) -> None:
            self.window.refresh_pin()
            if exc.code in ("ERR_PIN_INCORRECT", "ERR_PIN_LENGTH", "ERR_PIN_INVALID"):
                retry(error=error_text(exc))
            else:
                show_error(self.window, exc)

        def run(ctx: TaskContext) -> Any:
            return fn(ctx)

        self.runner.submit(run, name="pin-change", on_result=ok, on_error=failed)

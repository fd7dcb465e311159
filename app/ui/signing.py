"""One signing operation, from the Sign button to the verified output.

1. checks that need no PIN, on a worker thread: the identity can sign now, there is
   something to sign, the output is not the original and its folder takes a new file;
   then the PIN state (a locked PIN is explained instead of asked for);
2. BidSeal's PIN dialog (tries left, warning at three or fewer);
3. one UKey login for every seal of the operation; the engine process seals into a
   temporary file, asks this process for each signature (the session never leaves
   it), verifies the result from disk and renames it into place; progress and Cancel;
4. a wrong PIN asks again with the tries left; a lock, a removed key, a full or
   read-only folder end with the error's sentence, and no output exists.

``finished(result_or_None, error_or_None)`` is emitted once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.atomic import same_file
from app.errors import BidSealError
from app.ui import tokens
from app.ui.dialogs.error_dialog import show_error
from app.ui.dialogs.pin_dialog import LockedDialog, PinDialog
from app.ui.dialogs.progress_dialog import ProgressDialog
from app.ui.i18n import error_text, pick, tr
from app.ui.models.document import folder_writable
from app.ui.models.keys import IdentityView, PinView, pin_view
from app.ui.runner import TaskContext, TaskRunner


class SigningRefused(BidSealError):
    """A check before the PIN failed (nothing was asked, nothing written)."""

    code = "ERR_SIGN_REFUSED"


def _refuse(zh: str, en: str, **details: Any) -> SigningRefused:
    return SigningRefused(zh, en, details=details)


def precheck(view: IdentityView | None, specs: Sequence[dict[str, Any]], input_path: str,
             output_path: str) -> None:
    """Everything that can be known before asking for the PIN (runs on a worker thread)."""
    if view is None:
        raise _refuse("没有可用的 UKey 证书：请插入 UKey 并在左侧选择用于签章的证书。",
                      "No UKey identity: insert your key and choose the identity that signs.")
    if view.sign is None:
        raise _refuse("所选证书没有签名证书，不能签章。", "The chosen identity has no signing certificate.")
    if not view.can_sign:
        raise _refuse(f"签名证书{pick(view.sign.expiry_text)}，不能签章。",
                      f"The signing certificate is {view.sign.expiry_text[1]}; it cannot seal.",
                      serial=view.sign.serial)
    if not specs:
        raise _refuse("还没有放置任何印章：请把印章拖到页面上，或使用“按关键字盖章”“骑缝章”。",
                      "No seal has been placed yet: drag a seal onto a page, or use “Seal at keyword” "
                      "or “Cross-page seal”.")
    src, dst = Path(input_path), Path(output_path)
    if same_file(src, dst) or src.resolve() == dst.resolve():
        raise _refuse("签章结果不能保存为原文件：原文件必须保持不变。请另选文件名。",
                      "The sealed copy cannot replace the original: the original stays unchanged. "
                      "Choose another name.", file=str(dst))
    if not dst.parent.is_dir():
        raise _refuse("保存签章文件的文件夹不存在。", "The folder for the sealed file does not exist.",
                      folder=str(dst.parent))
    if not folder_writable(dst.parent):
        raise _refuse("无法在该文件夹中保存签章文件（只读、没有权限或磁盘已满）。请用“另存为”选择其他位置。",
                      "The sealed file cannot be saved in this folder (read-only, no permission or disk "
                      "full). Use “Save as” to choose another place.", folder=str(dst.parent))


class SigningFlow(QObject):
    finished = Signal(object, object)  # result dict | None, BidSealError | None

    def __init__(self, parent: QWidget, runner: TaskRunner, identity: Any, view: IdentityView | None,
                 specs: Sequence[dict[str, Any]], input_path: str, output_path: str, *,
                 extra_roots: Sequence[bytes] = (), operation: str = "", show_errors: bool = True,
                 input_check: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.runner = runner
        self.identity = identity
        self.view = view
        self.specs = list(specs)
        self.input_path = str(input_path)
        self.output_path = str(output_path)
        self.extra_roots = list(extra_roots)
        self.operation = operation or tr(f"为 {os.path.basename(input_path)} 加盖 {len(self.specs)} 个印章",
                                         f"Seal {os.path.basename(input_path)} ({len(self.specs)} seal(s))")
        self.show_errors = show_errors
        self.input_check = input_check
        self.pin_dialog: PinDialog | None = None
        self.locked_dialog: LockedDialog | None = None
        self.progress: ProgressDialog | None = None
        self.handle: Any = None
        self.attempts = 0
        self.done = False
        self.result: dict[str, Any] | None = None
        self.error: BidSealError | None = None

    # -- 1: checks ---------------------------------------------------------------------------
    def start(self) -> None:
        view, specs, src, dst, identity = self.view, self.specs, self.input_path, self.output_path, self.identity
        input_check = self.input_check

        def check(ctx: TaskContext) -> PinView:
            precheck(view, specs, src, dst)
            if input_check is not None:
                input_check()
            return pin_view(tokens.pin_info(identity))

        self.runner.submit(check, name="sign-precheck", on_result=self._ask_pin, on_error=self._fail)

    # -- 2: the PIN --------------------------------------------------------------------------
    def _ask_pin(self, pin: PinView, error: str = "") -> None:
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
        from app.ui.models.keys import LOCKED_HELP

        err = BidSealError(LOCKED_HELP[0], LOCKED_HELP[1], code="ERR_PIN_LOCKED")
        self._finish(None, err, show=False)
        if code and hasattr(self.parent_widget, "unblock_pin"):
            self.parent_widget.unblock_pin()

    def _pin_cancelled(self) -> None:
        self._finish(None, BidSealError("已取消签章，未生成任何文件。", "Sealing was cancelled; no file was written.",
                                        code="ERR_CANCELLED"), show=False)

    # -- 3: sealing ------------------------------------------------------------------------------
    def _pin_given(self) -> None:
        assert self.pin_dialog is not None
        pin = self.pin_dialog.take_pin()
        self.pin_dialog.deleteLater()
        self.pin_dialog = None
        self.attempts += 1
        self.progress = ProgressDialog(tr("正在签章", "Sealing"), self.parent_widget)
        identity, specs, extra = self.identity, self.specs, self.extra_roots
        src, dst = self.input_path, self.output_path

        def seal(ctx: TaskContext) -> dict[str, Any]:
            ctx.progress(0, 1000, "login")
            with tokens.signing_session(identity, pin) as signer:
                return ctx.engine("seal", {"input_path": src, "output_path": dst, "specs": specs,
                                           "certificate": signer.certificate.der, "extra_roots": extra},
                                  handlers={"sign_digest": signer.sign_digest})

        self.handle = self.runner.submit(seal, name="seal", on_result=self._sealed, on_error=self._seal_failed,
                                         on_progress=self.progress.update_progress)
        self.progress.cancel_requested.connect(self.handle.cancel)
        self.progress.open()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.done(0)
            self.progress.deleteLater()
            self.progress = None

    def _seal_failed(self, exc: BidSealError) -> None:
        self._close_progress()
        if exc.code == "ERR_PIN_INCORRECT":
            left = exc.details.get("retries_left")
            remaining = int(left) if left is not None else None

            def again(ctx: TaskContext) -> PinView:
                return pin_view(tokens.pin_info(self.identity))

            def reask(pin: PinView) -> None:
                self._ask_pin(pin, error=error_text(exc))

            def reask_unknown(_err: BidSealError) -> None:
                self._ask_pin(PinView(remaining or 0, remaining or 0, False), error=error_text(exc))

            self.runner.submit(again, name="pin-info", on_result=reask, on_error=reask_unknown)
            return
        if exc.code == "ERR_PIN_LOCKED":
            self._ask_pin(PinView(0, 0, False))
            return
        self._fail(exc)

    def _sealed(self, result: dict[str, Any]) -> None:
        self._close_progress()
        self._finish(result, None)

    # -- 4: the end ------------------------------------------------------------------------------
    def _fail(self, exc: BidSealError) -> None:
        self._finish(None, exc, show=exc.code != "ERR_CANCELLED")

    def _finish(self, result: dict[str, Any] | None, error: BidSealError | None, show: bool = True) -> None:
        if self.done:
            return
        self.done = True
        self.result, self.error = result, error
        if error is not None and show and self.show_errors:
            show_error(self.parent_widget, error, tr("签章未完成", "Sealing did not complete"))
        self.finished.emit(result, error)

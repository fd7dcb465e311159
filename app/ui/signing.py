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

``finished(result_or_None, error_or_None)`` is emitted once. The PIN, login, progress and
retry steps are :class:`app.ui.key_flow.KeyFlow`'s, shared with decryption and batches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from app.atomic import same_file, sweep_folder
from app.errors import BidSealError
from app.ui.i18n import pick, tr
from app.ui.key_flow import KeyFlow
from app.ui.models.document import folder_writable
from app.ui.models.keys import IdentityView
from app.ui.runner import TaskContext, TaskRunner
from app.ui.wire import EngineCrashed


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


class SigningFlow(KeyFlow):
    """Sealing as a :class:`app.ui.key_flow.KeyFlow`: the checks above before the PIN, then
    one engine call that asks this process for each signature (the session never leaves it).

    ``output_path`` may be a callable, evaluated on the worker thread with the checks (it may
    read the settings and look at the disk); :attr:`output_path` then holds the result."""

    def __init__(self, parent: QWidget, runner: TaskRunner, identity: Any, view: IdentityView | None,
                 specs: Sequence[dict[str, Any]], input_path: str, output_path: str | Callable[[], Any], *,
                 extra_roots: Sequence[bytes] = (), operation: str = "", show_errors: bool = True,
                 input_check: Callable[[], None] | None = None) -> None:
        self.specs = list(specs)
        self.input_path = str(input_path)
        self._output = output_path
        self.output_path = "" if callable(output_path) else str(output_path)
        self.extra_roots = list(extra_roots)
        self.input_check = input_check
        self.attempts = 0
        name = os.path.basename(self.input_path)
        super().__init__(
            parent, runner, identity, view,
            operation=operation or tr(f"为 {name} 加盖 {len(self.specs)} 个印章",
                                      f"Seal {name} ({len(self.specs)} seal(s))"),
            progress_title=tr("正在签章", "Sealing"), work=self._seal, precheck=self._check,
            cancelled=("已取消签章，未生成任何文件。", "Sealing was cancelled; no file was written."),
            error_title=tr("签章未完成", "Sealing did not complete"), show_errors=show_errors,
            on_unblock=getattr(parent, "unblock_pin", None),
        )

    def _check(self) -> None:  # on the worker thread, before the PIN
        if callable(self._output):
            self.output_path = str(self._output())
        precheck(self.view, self.specs, self.input_path, self.output_path)
        if self.input_check is not None:
            self.input_check()

    def _seal(self, session: Any, ctx: TaskContext) -> dict[str, Any]:
        signer = session.signer
        try:
            return ctx.engine("seal", {"input_path": self.input_path, "output_path": self.output_path,
                                       "specs": self.specs, "certificate": signer.certificate.der,
                                       "extra_roots": self.extra_roots},
                              handlers={"sign_digest": signer.sign_digest})
        except EngineCrashed:
            # the engine died holding its temporary output: remove what it abandoned
            sweep_folder(Path(self.output_path).parent, force=True)
            raise

    def _pin_given(self) -> None:
        self.attempts += 1
        super()._pin_given()

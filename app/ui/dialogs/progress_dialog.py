"""Progress of a long operation with a Cancel button (non-blocking; the work runs on a
worker thread through :mod:`app.ui.runner`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.progress import Stage
from app.ui.i18n import Text, pick, tr

STAGE_TEXT: dict[str, Text] = {
    Stage.CHECK: ("检查文件", "Checking the file"),
    Stage.COPY: ("复制原文件", "Copying the original"),
    Stage.PREPARE: ("放置印章", "Placing the seals"),
    Stage.DIGEST: ("计算摘要", "Computing the digest"),
    Stage.SIGN: ("UKey 签名", "Signing with the UKey"),
    Stage.TIMESTAMP: ("获取时间戳", "Getting a time-stamp"),
    Stage.PATCH: ("写入签名", "Writing the signature"),
    Stage.VERIFY: ("从磁盘验证签章结果", "Verifying the result from disk"),
    Stage.FINISH: ("保存文件", "Saving the file"),
    Stage.ENCRYPT: ("加密", "Encrypting"),
    Stage.DECRYPT: ("解密", "Decrypting"),
    Stage.DONE: ("完成", "Done"),
    "login": ("登录 UKey", "Logging in to the UKey"),
}


def stage_text(stage: str) -> str:
    return pick(STAGE_TEXT.get(stage, (stage, stage)))


class ProgressDialog(QDialog):
    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.stage = QLabel(tr("准备中…", "Starting…"))
        self.stage.setObjectName("progressStage")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.cancel = QPushButton(tr("取消", "Cancel"))
        self.cancel.clicked.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stage)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignRight)

    def update_progress(self, done: int, total: int, stage: str) -> None:
        self.stage.setText(stage_text(stage))
        self.bar.setValue(int(done * 1000 / total) if total > 0 else 0)

    def _cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.stage.setText(tr("正在取消…", "Cancelling…"))
        self.cancel_requested.emit()

    def reject(self) -> None:  # Esc cancels instead of hiding a running operation
        if self.cancel.isEnabled():
            self._cancel()

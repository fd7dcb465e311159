"""Open a bid envelope (``.bse``): its facts first, then the key that can open it.

Before anything is asked, the header is read on a worker thread and shown (project,
recipients with unit and serial, size, date) with which inserted key is a recipient;
if none is, the dialog says which certificate the file needs and which the keys hold.
Two ways to open it: the UKey (BidSeal's PIN dialog, one login, :class:`KeyFlow`) or
the bidder's recovery key file with its passphrase. Progress and Cancel; the output
appears only after the whole file verified, and never replaces an existing file
without asking. A damaged, truncated, altered or foreign file is reported with its
sentence and leaves nothing behind.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app import settings as app_settings
from app.atomic import same_file
from app.envelope import EnvelopeInfo, decrypt_file, read_info
from app.errors import BidSealError
from app.recovery import RecoveryKey
from app.recovery import load as load_recovery
from app.ui.dialogs.error_dialog import show_error
from app.ui.dialogs.progress_dialog import STAGE_TEXT, ProgressDialog
from app.ui.i18n import error_text, pick, tr
from app.ui.key_flow import KeyFlow
from app.ui.models.envelopes import (
    DecryptPlan,
    decrypt_plan,
    describe_info,
    output_for,
    recipient_name,
)
from app.ui.models.keys import IdentityView
from app.ui.runner import TaskContext, TaskHandle, TaskRunner

STAGE_TEXT.setdefault("passphrase", ("检查恢复密钥口令", "Checking the recovery key passphrase"))


class DecryptRefused(BidSealError):
    """A check before decryption failed; nothing was asked and nothing written."""

    code = "ERR_DECRYPT_REFUSED"


class DecryptDialog(QDialog):
    """``keys`` is the window's :class:`app.ui.keywatch.KeyWatcher` (identities and views of
    the inserted keys)."""

    def __init__(self, parent: QWidget, runner: TaskRunner, keys: Any, *,
                 envelope: str | os.PathLike[str] | None = None,
                 settings: app_settings.Settings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decryptDialog")
        self.setWindowTitle(tr("解密投标文件", "Open a bid envelope"))
        self.setMinimumWidth(640)
        self.runner = runner
        self.keys = keys
        self.settings = settings or app_settings.load()
        self.info: EnvelopeInfo | None = None
        self.plan: DecryptPlan | None = None
        self.recovery_key: RecoveryKey | None = None
        self.flow: KeyFlow | None = None
        self.handle: TaskHandle | None = None
        self.progress: ProgressDialog | None = None
        self.opened: EnvelopeInfo | None = None
        self.error: BidSealError | None = None
        self._output_touched = False
        self._loaded: tuple[str, str] | None = None

        self.path = QLineEdit()
        self.path.setObjectName("envelopePath")
        self.path.setMinimumWidth(480)  # the layout sets the dialog's minimum size from its contents
        self.path.editingFinished.connect(self._edited)
        pick_env = QPushButton(tr("选择…", "Choose…"))
        pick_env.clicked.connect(self.choose_envelope)
        self.facts = QLabel(tr("请选择信封文件（.bse）。", "Choose an envelope file (.bse)."))
        self.facts.setObjectName("envelopeFacts")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.by_key = QRadioButton(tr("用 UKey 解密", "Decrypt with the UKey"))
        self.by_key.setObjectName("byKey")
        self.key_combo = QComboBox()
        self.key_combo.setObjectName("keyCombo")
        self.by_recovery = QRadioButton(tr("用恢复密钥文件解密（UKey 丢失、损坏或证书已更新时）",
                                           "Decrypt with the recovery key file (key lost, broken or renewed)"))
        self.by_recovery.setObjectName("byRecovery")
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.by_key)
        self.mode.addButton(self.by_recovery)
        self.recovery_path = QLineEdit(self.settings.recovery_file or "")
        self.recovery_path.setObjectName("decryptRecoveryPath")
        self.recovery_path.editingFinished.connect(self._edited)
        pick_rec = QPushButton(tr("选择…", "Choose…"))
        pick_rec.clicked.connect(self.choose_recovery)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText(tr("恢复密钥口令", "Recovery key passphrase"))
        self.who = QLabel()
        self.who.setObjectName("whoCanOpen")
        self.who.setWordWrap(True)
        how = QGroupBox(tr("用什么打开", "Open with"))
        hbox = QVBoxLayout(how)
        hbox.addWidget(self.who)
        hbox.addWidget(self.by_key)
        hbox.addWidget(self.key_combo)
        hbox.addWidget(self.by_recovery)
        rrow = QHBoxLayout()
        rrow.addWidget(self.recovery_path, 1)
        rrow.addWidget(pick_rec)
        hbox.addLayout(rrow)
        hbox.addWidget(self.passphrase)

        self.output = QLineEdit()
        self.output.setObjectName("decryptOutput")
        self.output.setMinimumWidth(480)
        self.output.textEdited.connect(lambda _t: setattr(self, "_output_touched", True))
        pick_out = QPushButton(tr("另存为…", "Save as…"))
        pick_out.clicked.connect(self.choose_output)
        form = QFormLayout()
        erow = QHBoxLayout()
        erow.addWidget(self.path, 1)
        erow.addWidget(pick_env)
        form.addRow(tr("信封文件", "Envelope"), erow)
        orow = QHBoxLayout()
        orow.addWidget(self.output, 1)
        orow.addWidget(pick_out)

        self.result_label = QLabel()
        self.result_label.setObjectName("decryptResult")
        self.result_label.setWordWrap(True)
        self.result_label.setVisible(False)
        self.buttons = QDialogButtonBox()
        self.go = self.buttons.addButton(tr("解密", "Decrypt"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("decryptButton")
        self.go.setEnabled(False)
        close = self.buttons.addButton(tr("关闭", "Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.go.clicked.connect(self.decrypt)
        close.clicked.connect(self.reject)
        self.by_key.toggled.connect(self._mode_changed)

        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with the facts shown
        layout.addLayout(form)
        layout.addWidget(self.facts)
        layout.addWidget(how)
        out_form = QFormLayout()
        out_form.addRow(tr("保存为", "Save as"), orow)
        layout.addLayout(out_form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)
        self._mode_changed()
        self.setAcceptDrops(True)
        if envelope:
            self.set_envelope(envelope)

    # -- choosing -----------------------------------------------------------------------------------
    def choose_envelope(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择信封文件", "Choose the envelope"), "",
                                              tr("BidSeal 信封 (*.bse);;所有文件 (*)", "BidSeal envelopes (*.bse);;All files (*)"))
        if path:
            self.set_envelope(path)

    def set_envelope(self, path: str | os.PathLike[str]) -> TaskHandle:
        self.path.setText(str(path))
        if not self._output_touched:
            self.output.setText(str(output_for(self.settings, path, "decrypted")))
        return self.reload()

    def choose_recovery(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择恢复密钥文件", "Choose the recovery key file"), "",
                                              tr("恢复密钥 (*.bsrk);;所有文件 (*)", "Recovery keys (*.bsrk);;All files (*)"))
        if path:
            self.set_recovery(path)

    def set_recovery(self, path: str) -> TaskHandle:
        self.recovery_path.setText(path)
        self.by_recovery.setChecked(True)
        return self.reload()

    def choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("解密后保存为", "Save the decrypted file as"), self.output.text())
        if path:
            self._output_touched = True
            self.output.setText(path)

    # -- reading the header -------------------------------------------------------------------------
    def _edited(self) -> None:
        """A path field lost focus: read again only if it changed (a click on Decrypt must not
        re-read the file and disable the button under the mouse)."""
        if self._loaded != (self.path.text().strip(), self.recovery_path.text().strip()):
            self.reload()

    def reload(self) -> TaskHandle:
        """Read the header (and the recovery file) on a worker thread and decide who can open it."""
        src = self.path.text().strip()
        rec_path = self.recovery_path.text().strip()
        self._loaded = (src, rec_path)
        identities = list(self.keys.identities.items())

        def read(ctx: TaskContext) -> tuple[EnvelopeInfo, RecoveryKey | None, str, DecryptPlan]:
            info = read_info(src)
            key, rec_problem = None, ""
            if rec_path:
                try:
                    key = load_recovery(rec_path)
                except BidSealError as exc:
                    rec_problem = error_text(exc)
            plan = decrypt_plan(info, identities, key.certificate if key else None)
            return info, key, rec_problem, plan

        self.go.setEnabled(False)
        self.info, self.plan = None, None
        return self.runner.submit(read, name="envelope-info", on_result=self._read, on_error=self._read_failed)

    def _read_failed(self, exc: BidSealError) -> None:
        self.error = exc
        self.facts.setText(f'<span style="color:#a00000">{html.escape(error_text(exc))}</span>')
        self.who.setText("")
        self.key_combo.clear()

    def _read(self, data: tuple[EnvelopeInfo, RecoveryKey | None, str, DecryptPlan]) -> None:
        info, key, rec_problem, plan = data
        self.info, self.recovery_key, self.plan, self.error = info, key, plan, None
        rows = "".join(f"<tr><td>{html.escape(pick(label))}：</td><td>{html.escape(value)}</td></tr>"
                       for label, value in describe_info(info))
        recips = "<br>".join(html.escape(f"• {recipient_name(r.unit_name, r.common_name)}  "
                                         f"{tr('代码', 'code')} {r.unit_code or '-'}  "
                                         f"{tr('序列号', 'serial')} {r.serial_hex}") for r in info.recipients)
        self.facts.setText(f"<table>{rows}</table><b>{html.escape(tr('接收者', 'Recipients'))}</b><br>{recips}")
        self.key_combo.clear()
        for key_id in plan.key_ids:
            view: IdentityView | None = self.keys.view(key_id)
            self.key_combo.addItem(pick(view.title) if view else key_id, key_id)
        lines = []
        if plan.key_ids:
            lines.append(tr("插入的 UKey 可以打开此文件。", "An inserted key can open this file."))
        else:
            lines.append(tr("插入的 UKey 都不是此文件的接收者。", "No inserted key is a recipient of this file."))
            lines += [pick(plan.needed), pick(plan.held)]
        if rec_problem:
            lines.append(tr("恢复密钥文件：", "Recovery key file: ") + rec_problem)
        elif plan.recovery_ok is False:
            lines.append(tr("所选恢复密钥文件不是此文件的接收者（加密时没有加入它）。",
                            "The chosen recovery key file is not a recipient (it was not added when encrypting)."))
        elif plan.recovery_ok:
            lines.append(tr("所选恢复密钥文件可以打开此文件。", "The chosen recovery key file can open this file."))
        self.who.setText("<br>".join(html.escape(line) for line in lines))
        self.by_key.setEnabled(bool(plan.key_ids))
        if plan.key_ids and not self.by_recovery.isChecked():
            self.by_key.setChecked(True)
        elif not plan.key_ids:
            self.by_recovery.setChecked(True)
        self._mode_changed()

    def _mode_changed(self, *_: object) -> None:
        key = self.by_key.isChecked()
        self.key_combo.setEnabled(key)
        self.passphrase.setEnabled(not key)
        self.recovery_path.setEnabled(not key)
        plan = self.plan
        self.go.setEnabled(plan is not None and ((key and bool(plan.key_ids)) or (not key and bool(plan.recovery_ok))))

    # -- decrypting ---------------------------------------------------------------------------------
    def _output(self) -> tuple[Path, Path, bool] | None:
        src, dst = Path(self.path.text().strip()), Path(self.output.text().strip())
        if not self.output.text().strip():
            raise DecryptRefused("请填写解密后文件的保存位置。", "Enter where to save the decrypted file.")
        if same_file(src, dst):
            raise DecryptRefused("解密结果不能覆盖信封文件，请另选文件名。",
                                 "The decrypted file cannot replace the envelope; choose another name.")
        if not dst.parent.is_dir():
            raise DecryptRefused("保存解密文件的文件夹不存在。", "The folder for the decrypted file does not exist.",
                                 details={"folder": str(dst.parent)})
        replace = False
        if dst.exists():
            answer = QMessageBox.question(self, tr("文件已存在", "File exists"),
                                          tr(f"{dst.name} 已存在，要替换它吗？", f"{dst.name} exists. Replace it?"))
            if answer != QMessageBox.StandardButton.Yes:
                return None
            replace = True
        return src, dst, replace

    def decrypt(self) -> Any:
        try:
            out = self._output()
        except DecryptRefused as exc:
            self.error = exc
            show_error(self, exc, tr("无法解密", "Cannot decrypt"))
            return None
        if out is None:
            return None
        src, dst, replace = out
        self.opened, self.error = None, None
        self.result_label.setVisible(False)
        if self.by_recovery.isChecked():
            return self._by_recovery(src, dst, replace)
        key_id = self.key_combo.currentData()
        identity = self.keys.identity(key_id)
        view = self.keys.view(key_id)

        def work(session: Any, ctx: TaskContext) -> EnvelopeInfo:
            return decrypt_file(src, dst, session.unwrapper, progress=ctx.progress, cancel=ctx.cancel,
                                replace=replace)

        def precheck() -> None:
            read_info(src)  # changed or damaged since it was shown: fail before the PIN

        self.go.setEnabled(False)
        flow = KeyFlow(self, self.runner, identity, view, work=work, precheck=precheck,
                       operation=tr(f"解密 {src.name}", f"Decrypt {src.name}"),
                       progress_title=tr("正在解密", "Decrypting"),
                       cancelled=("已取消解密，未生成任何文件。", "Decryption cancelled; no file was written."),
                       error_title=tr("解密未完成", "Decryption did not complete"),
                       on_unblock=getattr(self.parent(), "unblock_pin", None))
        self.flow = flow
        flow.finished.connect(self._flow_finished)
        flow.start()
        return flow

    def _by_recovery(self, src: Path, dst: Path, replace: bool) -> TaskHandle | None:
        key = self.recovery_key
        passphrase = self.passphrase.text()
        self.passphrase.clear()
        if key is None or not passphrase:
            exc = DecryptRefused("请选择恢复密钥文件并输入它的口令。", "Choose the recovery key file and enter its passphrase.")
            self.error = exc
            show_error(self, exc, tr("无法解密", "Cannot decrypt"))
            return None

        def run(ctx: TaskContext) -> EnvelopeInfo:
            ctx.progress(0, 1000, "passphrase")
            unwrapper = key.unlock(passphrase)
            return decrypt_file(src, dst, unwrapper, progress=ctx.progress, cancel=ctx.cancel, replace=replace)

        self.go.setEnabled(False)
        self.progress = ProgressDialog(tr("正在解密", "Decrypting"), self)
        self.handle = self.runner.submit(run, name="decrypt-recovery", on_result=lambda info: self._finished(info, None),
                                         on_error=lambda exc: self._finished(None, exc),
                                         on_progress=self.progress.update_progress)
        self.progress.cancel_requested.connect(self.handle.cancel)
        self.progress.open()
        return self.handle

    def _flow_finished(self, info: EnvelopeInfo | None, error: BidSealError | None) -> None:
        self._finished(info, error, shown=True)

    def _finished(self, info: EnvelopeInfo | None, error: BidSealError | None, shown: bool = False) -> None:
        if self.progress is not None:
            self.progress.done(0)
            self.progress.deleteLater()
            self.progress = None
        self.opened, self.error = info, error
        self._mode_changed()
        if error is not None:
            if error.code == "ERR_CANCELLED":
                self.result_label.setText(tr("已取消，未生成任何文件。", "Cancelled; no file was written."))
                self.result_label.setVisible(True)
            elif not shown:
                show_error(self, error, tr("解密未完成", "Decryption did not complete"))
            return
        assert info is not None
        self.result_label.setText(html.escape(tr(
            f"已解密并通过完整性校验：{self.output.text()}\nSM3（明文）：{info.plaintext_sm3}",
            f"Decrypted and verified: {self.output.text()}\nSM3 (plaintext): {info.plaintext_sm3}")).replace("\n", "<br>"))
        self.result_label.setVisible(True)
        parent: Any = self.parent()
        if hasattr(parent, "notify"):
            parent.notify(tr(f"已解密：{Path(self.output.text()).name}", f"Decrypted: {Path(self.output.text()).name}"))

    # -- drag & drop: an envelope, or the recovery key file ------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        event.acceptProposedAction()
        for path in (u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()):
            if Path(path).suffix.lower() == ".bsrk":
                self.set_recovery(path)
            else:
                self.set_envelope(path)

    def reject(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()
        if self.flow is not None and not self.flow.done:
            self.flow.cancel()
        super().reject()

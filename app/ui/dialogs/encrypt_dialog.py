"""Encrypt a bid file into a BidSeal envelope (``<name>.bse``).

Recipients in one click: the selected key's encryption certificate (a checkbox, no
export), plus any number of certificate files (a trading centre's emergency
certificate) and, optionally, the bidder's recovery key file. Each is checked the way
the engine checks it; a refused one (a signing certificate, an expired one, a file that
is no certificate) shows its reason and blocks encryption until it is removed. Project /
section ID and the bid-opening date (for the certificate lifecycle guard). The work runs
on a worker thread with progress and Cancel; the result shows the envelope's facts and
any warning that a recipient certificate expires before the opening.
"""

from __future__ import annotations

import html
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import settings as app_settings
from app.atomic import same_file
from app.envelope import EnvelopeInfo, encrypt_file
from app.envelope.records import EnvelopeRecords, LifecycleWarning
from app.errors import BidSealError
from app.gm.x509 import Certificate
from app.ui.dialogs.error_dialog import show_error
from app.ui.dialogs.progress_dialog import ProgressDialog
from app.ui.i18n import language, pick, tr
from app.ui.models.envelopes import (
    SOURCE_LABEL,
    RecipientRow,
    key_recipient,
    merge_rows,
    output_for,
    recipient_name,
    recovery_row,
    rows_from_certificate_file,
)
from app.ui.runner import TaskContext, TaskHandle, TaskRunner

CERT_SUFFIXES = (".cer", ".crt", ".pem", ".der")


class EncryptRefused(BidSealError):
    """A check before encryption failed; nothing was written."""

    code = "ERR_ENCRYPT_REFUSED"


class EncryptDialog(QDialog):
    def __init__(self, parent: QWidget, runner: TaskRunner, *, key_certificate: Certificate | None = None,
                 key_title: str = "", input_path: str | os.PathLike[str] | None = None,
                 settings: app_settings.Settings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("encryptDialog")
        self.setWindowTitle(tr("加密投标文件", "Encrypt a bid file"))
        self.setMinimumWidth(640)
        self.runner = runner
        self.settings = settings or app_settings.load()
        self.key_row = key_recipient(key_certificate) if key_certificate is not None else None
        self.rows: list[RecipientRow] = []
        self.recovery: RecipientRow | None = None
        self.handle: TaskHandle | None = None
        self.progress: ProgressDialog | None = None
        self.envelope: EnvelopeInfo | None = None
        self.warnings: list[LifecycleWarning] = []
        self.error: BidSealError | None = None
        self._output_touched = False

        self.input = QLineEdit()
        self.input.setObjectName("encryptInput")
        self.input.textChanged.connect(self._input_changed)
        pick_in = QPushButton(tr("选择…", "Choose…"))
        pick_in.clicked.connect(self.choose_input)
        self.output = QLineEdit()
        self.output.setObjectName("encryptOutput")
        self.output.textEdited.connect(lambda _t: setattr(self, "_output_touched", True))
        pick_out = QPushButton(tr("另存为…", "Save as…"))
        pick_out.clicked.connect(self.choose_output)

        self.use_key = QCheckBox()
        self.use_key.setObjectName("useKeyCertificate")
        if self.key_row is not None:
            self.use_key.setText(tr("加密给本 UKey 的加密证书：", "Encrypt to this key's encryption certificate: ")
                                 + pick(self.key_row.label) + (f"（{key_title}）" if key_title else ""))
            self.use_key.setChecked(self.key_row.ok)
            self.use_key.setEnabled(True)
        else:
            self.use_key.setText(tr("没有选中带加密证书的 UKey", "No key with an encryption certificate is selected"))
            self.use_key.setEnabled(False)
        self.key_problem = QLabel(pick(self.key_row.problem) if self.key_row and self.key_row.problem else "")
        self.key_problem.setStyleSheet("color:#a00000")
        self.key_problem.setWordWrap(True)
        self.key_problem.setVisible(bool(self.key_row and self.key_row.problem))
        self.list = QListWidget()
        self.list.setObjectName("recipientList")
        self.list.setMinimumHeight(90)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        add = QPushButton(tr("添加证书文件…", "Add certificate files…"))
        add.setObjectName("addCertificates")
        add.clicked.connect(self.choose_certificates)
        remove = QPushButton(tr("移除", "Remove"))
        remove.clicked.connect(self.remove_selected)
        recipients = QGroupBox(tr("接收者（谁能解密）", "Recipients (who can decrypt)"))
        rbox = QVBoxLayout(recipients)
        rbox.addWidget(self.use_key)
        rbox.addWidget(self.key_problem)
        rbox.addWidget(QLabel(tr("其他证书（如交易中心应急证书）：", "Other certificates (e.g. the centre's emergency "
                                 "certificate):")))
        rbox.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        rbox.addLayout(row)

        self.use_recovery = QCheckBox(tr("同时加入恢复密钥文件（UKey 丢失或损坏时用口令解密）",
                                         "Also add a recovery key file (opens with its passphrase if the key is "
                                         "lost or broken)"))
        self.use_recovery.setObjectName("useRecovery")
        self.recovery_path = QLineEdit(self.settings.recovery_file or "")
        self.recovery_path.setObjectName("recoveryPath")
        self.recovery_info = QLabel()
        self.recovery_info.setWordWrap(True)
        pick_rec = QPushButton(tr("选择…", "Choose…"))
        pick_rec.clicked.connect(self.choose_recovery)
        self.use_recovery.toggled.connect(self._recovery_changed)
        self.recovery_path.editingFinished.connect(self._recovery_changed)
        rec = QGroupBox(tr("恢复密钥（应急预案）", "Recovery key (emergency plan)"))
        recbox = QVBoxLayout(rec)
        recbox.addWidget(self.use_recovery)
        rrow = QHBoxLayout()
        rrow.addWidget(self.recovery_path, 1)
        rrow.addWidget(pick_rec)
        recbox.addLayout(rrow)
        recbox.addWidget(self.recovery_info)

        self.project = QLineEdit()
        self.project.setObjectName("projectId")
        self.project.setPlaceholderText(tr("例如 LNGG-2026-001 第 1 标段", "e.g. LNGG-2026-001 section 1"))
        self.has_opening = QCheckBox(tr("开标时间", "Opening"))
        self.has_opening.setObjectName("hasOpening")
        self.opening = QDateTimeEdit(QDateTime.currentDateTime().addDays(7))
        self.opening.setObjectName("openingTime")
        self.opening.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.opening.setCalendarPopup(True)
        self.opening.setEnabled(False)
        self.has_opening.toggled.connect(self.opening.setEnabled)

        form = QFormLayout()
        in_row = QHBoxLayout()
        in_row.addWidget(self.input, 1)
        in_row.addWidget(pick_in)
        form.addRow(tr("投标文件", "Bid file"), in_row)
        form.addRow(tr("项目/标段编号", "Project / section"), self.project)
        op_row = QHBoxLayout()
        op_row.addWidget(self.opening, 1)
        form.addRow(self.has_opening, op_row)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(pick_out)
        form.addRow(tr("保存为", "Save as"), out_row)

        self.result_label = QLabel()
        self.result_label.setObjectName("encryptResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setVisible(False)

        self.buttons = QDialogButtonBox()
        self.go = self.buttons.addButton(tr("加密", "Encrypt"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("encryptButton")
        close = self.buttons.addButton(tr("关闭", "Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.go.clicked.connect(self.encrypt)
        close.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows with the facts shown
        layout.addLayout(form)
        layout.addWidget(recipients)
        layout.addWidget(rec)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)
        self.setAcceptDrops(True)
        if input_path:
            self.input.setText(str(input_path))
        if self.recovery_path.text():
            self._recovery_changed()

    # -- inputs ---------------------------------------------------------------------------------
    def _input_changed(self, text: str) -> None:
        if text and not self._output_touched:
            self.output.setText(str(output_for(self.settings, text, "envelope")))

    def choose_input(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择要加密的投标文件", "Choose the bid file to encrypt"))
        if path:
            self.input.setText(path)

    def choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("信封文件保存为", "Save the envelope as"), self.output.text(),
                                              tr("BidSeal 信封 (*.bse)", "BidSeal envelope (*.bse)"))
        if path:
            self._output_touched = True
            self.output.setText(path)

    def choose_certificates(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, tr("选择接收者的加密证书", "Choose recipients' encryption certificates"), "",
            tr("证书 (*.cer *.crt *.pem *.der *.bsrk);;所有文件 (*)",
               "Certificates (*.cer *.crt *.pem *.der *.bsrk);;All files (*)"))
        if paths:
            self.add_certificate_files(paths)

    def add_certificate_files(self, paths: list[str]) -> TaskHandle:
        """Read and check the files on a worker thread, then list them."""
        def read(ctx: TaskContext) -> list[RecipientRow]:
            return [row for p in paths for row in rows_from_certificate_file(p)]

        return self.runner.submit(read, name="read-certificates", on_result=self._add_rows,
                                  on_error=self._show_error)

    def _show_error(self, exc: BidSealError) -> None:
        show_error(self, exc)

    def _add_rows(self, rows: list[RecipientRow]) -> None:
        self.rows = merge_rows([*self.rows, *rows])
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        for row in self.rows:
            text = f"[{pick(SOURCE_LABEL[row.source])}] {pick(row.label)}"
            if row.problem:
                text += "  —  " + tr("不能使用：", "cannot be used: ") + pick(row.problem)
            item = QListWidgetItem(text)
            if row.problem:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.list.addItem(item)

    def remove_selected(self) -> None:
        for index in sorted((i.row() for i in self.list.selectedIndexes()), reverse=True):
            del self.rows[index]
        self._fill()

    def choose_recovery(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择恢复密钥文件", "Choose the recovery key file"), "",
                                              tr("恢复密钥 (*.bsrk);;所有文件 (*)", "Recovery keys (*.bsrk);;All files (*)"))
        if path:
            self.set_recovery(path)

    def set_recovery(self, path: str) -> TaskHandle | None:
        self.recovery_path.setText(path)
        self.use_recovery.setChecked(True)
        return self._recovery_changed()

    def _recovery_changed(self, *_: object) -> TaskHandle | None:
        path = self.recovery_path.text().strip()
        if not self.use_recovery.isChecked() or not path:
            self.recovery = None
            self.recovery_info.setText("")
            return None
        return self.runner.submit(lambda ctx: recovery_row(path), name="read-recovery", on_result=self._recovery_read)

    def _recovery_read(self, row: RecipientRow) -> None:
        self.recovery = row
        if row.problem:
            self.recovery_info.setText(f'<span style="color:#a00000">{html.escape(pick(row.problem))}</span>')
        else:
            assert row.certificate is not None
            self.recovery_info.setText(html.escape(tr(
                f"恢复密钥：{pick(row.label)}，SM3 指纹 {row.certificate.fingerprint_sm3[:16]}…",
                f"Recovery key: {pick(row.label)}, SM3 fingerprint {row.certificate.fingerprint_sm3[:16]}…")))

    # -- the work ---------------------------------------------------------------------------------
    def recipients(self) -> list[RecipientRow]:
        chosen: list[RecipientRow] = []
        if self.key_row is not None and self.use_key.isChecked():
            chosen.append(self.key_row)
        chosen += self.rows
        if self.use_recovery.isChecked() and self.recovery is not None:
            chosen.append(self.recovery)
        return merge_rows(chosen)

    def _check(self) -> tuple[Path, Path, list[RecipientRow], bool] | None:
        src, dst = Path(self.input.text().strip()), Path(self.output.text().strip())
        if not self.input.text().strip() or not src.is_file():
            raise EncryptRefused("请选择要加密的投标文件。", "Choose the bid file to encrypt.", details={"file": str(src)})
        if not self.output.text().strip():
            raise EncryptRefused("请填写信封文件的保存位置。", "Enter where to save the envelope.")
        if same_file(src, dst):
            raise EncryptRefused("信封文件不能覆盖原文件，请另选文件名。",
                                 "The envelope cannot replace the original; choose another name.")
        rows = self.recipients()
        bad = [r for r in rows if not r.ok]
        if self.use_recovery.isChecked() and self.recovery is None:
            raise EncryptRefused("请选择恢复密钥文件，或取消勾选恢复密钥。",
                                 "Choose the recovery key file, or untick the recovery key.")
        if bad:
            first = bad[0]
            raise EncryptRefused(f"{pick(first.label)}不能作为接收者：{first.problem[0] if first.problem else ''}"
                                 "请移除后再加密。",
                                 f"{first.label[1]} cannot be a recipient: {first.problem[1] if first.problem else ''} "
                                 "Remove it and encrypt again.")
        if not rows:
            raise EncryptRefused("至少需要一个接收者：勾选本 UKey 的加密证书，或添加证书文件。",
                                 "At least one recipient is needed: tick this key's encryption certificate or add "
                                 "certificate files.")
        replace = False
        if dst.exists():
            answer = QMessageBox.question(self, tr("文件已存在", "File exists"),
                                          tr(f"{dst.name} 已存在，要替换它吗？", f"{dst.name} exists. Replace it?"))
            if answer != QMessageBox.StandardButton.Yes:
                return None
            replace = True
        return src, dst, rows, replace

    def encrypt(self) -> TaskHandle | None:
        try:
            checked = self._check()
        except EncryptRefused as exc:
            self.error = exc
            show_error(self, exc, tr("无法加密", "Cannot encrypt"))
            return None
        if checked is None:
            return None
        src, dst, rows, replace = checked
        certs = [r.certificate for r in rows if r.certificate is not None]
        recovery = [r.certificate for r in rows if r.source == "recovery" and r.certificate is not None]
        project = self.project.text().strip() or None
        opening = (datetime.fromtimestamp(self.opening.dateTime().toSecsSinceEpoch(), UTC)
                   if self.has_opening.isChecked() else None)

        def run(ctx: TaskContext) -> tuple[EnvelopeInfo, list[LifecycleWarning]]:
            info = encrypt_file(src, dst, certs, project_id=project, replace=replace,
                                progress=ctx.progress, cancel=ctx.cancel)
            try:
                rec = EnvelopeRecords().add(dst, info, certs, opening=opening, recovery=recovery)
                warnings = rec.warnings()
            except BidSealError:  # the envelope is fine; only the reminder could not be saved
                warnings = []
            return info, warnings

        self.envelope, self.error = None, None
        self.go.setEnabled(False)
        self.progress = ProgressDialog(tr("正在加密", "Encrypting"), self)
        self.handle = self.runner.submit(run, name="encrypt", on_result=self._done, on_error=self._failed,
                                         on_progress=self.progress.update_progress, on_done=self._finished)
        self.progress.cancel_requested.connect(self.handle.cancel)
        self.progress.open()
        return self.handle

    def _finished(self) -> None:
        self.go.setEnabled(True)
        if self.progress is not None:
            self.progress.done(0)
            self.progress.deleteLater()
            self.progress = None

    def _failed(self, exc: BidSealError) -> None:
        self.error = exc
        if exc.code != "ERR_CANCELLED":
            show_error(self, exc, tr("加密未完成", "Encryption did not complete"))
        else:
            self.result_label.setText(tr("已取消，未生成信封文件。", "Cancelled; no envelope was written."))
            self.result_label.setVisible(True)

    def _done(self, result: tuple[EnvelopeInfo, list[LifecycleWarning]]) -> None:
        info, warnings = result
        self.envelope, self.warnings = info, warnings
        lines = [tr(f"已加密：{self.output.text()}", f"Encrypted: {self.output.text()}"),
                 tr(f"项目/标段：{info.project_id or '-'}；大小：{info.envelope_size} 字节；SM3（明文）：{info.plaintext_sm3}",
                    f"Project: {info.project_id or '-'}; size: {info.envelope_size} bytes; SM3 (plaintext): "
                    f"{info.plaintext_sm3}"),
                 tr("接收者：", "Recipients:")]
        lines += [f"  • {recipient_name(r.unit_name, r.common_name)}（{r.serial_hex}）" for r in info.recipients]
        text = "<br>".join(html.escape(line) for line in lines)
        for w in warnings:
            text += f'<br><span style="color:#c0392b;font-weight:600">{html.escape(w.message(language()))}</span>'
        self.result_label.setText(text)
        self.result_label.setVisible(True)
        parent: Any = self.parent()
        if hasattr(parent, "notify"):
            parent.notify(tr(f"已加密：{Path(self.output.text()).name}", f"Encrypted: {Path(self.output.text()).name}"))

    # -- drag & drop: a bid file dropped on the dialog is the file to encrypt; certificate
    # files (.cer/.crt/.pem/.der) are recipients, a .bsrk is the recovery key --------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        certs = [p for p in paths if Path(p).suffix.lower() in CERT_SUFFIXES]
        for p in paths:
            if Path(p).suffix.lower() == ".bsrk":
                self.set_recovery(p)
            elif p not in certs:
                self.input.setText(p)
        if certs:
            self.add_certificate_files(certs)

    def reject(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()
        super().reject()

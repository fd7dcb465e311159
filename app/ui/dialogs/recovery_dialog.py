"""The recovery key file: make one, and rehearse opening it (the passphrase drill).

Making it: unit name and code (from the selected key), a passphrase typed twice (at
least 10 characters), where to save it; the key is generated and sealed on a worker
thread (scrypt takes about half a second), the file is never overwritten, and the
settings remember it so the encrypt dialog offers it. The result shows the SM3
fingerprint the bidder writes down. The drill opens an existing file with its
passphrase and says whether it works, without decrypting anything.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import settings as app_settings
from app.errors import BidSealError
from app.recovery import MIN_PASSPHRASE, SUFFIX, RecoveryKey, load, new_recovery_key, save
from app.ui.dialogs.error_dialog import show_error
from app.ui.i18n import error_text, tr
from app.ui.runner import TaskContext, TaskHandle, TaskRunner


def _password_field(name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class RecoveryDialog(QDialog):
    def __init__(self, parent: QWidget, runner: TaskRunner, *, unit_name: str = "", unit_code: str = "",
                 folder: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setWindowTitle(tr("恢复密钥文件", "Recovery key file"))
        self.setMinimumWidth(560)
        self.runner = runner
        self.made: RecoveryKey | None = None
        self.checked: bool | None = None
        self.error: BidSealError | None = None
        self.handle: TaskHandle | None = None

        intro = QLabel(tr(
            "恢复密钥文件是开标应急预案：加密投标文件时把它也作为接收者加入，UKey 丢失、损坏、口令锁定或证书更新后，"
            "仍可用此文件和口令解密。请离线保存（U 盘、保险柜），口令另行保管。",
            "The recovery key file is the bid-opening emergency plan: add it as a recipient when encrypting, and "
            "if the key is lost, broken, locked or its certificate renewed, the file and its passphrase still open "
            "the bid. Keep it offline (USB stick, safe) and the passphrase elsewhere."))
        intro.setWordWrap(True)
        self.tabs = QTabWidget()

        # -- make ----------------------------------------------------------------------------
        make = QWidget()
        self.unit = QLineEdit(unit_name)
        self.unit.setObjectName("recoveryUnit")
        self.code = QLineEdit(unit_code)
        self.code.setObjectName("recoveryCode")
        self.pass1 = _password_field("recoveryPass1", tr(f"至少 {MIN_PASSPHRASE} 个字符，建议一句长句",
                                                         f"At least {MIN_PASSPHRASE} characters; a sentence is best"))
        self.pass2 = _password_field("recoveryPass2", tr("再次输入", "Repeat it"))
        default_name = f"{unit_name or 'BidSeal'}-恢复密钥{SUFFIX}"
        self.path = QLineEdit(str(Path(folder or Path.home()) / default_name))
        self.path.setObjectName("recoverySavePath")
        pick = QPushButton(tr("另存为…", "Save as…"))
        pick.clicked.connect(self.choose_path)
        self.make_button = QPushButton(tr("生成恢复密钥文件", "Make the recovery key file"))
        self.make_button.setObjectName("makeRecovery")
        self.make_button.clicked.connect(self.make)
        self.made_label = QLabel()
        self.made_label.setObjectName("recoveryMade")
        self.made_label.setWordWrap(True)
        form = QFormLayout(make)
        form.addRow(tr("单位名称", "Unit name"), self.unit)
        form.addRow(tr("统一社会信用代码", "Unit code"), self.code)
        form.addRow(tr("口令", "Passphrase"), self.pass1)
        form.addRow(tr("确认口令", "Repeat"), self.pass2)
        prow = QHBoxLayout()
        prow.addWidget(self.path, 1)
        prow.addWidget(pick)
        form.addRow(tr("保存到", "Save to"), prow)
        form.addRow(self.make_button)
        form.addRow(self.made_label)
        self.tabs.addTab(make, tr("新建", "Make one"))

        # -- drill ---------------------------------------------------------------------------
        drill = QWidget()
        self.check_path = QLineEdit(app_settings.load().recovery_file or "")
        self.check_path.setObjectName("recoveryCheckPath")
        pick2 = QPushButton(tr("选择…", "Choose…"))
        pick2.clicked.connect(self.choose_check_path)
        self.check_pass = _password_field("recoveryCheckPass", tr("恢复密钥口令", "Recovery key passphrase"))
        self.check_button = QPushButton(tr("检查口令", "Check the passphrase"))
        self.check_button.setObjectName("checkRecovery")
        self.check_button.clicked.connect(self.check)
        self.check_label = QLabel()
        self.check_label.setObjectName("recoveryChecked")
        self.check_label.setWordWrap(True)
        dform = QFormLayout(drill)
        crow = QHBoxLayout()
        crow.addWidget(self.check_path, 1)
        crow.addWidget(pick2)
        dform.addRow(tr("恢复密钥文件", "Recovery key file"), crow)
        dform.addRow(tr("口令", "Passphrase"), self.check_pass)
        dform.addRow(self.check_button)
        dform.addRow(self.check_label)
        self.tabs.addTab(drill, tr("演练（检查口令）", "Drill (check the passphrase)"))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("关闭", "Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(intro)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def choose_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("恢复密钥文件保存为", "Save the recovery key file as"),
                                              self.path.text(), tr("恢复密钥 (*.bsrk)", "Recovery keys (*.bsrk)"))
        if path:
            self.path.setText(path)

    def choose_check_path(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择恢复密钥文件", "Choose the recovery key file"), "",
                                              tr("恢复密钥 (*.bsrk);;所有文件 (*)", "Recovery keys (*.bsrk);;All files (*)"))
        if path:
            self.check_path.setText(path)

    def _refuse(self, zh: str, en: str, code: str = "ERR_RECOVERY_INPUT") -> None:
        self.error = BidSealError(zh, en, code=code)
        show_error(self, self.error, tr("恢复密钥", "Recovery key"))

    def make(self) -> TaskHandle | None:
        first, second = self.pass1.text(), self.pass2.text()
        self.pass1.clear()
        self.pass2.clear()
        if first != second:
            self._refuse("两次输入的口令不一致，请重新输入。", "The two passphrases differ; type them again.")
            return None
        dst = Path(self.path.text().strip())
        if dst.exists():
            self._refuse(f"{dst.name} 已存在，不会覆盖：旧恢复密钥可能仍是某些投标文件唯一的恢复途径。请另选文件名。",
                         f"{dst.name} exists and will not be overwritten: the old recovery key may be the only "
                         "way to open some bids. Choose another name.", "ERR_OUTPUT_EXISTS")
            return None
        unit, code = self.unit.text().strip() or None, self.code.text().strip() or None

        def run(ctx: TaskContext) -> RecoveryKey:
            key = new_recovery_key(first, unit_name=unit, unit_code=code)
            save(key, dst)
            app_settings.update(recovery_file=str(dst))
            return key

        self.error, self.made = None, None
        self.make_button.setEnabled(False)
        self.handle = self.runner.submit(run, name="recovery-new", on_result=self._made, on_error=self._failed,
                                         on_done=lambda: self.make_button.setEnabled(True))
        return self.handle

    def _made(self, key: RecoveryKey) -> None:
        self.made = key
        self.check_path.setText(self.path.text())
        self.made_label.setText(html.escape(tr(
            f"已生成：{self.path.text()}\n证书序列号 {key.serial_hex}\nSM3 指纹：{key.fingerprint}\n"
            "请抄下指纹，并把文件复制到 U 盘离线保存。加密投标文件时勾选“同时加入恢复密钥文件”。",
            f"Made: {self.path.text()}\nCertificate serial {key.serial_hex}\nSM3 fingerprint: {key.fingerprint}\n"
            "Write the fingerprint down and copy the file to a USB stick kept offline. Tick “Also add a recovery "
            "key file” when you encrypt a bid.")).replace("\n", "<br>"))

    def _failed(self, exc: BidSealError) -> None:
        self.error = exc
        show_error(self, exc, tr("恢复密钥", "Recovery key"))

    def check(self) -> TaskHandle:
        path, passphrase = self.check_path.text().strip(), self.check_pass.text()
        self.check_pass.clear()

        def run(ctx: TaskContext) -> bool:
            load(path).unlock(passphrase)
            return True

        self.checked, self.error = None, None

        def failed(exc: BidSealError) -> None:
            self.checked, self.error = False, exc
            self.check_label.setText(f'<span style="color:#a00000">{html.escape(error_text(exc))}</span>')

        def ok(_r: bool) -> None:
            self.checked = True
            self.check_label.setText(html.escape(tr("口令正确，恢复密钥可以使用。", "The passphrase is right; the "
                                                                             "recovery key works.")))

        return self.runner.submit(run, name="recovery-check", on_result=ok, on_error=failed)

"""Settings: language, SKF libraries, trust roots, time-stamp server, output naming,
time server, recovery key, allowed hub origins.

Each value is edited where it lives, so nothing is stored twice: language, libraries,
TSA, output naming, time server and recovery file in :mod:`app.settings` (the one
settings file, which the token layer also reads), then handed to the window
(``apply_settings``); the TSA password only in the system keyring; trust roots in the
trust store (:mod:`app.trust`, shown when this build has it); hub origins in the web
helper's own configuration (:mod:`app.helper.config`, shown with where to change them).
A vendor library is checked (file, binary format, bitness) on a worker thread before it
is added.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import settings as app_settings
from app.errors import BidSealError
from app.ui.dialogs.error_dialog import show_error
from app.ui.i18n import tr
from app.ui.runner import TaskContext, TaskHandle, TaskRunner


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == 0 else 0)
    return row


class SettingsDialog(QDialog):
    """``window`` provides ``settings`` (the window's), ``set_language(lang)`` and ``notify``."""

    def __init__(self, window: Any, runner: TaskRunner) -> None:
        super().__init__(window)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("设置", "Settings"))
        self.setMinimumWidth(680)
        self.window_ = window
        self.runner = runner
        self.current = app_settings.load()
        self.libraries: list[str] = list(self.current.skf_libraries)
        self.saved = False
        self.error: BidSealError | None = None
        self.checking: TaskHandle | None = None
        tabs = QTabWidget()

        # -- general -------------------------------------------------------------------------------
        general = QWidget()
        self.language = QComboBox()
        self.language.setObjectName("settingsLanguage")
        self.language.addItem("中文", "zh_CN")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(1 if str(getattr(window.settings, "language", "")).startswith("en") else 0)
        self.sealed_name = QLineEdit(self.current.sealed_name)
        self.sealed_name.setObjectName("sealedName")
        self.output_folder = QLineEdit(self.current.output_folder or "")
        self.output_folder.setObjectName("outputFolder")
        self.output_folder.setPlaceholderText(tr("留空：保存在原文件旁边", "Empty: next to the original"))
        pick_folder = QPushButton(tr("选择…", "Choose…"))
        pick_folder.clicked.connect(self.choose_folder)
        self.envelope_name = QLineEdit(self.current.envelope_name)
        self.envelope_name.setObjectName("envelopeName")
        self.decrypted_name = QLineEdit(self.current.decrypted_name)
        self.decrypted_name.setObjectName("decryptedName")
        self.recovery_file = QLineEdit(self.current.recovery_file or "")
        self.recovery_file.setObjectName("settingsRecovery")
        gform = QFormLayout(general)
        gform.addRow(tr("界面语言", "Language"), self.language)
        gform.addRow(tr("签章文件名", "Sealed file name"), self.sealed_name)
        gform.addRow(tr("输出文件夹", "Output folder"), _row(self.output_folder, pick_folder))
        gform.addRow(tr("信封文件名", "Envelope name"), self.envelope_name)
        gform.addRow(tr("解密文件名", "Decrypted name"), self.decrypted_name)
        gform.addRow(QLabel(tr("可用 {stem}（不含扩展名）、{name}（完整文件名）、{suffix}（扩展名）。",
                               "Use {stem} (name without extension), {name} (full name), {suffix} (extension).")))
        gform.addRow(tr("默认恢复密钥文件", "Default recovery key"), self.recovery_file)
        tabs.addTab(general, tr("常规", "General"))

        # -- keys ----------------------------------------------------------------------------------
        keys = QWidget()
        self.lib_list = QListWidget()
        self.lib_list.setObjectName("libraryList")
        self.lib_list.addItems(self.libraries)
        add_lib = QPushButton(tr("添加驱动库…", "Add a library…"))
        add_lib.setObjectName("addLibrary")
        add_lib.clicked.connect(self.choose_library)
        remove_lib = QPushButton(tr("移除", "Remove"))
        remove_lib.clicked.connect(self.remove_library)
        self.lib_note = QLabel()
        self.lib_note.setObjectName("libraryNote")
        self.lib_note.setWordWrap(True)
        kbox = QVBoxLayout(keys)
        kbox.addWidget(QLabel(tr("CA 的 UKey 驱动装在非常规位置时，在这里添加它的 SKF 接口库（Windows 为 .dll，Linux 为 .so）。",
                                 "If your CA's UKey driver sits somewhere unusual, add its SKF library here (.dll on "
                                 "Windows, .so on Linux).")))
        kbox.addWidget(self.lib_list)
        kbox.addLayout(_row(QLabel(), add_lib, remove_lib))
        kbox.addWidget(self.lib_note)
        tabs.addTab(keys, tr("UKey 驱动", "UKey drivers"))

        # -- time -----------------------------------------------------------------------------------
        time_tab = QWidget()
        self.tsa_url = QLineEdit(self.current.tsa_url or "")
        self.tsa_url.setObjectName("tsaUrl")
        self.tsa_user = QLineEdit(self.current.tsa_username or "")
        self.tsa_user.setObjectName("tsaUser")
        self.tsa_password = QLineEdit()
        self.tsa_password.setObjectName("tsaPassword")
        self.tsa_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.tsa_password.setPlaceholderText(tr("留空则不修改（保存在系统钥匙串中）", "Empty: unchanged (kept in the "
                                                                         "system keyring)"))
        self.time_server = QLineEdit(self.current.time_server or "")
        self.time_server.setObjectName("timeServer")
        self.time_server.setPlaceholderText("ntp.ntsc.ac.cn")
        tform = QFormLayout(time_tab)
        tform.addRow(tr("时间戳服务地址", "Time-stamp server"), self.tsa_url)
        tform.addRow(tr("时间戳服务用户名", "TSA user name"), self.tsa_user)
        tform.addRow(tr("时间戳服务密码", "TSA password"), self.tsa_password)
        tform.addRow(tr("时间服务器（一键检测用）", "Time server (diagnostics)"), self.time_server)
        tabs.addTab(time_tab, tr("时间", "Time"))

        # -- trust and hubs (owned elsewhere, shown here) ------------------------------------------------
        trust = QWidget()
        self.roots = QListWidget()
        self.roots.setObjectName("trustRoots")
        self.roots_note = QLabel()
        self.roots_note.setObjectName("trustNote")
        self.roots_note.setWordWrap(True)
        add_root = QPushButton(tr("导入根证书…", "Import a root certificate…"))
        add_root.setObjectName("importRoot")
        add_root.clicked.connect(self.choose_root)
        remove_root = QPushButton(tr("移除", "Remove"))
        remove_root.clicked.connect(self.remove_root)
        self.origins = QLabel()
        self.origins.setObjectName("hubOrigins")
        self.origins.setWordWrap(True)
        tbox = QVBoxLayout(trust)
        rgroup = QGroupBox(tr("信任的根证书（验章使用）", "Trusted root certificates (for verification)"))
        rbox = QVBoxLayout(rgroup)
        rbox.addWidget(self.roots)
        rbox.addLayout(_row(self.roots_note, add_root, remove_root))
        ogroup = QGroupBox(tr("允许调用网页助手的平台网址", "Platform addresses allowed to use the web helper"))
        obox = QVBoxLayout(ogroup)
        obox.addWidget(self.origins)
        self.helper_enabled = QCheckBox(tr("随本窗口运行网页助手（重新打开 BidSeal 后生效）",
                                           "Run the web helper with this window (after restarting BidSeal)"))
        self.helper_enabled.setObjectName("helperEnabled")
        self.helper_enabled.setChecked(self.current.helper_enabled)
        obox.addWidget(self.helper_enabled)
        tbox.addWidget(rgroup)
        tbox.addWidget(ogroup)
        tbox.addStretch(1)
        tabs.addTab(trust, tr("信任与平台", "Trust and platforms"))
        self._load_owned_elsewhere()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(tr("保存", "Save"))
        self.save_button.setObjectName("saveSettings")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消", "Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if self.current.problems:
            warn = QLabel("<br>".join(html.escape(p) for p in self.current.problems))
            warn.setStyleSheet("color:#c5221f")
            warn.setWordWrap(True)
            layout.addWidget(warn)
        layout.addWidget(tabs)
        layout.addWidget(self.buttons)

    # -- trust store and hub origins: read here, owned by their packages -------------------------------
    def _load_owned_elsewhere(self) -> None:
        self._fill_roots()
        try:
            from app.helper.config import load_config

            config = load_config()
            from app import paths

            where = paths.config_dir() / "helper.json"
            listed = "<br>".join(html.escape(f"{o}  {h.name}") for o, h in sorted(config.hubs.items()))
            self.origins.setText((listed or tr("尚未允许任何平台。", "No platform is allowed yet.")) + "<br><br>"
                                 + html.escape(tr(f"由网页助手的配置管理：{where}（或交易平台下发的签名平台列表）。",
                                                  f"Managed by the web helper's configuration: {where} (or signed "
                                                  "platform lists from the trading platform).")))
        except ImportError:
            self.origins.setText(tr("此版本没有网页助手。", "This build has no web helper."))

    # -- trust roots (the trust store the CLI's verify uses) ----------------------------------------------
    def _fill_roots(self) -> None:
        from app.trust.store import TrustStore

        self.trust_entries = TrustStore().list()
        self.roots.clear()
        for e in self.trust_entries:
            c = e.certificate
            tag = {"shipped": tr("内置", "shipped"), "user": tr("导入", "imported")}.get(e.source, e.source)
            demo = tr("，演示", ", demo") if e.demo else ""
            self.roots.addItem(f"{c.common_name or c.subject.rfc4514()}  {tr('有效至', 'until')} "
                               f"{c.not_after:%Y-%m-%d}  （{tag}{demo}）")
        if not self.trust_entries:
            self.roots_note.setText(tr("未信任任何根证书：验章时签名会显示为“签名者不受信任”。",
                                       "No root is trusted: signatures will show as 'untrusted signer'."))

    def choose_root(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择 CA 根证书", "Choose a CA root certificate"), "",
                                              tr("证书 (*.cer *.crt *.pem *.der);;所有文件 (*)",
                                                 "Certificates (*.cer *.crt *.pem *.der);;All files (*)"))
        if path:
            self.import_root(path)

    def import_root(self, path: str) -> TaskHandle:
        """Add a root to the trust store on a worker thread (a non-CA certificate is refused)."""
        def add(ctx: TaskContext) -> int:
            from app.trust.store import TrustStore

            return len(TrustStore().add_file(Path(path)))

        def added(count: int) -> None:
            self._fill_roots()
            self.roots_note.setText(html.escape(tr(f"已导入 {count} 个根证书。", f"{count} root(s) imported.")))

        def refused(exc: BidSealError) -> None:
            self.error = exc
            self.roots_note.setText(f'<span style="color:#c5221f">{html.escape(tr(exc.zh, exc.en))}</span>')

        return self.runner.submit(add, name="trust-add", on_result=added, on_error=refused)

    def remove_root(self) -> None:
        from app.trust.store import TrustStore

        rows = sorted({i.row() for i in self.roots.selectedIndexes()})
        try:
            for row in rows:
                TrustStore().remove(self.trust_entries[row].fingerprint)
        except BidSealError as exc:
            show_error(self, exc)
        self._fill_roots()

    # -- libraries ------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("选择输出文件夹", "Choose the output folder"),
                                                self.output_folder.text() or str(Path.home()))
        if path:
            self.output_folder.setText(path)

    def choose_library(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择 SKF 驱动库", "Choose the SKF library"), "",
                                              tr("驱动库 (*.dll *.so *.so.* *.dylib);;所有文件 (*)",
                                                 "Libraries (*.dll *.so *.so.* *.dylib);;All files (*)"))
        if path:
            self.add_library(path)

    def add_library(self, path: str) -> TaskHandle:
        """Check the file on a worker thread (exists, a library, the right bitness), then list it."""
        def probe(ctx: TaskContext) -> tuple[str, str]:
            from app.token.skf_ffi import probe_library

            info = probe_library(path)
            return str(Path(path).resolve()), f"{info.format}, {info.bits}-bit"

        def added(result: tuple[str, str]) -> None:
            resolved, what = result
            if resolved not in self.libraries:
                self.libraries.append(resolved)
                self.lib_list.addItem(resolved)
            self.lib_note.setText(html.escape(tr(f"已检查：{resolved}（{what}）。保存后生效。",
                                                 f"Checked: {resolved} ({what}). Takes effect when saved.")))

        def refused(exc: BidSealError) -> None:
            self.error = exc
            self.lib_note.setText(f'<span style="color:#c5221f">{html.escape(tr(exc.zh, exc.en))}</span>')

        self.checking = self.runner.submit(probe, name="probe-library", on_result=added, on_error=refused)
        return self.checking

    def remove_library(self) -> None:
        for index in sorted((i.row() for i in self.lib_list.selectedIndexes()), reverse=True):
            del self.libraries[index]
            self.lib_list.takeItem(index)

    # -- saving ------------------------------------------------------------------------------------------
    def collected(self) -> app_settings.Settings:
        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        return dataclasses.replace(
            self.current, problems=(), language=self.language.currentData(),
            sealed_name=self.sealed_name.text().strip() or app_settings.Settings.sealed_name,
            skf_libraries=tuple(self.libraries), tsa_url=text(self.tsa_url),
            tsa_username=text(self.tsa_user), output_folder=text(self.output_folder),
            envelope_name=self.envelope_name.text().strip() or app_settings.Settings.envelope_name,
            decrypted_name=self.decrypted_name.text().strip() or app_settings.Settings.decrypted_name,
            recovery_file=text(self.recovery_file), time_server=text(self.time_server),
            helper_enabled=self.helper_enabled.isChecked())

    def save(self) -> bool:
        new = self.collected()
        try:
            app_settings.save(new)  # validates first; nothing is written when a value is refused
            password = self.tsa_password.text()
            self.tsa_password.clear()
            if password:
                app_settings.set_secret("tsa_password", password)
        except BidSealError as exc:
            self.error = exc
            show_error(self, exc, tr("设置未保存", "Settings not saved"))
            return False
        self.current, self.saved = new, True
        apply_to_window(self.window_, new)
        if hasattr(self.window_, "notify"):
            self.window_.notify(tr("设置已保存。", "Settings saved."))
        self.accept()
        return True


def apply_to_window(window: Any, new: app_settings.Settings) -> None:
    """Hand the saved settings to the window (language switches at once)."""
    if hasattr(window, "apply_settings"):
        window.apply_settings(new)

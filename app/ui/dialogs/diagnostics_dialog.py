"""一键检测: every check with its status and what to do, the bid-opening emergency guide,
and the support report.

The checks run on a worker thread (:func:`app.diagnostics.run_diagnostics`) and appear
as a list: status, what was checked, what was found, and the fix in words a bidder
understands. Two tabs hold the emergency guide ("证书无法读取", "无法解密") with the
steps that match the findings marked. "生成支持报告" writes the zip support asks for
(never a PIN, a private key or a document).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.diagnostics import (
    DiagnosticReport,
    Status,
    emergency_guide,
    run_diagnostics,
    write_support_report,
)
from app.diagnostics.guide import GUIDES
from app.errors import BidSealError
from app.ui.dialogs.error_dialog import show_error
from app.ui.i18n import Text, language, pick, tr
from app.ui.runner import TaskContext, TaskHandle, TaskRunner

STATUS_TEXT: dict[Status, Text] = {
    Status.OK: ("正常", "OK"),
    Status.INFO: ("提示", "Info"),
    Status.WARNING: ("注意", "Warning"),
    Status.ERROR: ("有问题", "Problem"),
    Status.SKIPPED: ("未检查", "Not checked"),
}
STATUS_COLOUR = {Status.OK: "#1e8e3e", Status.INFO: "#1a73e8", Status.WARNING: "#e37400",
                 Status.ERROR: "#c5221f", Status.SKIPPED: "#80868b"}


class DiagnosticsDialog(QDialog):
    def __init__(self, parent: QWidget, runner: TaskRunner, *, run_now: bool = True,
                 options: dict[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosticsDialog")
        self.setWindowTitle(tr("一键检测", "Diagnostics"))
        self.resize(900, 600)
        self.runner = runner
        self.options = dict(options or {})
        self.report: DiagnosticReport | None = None
        self.error: BidSealError | None = None
        self.handle: TaskHandle | None = None
        self.support_path: Path | None = None

        self.overall = QLabel(tr("正在检测…", "Checking…"))
        self.overall.setObjectName("diagnosticsOverall")
        self.overall.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.tree = QTreeWidget()
        self.tree.setObjectName("diagnosticsTree")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels([tr("状态", "Status"), tr("检查项", "Check"), tr("结果", "Finding")])
        self.tree.setWordWrap(True)
        self.tree.setColumnWidth(0, 90)
        self.tree.setColumnWidth(1, 190)
        self.guides: dict[str, QLabel] = {}
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, tr("检测结果", "Findings"))
        for gid, guide in GUIDES.items():
            label = QLabel()
            label.setObjectName(f"guide_{gid}")
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.guides[gid] = label
            self.tabs.addTab(label, tr("应急指引：", "Emergency guide: ") + pick((guide.title.zh, guide.title.en)))
        self._render_guides()

        self.again = QPushButton(tr("重新检测", "Check again"))
        self.again.setObjectName("runDiagnostics")
        self.again.clicked.connect(self.run)
        self.support = QPushButton(tr("生成支持报告…", "Make a support report…"))
        self.support.setObjectName("supportReport")
        self.support.clicked.connect(self.choose_report_path)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("关闭", "Close"))
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.again)
        row.addWidget(self.support)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.overall)
        layout.addWidget(self.bar)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(row)
        if run_now:
            self.run()

    # -- checks -----------------------------------------------------------------------------------
    def run(self) -> TaskHandle:
        options = self.options

        def work(ctx: TaskContext) -> DiagnosticReport:
            return run_diagnostics(progress=ctx.progress, cancel=ctx.cancel, **options)

        self.again.setEnabled(False)
        self.report, self.error = None, None
        self.overall.setText(tr("正在检测…", "Checking…"))
        self.bar.setRange(0, 0)
        self.handle = self.runner.submit(work, name="diagnostics", on_result=self._show, on_error=self._failed,
                                         on_progress=self._progress, on_done=lambda: self.again.setEnabled(True))
        return self.handle

    def _progress(self, done: int, total: int, _stage: str) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    def _failed(self, exc: BidSealError) -> None:
        self.error = exc
        self.bar.setRange(0, 1)
        if exc.code != "ERR_CANCELLED":
            show_error(self, exc, tr("检测未完成", "The diagnosis did not complete"))

    def _show(self, report: DiagnosticReport) -> None:
        self.report = report
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        lang = language()
        self.tree.clear()
        for check in report.checks:
            item = QTreeWidgetItem([pick(STATUS_TEXT[check.status]), check.title.get(lang), check.summary.get(lang)])
            item.setForeground(0, QBrush(QColor(STATUS_COLOUR[check.status])))
            item.setData(0, Qt.ItemDataRole.UserRole, check.id)
            item.setToolTip(2, check.summary.get(lang))
            if check.fix is not None:
                fix = QTreeWidgetItem(["", tr("怎么办", "What to do"), check.fix.get(lang)])
                fix.setToolTip(2, check.fix.get(lang))
                item.addChild(fix)
            self.tree.addTopLevelItem(item)
            item.setExpanded(check.status in (Status.ERROR, Status.WARNING))
        problems = report.problems()
        if report.status is Status.ERROR:
            text = tr(f"发现 {len(problems)} 个需要处理的问题（红色、橙色），展开可看处理方法。",
                      f"{len(problems)} thing(s) need attention (red, orange); expand them for what to do.")
            colour = STATUS_COLOUR[Status.ERROR]
        elif problems:
            text = tr(f"可以使用，但有 {len(problems)} 项需要注意。", f"Usable, but {len(problems)} thing(s) need "
                      "attention.")
            colour = STATUS_COLOUR[Status.WARNING]
        else:
            text, colour = tr("一切正常。", "Everything is fine."), STATUS_COLOUR[Status.OK]
        self.overall.setText(f'<span style="color:{colour};font-weight:600">{html.escape(text)}</span>')
        self._render_guides()

    def status_of(self, check_id: str) -> list[Status]:
        return [c.status for c in self.report.checks if c.id == check_id] if self.report else []

    def _render_guides(self) -> None:
        lang = language()
        for gid, label in self.guides.items():
            guide = emergency_guide(gid, self.report)
            lines = []
            for n, step in enumerate(guide.steps, 1):
                text = html.escape(step.text.get(lang))
                if step.highlighted:
                    text = f'<b style="color:#c5221f">{text}</b>'
                lines.append(f"<p>{n}. {text}</p>")
            note = tr("（红色步骤与本次检测发现的问题有关，请先做。）", "(Steps in red match what the diagnosis found; "
                      "do them first.)") if any(s.highlighted for s in guide.steps) else ""
            label.setText(f"<h3>{html.escape(guide.title.get(lang))}</h3>{''.join(lines)}<p>{html.escape(note)}</p>")

    # -- support report -----------------------------------------------------------------------------
    def choose_report_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("支持报告保存为", "Save the support report as"),
                                              str(Path.home() / "BidSeal-支持报告.zip"), "Zip (*.zip)")
        if path:
            self.write_report(path)

    def write_report(self, path: str | Path) -> TaskHandle | None:
        report = self.report
        if report is None:
            show_error(self, BidSealError("请等检测完成后再生成支持报告。", "Wait for the diagnosis to finish first.",
                                          code="ERR_NOT_READY"))
            return None
        self.support_path = None

        def work(ctx: TaskContext) -> Path:
            return write_support_report(path, report).path

        def done(written: Path) -> None:
            self.support_path = written
            parent: Any = self.parent()
            message = tr(f"支持报告已保存：{written}（不含口令、私钥和投标文件）",
                         f"Support report saved: {written} (no PIN, private key or document)")
            self.overall.setText(html.escape(message))
            if hasattr(parent, "notify"):
                parent.notify(message)

        return self.runner.submit(work, name="support-report", on_result=done, on_error=self._report_failed)

    def _report_failed(self, exc: BidSealError) -> None:
        self.error = exc
        show_error(self, exc, tr("支持报告", "Support report"))

    def reject(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()
        super().reject()

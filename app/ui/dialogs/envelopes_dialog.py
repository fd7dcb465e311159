"""The pending-envelopes page: the certificate lifecycle guard in the window.

Lists the envelopes BidSeal made (file, project, opening date, state) with every
warning: a recipient certificate expiring before the opening, or the inserted key now
holding a different encryption certificate than the one a bid was made for. The bidder
sets the opening date, marks an envelope opened or forgets it, and, before renewing a
certificate at the CA, asks which bids depend on it ("renewing re-issues the encryption
key ..."). Reading and writing the records run on worker threads.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.envelope.records import EnvelopeRecord, EnvelopeRecords, LifecycleWarning
from app.errors import BidSealError
from app.gm.x509 import Certificate
from app.ui.dialogs.error_dialog import show_error
from app.ui.i18n import Text, language, pick, tr
from app.ui.runner import TaskContext, TaskHandle, TaskRunner

STATE_TEXT: dict[str, Text] = {
    "waiting": ("待开标", "waiting"),
    "due": ("已到开标时间", "opening reached"),
    "opened": ("已开标", "opened"),
    "missing": ("文件不见了", "file missing"),
}
COLUMNS: tuple[Text, ...] = (("文件", "File"), ("项目/标段", "Project"), ("开标时间", "Opening"),
                             ("状态", "State"), ("提醒", "Warnings"))


class EnvelopesDialog(QDialog):
    """``present_certificates()`` gives the encryption certificates of the inserted keys;
    ``selected_certificate()`` the selected key's (for the renewal check)."""

    def __init__(self, parent: QWidget, runner: TaskRunner, *, present_certificates: Any = None,
                 selected_certificate: Any = None, store: EnvelopeRecords | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("envelopesDialog")
        self.setWindowTitle(tr("待开标的投标文件", "Pending bid envelopes"))
        self.resize(860, 420)
        self.runner = runner
        self.store = store or EnvelopeRecords()
        self.present_certificates: Callable[[], list[Certificate]] = present_certificates or (lambda: [])
        self.selected_certificate: Callable[[], Certificate | None] = selected_certificate or (lambda: None)
        self.records: list[EnvelopeRecord] = []
        self.changed: list[LifecycleWarning] = []
        self.renewal: list[LifecycleWarning] | None = None
        self.loaded = False

        self.summary = QLabel()
        self.summary.setObjectName("envelopesSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("envelopesTable")
        self.table.setHorizontalHeaderLabels([pick(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.show_all = QCheckBox(tr("显示已开标的", "Show opened ones"))
        self.show_all.toggled.connect(lambda _c: self.refresh())
        self.opening = QDateTimeEdit(QDateTime.currentDateTime().addDays(7))
        self.opening.setObjectName("recordOpening")
        self.opening.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.opening.setCalendarPopup(True)
        set_opening = QPushButton(tr("设为开标时间", "Set as opening"))
        set_opening.setObjectName("setOpening")
        set_opening.clicked.connect(self.set_opening)
        mark = QPushButton(tr("标记为已开标", "Mark opened"))
        mark.setObjectName("markOpened")
        mark.clicked.connect(self.mark_opened)
        forget = QPushButton(tr("删除记录", "Forget"))
        forget.clicked.connect(self.forget)
        renew = QPushButton(tr("证书更新前检查…", "Before renewing a certificate…"))
        renew.setObjectName("renewalCheck")
        renew.clicked.connect(self.renewal_check)
        self.renewal_label = QLabel()
        self.renewal_label.setObjectName("renewalText")
        self.renewal_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.show_all)
        row.addStretch(1)
        row.addWidget(self.opening)
        row.addWidget(set_opening)
        row.addWidget(mark)
        row.addWidget(forget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("关闭", "Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        rrow = QHBoxLayout()
        rrow.addWidget(renew)
        rrow.addWidget(self.renewal_label, 1)
        layout.addLayout(rrow)
        layout.addWidget(buttons)
        self.refresh()

    # -- reading ---------------------------------------------------------------------------------
    def refresh(self) -> TaskHandle:
        include = self.show_all.isChecked()
        present = list(self.present_certificates())
        store = self.store

        def read(ctx: TaskContext) -> tuple[list[EnvelopeRecord], list[LifecycleWarning]]:
            return store.entries(include_opened=include), store.changed_certificate_warnings(present)

        self.loaded = False
        return self.runner.submit(read, name="envelope-records", on_result=self._show, on_error=self._failed)

    def _failed(self, exc: BidSealError) -> None:
        self.loaded = True
        show_error(self, exc, tr("投标文件记录", "Envelope records"))

    def _show(self, data: tuple[list[EnvelopeRecord], list[LifecycleWarning]]) -> None:
        self.records, self.changed = data
        now = datetime.now(UTC)
        lang = language()
        self.table.setRowCount(len(self.records))
        worst = 0
        for row, rec in enumerate(self.records):
            warnings = rec.warnings(now) + [w for w in self.changed if w.file_id == rec.file_id]
            worst += len(warnings)
            opening = f"{rec.opening.astimezone():%Y-%m-%d %H:%M}" if rec.opening else tr("未填写", "not set")
            cells = (rec.file_name, rec.project or "-", opening, pick(STATE_TEXT[rec.state(now)]),
                     "\n".join(w.message(lang) for w in warnings) or tr("无", "none"))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(rec.path if col == 0 else text)
                if col == 4 and warnings:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        if not self.records:
            self.summary.setText(tr("没有待开标的投标文件记录。加密投标文件后会自动记录在这里。",
                                    "No pending envelopes. Envelopes you encrypt are recorded here."))
        elif worst:
            text = tr(f"{len(self.records)} 个投标文件，其中有 {worst} 条提醒：请在开标前处理。",
                      f"{len(self.records)} envelope(s) with {worst} warning(s): act before the opening.")
            self.summary.setText(f'<span style="color:#c0392b;font-weight:600">{html.escape(text)}</span>')
        else:
            self.summary.setText(html.escape(tr(f"{len(self.records)} 个投标文件，证书都能用到开标。",
                                                f"{len(self.records)} envelope(s); every certificate lasts until "
                                                "the opening.")))
        self.loaded = True

    # -- changing ---------------------------------------------------------------------------------
    def selected(self) -> EnvelopeRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.records[rows[0].row()] if rows else None

    def _change(self, fn: Any) -> TaskHandle | None:
        rec = self.selected()
        if rec is None:
            show_error(self, BidSealError("请先在列表中选择一个投标文件。", "Select an envelope in the list first.",
                                          code="ERR_NOTHING_SELECTED"))
            return None
        file_id = rec.file_id
        return self.runner.submit(lambda ctx: fn(file_id), name="envelope-record-change",
                                  on_result=lambda _r: self._refresh_quietly(), on_error=self._failed)

    def _refresh_quietly(self) -> None:
        self.refresh()

    def set_opening(self) -> TaskHandle | None:
        when = datetime.fromtimestamp(self.opening.dateTime().toSecsSinceEpoch(), UTC)
        return self._change(lambda fid: self.store.set_opening(fid, when))

    def mark_opened(self) -> TaskHandle | None:
        return self._change(self.store.mark_opened)

    def forget(self) -> TaskHandle | None:
        return self._change(self.store.forget)

    def renewal_check(self) -> TaskHandle | None:
        cert: Certificate | None = self.selected_certificate()
        if cert is None:
            self.renewal_label.setText(tr("请先在左侧选择要更新证书的 UKey。", "Select the key whose certificate you "
                                                                  "will renew first."))
            return None

        def run(ctx: TaskContext) -> list[LifecycleWarning]:
            return self.store.renewal_warnings(cert)

        def show(warnings: list[LifecycleWarning]) -> None:
            self.renewal = warnings
            if not warnings:
                self.renewal_label.setText(html.escape(tr(
                    f"没有待开标的投标文件依赖加密证书 {cert.serial_hex}，可以更新。",
                    f"No pending envelope depends on encryption certificate {cert.serial_hex}; it can be renewed.")))
                return
            text = "<br>".join(html.escape(w.message(language())) for w in warnings)
            self.renewal_label.setText(f'<span style="color:#c0392b">{text}</span>')

        return self.runner.submit(run, name="renewal-check", on_result=show, on_error=self._failed)

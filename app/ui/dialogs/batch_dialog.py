"""Batch sealing: many PDFs, one seal placement, one PIN.

Files come from a folder or a list; the seal goes at a keyword (every hit or the n-th)
or at a fixed page and corner, optionally with a cross-page seal; outputs go to an
output folder with the window's sealed-file suffix. One login (:class:`KeyFlow`) for
the whole batch; each file is sealed by the same engine operation as the workspace
(verified from disk, written through a temporary file), and its row in the table says
sealed or refused with the reason as soon as it is done. A refused file does not stop
the batch; a removed key, a locked PIN or Cancel does, and leaves the finished files
and no partial one. The results export as CSV.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.errors import BidSealError
from app.pdfsign.batch_csv import write_csv
from app.ui.dialogs.error_dialog import show_error
from app.ui.i18n import Text, error_text, pick, tr
from app.ui.key_flow import KeyFlow
from app.ui.models.batch import (
    POSITIONS,
    BatchJob,
    BatchPlanError,
    BatchResult,
    Placement,
    collect_pdfs,
    is_fatal,
    page_index,
    plan_jobs,
    specs_for,
)
from app.ui.models.document import SealChoice
from app.ui.runner import TaskContext, TaskRunner

STATE_TEXT: dict[str, Text] = {
    "waiting": ("等待", "waiting"),
    "sealing": ("正在签章…", "sealing…"),
    "sealed": ("已签章", "sealed"),
    "refused": ("未签章", "refused"),
    "skipped": ("未处理", "not done"),
}
POSITION_TEXT: dict[str, Text] = {
    "bottom-right": ("右下角", "bottom right"), "bottom-left": ("左下角", "bottom left"),
    "top-right": ("右上角", "top right"), "top-left": ("左上角", "top left"), "center": ("页面中央", "centre"),
}


class BatchDialog(QDialog):
    """``window`` provides ``current_identity()``, ``seal_choices()``, ``settings`` (the shared
    :class:`app.settings.Settings`: sealed-file naming), ``unblock_pin`` and ``notify``."""

    def __init__(self, window: Any, runner: TaskRunner) -> None:
        super().__init__(window)
        self.setObjectName("batchDialog")
        self.setWindowTitle(tr("批量签章", "Batch sealing"))
        self.resize(900, 640)
        self.window_ = window
        self.runner = runner
        self.files: list[Path] = []
        self.results: list[BatchResult] = []
        self.flow: KeyFlow | None = None
        self.finished_batch = False
        self.error: BidSealError | None = None
        self.csv_path: Path | None = None

        add_files = QPushButton(tr("添加文件…", "Add files…"))
        add_files.clicked.connect(self.choose_files)
        add_folder = QPushButton(tr("添加文件夹…", "Add a folder…"))
        add_folder.clicked.connect(self.choose_folder)
        clear = QPushButton(tr("清空", "Clear"))
        clear.clicked.connect(self.clear_files)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("batchTable")
        self.table.setHorizontalHeaderLabels([tr("文件", "File"), tr("结果", "Result"), tr("说明", "Details")])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)

        self.by_keyword = QRadioButton(tr("按关键字", "At a keyword"))
        self.by_keyword.setObjectName("byKeyword")
        self.by_keyword.setChecked(True)
        self.fixed = QRadioButton(tr("固定位置", "Fixed position"))
        self.fixed.setObjectName("byFixed")
        group = QButtonGroup(self)
        group.addButton(self.by_keyword)
        group.addButton(self.fixed)
        self.keyword = QLineEdit("投标人（盖章）")
        self.keyword.setObjectName("batchKeyword")
        self.occurrence = QSpinBox()
        self.occurrence.setObjectName("batchOccurrence")
        self.occurrence.setRange(0, 999)
        self.occurrence.setSpecialValueText(tr("每一处", "every hit"))
        self.page = QComboBox()
        self.page.setObjectName("batchPage")
        self.page.addItem(tr("最后一页", "Last page"), "last")
        self.page.addItem(tr("第一页", "First page"), "first")
        for n in range(2, 21):
            self.page.addItem(tr(f"第 {n} 页", f"Page {n}"), n)
        self.position = QComboBox()
        self.position.setObjectName("batchPosition")
        for key in POSITIONS:
            self.position.addItem(pick(POSITION_TEXT[key]), key)
        self.size_spin = QDoubleSpinBox()
        self.size_spin.setRange(10, 80)
        self.size_spin.setSuffix(" mm")
        self.size_spin.setValue(float(getattr(window.settings, "seal_size_mm", 42.0)))
        self.seal = QComboBox()
        self.seal.setObjectName("batchSeal")
        self.choices: list[SealChoice] = list(window.seal_choices()) if hasattr(window, "seal_choices") else []
        for choice in self.choices:
            self.seal.addItem(pick(choice.label), choice.key)
        self.cross = QCheckBox(tr("同时加盖骑缝章", "Also a cross-page seal"))
        self.cross.setObjectName("batchCross")
        self.out_folder = QLineEdit()
        self.out_folder.setObjectName("batchOutFolder")
        pick_out = QPushButton(tr("选择…", "Choose…"))
        pick_out.clicked.connect(self.choose_out_folder)

        where = QGroupBox(tr("盖在哪里", "Where"))
        wform = QFormLayout(where)
        krow = QHBoxLayout()
        krow.addWidget(self.keyword, 1)
        krow.addWidget(QLabel(tr("第", "hit")))
        krow.addWidget(self.occurrence)
        wform.addRow(self.by_keyword, krow)
        frow = QHBoxLayout()
        frow.addWidget(self.page)
        frow.addWidget(self.position)
        wform.addRow(self.fixed, frow)
        wform.addRow(tr("印章", "Seal"), self.seal)
        wform.addRow(tr("大小", "Size"), self.size_spin)
        wform.addRow(self.cross)
        orow = QHBoxLayout()
        orow.addWidget(self.out_folder, 1)
        orow.addWidget(pick_out)
        wform.addRow(tr("输出文件夹", "Output folder"), orow)

        self.summary = QLabel(tr("添加要签章的 PDF 文件。", "Add the PDF files to seal."))
        self.summary.setObjectName("batchSummary")
        self.summary.setWordWrap(True)
        self.start_button = QPushButton(tr("开始签章", "Seal all"))
        self.start_button.setObjectName("batchStart")
        self.start_button.clicked.connect(self.start)
        self.export = QPushButton(tr("导出结果（CSV）…", "Export results (CSV)…"))
        self.export.setObjectName("batchExport")
        self.export.setEnabled(False)
        self.export.clicked.connect(self.choose_csv)
        close = QPushButton(tr("关闭", "Close"))
        close.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(add_files)
        top.addWidget(add_folder)
        top.addWidget(clear)
        top.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.export)
        bottom.addWidget(self.start_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(where)
        layout.addLayout(bottom)

    # -- files ---------------------------------------------------------------------------------
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, tr("选择 PDF 文件", "Choose PDF files"), "",
                                                tr("PDF 文件 (*.pdf)", "PDF files (*.pdf)"))
        if paths:
            self.add_paths(paths)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("选择文件夹", "Choose a folder"))
        if path:
            self.add_paths([path])

    def choose_out_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("选择输出文件夹", "Choose the output folder"))
        if path:
            self.out_folder.setText(path)

    def add_paths(self, paths: list[str]) -> None:
        for f in collect_pdfs(paths):
            if f not in self.files:
                self.files.append(f)
        if not self.out_folder.text() and self.files:
            self.out_folder.setText(str(self.files[0].parent))
        self.results = []
        self._fill()

    def clear_files(self) -> None:
        self.files, self.results = [], []
        self._fill()

    def _fill(self) -> None:
        rows = self.results or [BatchResult(BatchJob(f, f)) for f in self.files]
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            self._set_row(i, r)
        self.summary.setText(tr(f"共 {len(self.files)} 个文件。", f"{len(self.files)} file(s)."))

    def _set_row(self, i: int, r: BatchResult) -> None:
        detail = ""
        if r.state == "sealed":
            detail = tr(f"{r.seals} 个印章 → {r.job.output.name}", f"{r.seals} seal(s) → {r.job.output.name}")
        elif r.error is not None:
            detail = error_text(r.error)
        for col, text in enumerate((r.job.input.name, pick(STATE_TEXT[r.state]), detail)):
            item = QTableWidgetItem(text)
            item.setToolTip(str(r.job.input) if col == 0 else text)
            if r.state == "refused":
                item.setForeground(Qt.GlobalColor.darkRed)
            elif r.state == "sealed":
                item.setForeground(Qt.GlobalColor.darkGreen)
            self.table.setItem(i, col, item)

    # -- sealing ---------------------------------------------------------------------------------
    def placement(self) -> Placement:
        occ = int(self.occurrence.value()) or None
        return Placement(mode="keyword" if self.by_keyword.isChecked() else "fixed", keyword=self.keyword.text().strip(),
                         occurrence=occ, page=self.page.currentData(), position=self.position.currentData(),
                         size_mm=float(self.size_spin.value()), cross_page=self.cross.isChecked())

    def _refuse(self, exc: BidSealError) -> None:
        self.error = exc
        show_error(self, exc, tr("无法开始批量签章", "Cannot start the batch"))

    def start(self) -> KeyFlow | None:
        identity, view = self.window_.current_identity()
        placement = self.placement()
        try:
            if identity is None or view is None or view.sign is None:
                raise BatchPlanError("请插入 UKey 并在左侧选择用于签章的证书。", "Insert your key and choose the identity "
                                     "that signs.")
            if not view.can_sign:
                raise BatchPlanError(f"签名证书{pick(view.sign.expiry_text)}，不能签章。",
                                     f"The signing certificate is {view.sign.expiry_text[1]}; it cannot seal.")
            if placement.mode == "keyword" and not placement.keyword:
                raise BatchPlanError("请输入关键字。", "Type a keyword.")
            if not self.choices:
                raise BatchPlanError("没有可用的印章图片。", "There is no seal picture to use.")
            jobs = plan_jobs(self.files, self.out_folder.text().strip(), self.window_.settings.sealed_name)
        except BatchPlanError as exc:
            self._refuse(exc)
            return None
        choice = self.choices[max(self.seal.currentIndex(), 0)]
        self.results = [BatchResult(job) for job in jobs]
        self.finished_batch, self.error = False, None
        self._fill()
        image, aspect = choice.png, choice.aspect

        def work(session: Any, ctx: TaskContext) -> None:
            signer = session.signer
            stop: BidSealError | None = None
            for i, job in enumerate(jobs):
                if stop is not None or ctx.cancel.is_set():
                    ctx.partial((i, "skipped", stop, 0))
                    continue
                ctx.partial((i, "sealing", None, 0))
                try:
                    page_size = None
                    if placement.mode == "fixed":
                        info = ctx.engine("open", {"path": str(job.input)}, forward_partial=False)
                        index = page_index(placement.page, info.page_count)
                        page = info.pages[index] if index < len(info.pages) else ctx.engine(
                            "geometry", {"path": str(job.input), "start": index, "count": 1}, forward_partial=False)[0]
                        page_size = (index, page.width, page.height)
                    specs = specs_for(placement, image, aspect, page_size)
                    result = ctx.engine("seal", {"input_path": str(job.input), "output_path": str(job.output),
                                                 "specs": specs, "certificate": signer.certificate.der},
                                        handlers={"sign_digest": signer.sign_digest}, forward_partial=False)
                    ctx.partial((i, "sealed", None, len(result.get("seals", ()))))
                except BidSealError as exc:
                    if exc.code == "ERR_CANCELLED" or is_fatal(exc):
                        stop = exc
                    ctx.partial((i, "skipped" if exc.code == "ERR_CANCELLED" else "refused", exc, 0))
                ctx.progress(i + 1, len(jobs), "sign")

        flow = KeyFlow(self, self.runner, identity, view, work=work, on_partial=self._partial,
                       operation=tr(f"为 {len(jobs)} 个文件签章", f"Seal {len(jobs)} file(s)"),
                       progress_title=tr("正在批量签章", "Sealing the batch"),
                       cancelled=("已取消批量签章，未处理任何文件。", "Batch cancelled; no file was touched."),
                       error_title=tr("批量签章未完成", "The batch did not complete"),
                       on_unblock=getattr(self.window_, "unblock_pin", None))
        self.flow = flow
        flow.finished.connect(self._batch_finished)
        self.start_button.setEnabled(False)
        flow.start()
        return flow

    def _partial(self, data: Any) -> None:
        i, state, error, seals = data
        r = self.results[i]
        r.state, r.error, r.seals = state, error, seals
        self._set_row(i, r)

    def _batch_finished(self, _result: Any, error: BidSealError | None) -> None:
        self.start_button.setEnabled(True)
        self.finished_batch = True
        if error is not None:
            self.error = error
            for r in self.results:
                if r.state in ("waiting", "sealing"):
                    r.state, r.error = "skipped", r.error or error
            self._fill()
        sealed = sum(r.state == "sealed" for r in self.results)
        refused = sum(r.state == "refused" for r in self.results)
        skipped = sum(r.state == "skipped" for r in self.results)
        self.summary.setText(html.escape(tr(f"已签章 {sealed} 个，未签章 {refused} 个，未处理 {skipped} 个。",
                                            f"{sealed} sealed, {refused} refused, {skipped} not done.")))
        self.export.setEnabled(bool(self.results))
        if hasattr(self.window_, "notify"):
            self.window_.notify(self.summary.text())

    # -- export ----------------------------------------------------------------------------------
    def choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("导出结果", "Export the results"),
                                              str(Path(self.out_folder.text() or Path.home()) / "批量签章结果.csv"),
                                              "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | Path) -> None:
        from app.ui.i18n import language

        rows = [r.row() for r in self.results]
        self.runner.submit(lambda ctx: write_csv(path, rows, language()), name="batch-csv",
                           on_result=lambda _r: self._exported(Path(path)), on_error=self._refuse)

    def _exported(self, path: Path) -> None:
        self.csv_path = path
        if hasattr(self.window_, "notify"):
            self.window_.notify(tr(f"结果已导出：{path}", f"Results exported: {path}"))

    def reject(self) -> None:
        if self.flow is not None and not self.flow.done:
            self.flow.cancel()
        super().reject()

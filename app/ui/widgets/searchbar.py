"""Text search: hits arrive page by page from an engine process and are highlighted on
the pages; Enter / the arrows step through them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from app.errors import BidSealError
from app.ui.i18n import error_text, tr
from app.ui.runner import TaskContext, TaskHandle, TaskRunner
from app.ui.widgets.viewer import DocumentView

Box = tuple[float, float, float, float]


class SearchBar(QWidget):
    def __init__(self, runner: TaskRunner, viewer: DocumentView, path: Callable[[], str | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchBar")
        self.runner = runner
        self.viewer = viewer
        self._path = path
        self.hits: list[tuple[int, Box]] = []
        self.index = -1
        self.running: TaskHandle | None = None
        self.finished_text = ""
        self.edit = QLineEdit()
        self.edit.setObjectName("searchEdit")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(160)
        self.edit.returnPressed.connect(self._enter)
        self.edit.textChanged.connect(self._edited)
        self.prev = QToolButton()
        self.prev.setText("▲")
        self.prev.clicked.connect(lambda: self.step(-1))
        self.next = QToolButton()
        self.next.setText("▼")
        self.next.clicked.connect(lambda: self.step(1))
        self.label = QLabel()
        self.label.setObjectName("searchResult")
        self.label.setMinimumWidth(70)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.prev)
        layout.addWidget(self.next)
        layout.addWidget(self.label)
        self.retranslate()

    def retranslate(self) -> None:
        self.edit.setPlaceholderText(tr("在文档中查找…", "Find in document…"))
        self.prev.setToolTip(tr("上一处", "Previous hit"))
        self.next.setToolTip(tr("下一处", "Next hit"))
        self._show_count()

    def _edited(self, text: str) -> None:
        if not text:
            self.reset()

    def reset(self) -> None:
        if self.running is not None:
            self.running.cancel()
            self.running = None
        self.hits, self.index, self.finished_text = [], -1, ""
        self.viewer.clear_search()
        self._show_count()

    def _enter(self) -> None:
        text = self.edit.text()
        if self.hits and self.running is None and self.finished_text == text:
            self.step(1)
        else:
            self.search(text)

    def search(self, text: str) -> TaskHandle | None:
        self.reset()
        path = self._path()
        if not text.strip() or path is None:
            return None

        def run(ctx: TaskContext) -> Any:
            return ctx.engine("search", {"path": path, "text": text})

        def partial(data: tuple[int, list[Box]]) -> None:
            page, boxes = data
            self.viewer.add_search_hits(page, boxes)
            self.hits.extend((page, b) for b in boxes)
            if self.index < 0 and self.hits:
                self.step(1)
            self._show_count()

        def done(_total: Any) -> None:
            self.finished_text = text
            self._show_count()

        def failed(exc: BidSealError) -> None:
            self.label.setText(error_text(exc))

        def clear() -> None:  # queued to this thread, so `handle` is bound by the time it runs
            if self.running is handle:
                self.running = None
                self._show_count()

        # on_done is wired before the task starts (a slot connected to the handle afterwards
        # could miss a search that ends at once: the worker emits from its own thread).
        handle = self.runner.submit(run, name="search", on_partial=partial, on_result=done, on_error=failed,
                                    on_done=clear)
        self.running = handle
        self._show_count()
        return handle

    def step(self, delta: int) -> None:
        if not self.hits:
            return
        self.index = (self.index + delta) % len(self.hits)
        page, box = self.hits[self.index]
        self.viewer.focus_hit(page, box)
        self._show_count()

    def _show_count(self) -> None:
        if self.running is not None and not self.hits:
            self.label.setText(tr("查找中…", "Searching…"))
        elif self.hits:
            self.label.setText(f"{self.index + 1} / {len(self.hits)}" + ("…" if self.running else ""))
        elif self.finished_text:
            self.label.setText(tr("未找到", "Not found"))
        else:
            self.label.setText("")

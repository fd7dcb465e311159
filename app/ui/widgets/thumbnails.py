"""Page thumbnails beside the viewer: rendered lazily (only rows on screen), click to jump."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from app.ui.render import PageRenderer

ModelIndex = QModelIndex | QPersistentModelIndex


class ThumbnailModel(QAbstractListModel):
    def __init__(self, renderer: PageRenderer, parent: Any = None) -> None:
        super().__init__(parent)
        self.renderer = renderer
        self.count = 0
        self.size = QSize(80, 112)
        self._blank = QPixmap(self.size)
        self._blank.fill(QColor("white"))
        renderer.thumb_ready.connect(self._ready)

    def set_count(self, count: int) -> None:
        self.beginResetModel()
        self.count = count
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self.count

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return str(index.row() + 1)
        if role == Qt.ItemDataRole.DecorationRole:
            image = self.renderer.thumb(index.row())
            if image is None:
                return self._blank
            return QPixmap.fromImage(image).scaled(self.size, Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignHCenter
        return None

    def _ready(self, page: int) -> None:
        if 0 <= page < self.count:
            idx = self.index(page)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class ThumbnailStrip(QListView):
    page_clicked = Signal(int)

    def __init__(self, renderer: PageRenderer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnails")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self.model_ = ThumbnailModel(renderer, self)
        self.setModel(self.model_)
        self.renderer = renderer
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.TopToBottom)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setIconSize(self.model_.size)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFixedWidth(118)
        self.setStyleSheet("QListView { background: #eceff1; }")
        self.clicked.connect(lambda idx: self.page_clicked.emit(idx.row()))
        self._timer.timeout.connect(self._request)
        self.verticalScrollBar().valueChanged.connect(lambda _v: self._timer.start())

    def set_page_count(self, count: int) -> None:
        self.model_.set_count(count)
        self._timer.start()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._timer.start()

    def visible_rows(self) -> list[int]:
        if self.model_.count == 0:
            return []
        top = self.indexAt(self.viewport().rect().topLeft() + self._nudge())
        bottom = self.indexAt(self.viewport().rect().bottomLeft() + self._nudge(-1))
        first = top.row() if top.isValid() else 0
        last = bottom.row() if bottom.isValid() else min(first + 8, self.model_.count - 1)
        return list(range(first, last + 1))

    def _nudge(self, sign: int = 1) -> Any:
        from PySide6.QtCore import QPoint

        return QPoint(self.viewport().width() // 2, 8 * sign)

    def _request(self) -> None:
        self.renderer.want_thumbs(self.visible_rows())

    def set_current(self, page: int) -> None:
        if 0 <= page < self.model_.count:
            idx = self.model_.index(page)
            self.setCurrentIndex(idx)
            self.scrollTo(idx, QAbstractItemView.ScrollHint.EnsureVisible)

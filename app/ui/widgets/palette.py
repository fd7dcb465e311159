"""The seal palette: the selected key's seals and pictures from files, dragged onto a page.

The drag is followed with the widget's own mouse events (press on a seal, move,
release over a page) rather than the platform's drag-and-drop, so it behaves the
same on every platform and in offscreen tests; the cursor shows the seal meanwhile.
A double click places the seal in the middle of the current page.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem, QWidget

from app.ui.i18n import pick, tr
from app.ui.models.document import SealChoice
from app.ui.widgets.common import pixmap_from_png

_ROLE = Qt.ItemDataRole.UserRole


class SealPalette(QListWidget):
    seal_dropped = Signal(object, QPoint)  # SealChoice, global position
    seal_activated = Signal(object)  # SealChoice (double click)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sealPalette")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(72, 72))
        self.setGridSize(QSize(112, 112))
        self.setMovement(QListWidget.Movement.Static)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setWordWrap(True)
        self.setDragEnabled(False)
        self.setMinimumHeight(124)
        self.choices: list[SealChoice] = []
        self._press: QPoint | None = None
        self._pressed: SealChoice | None = None
        self.dragging: SealChoice | None = None
        self.itemDoubleClicked.connect(self._double)
        self.retranslate()

    def set_choices(self, choices: Sequence[SealChoice]) -> None:
        self.clear()
        self.choices = list(choices)
        for choice in self.choices:
            item = QListWidgetItem(pixmap_from_png(choice.png, 72), pick(choice.label))
            item.setData(_ROLE, choice.key)
            item.setToolTip(tr("按住拖到页面上盖章；双击放到当前页中央",
                               "Drag onto a page to place it; double-click to put it in the middle of the page"))
            self.addItem(item)

    def retranslate(self) -> None:
        for i in range(self.count()):
            item = self.item(i)
            choice = self.choice_for(item)
            if choice is not None:
                item.setText(pick(choice.label))

    def choice_for(self, item: QListWidgetItem | None) -> SealChoice | None:
        if item is None:
            return None
        key = item.data(_ROLE)
        return next((c for c in self.choices if c.key == key), None)

    def item_rect(self, key: str) -> QPoint:
        """Centre of a seal's item in viewport coordinates (tests and keyboard use)."""
        for i in range(self.count()):
            if self.item(i).data(_ROLE) == key:
                return self.visualItemRect(self.item(i)).center()
        raise KeyError(key)

    def _double(self, item: QListWidgetItem) -> None:
        choice = self.choice_for(item)
        if choice is not None:
            self.seal_activated.emit(choice)

    # -- the drag -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self._pressed = self.choice_for(self.itemAt(self._press))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        moved = (event.position().toPoint() - self._press).manhattanLength() if self._press is not None else 0
        if self._pressed is not None and self.dragging is None and moved >= QApplication.startDragDistance():
            self.dragging = self._pressed
            QGuiApplication.setOverrideCursor(QCursor(pixmap_from_png(self.dragging.png, 64)))
        if self.dragging is None:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        dragged = self.dragging
        self.dragging = None
        self._pressed = None
        self._press = None
        if dragged is not None:
            QGuiApplication.restoreOverrideCursor()
            self.seal_dropped.emit(dragged, event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(event)

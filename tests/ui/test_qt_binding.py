"""The Qt binding must not lose references to None.

PySide6 6.12.0 drops a reference to ``None`` on every call of a Python ``paint()``
override and on many built-in calls; on Python 3.11 (``None`` is not immortal) a window
that paints a few thousand times then aborts with "deallocating None" - scrolling a long
bid was enough. pyproject.toml excludes that version; this test fails if a binding with
the same fault is installed again.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene


class _Painted(QGraphicsItem):
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, 50, 50)

    def paint(self, painter: Any, option: Any, widget: Any = None) -> None:
        painter.drawRect(QRectF(0, 0, 10, 10))


class _Moved(QGraphicsRectItem):
    def itemChange(self, change: Any, value: Any) -> Any:  # noqa: N802
        return super().itemChange(change, value)


def test_painting_keeps_none_alive(qapp: Any) -> None:
    scene = QGraphicsScene()
    scene.addItem(_Painted())
    scene.addItem(QGraphicsPixmapItem(QPixmap(20, 20)))
    image = QImage(100, 100, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            scene.render(painter)
        lost = before - sys.getrefcount(None)
    finally:
        painter.end()
    assert lost < 100, f"the Qt binding lost {lost} references to None while painting"


def test_item_changes_keep_none_alive(qapp: Any) -> None:
    scene = QGraphicsScene()
    before = sys.getrefcount(None)
    items = []
    for i in range(300):
        item = _Moved(0, 0, 10, 10)
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        scene.addItem(item)
        item.setPos(i, i)
        items.append(item)
    for item in items:
        scene.removeItem(item)
    lost = before - sys.getrefcount(None)
    assert lost < 100, f"the Qt binding lost {lost} references to None in itemChange"

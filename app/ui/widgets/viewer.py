"""The document viewer: continuous scroll, zoom, seals placed on pages, search hits and
signature highlights.

Scene units are points of the page *as displayed* (:mod:`app.ui.models.layout`),
so a seal item's rectangle inside its page item is exactly the ``RectPlacement`` the
engine receives. Pages are painted from the renderer's cache (:mod:`app.ui.render`);
the view asks for the visible pages plus a margin whenever it scrolls or zooms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QKeyEvent,
    QPainter,
    QPen,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsView,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.models.document import (
    MIN_SEAL_MM,
    MM,
    Box,
    DocInfo,
    PageInfo,
    PlacedSeal,
    SealChoice,
    SealingPlan,
    centred_rect,
    clamp_rect,
)
from app.ui.models.layout import PageLayout
from app.ui.render import PageRenderer, scale_key
from app.ui.widgets.common import pixmap_from_png

ZOOM_STEPS = (0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)
MIN_ZOOM, MAX_ZOOM = 0.1, 6.0
#: Pages rendered beyond the visible ones, before and after.
MARGIN_PAGES = 2


class PageItem(QGraphicsItem):
    def __init__(self, view: DocumentView, info: PageInfo) -> None:
        super().__init__()
        self.view = view
        self.index = info.index
        self.w, self.h = info.width, info.height
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, False)

    def set_size(self, w: float, h: float) -> None:
        if (w, h) != (self.w, self.h):
            self.prepareGeometryChange()
            self.w, self.h = w, h

    @property
    def page_rect(self) -> QRectF:
        return QRectF(0, 0, self.w, self.h)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(-1, -1, self.w + 4, self.h + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self.page_rect
        painter.fillRect(r.translated(2, 2), QColor(0, 0, 0, 60))
        renderer = self.view.renderer
        image = renderer.image(self.index, self.view.render_scale) or renderer.any_image(self.index)
        if image is not None:
            painter.drawImage(r, image)
        else:
            painter.fillRect(r, QColor("white"))
            painter.setPen(QColor("#b0b0b0"))
            font = painter.font()
            font.setPointSizeF(14)
            painter.setFont(font)
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{self.index + 1}")
        painter.setPen(QPen(QColor("#9a9a9a"), 0))
        painter.drawRect(r)


class SealItem(QGraphicsObject):
    """A placed seal: move it by dragging, resize it at the corner handle, delete it with Del."""

    edited = Signal(int)  # uid
    delete_requested = Signal(int)

    def __init__(self, placed: PlacedSeal, page: PageItem) -> None:
        super().__init__(page)
        self.placed = placed
        self.pixmap: QPixmap = pixmap_from_png(placed.seal.png)
        x0, y0, x1, y1 = placed.rect
        self.w, self.h = x1 - x0, y1 - y0
        self.setPos(x0, y0)
        self.setZValue(10)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setCursor(Qt.CursorShape.SizeAllCursor)
        self.setToolTip(tr("拖动可移动，拖动右下角可调整大小，Delete 键删除",
                           "Drag to move, drag the lower-right corner to resize, Delete to remove"))
        self._resizing = False

    @property
    def page(self) -> PageItem:
        parent = self.parentItem()
        assert isinstance(parent, PageItem)
        return parent

    @property
    def rect(self) -> Box:
        p = self.pos()
        return (p.x(), p.y(), p.x() + self.w, p.y() + self.h)

    def _handle(self) -> float:
        scale = self.scene().views()[0].transform().m11() if self.scene() and self.scene().views() else 1.0
        return 10.0 / max(scale, 0.05)

    def boundingRect(self) -> QRectF:  # noqa: N802
        h = self._handle()
        return QRectF(-1, -1, self.w + h / 2 + 2, self.h + h / 2 + 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        target = QRectF(0, 0, self.w, self.h)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, self.pixmap, QRectF(self.pixmap.rect()))
        if self.isSelected():
            painter.setPen(QPen(QColor("#1565c0"), 0, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(target)
            h = self._handle()
            painter.setBrush(QColor("#1565c0"))
            painter.drawRect(QRectF(self.w - h / 2, self.h - h / 2, h, h))

    def _on_handle(self, pos: QPointF) -> bool:
        h = self._handle()
        return abs(pos.x() - self.w) <= h and abs(pos.y() - self.h) <= h

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._on_handle(event.pos()):
            self._resizing = True
            self.setSelected(True)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if not self._resizing:
            super().mouseMoveEvent(event)
            return
        aspect = self.placed.seal.aspect
        w = max(event.pos().x(), MIN_SEAL_MM * MM)
        h = w / aspect
        # stay inside the page
        page = self.page
        max_w = min(page.w - self.pos().x(), (page.h - self.pos().y()) * aspect)
        if w > max_w:
            w, h = max_w, max_w / aspect
        self.prepareGeometryChange()
        self.w, self.h = w, h
        self.update()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self._resizing = False
        super().mouseReleaseEvent(event)
        self.edited.emit(self.placed.uid)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.parentItem() is not None:
            page = self.page
            x = min(max(value.x(), 0.0), max(page.w - self.w, 0.0))
            y = min(max(value.y(), 0.0), max(page.h - self.h, 0.0))
            return QPointF(x, y)
        return super().itemChange(change, value)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_requested.emit(self.placed.uid)
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:  # noqa: N802
        menu = QMenu()
        remove = QAction(tr("删除此印章", "Remove this seal"), menu)
        remove.triggered.connect(lambda: self.delete_requested.emit(self.placed.uid))
        menu.addAction(remove)
        menu.exec(event.screenPos())


class StripItem(QGraphicsItem):
    """A preview of one strip of a cross-page seal at a page edge (not yet signed)."""

    def __init__(self, page: PageItem, rect: Box, strip: tuple[int, int], pixmap: QPixmap) -> None:
        super().__init__(page)
        self.r = QRectF(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1])
        self.strip = strip
        self.pixmap = pixmap
        self.setZValue(9)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self.r.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        i, n = self.strip
        pw = self.pixmap.width()
        src = QRectF(pw * i / n, 0, pw / n, self.pixmap.height())
        painter.setOpacity(0.85)
        painter.drawPixmap(self.r, self.pixmap, src)
        painter.setOpacity(1.0)
        painter.setPen(QPen(QColor("#e67e22"), 0, Qt.PenStyle.DashLine))
        painter.drawRect(self.r)


class PageItems:
    """The page items of a document, made when first needed (the visible pages and the ones a
    seal, mark or preview is put on): opening a 1000-page file makes a handful, not 1000."""

    def __init__(self, view: DocumentView) -> None:
        self._view = view
        self._items: dict[int, PageItem] = {}

    def __len__(self) -> int:
        return self._view.layout_.page_count if self._view.layout_ is not None else 0

    def __getitem__(self, index: int) -> PageItem:
        item = self._items.get(index)
        if item is None:
            layout = self._view.layout_
            if layout is None or not 0 <= index < layout.page_count:
                raise IndexError(index)
            slot = layout.slot(index)
            item = PageItem(self._view, PageInfo(index, slot.width, slot.height))
            item.setPos(slot.x, slot.y)
            self._view.scene().addItem(item)
            self._items[index] = item
        return item

    def made(self) -> dict[int, PageItem]:
        return self._items

    def trim(self, keep: set[int], limit: int = 48) -> None:
        """Drop items of pages far from ``keep`` that carry nothing (no seal, mark or preview),
        so scrolling a long file leaves a few dozen items, not one per page."""
        if len(self._items) <= limit:
            return
        scene = self._view.scene()
        for index in [i for i, item in self._items.items() if i not in keep and not item.childItems()]:
            scene.removeItem(self._items.pop(index))
            if len(self._items) <= limit // 2:
                break

    def __bool__(self) -> bool:
        return len(self) > 0


class DocumentView(QGraphicsView):
    """Shows one document; see the module docstring."""

    current_page_changed = Signal(int)
    zoom_changed = Signal(float)
    plan_changed = Signal()
    notice = Signal(str)  # a short message for the status bar

    def __init__(self, renderer: PageRenderer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentView")
        self.renderer = renderer
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setBackgroundBrush(QBrush(QColor("#5f6368")))
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        # A scroll bar that comes and goes would change the width, the fit-width zoom and
        # with it the scale every page is rendered at.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.info: DocInfo | None = None
        self.layout_: PageLayout | None = None
        self.page_items = PageItems(self)
        self.plan = SealingPlan()
        self.seal_items: dict[int, SealItem] = {}
        self._strips: list[StripItem] = []
        self._marks: list[QGraphicsRectItem] = []
        self._hit_marks: dict[int, list[QGraphicsRectItem]] = {}
        self._focus_mark: QGraphicsRectItem | None = None
        self.seal_size_mm = 42.0
        self.zoom = 1.0
        self.zoom_mode = "width"  # "width", "page" or "custom"
        self._current = -1
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(0)
        self._visible_timer.timeout.connect(self._update_visible)
        self.verticalScrollBar().valueChanged.connect(self._schedule_visible)
        self.horizontalScrollBar().valueChanged.connect(self._schedule_visible)
        renderer.page_ready.connect(self._page_ready)

    # -- document -----------------------------------------------------------------------------
    def set_document(self, info: DocInfo | None) -> None:
        self._scene.clear()
        self.page_items, self.seal_items = PageItems(self), {}
        self._strips, self._marks, self._hit_marks, self._focus_mark = [], [], {}, None
        self.plan = SealingPlan()
        self.info = info
        self._current = -1
        if info is None:
            self.layout_ = None
            self.renderer.set_document(None)
            self._scene.setSceneRect(QRectF())
            self.plan_changed.emit()
            return
        self.renderer.set_document(info.path)
        self.layout_ = PageLayout(info.page_count, info.pages)
        self._scene.setSceneRect(QRectF(0, 0, self.layout_.width, self.layout_.height))
        self._apply_zoom()
        self.verticalScrollBar().setValue(0)
        self.plan_changed.emit()
        self._update_visible()

    def update_pages(self, pages: Sequence[PageInfo]) -> None:
        """Real sizes of pages that were laid out with the first page's size."""
        if self.layout_ is None or not self.layout_.update_sizes(pages):
            return
        for i, item in self.page_items.made().items():
            slot = self.layout_.slot(i)
            item.set_size(slot.width, slot.height)
            item.setPos(slot.x, slot.y)
        self._scene.setSceneRect(QRectF(0, 0, self.layout_.width, self.layout_.height))
        if self.zoom_mode != "custom":
            self._apply_zoom()
        self._schedule_visible()

    def page_info(self, index: int) -> PageInfo:
        assert self.layout_ is not None
        slot = self.layout_.slot(index)
        return PageInfo(index, slot.width, slot.height)

    @property
    def page_count(self) -> int:
        return len(self.page_items)

    # -- zoom -------------------------------------------------------------------------------------
    @property
    def points_to_pixels(self) -> float:
        return self.zoom * self.logicalDpiX() / 72.0

    @property
    def render_scale(self) -> float:
        return self.points_to_pixels * self.devicePixelRatioF()

    def _fit_zoom(self) -> float:
        if self.layout_ is None or not self.page_items:
            return self.zoom
        vp = self.viewport().size()
        page = self.layout_.slot(max(self._current, 0))
        dpi = self.logicalDpiX() / 72.0
        by_width = (vp.width() - 24) / (page.width + 2 * self.layout_.gap) / dpi
        if self.zoom_mode == "width":
            return by_width
        by_height = (vp.height() - 16) / (page.height + 2 * self.layout_.gap) / dpi
        return min(by_width, by_height)

    def _apply_zoom(self) -> None:
        if self.zoom_mode != "custom":
            self.zoom = min(max(self._fit_zoom(), MIN_ZOOM), MAX_ZOOM)
        s = self.points_to_pixels
        self.setTransform(QTransform.fromScale(s, s))
        self.zoom_changed.emit(self.zoom)
        self._schedule_visible()

    def set_zoom(self, zoom: float | str) -> None:
        """A factor (1.0 = 100 %) or "width" / "page"."""
        if isinstance(zoom, str):
            self.zoom_mode = zoom
        else:
            self.zoom_mode = "custom"
            self.zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        page = self._current
        self._apply_zoom()
        if page >= 0 and isinstance(zoom, str):
            self.go_to_page(page)

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_STEPS if z > self.zoom + 1e-3), self.zoom * 1.25))

    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOM_STEPS) if z < self.zoom - 1e-3), self.zoom / 1.25))

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.set_zoom(self.zoom * (1.15 ** steps))
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.zoom_mode != "custom":
            self._apply_zoom()
        self._schedule_visible()

    # -- visible pages ---------------------------------------------------------------------------
    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        super().scrollContentsBy(dx, dy)
        if dy and self.layout_ is not None:  # pages coming into view exist before they are painted
            r = self.visible_scene_rect()
            for p in self.layout_.pages_between(r.top(), r.bottom(), 1):
                self.page_items[p]  # noqa: B018

    def _schedule_visible(self, *_: Any) -> None:
        self._visible_timer.start()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def visible_pages(self, margin: int = 0) -> list[int]:
        if self.layout_ is None:
            return []
        r = self.visible_scene_rect()
        return self.layout_.pages_between(r.top(), r.bottom(), margin)

    def _update_visible(self) -> None:
        if self.layout_ is None:
            return
        r = self.visible_scene_rect()
        shown = self.layout_.pages_between(r.top(), r.bottom())
        near = self.layout_.pages_between(r.top(), r.bottom(), 8)
        for p in self.layout_.pages_between(r.top(), r.bottom(), 1):
            self.page_items[p]  # noqa: B018 - made on first sight
        self.page_items.trim(set(near))
        around = self.layout_.pages_between(r.top(), r.bottom(), MARGIN_PAGES)
        extra = sorted((p for p in around if p not in shown),
                       key=lambda p: min(abs(p - shown[0]), abs(p - shown[-1])) if shown else p)
        self.renderer.want(shown + extra, self.render_scale)
        current = max(shown, key=lambda p: self._visible_height(p, r)) if shown else 0
        if current != self._current:
            self._current = current
            self.current_page_changed.emit(current)

    def _visible_height(self, page: int, r: QRectF) -> float:
        assert self.layout_ is not None
        slot = self.layout_.slot(page)
        return min(slot.y + slot.height, r.bottom()) - max(slot.y, r.top())

    def _page_ready(self, page: int, key: int) -> None:
        item = self.page_items.made().get(page)
        if item is not None and key == scale_key(self.render_scale):
            item.update()

    @property
    def current_page(self) -> int:
        return max(self._current, 0)

    def go_to_page(self, index: int, y: float = 0.0) -> None:
        """Scroll so that page ``index`` (at ``y`` points from its top) is at the top."""
        if self.layout_ is None or not self.page_items:
            return
        index = min(max(index, 0), len(self.page_items) - 1)
        slot = self.layout_.slot(index)
        target = self.mapFromScene(QPointF(0, slot.y + y - 8)).y()
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + target)
        self._update_visible()

    def ensure_rect_visible(self, index: int, rect: Box) -> None:
        if not self.page_items:
            return
        item = self.page_items[index]
        r = QRectF(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1]).translated(item.pos())
        self.ensureVisible(r, 40, 60)
        self._update_visible()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Home and not self._scene.focusItem():
            self.go_to_page(0)
            return
        if event.key() == Qt.Key.Key_End and not self._scene.focusItem():
            self.go_to_page(self.page_count - 1)
            return
        super().keyPressEvent(event)

    # -- seals --------------------------------------------------------------------------------
    def page_at_global(self, global_pos: QPoint) -> tuple[int, float, float] | None:
        """(page, x, y in page points) under a screen position, or None."""
        if self.layout_ is None:
            return None
        local = self.viewport().mapFromGlobal(global_pos)
        if not self.viewport().rect().contains(local):
            return None
        scene = self.mapToScene(local)
        return self.layout_.hit(scene.x(), scene.y())

    def drop_seal(self, choice: SealChoice, global_pos: QPoint) -> PlacedSeal | None:
        """Place ``choice`` centred where it was dropped; pushed inside the page if it sticks out."""
        hit = self.page_at_global(global_pos)
        if hit is None:
            self.notice.emit(tr("请把印章拖放到页面上。", "Drop the seal onto a page."))
            return None
        page, x, y = hit
        return self.place_seal(choice, page, centred_rect(x, y, choice, self.seal_size_mm))

    def place_seal(self, choice: SealChoice, page: int, rect: Box, origin: str = "manual") -> PlacedSeal:
        info = self.page_info(page)
        inside, moved = clamp_rect(rect, info)
        if moved:
            self.notice.emit(tr(f"印章有一部分超出第 {page + 1} 页，已移回页面内。",
                                f"Part of the seal was outside page {page + 1}; it was moved inside the page."))
        placed = PlacedSeal(choice, page, inside, origin)
        self.plan.add(placed)
        self._add_item(placed)
        self.plan_changed.emit()
        return placed

    def _add_item(self, placed: PlacedSeal) -> SealItem:
        item = SealItem(placed, self.page_items[placed.page])
        item.edited.connect(self._seal_edited)
        item.delete_requested.connect(self.remove_seal)
        self.seal_items[placed.uid] = item
        return item

    def _seal_edited(self, uid: int) -> None:
        item = self.seal_items.get(uid)
        if item is None:
            return
        self.plan.replace(item.placed.moved(item.placed.page, item.rect))
        item.placed = next(s for s in self.plan.seals if s.uid == uid)
        self.plan_changed.emit()

    def remove_seal(self, uid: int) -> None:
        item = self.seal_items.pop(uid, None)
        if item is not None:
            self._scene.removeItem(item)
        self.plan.remove(uid)
        self.plan_changed.emit()

    def remove_selected(self) -> int:
        uids = [uid for uid, item in self.seal_items.items() if item.isSelected()]
        for uid in uids:
            self.remove_seal(uid)
        return len(uids)

    def clear_seals(self) -> None:
        for uid in list(self.seal_items):
            self.remove_seal(uid)
        self.set_cross_page(None, [])

    def set_cross_page(self, cross: Any, spots: Sequence[Sequence[tuple[int, Box, tuple[int, int]]]]) -> None:
        """Show (and plan) a cross-page seal; ``spots`` from the engine's own resolution."""
        for item in self._strips:
            self._scene.removeItem(item)
        self._strips = []
        self.plan.cross_page = cross
        if cross is not None:
            pix = pixmap_from_png(cross.seal.png)
            for sig in spots:
                for page, rect, strip in sig:
                    if 0 <= page < len(self.page_items):
                        self._strips.append(StripItem(self.page_items[page], rect, strip, pix))
        self.plan_changed.emit()

    @property
    def strip_count(self) -> int:
        return len(self._strips)

    # -- marks: search hits and signature highlights -------------------------------------------
    def _mark(self, page: int, rect: Box, colour: QColor, fill: QColor | None, width: float = 0) -> QGraphicsRectItem:
        item = QGraphicsRectItem(QRectF(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1]),
                                 self.page_items[page])
        item.setPen(QPen(colour, width))
        item.setBrush(QBrush(fill) if fill is not None else Qt.BrushStyle.NoBrush)
        item.setZValue(20)
        item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        return item

    def clear_search(self) -> None:
        for items in self._hit_marks.values():
            for item in items:
                self._scene.removeItem(item)
        self._hit_marks = {}
        if self._focus_mark is not None:
            self._scene.removeItem(self._focus_mark)
            self._focus_mark = None

    def add_search_hits(self, page: int, rects: Sequence[Box]) -> None:
        if not 0 <= page < len(self.page_items):
            return
        fill = QColor(255, 235, 59, 110)
        self._hit_marks.setdefault(page, []).extend(
            self._mark(page, r, QColor(230, 180, 0), fill) for r in rects)

    def focus_hit(self, page: int, rect: Box) -> None:
        if self._focus_mark is not None:
            self._scene.removeItem(self._focus_mark)
        self._focus_mark = self._mark(page, rect, QColor("#e65100"), QColor(255, 152, 0, 120), 0)
        self.ensure_rect_visible(page, rect)

    def highlight(self, spots: Sequence[tuple[int, Box]]) -> None:
        """Jump to a signature's seal and frame every widget of it."""
        for item in self._marks:
            self._scene.removeItem(item)
        self._marks = []
        for page, rect in spots:
            if 0 <= page < len(self.page_items):
                x0, y0, x1, y1 = rect
                grown = (x0 - 3, y0 - 3, x1 + 3, y1 + 3)
                self._marks.append(self._mark(page, grown, QColor("#1e88e5"), QColor(30, 136, 229, 40), 2.5))
        if spots:
            page, rect = spots[0]
            if 0 <= page < len(self.page_items):
                self.ensure_rect_visible(page, rect)

    @property
    def highlight_count(self) -> int:
        return len(self._marks)

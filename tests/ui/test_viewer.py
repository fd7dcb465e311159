"""The document viewer: zoom modes and Ctrl+wheel, page navigation, thumbnails, text search
with highlighting, and rendering of only the visible pages into a bounded cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import make_bid, open_doc, spin


def ctrl_wheel(viewer: Any, steps: int) -> None:
    vp = viewer.viewport()
    pos = QPointF(vp.width() / 2, vp.height() / 2)
    event = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(vp, event)


def test_zoom_modes_and_ctrl_wheel(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "z.pdf", pages=6)
    open_doc(qtbot, window, pdf)
    viewer = window.viewer
    assert viewer.zoom_mode == "width"
    page_px = viewer.page_items[0].w * viewer.points_to_pixels
    assert abs(page_px - (viewer.viewport().width() - 24) * 595 / (595 + 24)) < 3
    ctrl_wheel(viewer, 2)
    assert viewer.zoom_mode == "custom" and window.zoom_box.currentText().endswith("%")
    zoomed = viewer.zoom
    ctrl_wheel(viewer, -1)
    assert viewer.zoom < zoomed
    window.act_fit_page.trigger()
    assert viewer.zoom_mode == "page"
    assert viewer.page_items[0].h * viewer.points_to_pixels <= viewer.viewport().height()
    window.zoom_box.setEditText("150%")
    window._zoom_typed()
    assert abs(viewer.zoom - 1.5) < 1e-6
    window.act_zoom_in.trigger()
    assert viewer.zoom > 1.5
    # pictures at the new scale arrive from the renderer
    qtbot.waitUntil(lambda: viewer.renderer.image(viewer.current_page, viewer.render_scale) is not None,
                    timeout=20000)


def test_page_navigation_and_thumbnails(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "nav.pdf", pages=12)
    open_doc(qtbot, window, pdf)
    window.viewer.set_zoom(1.0)
    window.page_spin.setValue(7)
    qtbot.waitUntil(lambda: window.viewer.current_page == 6)
    assert 6 in window.viewer.visible_pages()
    window.act_next.trigger()
    qtbot.waitUntil(lambda: window.viewer.current_page == 7)
    assert window.page_spin.value() == 8
    idx = window.thumbs.model_.index(2)
    rect = window.thumbs.visualRect(idx)
    window.thumbs.scrollTo(idx)
    rect = window.thumbs.visualRect(idx)
    qtbot.mouseClick(window.thumbs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.viewer.current_page == 2)
    qtbot.waitUntil(lambda: window.renderer.thumb(2) is not None, timeout=20000)


def test_search_highlights_every_hit(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "s.pdf", pages=8, keyword_pages=(1, 4, 6))
    open_doc(qtbot, window, pdf)
    search = window.search
    search.edit.setText("投标人")
    search.edit.returnPressed.emit()
    qtbot.waitUntil(lambda: search.running is None and len(search.hits) == 3, timeout=20000)
    assert [p for p, _ in search.hits] == [1, 4, 6]
    assert search.label.text() == "1 / 3"
    assert sum(len(v) for v in window.viewer._hit_marks.values()) == 3
    search.edit.returnPressed.emit()
    assert search.label.text() == "2 / 3"
    qtbot.waitUntil(lambda: 4 in window.viewer.visible_pages())
    search.edit.setText("没有这个词")
    search.edit.returnPressed.emit()
    qtbot.waitUntil(lambda: search.running is None and search.label.text() == "未找到", timeout=20000)
    assert window.viewer._hit_marks == {}


def test_only_visible_pages_are_rendered(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "long.pdf", pages=300)
    open_doc(qtbot, window, pdf)
    viewer, renderer = window.viewer, window.renderer
    qtbot.waitUntil(lambda: renderer.image(0, viewer.render_scale) is not None, timeout=20000)
    spin(1.0)
    first = renderer.renders
    # the visible pages, two either side, and the thumbnails on screen: a few dozen at most, of 300
    assert len(viewer.visible_pages(2)) <= first <= 40, first
    viewer.go_to_page(299)
    qtbot.waitUntil(lambda: renderer.image(299, viewer.render_scale) is not None, timeout=20000)
    assert renderer.image(150, viewer.render_scale) is None, "pages scrolled past are not rendered"
    assert renderer.pages.bytes <= renderer.pages.limit
    # every page's real size arrives in the background
    qtbot.waitUntil(lambda: not any(t.running for t in window._aux_tasks), timeout=30000)


def test_recent_files_and_close(qtbot: Any, window: Any, tmp_path: Path) -> None:
    a = make_bid(tmp_path / "a.pdf", pages=1)
    b = make_bid(tmp_path / "b.pdf", pages=1)
    open_doc(qtbot, window, a)
    open_doc(qtbot, window, b)
    assert window.state.recent_files[:2] == [str(b.resolve()), str(a.resolve())]
    from app.ui.state import WindowState

    qtbot.waitUntil(lambda: WindowState.load().recent_files[:2] == [str(b.resolve()), str(a.resolve())])
    assert WindowState.load().recent_files[:2] == [str(b.resolve()), str(a.resolve())]
    window._fill_recent()
    assert [act.text() for act in window.recent_menu.actions()][:2] == [str(b.resolve()), str(a.resolve())]
    window.close_document()
    assert window.doc is None and window.empty.isVisible() and not window.act_sign.isEnabled()

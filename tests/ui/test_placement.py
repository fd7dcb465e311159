"""Placing seals: keyword placement with confirmation, cross-page seals previewed on the page
edges, several seals signed with one PIN, a seal dropped partly outside the page, a keyword
with no hit - all through the real widgets, checked in the signed output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from app.pdfsign.verify import verify_pdf
from tests.ui.conftest import (
    drag_seal,
    enter_pin,
    make_bid,
    open_doc,
    spin,
    trusted_roots,
    wait_flow,
)
from tests.ui.test_sign_flow import widget_rects


def keyword_positions(path: Path, text: str) -> list[tuple[int, tuple[float, float, float, float]]]:
    import pymupdf

    doc = pymupdf.open(path)
    out = [(i, tuple(r)) for i in range(doc.page_count) for r in doc[i].search_for(text)]
    doc.close()
    return out


def test_keyword_seals_every_hit_after_confirmation(qtbot: Any, window: Any, tmp_path: Path,
                                                    root_der: bytes) -> None:
    pdf = make_bid(tmp_path / "kw.pdf", pages=4, keyword_pages=(1, 3))
    open_doc(qtbot, window, pdf)
    dialog = window.keyword_dialog()
    assert dialog is not None and dialog.keyword.currentText() == "投标人（盖章）"
    qtbot.mouseClick(dialog.preview, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.spots is not None, timeout=20000)
    assert len(dialog.spots) == 2 and dialog.confirm.isEnabled()
    assert "2" in dialog.result_label.text()
    assert len(window._preview_items) == 2  # shown on the pages before anything is placed
    assert window.viewer.plan.empty
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    plan = window.viewer.plan
    assert [s.page for s in plan.seals] == [1, 3] and all(s.origin == "keyword" for s in plan.seals)
    assert window._preview_items == []

    window.sign()
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    out = Path(flow.result["output"])
    report = verify_pdf(out, trust_roots=trusted_roots(root_der))
    assert report.status == "valid" and len(report.signatures) == 2
    rects = widget_rects(out)
    for page, (x0, y0, x1, y1) in keyword_positions(pdf, "投标人（盖章）"):
        (sx0, sy0, sx1, sy1), = rects[page]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        assert abs((sx0 + sx1) / 2 - cx) < 1 and abs((sy0 + sy1) / 2 - cy) < 1


def test_keyword_nth_hit_and_no_hit(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "kw2.pdf", pages=3, keyword_pages=(0, 2))
    open_doc(qtbot, window, pdf)
    dialog = window.keyword_dialog()
    dialog.nth.setChecked(True)
    dialog.number.setValue(2)
    dialog.request_preview()
    qtbot.waitUntil(lambda: dialog.spots is not None, timeout=20000)
    assert [sig[0][0] for sig in dialog.spots] == [2]

    dialog.keyword.setEditText("不存在的关键字")
    dialog.every.setChecked(True)
    dialog.request_preview()
    qtbot.waitUntil(lambda: dialog.preview.isEnabled() and "没有找到" in dialog.result_label.text(), timeout=20000)
    assert not dialog.confirm.isEnabled() and dialog.spots is None
    assert window._preview_items == []
    dialog.reject()
    assert window.viewer.plan.empty


def test_cross_page_seal_previewed_and_signed(qtbot: Any, window: Any, tmp_path: Path, root_der: bytes) -> None:
    pdf = make_bid(tmp_path / "cp.pdf", pages=5)
    open_doc(qtbot, window, pdf)
    dialog = window.cross_page_dialog()
    dialog.pages.setText("1-4")
    dialog.position.setValue(30)
    qtbot.mouseClick(dialog.preview, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.spots is not None, timeout=20000)
    strips = [spot for sig in dialog.spots for spot in sig]
    assert [s[0] for s in strips] == [0, 1, 2, 3]
    assert [s[2] for s in strips] == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert all(abs(s[1][2] - 595) < 0.01 for s in strips)  # at the right edge
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    assert window.viewer.plan.cross_page is not None and window.viewer.strip_count == 4

    window.sign()
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    report = verify_pdf(flow.result["output"], trust_roots=trusted_roots(root_der))
    assert report.status == "valid"
    (sig,) = report.signatures
    assert sig.pages == [1, 2, 3, 4]
    rects = widget_rects(Path(flow.result["output"]))
    assert sorted(rects) == [0, 1, 2, 3]
    for page in range(4):
        x0, y0, x1, y1 = rects[page][0]
        assert abs(x1 - 595) < 0.5 and abs((y0 + y1) / 2 - 0.3 * 842) < 1


def test_cross_page_needs_valid_pages(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "cp2.pdf", pages=3)
    open_doc(qtbot, window, pdf)
    dialog = window.cross_page_dialog()
    dialog.pages.setText("2-9")
    dialog.request_preview()
    assert "页码" in dialog.result_label.text() and dialog.spots is None
    dialog.pages.setText("2")
    dialog.request_preview()
    assert "两页" in dialog.result_label.text()
    dialog.reject()


def test_several_seals_one_pin(qtbot: Any, window: Any, tmp_path: Path, root_der: bytes) -> None:
    pdf = make_bid(tmp_path / "multi.pdf", pages=3)
    open_doc(qtbot, window, pdf)
    drag_seal(window, "key:company", 0, 200.0, 300.0)
    drag_seal(window, "key:legal", 2, 400.0, 700.0)
    dialog = window.cross_page_dialog()
    dialog.request_preview()
    qtbot.waitUntil(lambda: dialog.spots is not None, timeout=20000)
    dialog.accept()
    assert window.viewer.plan.count == 3
    assert "3" in window.act_sign.text()
    window.sign()
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    assert flow.attempts == 1
    report = verify_pdf(flow.result["output"], trust_roots=trusted_roots(root_der))
    assert report.status == "valid"
    assert [s.pages for s in report.signatures] == [[1], [3], [1, 2, 3]]


def test_seal_dropped_partly_outside_is_moved_inside(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    open_doc(qtbot, window, bid_pdf)
    drag_seal(window, "key:company", 0, 590.0, 830.0)  # the seal's centre near the corner
    (placed,) = window.viewer.plan.seals
    x0, y0, x1, y1 = placed.rect
    assert x0 >= 0 and y0 >= 0 and x1 <= 595.0 + 1e-6 and y1 <= 842.0 + 1e-6
    assert abs(x1 - 595.0) < 0.01 and abs(y1 - 842.0) < 0.01
    assert "超出" in window.last_notice


def test_seal_dropped_off_the_pages_is_not_placed(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    from tests.ui.conftest import _mouse

    open_doc(qtbot, window, bid_pdf)
    palette = window.key_panel.palette_
    vp = palette.viewport()
    start = palette.item_rect("key:company")
    from PySide6.QtCore import QEvent, QPoint

    _mouse(vp, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    _mouse(vp, QEvent.Type.MouseMove, start + QPoint(30, 0), Qt.MouseButton.LeftButton)
    _mouse(vp, QEvent.Type.MouseButtonRelease, start + QPoint(30, 0), Qt.MouseButton.NoButton)
    spin(0.05)
    assert window.viewer.plan.empty and "拖放到页面上" in window.last_notice


def test_move_resize_and_delete_a_placed_seal(qtbot: Any, window: Any, bid_pdf: Path) -> None:
    open_doc(qtbot, window, bid_pdf)
    drag_seal(window, "key:company", 0, 200.0, 200.0)
    (placed,) = window.viewer.plan.seals
    item = window.viewer.seal_items[placed.uid]
    viewport = window.viewer.viewport()

    def at(x: float, y: float) -> Any:
        return window.viewer.mapFromScene(item.mapToScene(x, y))

    w = item.w
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(w / 2, w / 2))
    qtbot.mouseMove(viewport, at(w / 2 + 20, w / 2 + 30))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(w / 2 + 20, w / 2 + 30))
    moved = window.viewer.plan.seals[0].rect
    assert abs(moved[0] - (placed.rect[0] + 20)) < 2 and abs(moved[1] - (placed.rect[1] + 30)) < 2
    # resize at the corner handle, keeping the seal's proportions
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(item.w, item.h))
    qtbot.mouseMove(viewport, at(item.w * 0.6, item.h * 0.6))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(item.w * 0.6, item.h * 0.6))
    resized = window.viewer.plan.seals[0].rect
    assert (resized[2] - resized[0]) < (moved[2] - moved[0]) * 0.8
    assert abs((resized[2] - resized[0]) - (resized[3] - resized[1])) < 1
    item.setSelected(True)
    item.setFocus()
    qtbot.keyClick(viewport, Qt.Key.Key_Delete)
    assert window.viewer.plan.empty and not window.act_sign.isEnabled()

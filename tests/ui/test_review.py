"""The entry point for the localhost helper: a web page's PDF opened for review,
``MainWindow.open_for_review(pdf_path, hints, on_done, origin=...)``; the bidder places
seals and signs exactly what was shown, or declines; ``on_done`` is called once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from app.pdfsign.verify import verify_pdf
from tests.ui.conftest import enter_pin, make_bid, trusted_roots, wait_flow

ORIGIN = "https://ggzy.ln.gov.cn"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_review_with_keyword_hint_then_sign(qtbot: Any, window: Any, tmp_path: Path, root_der: bytes) -> None:
    sent = make_bid(tmp_path / "from-page.pdf", pages=3, keyword_pages=(2,))
    before = sha(sent)
    calls: list[tuple[Any, Any]] = []
    window.open_for_review(sent, {"keyword": "投标人（盖章）", "page": 2}, lambda p, e: calls.append((p, e)),
                           origin=ORIGIN)
    qtbot.waitUntil(lambda: window.review is not None and window.doc is not None
                    and Path(window.doc.path) == window.review.copy, timeout=30000)
    review = window.review
    assert review.copy != sent and review.copy.read_bytes() == sent.read_bytes()
    assert window.banner.isVisible() and ORIGIN in window.banner.text.text()
    assert window.banner.accept_button.text() == "签章并返回"
    # the keyword hint pre-fills and previews; nothing is placed until the bidder confirms
    # (the hints are applied once the document has opened, which may be a moment after
    # window.doc is set: read the dialog inside the wait, not before it)
    qtbot.waitUntil(lambda: window.placement_dialog is not None and window.placement_dialog.spots is not None,
                    timeout=30000)
    dialog = window.placement_dialog
    assert window.viewer.plan.empty
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    assert [s.page for s in window.viewer.plan.seals] == [2]
    qtbot.mouseClick(window.banner.accept_button, Qt.MouseButton.LeftButton)
    enter_pin(qtbot, window)
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    qtbot.waitUntil(lambda: bool(calls))
    (signed, error), = calls
    assert error is None and Path(signed) == review.output
    assert Path(signed).parent == review.folder
    report = verify_pdf(signed, trust_roots=trusted_roots(root_der))
    assert report.status == "valid" and report.signatures[0].pages == [3]
    # the signed bytes start with exactly the bytes the page sent
    assert Path(signed).read_bytes().startswith(sent.read_bytes())
    assert sha(sent) == before
    assert window.review is None and window.banner.kind != "review"
    window.close_document()
    assert len(calls) == 1


def test_decline_calls_back_once(qtbot: Any, window: Any, tmp_path: Path) -> None:
    sent = make_bid(tmp_path / "p.pdf", pages=1)
    calls: list[tuple[Any, Any]] = []
    window.open_for_review(sent, None, lambda p, e: calls.append((p, e)), origin=ORIGIN)
    qtbot.waitUntil(lambda: window.review is not None and window.doc is not None, timeout=30000)
    qtbot.mouseClick(window.banner.decline_button, Qt.MouseButton.LeftButton)
    assert len(calls) == 1 and calls[0][0] is None and calls[0][1].code == "ERR_CANCELLED"
    assert not window.banner.isVisible()
    window.close_document()
    assert len(calls) == 1


def test_opening_another_file_or_closing_declines(qtbot: Any, window: Any, tmp_path: Path) -> None:
    sent = make_bid(tmp_path / "p.pdf", pages=1)
    other = make_bid(tmp_path / "mine.pdf", pages=1)
    calls: list[tuple[Any, Any]] = []
    window.open_for_review(sent, {}, lambda p, e: calls.append((p, e)), origin=ORIGIN)
    qtbot.waitUntil(lambda: window.review is not None and window.doc is not None, timeout=30000)
    window.open_file(other)
    assert len(calls) == 1 and calls[0][1].details["why"] == "opened another file"
    window.open_for_review(sent, {}, lambda p, e: calls.append((p, e)), origin=ORIGIN)
    qtbot.waitUntil(lambda: window.review is not None, timeout=30000)
    window.close()
    assert len(calls) == 2 and calls[1][0] is None


def test_a_changed_copy_is_not_signed(qtbot: Any, window: Any, tmp_path: Path) -> None:
    sent = make_bid(tmp_path / "p.pdf", pages=2)
    calls: list[tuple[Any, Any]] = []
    window.open_for_review(sent, {}, lambda p, e: calls.append((p, e)), origin=ORIGIN)
    qtbot.waitUntil(lambda: window.review is not None and window.doc is not None
                    and window.sig_panel.state == "done", timeout=30000)
    window._place_in_middle(window.seal_choices()[0])
    copy = window.review.copy
    os.chmod(copy, 0o600)
    data = bytearray(copy.read_bytes())
    data[-20] ^= 1
    copy.write_bytes(bytes(data))
    flow = window.sign()
    wait_flow(qtbot, window)
    assert flow.attempts == 0 and flow.error is not None and flow.error.code == "ERR_REVIEW_CHANGED"
    assert not window.review.output.exists()
    assert calls == [], "the bidder can still decline; nothing was signed"
    window.decline_review()
    assert len(calls) == 1


def test_unreadable_request_reports_an_error(qtbot: Any, window: Any, tmp_path: Path) -> None:
    calls: list[tuple[Any, Any]] = []
    window.open_for_review(tmp_path / "missing.pdf", {}, lambda p, e: calls.append((p, e)), origin=ORIGIN)
    qtbot.waitUntil(lambda: bool(calls), timeout=20000)
    assert calls[0][0] is None and calls[0][1].code == "ERR_REVIEW_INPUT"
    assert window.review is None


def test_review_only_hands_back_the_confirmed_placements(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from app.ui.review import ReviewedPlacements

    sent = make_bid(tmp_path / "p.pdf", pages=2, keyword_pages=(1,))
    calls: list[tuple[Any, Any]] = []
    window.open_for_review(sent, {"keyword": "投标人（盖章）"}, lambda p, e: calls.append((p, e)),
                           origin=ORIGIN, sign=False)
    qtbot.waitUntil(lambda: window.placement_dialog is not None and window.placement_dialog.spots is not None,
                    timeout=30000)
    assert window.banner.accept_button.text() == "确认盖章位置"
    qtbot.mouseClick(window.placement_dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.banner.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(calls), timeout=20000)
    (result, error), = calls
    assert error is None and isinstance(result, ReviewedPlacements)
    assert result.source == sent and result.sha256 == sha(sent)
    (spec,) = result.specs
    assert spec["kind"] == "rect" and spec["page"] == 1 and spec["image"][:4] == b"\x89PNG"
    assert window.flow is None, "nothing signed, no PIN asked"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.pdf"]

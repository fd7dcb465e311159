"""The Qt-free parts of the window: view models, layout, cache, settings, wire, review hints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.pdfsign.errors import SealCancelledError
from app.token.errors import PinIncorrect
from app.ui.i18n import pick, set_language, tr
from app.ui.models.document import (
    CrossPageSeal,
    PageInfo,
    PlacedSeal,
    SealChoice,
    SealingPlan,
    clamp_rect,
    default_output_path,
    page_list_text,
    parse_page_list,
    png_size,
)
from app.ui.models.keys import Expiry, PinView, expiry_level, pin_warning
from app.ui.models.layout import PageLayout
from app.ui.models.signatures import Verdict, verdict_of
from app.ui.pagecache import ByteBoundedCache
from app.ui.review import ReviewHints, ReviewSession
from app.ui.state import WindowState
from app.ui.wire import EngineCrashed, UnexpectedError, error_from_wire, error_to_wire

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("days", "level"), [
    (400, Expiry.OK), (91, Expiry.OK), (90, Expiry.WARN_90), (31, Expiry.WARN_90), (30, Expiry.WARN_30),
    (8, Expiry.WARN_30), (7, Expiry.WARN_7), (0, Expiry.WARN_7), (-1, Expiry.EXPIRED),
])
def test_expiry_levels(days: int, level: Expiry) -> None:
    after = NOW + timedelta(days=days, hours=1)
    assert expiry_level(NOW - timedelta(days=10), after, NOW)[0] is level


def test_not_yet_valid() -> None:
    assert expiry_level(NOW + timedelta(days=1), NOW + timedelta(days=300), NOW)[0] is Expiry.NOT_YET_VALID


def test_pin_warning_from_three_tries() -> None:
    assert pin_warning(6) is None and pin_warning(4) is None
    assert "3" in pin_warning(3)[0] and "3" in pin_warning(3)[1]
    assert "1" in pin_warning(1)[1]
    assert "锁定" in pin_warning(0)[0]
    assert PinView(6, 0, False).locked and PinView(6, 2, False).low and not PinView(6, 4, False).low


def test_default_output_is_never_the_input(tmp_path: Path) -> None:
    src = tmp_path / "标书.pdf"
    assert default_output_path(src) == tmp_path / "标书-已签章.pdf"
    (tmp_path / "标书-已签章.pdf").write_bytes(b"x")
    assert default_output_path(src) == tmp_path / "标书-已签章(2).pdf"
    weird = tmp_path / "a-已签章.pdf"
    assert default_output_path(weird, weird) != weird


def test_clamp_moves_a_seal_back_inside() -> None:
    page = PageInfo(0, 595, 842)
    rect, moved = clamp_rect((560, -20, 680, 100), page)
    assert moved and rect == (475.0, 0.0, 595.0, 120.0)
    rect, moved = clamp_rect((10, 10, 110, 110), page)
    assert not moved and rect == (10, 10, 110, 110)
    big, moved = clamp_rect((0, 0, 1190, 1684), page)
    assert moved and big[2] <= 595.01 and big[3] <= 842.01


def test_page_lists() -> None:
    assert parse_page_list("", 5) is None and parse_page_list("全部", 5) is None
    assert parse_page_list("1-3,5", 5) == (0, 1, 2, 4)
    assert parse_page_list("3-1，5", 5) == (0, 1, 2, 4)
    for bad in ("0", "7", "a-b", "1-9"):
        with pytest.raises(ValueError):
            parse_page_list(bad, 5)
    assert page_list_text((0, 1, 2, 4)) == "1-3,5"


def test_plan_specs_carry_displayed_rectangles() -> None:
    choice = SealChoice("key:company", ("公章", "seal"), b"png", 10, 10)
    plan = SealingPlan()
    s = PlacedSeal(choice, 1, (1.0, 2.0, 3.0, 4.0))
    plan.add(s)
    plan.cross_page = CrossPageSeal(choice, pages=(0, 1), center_y=0.3)
    specs = plan.to_specs()
    assert specs[0] == {"kind": "rect", "page": 1, "rect": (1.0, 2.0, 3.0, 4.0), "image": b"png"}
    assert specs[1]["kind"] == "cross" and specs[1]["pages"] == (0, 1) and specs[1]["center_y"] == 0.3
    plan.remove(s.uid)
    assert plan.count == 1


def test_png_size() -> None:
    from app.token.seal_images import company_seal

    w, h = png_size(company_seal("测试单位"))
    assert w > 50 and h > 50
    assert png_size(b"not a png") == (1, 1)


def test_layout_finds_visible_pages() -> None:
    layout = PageLayout(1000, [PageInfo(0, 595, 842)], gap=10)
    assert layout.page_count == 1000
    assert layout.pages_between(0, 500) == [0]
    assert layout.pages_between(0, 500, margin=2) == [0, 1, 2]
    y = layout.slot(500).y
    assert layout.pages_between(y + 1, y + 100) == [500]
    assert layout.hit(layout.slot(3).x + 5, layout.slot(3).y + 5)[0] == 3
    assert layout.hit(0.5, layout.slot(3).y + 5) is None
    assert layout.update_sizes([PageInfo(1, 842, 595)])
    assert layout.slot(2).y == pytest.approx(10 + 842 + 10 + 595 + 10)


@pytest.mark.parametrize(("status", "codes", "mod", "verdict"), [
    ("valid", set(), "none", Verdict.VALID),
    ("untrusted", {"CHAIN_UNTRUSTED"}, "none", Verdict.UNTRUSTED),
    ("invalid", {"DIGEST_MISMATCH"}, "none", Verdict.INVALID),
    ("invalid", {"MODIFIED_AFTER_SIGNING"}, "modified", Verdict.MODIFIED),
    ("invalid", {"CERT_EXPIRED_AT_SIGNING"}, "none", Verdict.EXPIRED),
    ("invalid", {"CERT_EXPIRED_AT_SIGNING", "DIGEST_MISMATCH"}, "none", Verdict.INVALID),
])
def test_verdicts(status: str, codes: set[str], mod: str, verdict: Verdict) -> None:
    assert verdict_of(status, codes, mod) is verdict


def test_cache_is_bounded_by_bytes() -> None:
    cache: ByteBoundedCache[bytes] = ByteBoundedCache(100, len)
    for i in range(50):
        cache.put(i, b"x" * 30)
    assert cache.bytes <= 100 and len(cache) == 3
    assert cache.get(49) is not None and cache.get(0) is None
    cache.get(47)
    cache.put(99, b"y" * 30)
    assert cache.get(47) is not None and cache.get(48) is None


def test_window_state_round_trip_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "gui-state.json"
    path.write_text(json.dumps({"seal_size_mm": 30, "future_feature": {"a": 1}, "recent_files": ["/x.pdf", 3]}))
    s = WindowState.load(path)
    assert s.seal_size_mm == 30 and s.extra["future_feature"] == {"a": 1} and s.recent_files == ["/x.pdf"]
    s.add_recent(tmp_path / "b.pdf")
    s.save(path)
    again = WindowState.load(path)
    assert again.extra["future_feature"] == {"a": 1}
    assert again.recent_files[0] == str((tmp_path / "b.pdf").resolve())
    path.write_text("{broken")
    assert WindowState.load(path).recent_files == []
    path.write_text(json.dumps({"seal_size_mm": 9999}))
    assert WindowState.load(path).seal_size_mm == 42.0


def test_output_name_is_numbered_never_the_original(tmp_path: Path) -> None:
    src = tmp_path / "bid.pdf"
    out = tmp_path / "out"
    assert default_output_path(src, out / "bid-sealed.pdf") == out / "bid-sealed.pdf"
    assert default_output_path(src, src) == tmp_path / "bid(2).pdf"


def test_errors_cross_the_pipe_as_themselves() -> None:
    e = error_from_wire(error_to_wire(SealCancelledError()), import_missing=True)
    assert isinstance(e, SealCancelledError) and e.code == "ERR_CANCELLED"
    p = error_from_wire(error_to_wire(PinIncorrect("口令错误", "wrong PIN", retries_left=2)))
    assert isinstance(p, PinIncorrect) and p.retries_left == 2
    try:
        raise KeyError("boom")
    except KeyError as exc:
        u = error_from_wire(error_to_wire(exc))
    assert isinstance(u, UnexpectedError) and "KeyError" in u.details["trace"]
    assert "Traceback" not in u.zh + u.en
    assert EngineCrashed(-9).details["exit_code"] == -9


def test_review_hints_are_sanitised() -> None:
    h = ReviewHints.from_mapping({"keyword": "投标人（盖章）", "page": 3, "occurrence": True, "evil": "x"})
    assert h == ReviewHints("投标人（盖章）", 3, None)
    assert ReviewHints.from_mapping({"page": -1, "keyword": "  "}) == ReviewHints()
    assert ReviewHints.from_mapping(None) == ReviewHints()


def test_review_copy_is_private_and_checked(tmp_path: Path) -> None:
    import os
    import stat

    src = tmp_path / "bid.pdf"
    src.write_bytes(b"%PDF-1.7 test")
    calls: list[object] = []
    s = ReviewSession.prepare(src, "https://hub.example", {"page": 2}, lambda p, e: calls.append((p, e)))
    assert s.copy.read_bytes() == src.read_bytes() and s.copy != src
    assert stat.S_IMODE(os.stat(s.folder).st_mode) == 0o700
    s.check_unchanged()
    os.chmod(s.copy, 0o600)
    s.copy.write_bytes(b"%PDF-1.7 other")
    with pytest.raises(Exception) as info:
        s.check_unchanged()
    assert getattr(info.value, "code", "") == "ERR_REVIEW_CHANGED"
    s.finish(None, None)
    s.finish("again", None)
    assert calls == [(None, None)]


def test_language_switch() -> None:
    try:
        set_language("en")
        assert tr("中", "en") == "en" and pick(("中", "en")) == "en"
    finally:
        set_language("zh")
    assert tr("中", "en") == "中"

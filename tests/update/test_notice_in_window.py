"""The window's start-up update notice (pytest-qt, offscreen, the real MainWindow): an
offered update shows a notice naming the version and where to get it; a hanging server
shows nothing and the window keeps answering meanwhile; the default start-up check
trusts the shipped release keys only."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app import settings
from app.ui.update_notice import start_update_check
from tests.support.update_server import Channel


@pytest.fixture
def window(qtbot: Any, tmp_path, monkeypatch) -> Any:
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    from app.settings import Settings
    from app.ui.state import WindowState
    from app.ui.window import MainWindow

    w = MainWindow(Settings(), state=WindowState(), monitor_keys=False, scan_keys=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def test_offered_update_is_noticed(qtbot: Any, window: Any, channel: Channel) -> None:
    channel.publish(channel.manifest(page="https://updates.example.cn/bidseal/"))
    start_update_check(window, url=channel.url, keys=[channel.key.public_key], timeout=2)
    qtbot.waitUntil(lambda: getattr(window, "update_check", None) is not None, timeout=10000)
    assert window.update_check.offered
    shown = window.statusBar().currentMessage()
    assert "BidSeal 9.0.0" in shown and "https://updates.example.cn/bidseal/" in shown
    assert shown == window.last_notice
    assert getattr(window, "last_tray_message", None) is None  # a visible window needs no balloon


def test_hanging_server_shows_nothing_and_the_window_stays_responsive(qtbot: Any, window: Any,
                                                                      channel: Channel) -> None:
    channel.server.put(channel.path, mode="hang")
    before = getattr(window, "last_notice", None)
    start = time.monotonic()
    handle = start_update_check(window, url=channel.url, keys=[channel.key.public_key], timeout=1.5)
    assert time.monotonic() - start < 0.2  # submitting does not wait for the network
    worst = 0.0
    app = QApplication.instance()
    while handle.running and time.monotonic() - start < 10:
        tick = time.monotonic()
        app.processEvents()
        worst = max(worst, time.monotonic() - tick)
        time.sleep(0.01)
    qtbot.waitUntil(lambda: getattr(window, "update_check", None) is not None, timeout=5000)
    assert worst < 0.5, f"the UI thread was blocked for {worst:.2f} s"
    assert window.update_check.status == "unreachable" and not window.update_check.offered
    assert getattr(window, "last_notice", None) == before


def test_start_up_check_trusts_only_the_shipped_keys(qtbot: Any, window: Any, channel: Channel) -> None:
    channel.publish(channel.manifest())  # signed by a test key, not a release key
    settings.update(update_url=channel.url)
    before = getattr(window, "last_notice", None)
    start_update_check(window)
    qtbot.waitUntil(lambda: getattr(window, "update_check", None) is not None, timeout=20000)
    assert (window.update_check.status, window.update_check.reason) == ("rejected", "signature")
    assert getattr(window, "last_notice", None) == before and "9.0.0" not in window.statusBar().currentMessage()


def test_start_up_check_switched_off(qtbot: Any, window: Any, channel: Channel) -> None:
    channel.publish(channel.manifest())
    settings.update(update_url=channel.url, update_enabled=False)
    start_update_check(window)
    qtbot.waitUntil(lambda: getattr(window, "update_check", None) is not None, timeout=10000)
    assert window.update_check.status == "disabled" and channel.server.hits == []

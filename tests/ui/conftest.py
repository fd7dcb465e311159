"""Fixtures for the desktop-application tests: a provisioned virtual UKey (the real
libsoftskf through the token host), bid PDFs, a shown MainWindow, and helpers that
drive the real widgets with mouse and keyboard events (pytest-qt, offscreen)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.gm.x509 import Certificate
from app.token import host_client
from app.token.softkey import (
    DEFAULT_ADMIN_PIN,
    DEFAULT_LABEL,
    DEFAULT_USER_PIN,
    SoftkeyInfo,
    init_softkey,
)
from tests.support import softkey as virtual_ukey
from tests.support.update_server import channel, update_server  # noqa: F401 - fixtures (test_background_start)

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store

KEYWORD = "投标人（盖章）"
PIN = DEFAULT_USER_PIN
ADMIN_PIN = DEFAULT_ADMIN_PIN


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-demo-pki")


@pytest.fixture(scope="module")
def ukey(store: Path, pki_dir: Path) -> SoftkeyInfo:
    """The demo key (label BIDSEAL-SOFTKEY, PIN 12345678) in this module's store."""
    return init_softkey(store, DEFAULT_LABEL, PIN, ADMIN_PIN, pki_dir)


@pytest.fixture(scope="module")
def root_der(ukey: SoftkeyInfo) -> bytes:
    return bytes(ukey.root_certificate.der)


@pytest.fixture(scope="session", autouse=True)
def _engines_closed() -> Iterator[None]:
    yield
    from app.ui import engine_client

    engine_client.shutdown()


def make_bid(path: Path, pages: int = 3, *, keyword_pages: tuple[int, ...] = (-1,), mb_image: int = 0) -> Path:
    """An A4 bid with a title per page and the keyword on ``keyword_pages``."""
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 80), f"第 {i + 1} 页 投标文件 Bid page {i + 1}", fontname="china-s", fontsize=14)
        if i in keyword_pages or (i - pages) in keyword_pages:
            page.insert_text((72, 600), KEYWORD, fontname="china-s", fontsize=14)
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return path


@pytest.fixture
def bid_pdf(tmp_path: Path) -> Path:
    return make_bid(tmp_path / "bid.pdf")


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    app = QApplication.instance()
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def make_window(qtbot: Any, roots: list[bytes] | None = None, **kwargs: Any) -> Any:
    from app.settings import Settings
    from app.ui.state import WindowState
    from app.ui.window import MainWindow

    window = MainWindow(Settings(), state=WindowState(), **kwargs)
    window.trust_roots_der = list(roots or [])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot: Any, ukey: SoftkeyInfo, root_der: bytes) -> Iterator[Any]:
    """A shown main window with the demo key listed and the demo root trusted."""
    w = make_window(qtbot, [root_der])
    qtbot.waitUntil(lambda: w.key_panel.current is not None, timeout=20000)
    try:
        yield w
    finally:
        w.shutdown()
        w.close()


def open_doc(qtbot: Any, window: Any, path: Path | str, timeout: int = 30000) -> None:
    """Open ``path`` and wait until it is shown and its signatures are checked."""
    window.open_file(path)
    qtbot.waitUntil(lambda: window.doc is not None and Path(window.doc.path) == Path(path)
                    and window.sig_panel.state in ("done", "error"), timeout=timeout)


def page_point_global(window: Any, page: int, x: float, y: float) -> QPoint:
    """Screen position of point (x, y) of ``page`` (displayed page coordinates)."""
    viewer = window.viewer
    viewer.go_to_page(page)
    spin(0.05)
    item = viewer.page_items[page]
    view_pos = viewer.mapFromScene(item.mapToScene(QPointF(x, y)))
    return viewer.viewport().mapToGlobal(view_pos)


def _mouse(widget: Any, kind: QEvent.Type, local: QPoint, buttons: Qt.MouseButton) -> None:
    glob = widget.mapToGlobal(local)
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(local), QPointF(glob), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag_seal(window: Any, key: str, page: int, x: float, y: float) -> None:
    """Press on a seal in the palette, move across the window and release over (x, y) of ``page``."""
    palette = window.key_panel.palette_
    target = page_point_global(window, page, x, y)
    vp = palette.viewport()
    start = palette.item_rect(key)
    left = Qt.MouseButton.LeftButton
    _mouse(vp, QEvent.Type.MouseButtonPress, start, left)
    steps = 6
    end_local = vp.mapFromGlobal(target)
    for i in range(1, steps + 1):
        p = start + (end_local - start) * (i / steps)
        _mouse(vp, QEvent.Type.MouseMove, p, left)
        spin(0.01)
    _mouse(vp, QEvent.Type.MouseButtonRelease, end_local, Qt.MouseButton.NoButton)
    spin(0.05)


def enter_pin(qtbot: Any, window: Any, pin: str = PIN, timeout: int = 20000) -> Any:
    """Type ``pin`` into BidSeal's PIN dialog and press OK; returns the dialog."""
    qtbot.waitUntil(lambda: window.flow is not None and window.flow.pin_dialog is not None
                    and window.flow.pin_dialog.isVisible(), timeout=timeout)
    dialog = window.flow.pin_dialog
    QTest.keyClicks(dialog.edit, pin)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    return dialog


def wait_flow(qtbot: Any, window: Any, timeout: int = 60000) -> Any:
    qtbot.waitUntil(lambda: window.flow is not None and window.flow.done, timeout=timeout)
    return window.flow


def trusted_roots(root_der: bytes) -> list[Certificate]:
    return [Certificate.load(root_der)]


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set SOFTSKF_FAULTS for token hosts started from now on (the shared pool is restarted)."""

    def arm(spec: str) -> None:
        monkeypatch.setenv("SOFTSKF_FAULTS", spec)
        host_client.configure()

    yield arm
    os.environ.pop("SOFTSKF_FAULTS", None)
    host_client.configure()


def seal_in_middle(qtbot: Any, window: Any, path: Path, pin: str = PIN) -> Any:
    """Open ``path``, put the first seal in the middle of page 1, sign with ``pin``; the flow."""
    open_doc(qtbot, window, path)
    window._place_in_middle(window.seal_choices()[0])
    window.sign()
    enter_pin(qtbot, window, pin)
    return wait_flow(qtbot, window)

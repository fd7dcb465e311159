"""``bidseal gui --background`` (the login autostart): the real window kept hidden, the real
helper (uvicorn on 127.0.0.1, port from helper.json) answering an allowlisted page, the
helper's tray icon with "Open BidSeal" and "Quit", closing to the tray, the tray-less
fallback, the single-instance rules, and one end-to-end run of the command.

Offscreen Qt has no system tray (``QSystemTrayIcon.isSystemTrayAvailable()`` is false,
as on a bare Xvfb), so both branches are chosen through ``start(tray=...)``, the same
parameter :class:`app.ui.tray_session.TraySession` decides on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app import paths
from app import settings as app_settings
from app.ui import tray_session
from app.ui.main import Started, run, start
from app.ui.tray_session import HIDDEN_NOTICE, tray_available
from app.ui.window import MainWindow
from tests.ui.conftest import make_bid

HUB = "https://hub.example.cn"
HEADERS = {"Origin": HUB, "BidSeal-Protocol": "1"}
REPO = Path(__file__).resolve().parents[2]


def write_helper_config(folder: Path, ports: list[int]) -> Path:
    path = folder / "helper.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hubs": [{"origin": HUB, "name": "示例互认平台"}], "ports": ports}), encoding="utf-8")
    return path


def status(port: int) -> int | None:
    """The helper's answer to the hub's page asking ``status`` (None: nobody answers)."""
    try:
        return httpx.post(f"http://127.0.0.1:{port}/v1/status", headers=HEADERS, json={}, timeout=5).status_code
    except httpx.TransportError:
        return None


@pytest.fixture
def helper_config() -> Iterator[Path]:
    """helper.json in the test home: the demo hub allowed, any free port."""
    path = write_helper_config(paths.config_dir(), [0])
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def launch(qtbot: Any, helper_config: Path) -> Iterator[Any]:
    """``start(...)`` as ``bidseal gui`` does; everything started is closed afterwards."""
    app = QApplication.instance()
    launched: list[Started] = []

    def go(*args: Any, wait: bool = True, **kwargs: Any) -> Started | None:
        started = start(*args, **kwargs)
        if started is not None:
            launched.append(started)
            if wait and started.helper is not None:
                qtbot.waitUntil(lambda: started.helper.state in ("running", "failed"), timeout=30000)
        return started

    yield go
    for started in launched:
        if started.tray is not None:
            started.tray.quitting = True
        started.window.close()
        started.close()
    app.setQuitOnLastWindowClosed(True)


def test_background_start_keeps_the_window_in_the_tray(qtbot: Any, launch: Any) -> None:
    started = launch(background=True, tray=True)
    window, host, session = started.window, started.helper, started.tray
    assert host.state == "running", host.error
    port = host.server.port
    assert not window.isVisible(), "a login start shows no window"
    assert status(port) == 200
    tray = host.tray
    menu = [a.text() for a in tray.menu.actions()]
    assert "打开 BidSeal / Open BidSeal" in menu and menu[-1] == "退出 / Quit"
    assert tray.menu.defaultAction() is tray.open_action

    tray.open_action.trigger()
    qtbot.waitUntil(window.isVisible, timeout=5000)
    assert not window.isMinimized()

    window.close()  # the title bar's X in a background session: to the tray
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert session.notice_shown and "仍在后台运行" in HIDDEN_NOTICE and "Quit" in HIDDEN_NOTICE
    qtbot.wait(200)  # the helper host would stop on the next loop turn if it had seen a close
    assert host.state == "running" and status(port) == 200
    assert not getattr(window, "_shut", False), "hidden, not shut down: it opens again at once"

    tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.Context)  # right click: the menu only
    qtbot.wait(50)
    assert not window.isVisible()
    tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.DoubleClick)
    qtbot.waitUntil(window.isVisible, timeout=5000)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert status(port) == 200


def test_quit_from_the_tray_stops_the_helper_and_ends_the_event_loop(qtbot: Any, launch: Any) -> None:
    started = launch(background=True, tray=True)
    host = started.helper
    port = host.server.port
    assert status(port) == 200
    app = QApplication.instance()
    guard = QObject()
    QTimer.singleShot(0, host.tray.quit_action.trigger)
    QTimer.singleShot(30000, guard, lambda: app.exit(99))  # only if Quit does not end the loop
    assert app.exec() == 0
    del guard
    assert host.state == "stopped" and host.server is None
    assert status(port) is None
    assert getattr(started.window, "_shut", False) and not started.window.isVisible()


def test_a_normal_start_still_quits_on_close(qtbot: Any, launch: Any) -> None:
    started = launch(tray=True)
    window, host = started.window, started.helper
    qtbot.waitExposed(window)
    port = host.server.port
    assert status(port) == 200 and not started.tray.hide_on_close
    window.close()
    qtbot.waitUntil(lambda: host.state == "stopped", timeout=10000)
    assert status(port) is None and not started.tray.notice_shown


@pytest.mark.parametrize("tray", [False, None])
def test_without_a_system_tray_the_window_starts_minimized(qtbot: Any, launch: Any, tray: bool | None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tray_session, "TRAY_WAIT_MS", 800)
    if tray is None:  # what this display says; offscreen (and a bare Xvfb) has no tray
        assert not tray_available()
    began = time.monotonic()
    started = launch(background=True, tray=tray)
    window, host = started.window, started.helper
    qtbot.waitUntil(window.isVisible, timeout=5000)
    waited = time.monotonic() - began
    assert window.isMinimized() and not started.tray.hide_on_close
    if tray is None:  # the tray was waited for first (a panel starting after BidSeal at login)
        assert waited >= 0.8
    assert status(host.server.port) == 200
    port = host.server.port
    window.close()  # no tray to hide in: closing quits as usual
    qtbot.waitUntil(lambda: host.state == "stopped", timeout=10000)
    assert status(port) is None


def test_a_tray_that_appears_after_the_login_start_is_used(qtbot: Any, launch: Any) -> None:
    answers = iter([False, False, False])
    started = launch(background=True, tray=lambda: next(answers, True))
    window, session = started.window, started.tray
    assert not session.has_tray
    qtbot.waitUntil(lambda: session.has_tray, timeout=10000)
    assert session.hide_on_close and not window.isVisible()
    session.open_window()
    qtbot.waitUntil(window.isVisible, timeout=5000)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert started.helper.state == "running" and status(started.helper.server.port) == 200


def test_a_helper_that_cannot_start_shows_the_window(qtbot: Any, launch: Any, helper_config: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        write_helper_config(helper_config.parent, [taken.getsockname()[1]])
        started = launch(background=True, tray=True)
        assert started.helper.state == "failed"
        qtbot.waitUntil(started.window.isVisible, timeout=5000)
        assert "网页助手未启动" in started.window.last_notice
    finally:
        taken.close()


def test_helper_off_means_nothing_to_do_at_login(qtbot: Any, helper_config: Path) -> None:
    before = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    app_settings.update(helper_enabled=False)
    guard = QObject()
    QTimer.singleShot(10000, guard, lambda: QApplication.instance().exit(99))
    try:
        began = time.perf_counter()
        assert run(background=True) == 0
        assert time.perf_counter() - began < 2
        assert start(background=True) is None
    finally:
        del guard
        app_settings.settings_file().unlink()
    after = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    assert after == before, "no window was created"


def test_a_second_background_start_leaves_the_running_one_hidden(qtbot: Any, launch: Any, tmp_path: Path) -> None:
    started = launch(background=True, tray=True)
    window = started.window
    assert launch(background=True, tray=True) is None
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "gui", "--background"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60000)
        assert proc.returncode == 0, proc.stderr.read().decode()
        qtbot.wait(300)
        assert not window.isVisible(), "a login start never pops up the running window"

        # a file opened from the file manager later: handed over, and the window shows
        pdf = make_bid(tmp_path / "handed.pdf", pages=2)
        proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "gui", str(pdf)], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60000)
        assert proc.returncode == 0, proc.stderr.read().decode()
        qtbot.waitUntil(window.isVisible, timeout=10000)
        qtbot.waitUntil(lambda: window.doc is not None and Path(window.doc.path) == pdf, timeout=30000)
    finally:
        if proc.poll() is None:
            proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bidseal_gui_background_end_to_end(tmp_path: Path) -> None:
    """The command as the autostart entry runs it, in its own BidSeal home: the helper answers,
    a second login start exits at once, SIGTERM (logout) stops everything cleanly."""
    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(REPO), BIDSEAL_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("BIDSEAL_DEBUG", None)
    port = free_port()
    probe = subprocess.run([sys.executable, "-c", "from app import paths; print(paths.config_dir())"],
                           env=env, capture_output=True, text=True, cwd=REPO, timeout=60)
    write_helper_config(Path(probe.stdout.strip()), [port])
    cmd = [sys.executable, "-m", "app.cli.main", "gui", "--background"]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while status(port) != 200:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the helper never answered"
            time.sleep(0.2)
        print(f"\nhelper answering {1000 * (time.perf_counter() - began):.0f} ms after `bidseal gui --background`")
        second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0 and not second.stderr, second.stderr
        assert proc.poll() is None and status(port) == 200

        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + signal.SIGTERM, err.decode()
        assert b"Traceback" not in err, err.decode()
        assert status(port) is None
        assert not list((home).rglob("crash-*.log"))
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_page_is_asked_for_consent_while_the_window_stays_in_the_tray(qtbot: Any, launch: Any, ukey: Any) -> None:
    """The point of the login start: a hub's page reaches the bidder with the window hidden.
    The consent dialog shows on its own; declining it leaves the window hidden."""
    import concurrent.futures

    started = launch(background=True, tray=True)
    host, window = started.helper, started.window
    url = f"http://127.0.0.1:{host.server.port}/v1/login"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(lambda: httpx.post(url, headers=HEADERS, json={"nonce": "N" * 44}, timeout=60))
        qtbot.waitUntil(lambda: host.consent.current is not None and host.consent.current.isVisible(), timeout=20000)
        assert not window.isVisible()
        host.consent.current.cancel_button.click()
        qtbot.waitUntil(pending.done, timeout=20000)
    r = pending.result()
    assert r.status_code == 403 and r.json()["error"]["code"] == "ERR_USER_CANCELLED"
    assert not window.isVisible() and host.state == "running"


def test_an_update_offered_at_a_login_start_is_said_in_the_tray(qtbot: Any, launch: Any, channel: Any) -> None:
    """The status bar of a hidden window reaches nobody: the tray icon says it instead."""
    from app.ui.update_notice import start_update_check

    started = launch(background=True, tray=True)
    window = started.window
    assert not window.isVisible() and started.helper.tray is not None
    channel.publish(channel.manifest(page="https://updates.example.cn/bidseal/"))
    start_update_check(window, url=channel.url, keys=[channel.key.public_key], timeout=2)
    qtbot.waitUntil(lambda: getattr(window, "last_tray_message", None) is not None, timeout=10000)
    assert "BidSeal 9.0.0" in window.last_tray_message and "https://updates.example.cn/bidseal/" in window.last_tray_message
    assert window.last_notice == window.last_tray_message  # the status bar has it too, for when it opens


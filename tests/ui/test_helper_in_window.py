"""The localhost helper running inside the desktop window (app/ui/helper_host.py): real
uvicorn on 127.0.0.1, the real consent dialog, BidSeal's real PIN dialog, the sealing
workspace for sign-pdf, and the virtual UKey (libsoftskf through app.token). An HTTP
client plays the hub's page (allowlisted Origin, the protocol header) from a thread while
the test drives the widgets on the UI thread."""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from app.authtoken import MemoryNonceStore, TokenVerifier
from app.helper.config import save_user_hubs
from app.helper.keys import TokenKeys
from app.pdfsign.verify import verify_pdf
from app.token.softkey import DEFAULT_LABEL
from app.ui.helper_host import HelperHost
from tests.ui.conftest import KEYWORD, PIN, enter_pin, make_bid, trusted_roots, wait_flow

HUB = "https://hub.example.cn"
HEADERS = {"Origin": HUB, "BidSeal-Protocol": "1"}
pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="page")


def start_host(qtbot: Any, window: Any, softskf_lib: str, ports: tuple[int, ...] = (0,)) -> HelperHost:
    host = HelperHost(window, keys=TokenKeys([softskf_lib]), ports=ports, enable_after_ms=300)
    started = time.perf_counter()
    host.start()
    qtbot.waitUntil(lambda: host.state in ("running", "failed"), timeout=20000)
    print(f"\nhelper {host.state} {1000 * (time.perf_counter() - started):.0f} ms after start()")
    return host


@pytest.fixture
def host(qtbot: Any, window: Any, softskf_lib: str) -> Iterator[HelperHost]:
    hubs_file = save_user_hubs([{"origin": HUB, "name": "示例互认平台"}])
    h = start_host(qtbot, window, softskf_lib)
    try:
        assert h.state == "running", h.error
        yield h
    finally:
        h.stop()
        hubs_file.unlink()


def page_post(host: HelperHost, op: str, **kw: Any) -> concurrent.futures.Future[httpx.Response]:
    """What the hub's page does: a POST from the allowlisted origin, on another thread."""
    url = f"http://127.0.0.1:{host.server.port}/v1/{op}"

    def post() -> httpx.Response:
        with httpx.Client(headers=HEADERS, timeout=120) as c:
            return c.post(url, **kw)

    return pool.submit(post)


def approve_consent(qtbot: Any, host: HelperHost) -> Any:
    qtbot.waitUntil(lambda: host.consent.current is not None and host.consent.current.isVisible(), timeout=20000)
    dialog = host.consent.current
    assert not dialog.ok_button.isEnabled() and dialog.cancel_button.isDefault()
    qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=5000)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return dialog


def type_pin(qtbot: Any, host: HelperHost, pin: str) -> Any:
    qtbot.waitUntil(lambda: host.pins.current is not None and host.pins.current.isVisible(), timeout=20000)
    dialog = host.pins.current
    QTest.keyClicks(dialog.edit, pin)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    return dialog


def reply(qtbot: Any, future: concurrent.futures.Future[httpx.Response], timeout: int = 60000) -> httpx.Response:
    qtbot.waitUntil(future.done, timeout=timeout)
    return future.result()


class TickGaps:
    """The longest gap between ticks of a 10 ms timer on the UI thread."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


def test_certificates_and_login_through_the_window_dialogs(qtbot: Any, window: Any, host: HelperHost,
                                                            ukey: Any) -> None:
    assert f"127.0.0.1:{host.server.port}" in host.label.text()
    certs = reply(qtbot, page_post(host, "certificates", json={})).json()["certificates"]
    assert any(c["device"] == DEFAULT_LABEL for c in certs)

    nonces = MemoryNonceStore()
    nonce = nonces.issue()
    gaps = TickGaps()
    pending = page_post(host, "login", json={"nonce": nonce})
    consent = approve_consent(qtbot, host)
    assert "example.cn" in consent.origin_label.text()
    # a wrong PIN first: the dialog comes back with the tries left read from the key
    first = type_pin(qtbot, host, "99999999")
    assert "剩余尝试次数" in first.tries.text()
    qtbot.waitUntil(lambda: host.pins.current is not None and host.pins.current is not first
                    and host.pins.current.isVisible(), timeout=20000)
    again = host.pins.current
    assert "口令错误" in again.error.text() and again.pin is not None
    assert again.pin.remaining == again.pin.max_retries - 1
    assert f"{again.pin.remaining}" in again.tries.text()
    type_pin(qtbot, host, PIN)
    clicked = time.perf_counter()
    r = reply(qtbot, pending)
    latency = time.perf_counter() - clicked
    longest = gaps.stop()
    assert r.status_code == 200, r.text
    login = TokenVerifier(HUB, [ukey.root_certificate], nonces).verify(r.json(), nonce)
    assert login.certificate == ukey.sign_certificate
    audit = host.server.services.audit.path.read_text(encoding="utf-8")
    assert "login" in audit and PIN not in audit and "99999999" not in audit
    print(f"\nlogin: PIN OK to reply {latency * 1000:.0f} ms; longest UI tick gap {longest * 1000:.0f} ms")
    assert latency < 10


def test_the_ui_keeps_running_while_a_request_waits_for_consent(qtbot: Any, window: Any,
                                                                 host: HelperHost) -> None:
    gaps = TickGaps()
    pending = page_post(host, "login", json={"nonce": "N" * 44})
    qtbot.waitUntil(lambda: host.consent.current is not None, timeout=20000)
    QTest.qWait(1500)  # the bidder reads the dialog; the request is parked on the helper's loop
    assert not pending.done()
    longest = gaps.stop()
    print(f"\nlongest UI tick gap while waiting for consent: {longest * 1000:.0f} ms")
    assert longest < 0.5, longest
    qtbot.mouseClick(host.consent.current.cancel_button, Qt.MouseButton.LeftButton)
    assert reply(qtbot, pending).json()["error"]["code"] == "ERR_USER_CANCELLED"


def test_declining_gets_the_refusal_and_asks_no_pin(qtbot: Any, window: Any, host: HelperHost,
                                                     tmp_path: Path) -> None:
    shown: list[Any] = []
    host.pins.shown.connect(shown.append)
    # Cancel in the consent dialog
    pending = page_post(host, "login", json={"nonce": "N" * 44})
    qtbot.waitUntil(lambda: host.consent.current is not None, timeout=20000)
    qtbot.mouseClick(host.consent.current.cancel_button, Qt.MouseButton.LeftButton)
    r = reply(qtbot, pending)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ERR_USER_CANCELLED"
    # Decline in the workspace's banner after the document was shown
    sent = make_bid(tmp_path / "from-page.pdf", pages=2)
    pending = page_post(host, "sign-pdf", content=sent.read_bytes(), headers={"Content-Type": "application/pdf"})
    approve_consent(qtbot, host)
    qtbot.waitUntil(lambda: window.review is not None and window.doc is not None
                    and Path(window.doc.path) == window.review.copy, timeout=30000)
    qtbot.mouseClick(window.banner.decline_button, Qt.MouseButton.LeftButton)
    r = reply(qtbot, pending)
    assert r.json()["error"]["code"] == "ERR_USER_CANCELLED"
    assert shown == [] and window.flow is None
    # closing the window refuses the waiting page and stops the server
    port = host.server.port
    pending = page_post(host, "login", json={"nonce": "N" * 44})
    qtbot.waitUntil(lambda: host.consent.current is not None, timeout=20000)
    window.close()
    assert reply(qtbot, pending).json()["error"]["code"] == "ERR_USER_CANCELLED"
    qtbot.waitUntil(lambda: host.state == "stopped", timeout=10000)
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{port}/v1/status", headers=HEADERS, timeout=5)


def test_a_page_that_stops_waiting_closes_the_pin_dialog_and_the_review(qtbot: Any, window: Any,
                                                                        host: HelperHost, tmp_path: Path) -> None:
    host.server.services.user_timeout = 2.5
    pending = page_post(host, "login", json={"nonce": "N" * 44})
    approve_consent(qtbot, host)
    qtbot.waitUntil(lambda: host.pins.current is not None and host.pins.current.isVisible(), timeout=20000)
    assert reply(qtbot, pending).json()["error"]["code"] == "ERR_USER_TIMEOUT"
    qtbot.waitUntil(lambda: host.pins.current is None, timeout=5000)  # withdrawn, nothing typed

    sent = make_bid(tmp_path / "from-page.pdf", pages=1)
    pending = page_post(host, "sign-pdf", content=sent.read_bytes(), headers={"Content-Type": "application/pdf"})
    approve_consent(qtbot, host)
    qtbot.waitUntil(lambda: window.review is not None, timeout=30000)
    assert reply(qtbot, pending).json()["error"]["code"] == "ERR_USER_TIMEOUT"
    qtbot.waitUntil(lambda: window.review is None and not window.banner.isVisible(), timeout=5000)


def test_sign_pdf_is_reviewed_and_sealed_in_the_window(qtbot: Any, window: Any, host: HelperHost,
                                                       tmp_path: Path, root_der: bytes) -> None:
    sent = make_bid(tmp_path / "from-page.pdf", pages=3, keyword_pages=(2,))
    data = sent.read_bytes()
    pending = page_post(host, "sign-pdf", content=data, params={"keyword": KEYWORD, "fileName": "<i>bidder's 投标文件.pdf"},
                        headers={"Content-Type": "application/pdf"})
    consent = approve_consent(qtbot, host)
    facts = [label for label in consent.findChildren(type(consent.origin_label)) if "投标文件.pdf" in label.text()]
    # the page's file name is shown as it is: plain text, not markup and not HTML entities
    assert facts and facts[0].text().startswith("<i>bidder's 投标文件.pdf")
    assert facts[0].textFormat() == Qt.TextFormat.PlainText
    qtbot.waitUntil(lambda: window.review is not None and window.doc is not None
                    and Path(window.doc.path) == window.review.copy, timeout=30000)
    assert window.banner.isVisible() and HUB in window.banner.text.text()
    assert window.review.copy.read_bytes() == data
    # the hints are applied once the document has opened: read the dialog inside the wait
    qtbot.waitUntil(lambda: window.placement_dialog is not None and window.placement_dialog.spots is not None,
                    timeout=30000)
    dialog = window.placement_dialog
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    assert [s.page for s in window.viewer.plan.seals] == [2]
    qtbot.mouseClick(window.banner.accept_button, Qt.MouseButton.LeftButton)
    enter_pin(qtbot, window)
    clicked = time.perf_counter()
    flow = wait_flow(qtbot, window)
    assert flow.error is None, flow.error
    r = reply(qtbot, pending)
    latency = time.perf_counter() - clicked
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    signed = r.content
    assert signed.startswith(data) and len(signed) > len(data)  # an incremental update of the upload
    out = tmp_path / "signed.pdf"
    out.write_bytes(signed)
    report = verify_pdf(out, trust_roots=trusted_roots(root_der))
    assert report.status == "valid" and report.signatures[0].pages == [3], report
    assert out.read_bytes() == Path(flow.output_path).read_bytes()  # what the window signed and shows
    print(f"\nsign-pdf: PIN OK to reply {latency * 1000:.0f} ms ({len(data)} B upload)")


def test_a_taken_port_is_a_sentence_not_a_traceback(qtbot: Any, window: Any, softskf_lib: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        host = start_host(qtbot, window, softskf_lib, ports=(port,))
        try:
            assert host.state == "failed" and host.server is None
            assert host.error is not None and host.error.code == "ERR_PORTS_IN_USE"
            assert host.label.text() == "网页助手未启动"
            window.act_en.trigger()
            assert host.label.text() == "Web helper not running"
            window.act_zh.trigger()
            assert str(port) in host.label.toolTip() and "helper" in host.label.toolTip()
            assert "端口" in window.last_notice and "Traceback" not in window.last_notice
        finally:
            with contextlib.suppress(Exception):
                host.stop()


def test_bidseal_gui_runs_one_helper(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``bidseal gui`` (a real process) serves the hub's page from the user's helper.json; a
    second launch hands over to the first window and exits without a second helper."""
    import json
    import os
    import subprocess
    import sys

    from app import paths

    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))  # the child's folders, seen from here
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = paths.ensure(paths.config_dir())
    (config / "helper.json").write_text(json.dumps({"hubs": [{"origin": HUB}], "ports": [port]}), encoding="utf-8")
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo), QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, "-m", "app.cli.main", "gui"]
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = None

    def status() -> int | None:
        try:
            return httpx.post(f"http://127.0.0.1:{port}/v1/status", json={}, headers=HEADERS, timeout=5).status_code
        except httpx.HTTPError:
            return None

    try:
        qtbot.waitUntil(lambda: status() == 200 or first.poll() is not None, timeout=90000)
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        second = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=60000)
        assert second.returncode == 0
        assert status() == 200 and first.poll() is None
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
                if proc.poll() is None:
                    proc.kill()


def test_the_setting_turns_the_helper_off(qtbot: Any, window: Any, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app import settings
    from app.ui.dialogs.settings_dialog import SettingsDialog

    path = tmp_path / "config.json"
    monkeypatch.setenv("BIDSEAL_CONFIG", str(path))
    assert settings.load().helper_enabled
    dialog = SettingsDialog(window, window.runner)
    qtbot.addWidget(dialog)
    assert dialog.helper_enabled.isChecked()
    dialog.helper_enabled.setChecked(False)
    assert dialog.save(), dialog.error
    assert settings.load().helper_enabled is False
    assert '"enabled": false' in path.read_text(encoding="utf-8")
    settings.save(settings.Settings(), path)
    assert settings.load().helper_enabled is True and '"enabled"' not in path.read_text(encoding="utf-8")
    with pytest.raises(settings.SettingsError):
        settings.save(settings.Settings(helper_enabled="false"), path)  # type: ignore[arg-type]
    path.write_text('{"helper": {"enabled": "no"}}', encoding="utf-8")
    assert settings.load().helper_enabled is True and settings.load().problems  # a bad value: the default

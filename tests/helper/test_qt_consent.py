"""The real Qt consent dialog and tray icon (pytest-qt, offscreen), driving the running
helper: a login approved in the dialog verifies at the hub; Cancel is the default; OK
waits ~1 s; the tray pauses the helper and lists requests."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from app.authtoken import MemoryNonceStore, TokenVerifier  # noqa: E402
from app.demo.pki import DemoPKI  # noqa: E402
from app.helper.consent import CertificateChoice, ConsentRequest, Fact  # noqa: E402
from app.helper.keys import SoftwareKeys  # noqa: E402
from app.helper.origins import display  # noqa: E402
from app.ui.consent_dialog import ConsentDialog, QtConsent  # noqa: E402
from app.ui.helper_tray import HelperTray  # noqa: E402
from tests.helper.conftest import HUB, start_helper  # noqa: E402


def _request(origin: str = "https://hub.example.cn.evil.com:8443") -> ConsentRequest:
    c = CertificateChoice("a" * 32, "辽宁示例建设工程有限公司", "辽宁示例建设工程有限公司", "91210100MA0Y8B6K24",
                          "6609C694", "2028-11-27", "KEY-A")
    return ConsentRequest(display(origin), "decrypt", (c, c),
                          (Fact("项目/标段", "Project / section", "LNGG-2026-001 沈阳市浑南区某道路改造工程（第一标段）"),
                           Fact("信封接收者", "Envelope recipients", "辽宁示例建设工程有限公司（6609C694）")))


def test_dialog_defaults_resist_clickjacking(qtbot, tmp_path: Path) -> None:
    dlg = ConsentDialog(_request())
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert dlg.cancel_button.isDefault() and not dlg.ok_button.isEnabled()
    assert "<b style='font-size:17pt;color:#b00000'>evil.com</b>" in dlg.origin_label.text()
    QTest.qWait(500)
    assert not dlg.ok_button.isEnabled()
    qtbot.waitUntil(dlg.ok_button.isEnabled, timeout=2000)
    dlg.grab().save(str(tmp_path / "consent.png"))
    QTest.keyClick(dlg, Qt.Key.Key_Return)  # Enter hits the default: Cancel
    assert not dlg.decision().approved


def test_login_through_the_real_dialog(qtbot, tmp_path: Path, pki: DemoPKI) -> None:
    consent = QtConsent(enable_after_ms=300)
    running = start_helper(tmp_path, SoftwareKeys(pki.signer()), consent=consent)  # type: ignore[arg-type]
    tray = HelperTray(running.server)
    try:
        nonces = MemoryNonceStore()
        nonce = nonces.issue()
        result: dict = {}
        t = threading.Thread(target=lambda: result.update(r=running.post("login", {"nonce": nonce})))
        t.start()
        qtbot.waitUntil(lambda: consent.current is not None, timeout=10000)
        dlg = consent.current
        assert dlg is not None and not dlg.ok_button.isEnabled()
        assert "example.cn" in dlg.origin_label.text()
        qtbot.waitUntil(dlg.ok_button.isEnabled, timeout=3000)
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "r" in result, timeout=10000)
        t.join()
        r = result["r"]
        assert r.status_code == 200, r.text
        TokenVerifier(HUB, [pki.root_cert], nonces).verify(r.json(), nonce)

        # Cancel in the dialog: the page learns USER_CANCELLED
        t = threading.Thread(target=lambda: result.update(c=running.post("login", {"nonce": nonce})))
        t.start()
        qtbot.waitUntil(lambda: consent.current is not None, timeout=10000)
        qtbot.mouseClick(consent.current.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "c" in result, timeout=10000)
        t.join()
        assert result["c"].json()["error"]["code"] == "ERR_USER_CANCELLED"

        # the tray: port, hubs, recent requests, pause
        tray.refresh()
        assert str(running.server.port) in tray.status_action.text()
        assert any(HUB in a.text() for a in tray.hubs_menu.actions())
        recent = [a.text() for a in tray.recent_menu.actions()]
        assert any("login" in x and "ok" in x for x in recent) and any("ERR_USER_CANCELLED" in x for x in recent)
        tray.pause_action.setChecked(True)
        assert running.post("status").json()["error"]["code"] == "ERR_HELPER_PAUSED"
        assert "暂停" in tray.status_action.text()
        tray.pause_action.setChecked(False)
        assert running.post("status").status_code == 200
    finally:
        running.server.stop()


def test_dialog_closes_when_the_page_goes_away(qtbot, tmp_path: Path, pki: DemoPKI) -> None:
    consent = QtConsent()
    running = start_helper(tmp_path, SoftwareKeys(pki.signer()), consent=consent,  # type: ignore[arg-type]
                           user_timeout=1.0)
    try:
        result: dict = {}
        t = threading.Thread(target=lambda: result.update(r=running.post("login", {"nonce": "N" * 44})))
        t.start()
        qtbot.waitUntil(lambda: consent.current is not None, timeout=10000)
        qtbot.waitUntil(lambda: "r" in result, timeout=10000)
        t.join()
        assert result["r"].json()["error"]["code"] == "ERR_USER_TIMEOUT"
        qtbot.waitUntil(lambda: consent.current is None, timeout=5000)  # the dialog was closed
    finally:
        running.server.stop()

"""A hub login in Chromium approved in the real Qt consent dialog (pytest-qt, the suite's
Qt platform): the hub page asks the helper, BidSeal's own dialog shows the hub's origin,
the bidder clicks OK after the anti-clickjacking delay, the virtual UKey signs, and the
trading system receives interface 4. (The PIN comes from a fixed source: the helper has no
Qt PIN dialog yet.)"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from playwright.sync_api import sync_playwright  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from app.hub import signing  # noqa: E402
from app.hub.payload import build_cert_payload  # noqa: E402
from app.hub.server.run import DEMO_CA_UNIT_ID, build_platform  # noqa: E402
from app.token import find_identity  # noqa: E402
from app.token.softkey import init_softkey  # noqa: E402
from tests.hub.conftest import Servers, free_ports  # noqa: E402
from tests.support import softkey as virtual_ukey  # noqa: E402
from tests.support.softkey import ADMIN_PIN, USER_PIN  # noqa: E402

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
CHROMIUM = "/usr/bin/chromium"


def test_login_approved_in_the_qt_dialog(qtbot, store: Path, softskf_lib: str, hub_pki_dir: Path,  # type: ignore[no-untyped-def]
                                         tmp_path: Path) -> None:
    import requests

    from app.helper.audit import AuditLog
    from app.helper.config import HelperConfig, HubConfig
    from app.helper.keys import TokenKeys
    from app.helper.pins import FixedPinSource
    from app.helper.review import ScriptedReview
    from app.helper.server import HelperServer
    from app.helper.service import HelperServices
    from app.ui.consent_dialog import QtConsent

    init_softkey(store, "QT-KEY", USER_PIN, ADMIN_PIN, hub_pki_dir)
    ident = find_identity(device="QT-KEY")
    consent = QtConsent(enable_after_ms=300)
    helper = HelperServer(HelperServices(
        config=HelperConfig(hubs={}, ports=(0,), allow_http=True), keys=TokenKeys([softskf_lib]),
        consent=consent, pins=FixedPinSource(USER_PIN), review=ScriptedReview(),  # type: ignore[arg-type]
        audit=AuditLog(tmp_path / "logs")))
    helper_port = helper.start()
    ports = free_ports(3)
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    plat = build_platform(tmp_path / "hub", hub_url=urls[0], ca_url=urls[1], demo_url=urls[2],
                          pki_dir=hub_pki_dir, helper_ports=(helper_port,))
    assert helper.policy is not None
    helper.policy.hubs = {urls[0]: HubConfig(urls[0], name="互认平台")}
    servers = Servers([plat.hub_app, plat.ca_app, plat.demo_app], ports).start()
    result: dict[str, str] = {}
    try:
        fields = build_cert_payload(DEMO_CA_UNIT_ID, ident.sign_certificate, ident.enc_certificate, ident.seals)
        path = "/api/ca/userSynchro"
        r = requests.post(urls[0] + path, json=fields | {"sign": signing.sign_hmac(path, fields, plat.secrets["caller"])},
                          timeout=30)
        assert r.json()["code"] == 200, r.text

        def browse() -> None:
            try:
                with sync_playwright() as pw:
                    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 env=dict(os.environ, HOME=str(tmp_path / "home")),
                                                 args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                                       "--disable-dev-shm-usage", "--disable-background-networking"])
                    page = browser.new_page()
                    page.set_default_timeout(120_000)
                    page.goto(urls[2] + "/")
                    page.click("#btn-login")
                    page.wait_for_url(f"{urls[0]}/hub/login/*")
                    page.click("#go")
                    page.wait_for_selector("body[data-result]")
                    result["state"] = page.get_attribute("body", "data-result") or ""
                    result["status"] = page.inner_text("#status")
                    browser.close()
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                result["state"] = f"error: {exc}"

        t = threading.Thread(target=browse, daemon=True)
        t.start()
        qtbot.waitUntil(lambda: consent.current is not None or "state" in result, timeout=120_000)
        dlg = consent.current
        assert dlg is not None, result
        assert "127.0.0.1" in dlg.origin_label.text() and not dlg.ok_button.isEnabled()
        qtbot.waitUntil(dlg.ok_button.isEnabled, timeout=5000)
        dlg.grab().save(str(Path(os.environ.get("BIDSEAL_SCREENSHOTS", tmp_path)) / "hub-qt-consent.png"))
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "state" in result, timeout=120_000)
        t.join(30)
        assert result["state"] == "done", result
        [row] = [e for e in plat.demo.state()["events"] if e["interface"] == "feedbackResult"]
        assert row["summary"]["signCertSn"] == ident.sign_certificate.serial_hex
    finally:
        servers.stop()
        helper.stop()
        plat.hub.db.dispose()

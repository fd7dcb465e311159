"""The whole platform flow in Debian's headless Chromium with the virtual UKey and the helper.

Hub (https, ``hub.example.cn`` mapped to 127.0.0.1 by Chromium's host-resolver rules and
a throw-away certificate), CA service and demo trading system (http on 127.0.0.1) run on
real uvicorn servers; the helper runs with scripted consent and PIN (the Qt dialogs have
their own tests in tests/helper and tests/ui) and the virtual UKey through the SKF layer.

Steps, each checked at the trading system's end: sync (``bidseal hub sync``, interface 1)
and registration through the demo page (1), login (3 -> page -> 4), a 100 MB bid encrypted
with ``bidseal encrypt`` and uploaded in the browser, a bid encrypted on the platform
(extension -> CA service, 5), bid opening of both through the file-key re-wrap (6 -> page
-> 7, plaintext equals the original), online signing (8 -> page -> 9, the delivered PDF
verifies with ``verify_pdf``), the embedded signing page (10), certificate renewal (2).

``BIDSEAL_SCREENSHOTS=<folder>`` also writes the page screenshots there (the README's
resources/screenshots/hub-*.png come from this test).
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from app.cli.main import main as cli
from app.hub.server import db as dbm
from app.hub.server.demo import store as st
from app.hub.server.run import DEMO_CA_UNIT_ID, build_platform
from app.pdfsign.verify import verify_pdf
from app.token import find_identity
from app.token.seal_images import company_seal
from app.token.softkey import init_softkey
from tests.hub.conftest import Servers, free_ports
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
CHROMIUM = "/usr/bin/chromium"
PROJECT = "LNGGZY-2026-0001"
BIG = 100 * 1024 * 1024


def _tls(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "hub.pem", folder / "hub.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=hub.example.cn",
                    "-addext", "subjectAltName=DNS:hub.example.cn,IP:127.0.0.1",
                    "-addext", "basicConstraints=critical,CA:TRUE"], check=True, capture_output=True)
    return cert, key


class Shots:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.out = os.environ.get("BIDSEAL_SCREENSHOTS")

    def take(self, page: Page, name: str, full: bool = True) -> None:
        path = self.tmp / f"hub-{name}.png"
        page.screenshot(path=str(path), full_page=full)
        if self.out:
            Path(self.out).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(self.out) / path.name)


def _events(plat, interface: str) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = plat.demo.store.rows(st.events, st.events.c.interface == interface, order=st.events.c.id)
    return [json.loads(r["summary"]) for r in rows]


def _status(page: Page, element: str) -> str:
    """Wait until a demo status line says ok or bad; its text (fails on bad)."""
    page.wait_for_selector(f"{element}.ok, {element}.bad")
    text = page.inner_text(element)
    assert "ok" in (page.get_attribute(element, "class") or ""), text
    return text


def _finish_hub_page(page: Page, shots: Shots | None = None, name: str = "") -> None:
    """On a hub page: click the button, wait until the page says done (or fail with its text)."""
    page.wait_for_selector("#go")
    if shots:
        shots.take(page, name)
    page.click("#go")
    page.wait_for_selector("body[data-result]", timeout=240_000)  # selectors, not eval: the page's CSP forbids it
    status = page.inner_text("#status")
    assert page.get_attribute("body", "data-result") == "done", status


@pytest.fixture(scope="module")
def ukey(store: Path, hub_pki_dir: Path):  # type: ignore[no-untyped-def]
    info = init_softkey(store, "E2E-KEY", USER_PIN, ADMIN_PIN, hub_pki_dir)
    return info, find_identity(device="E2E-KEY")


def test_platform_flow_in_chromium(ukey, softskf_lib: str, hub_pki_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (installer/linux/browser-deps.txt)"
    from app.helper.audit import AuditLog
    from app.helper.config import HelperConfig, HubConfig
    from app.helper.consent import ScriptedConsent
    from app.helper.keys import TokenKeys
    from app.helper.pins import FixedPinSource
    from app.helper.review import ScriptedReview
    from app.helper.server import HelperServer
    from app.helper.service import HelperServices

    info, identity = ukey
    shots = Shots(tmp_path)
    cert, key = _tls(tmp_path)
    hub_port, ca_port, demo_port = free_ports(3)
    hub_origin = f"https://hub.example.cn:{hub_port}"
    demo_origin = f"http://127.0.0.1:{demo_port}"

    # the helper: scripted consent and PIN, the virtual UKey, the hub's encryption certificate
    consent = ScriptedConsent.approving()
    helper_services = HelperServices(
        config=HelperConfig(hubs={}, ports=(0,), allow_http=True), keys=TokenKeys([softskf_lib]),
        consent=consent, pins=FixedPinSource(USER_PIN), review=ScriptedReview(),
        audit=AuditLog(tmp_path / "helper-logs"))
    helper = HelperServer(helper_services)
    helper_port = helper.start()

    plat = build_platform(tmp_path / "hub", hub_url=hub_origin, ca_url=f"http://127.0.0.1:{ca_port}",
                          demo_url=demo_origin, pki_dir=hub_pki_dir, helper_ports=(helper_port,),
                          hub_api_url=f"https://127.0.0.1:{hub_port}", hub_ca_bundle=str(cert))
    hub_cert = plat.hub.cfg.hub_enc_cert
    assert helper.policy is not None
    helper.policy.hubs = {
        hub_origin: HubConfig(hub_origin, name="互认平台", projects=("LNGGZY-*",), encryption_certificate=hub_cert),
        demo_origin: HubConfig(demo_origin, name="演示交易系统"),  # reads certificates for registration
    }
    import uvicorn

    servers = Servers([plat.ca_app, plat.demo_app], [ca_port, demo_port])
    servers.servers.insert(0, uvicorn.Server(uvicorn.Config(plat.hub_app, host="127.0.0.1", port=hub_port,
                                                            log_level="error", lifespan="off",
                                                            ssl_certfile=str(cert), ssl_keyfile=str(key))))
    servers.start()
    env = dict(os.environ, HOME=str(tmp_path / "home"))
    try:
        # -- interface 1 from the client: bidseal hub sync (SM2 with the UKey) -----------
        old_stdin = sys.stdin
        sys.stdin = __import__("io").StringIO(USER_PIN + "\n")
        try:
            rc = cli(["hub", "sync", "--hub", f"https://127.0.0.1:{hub_port}", "--ca-bundle", str(cert),
                      "--ca-unit-id", DEMO_CA_UNIT_ID, "--device", "E2E-KEY", "--auth", "sm2", "--pin-stdin"])
        finally:
            sys.stdin = old_stdin
        assert rc == 0
        with plat.hub.db.tx() as c:
            [user] = c.execute(dbm.users.select().where(dbm.users.c.sign_cert_sn == info.sign_certificate.serial_hex)
                               ).mappings().all()
        assert user["status"] == "active" and user["enc_cert_sn"] == info.enc_certificate.serial_hex

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, env=env, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP hub.example.cn 127.0.0.1"])
            ctx = browser.new_context(ignore_https_errors=True, viewport={"width": 1200, "height": 860},
                                      locale="zh-CN")
            with contextlib.suppress(Exception):
                ctx.grant_permissions(["local-network-access"])
            ctx.set_default_timeout(90_000)
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            # -- registration through the demo page (interface 1, the trading system's call)
            seal = tmp_path / "seal.png"
            seal.write_bytes(company_seal(info.sign_certificate.unit_name or "x"))
            page.goto(f"{demo_origin}/")
            page.set_input_files("#seal-file", str(seal))
            page.click("#btn-register")
            _status(page, "#st-register")
            assert plat.demo.store.rows(st.bidders)[0]["sign_cert_sn"] == info.sign_certificate.serial_hex

            # -- login: 3 -> hub page -> helper -> 4 ---------------------------------------
            page.click("#btn-login")
            page.wait_for_url(f"{hub_origin}/hub/login/*")
            _finish_hub_page(page, shots, "login")
            shots.take(page, "login-done")
            ev = _events(plat, "feedbackResult")[-1]
            assert ev["unitCode"] == info.sign_certificate.unit_code
            assert ev["signCertSn"] == info.sign_certificate.serial_hex and ev["orgcode"] == "LNGGZY-DEMO"
            assert consent.asked[-1].origin.origin == hub_origin and consent.asked[-1].operation == "login"
            page.click("#back")
            page.wait_for_url(f"{demo_origin}/*")

            # -- a 100 MB bid encrypted on the PC (bidseal encrypt), uploaded in the browser
            big = tmp_path / "投标文件.bin"
            with big.open("wb") as f:
                for _ in range(BIG // (4 * 1024 * 1024)):
                    f.write(os.urandom(4 * 1024 * 1024))
            enc_pem = tmp_path / "enc.pem"
            enc_pem.write_bytes(info.enc_certificate.pem)
            bse = tmp_path / "bid.bse"
            assert cli(["encrypt", str(big), "-o", str(bse), "--to", str(enc_pem), "--project", PROJECT]) == 0
            page.select_option("#bid-mode", "envelope")
            page.set_input_files("#bid-file", str(bse))
            page.click("#btn-upload")
            _status(page, "#st-bids")
            # -- and a small bid encrypted on the platform (extension -> CA service, interface 5)
            small = tmp_path / "报价单.txt"
            small.write_text("投标报价：人民币 8,880,000 元\n", encoding="utf-8")
            page.select_option("#bid-mode", "platform")
            page.set_input_files("#bid-file", str(small))
            page.click("#btn-upload")
            page.wait_for_selector("#bids tbody tr:nth-child(2)")
            bids = plat.demo.store.rows(st.bids, order=st.bids.c.id)
            assert [b["plaintext_size"] for b in bids] == [BIG, small.stat().st_size]
            shots.take(page, "demo")

            # -- bid opening: 6 -> hub page -> helper re-wraps the file key -> hub decrypts -> 7
            for bid, original in zip(bids, (big, small), strict=True):
                page.click(f"button[data-bid='{bid['id']}']")
                page.wait_for_url(f"{hub_origin}/hub/decrypt/*", timeout=300_000)
                _finish_hub_page(page, shots if bid["id"] == bids[0]["id"] else None, "decrypt")
                opened = plat.demo.data_dir / "opened" / f"{bid['id']}.bin"
                assert filecmp.cmp(opened, original, shallow=False), "plaintext equals the original"
                assert consent.asked[-1].operation == "decrypt"
                page.goto(f"{demo_origin}/")
            dec = _events(plat, "decrypt")
            assert [d["size"] for d in dec] == [BIG, small.stat().st_size]
            assert all(d["encCertSn"] == info.enc_certificate.serial_hex for d in dec)
            assert not list(plat.hub.files.glob("*.plain")), "no plaintext left at the hub"

            # -- online signing: 8 -> hub page -> helper signs -> hub verifies -> 9 ---------
            page.click("#btn-sign")
            page.wait_for_url(f"{hub_origin}/hub/sign/*")
            _finish_hub_page(page, shots, "sign")
            ev = _events(plat, "onSignature")[-1]
            assert ev["status"] == "valid"
            delivered = plat.demo.data_dir / "signed" / f"{ev['taskId']}.pdf"
            report = verify_pdf(delivered, trust_roots=plat.hub.cfg.trust_roots)
            assert report.all_valid and report.signatures[-1].certificate_serial == info.sign_certificate.serial_hex

            # -- the embedded signing service page (interface 10) ---------------------------
            page.goto(f"{demo_origin}/")
            page.click("#btn-iframe")
            frame_el = page.wait_for_selector("#signing-frame")
            frame = frame_el.content_frame()
            assert frame is not None
            frame.wait_for_selector("#go")
            frame.set_input_files("#file", str(Path(__file__).resolve().parents[2] / "resources" / "samples"
                                               / "bid-sample.pdf"))
            frame.click("#go")
            page.wait_for_selector('#st-iframe:has-text("valid"), #st-iframe.bad')
            assert "valid" in _status(page, "#st-iframe")
            assert _events(plat, "startiframesign/upload")[-1]["status"] == "valid"
            page.reload()
            page.wait_for_selector("#docs tbody tr:nth-child(2)")
            shots.take(page, "demo-done")

            # -- certificate renewal through the demo page (interface 2) --------------------
            page.select_option("#change-type", "renew")
            page.set_input_files("#seal-file", str(seal))
            page.click("#btn-change")
            _status(page, "#st-change")
            with plat.hub.db.tx() as c:
                events = [r.event for r in c.execute(dbm.cert_history.select()).all()]
            assert events[-1] == "renew"

            # -- a stale link shows a clear page
            page.goto(f"{hub_origin}/hub/login/no-such-task?lang=en")
            assert "No such task" in page.inner_text("main")
            shots.take(page, "error", full=False)
            assert not errors, errors
            browser.close()
    finally:
        servers.stop()
        helper.stop()
        plat.hub.db.dispose()
    log = (tmp_path / "helper-logs").rglob("*")
    assert any(p.is_file() for p in log)

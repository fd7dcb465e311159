"""Through a real browser: Debian's Chromium driven by playwright (no browser download).

Two https sites on this machine, reached by name through Chromium's host-resolver rules
and a throw-away test certificate: the allowlisted hub page logs in, lists certificates,
decrypts and seals through resources/web/bidseal.js with the virtual UKey; the foreign
page's fetch, form POST, <img>, sendBeacon and WebSocket attempts get nothing and cause
no dialog.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import os
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from app.authtoken import MemoryNonceStore, TokenVerifier
from app.demo.pki import demo_pki
from app.envelope import encrypt_file
from app.envelope.rewrap import decrypt_rewrapped, read_head
from app.gm import cms
from app.helper.config import HubConfig
from app.helper.keys import TokenKeys
from app.token.softkey import init_softkey
from tests.helper.conftest import start_helper
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

    def log_message(self, *args: object) -> None:
        pass


def _https_site(root: Path, cert: Path, key: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


HUB_PAGE = """<!doctype html><meta charset="utf-8"><title>hub</title>
<button id="go">用 UKey 登录</button>
<script type="module">
import * as sdk from "./bidseal.js";
window.sdk = sdk;
document.getElementById("go").onclick = async () => {
  try { window.helper = await sdk.connect(window.ports ? {ports: window.ports} : {}); }
  catch (e) { window.connectError = e.code; }
};
</script>"""

EVIL_PAGE = """<!doctype html><meta charset="utf-8"><title>evil</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" target="sink"><input name='{"nonce":"' value='NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN"}'></form>
<script>
window.attack = async (base) => {
  const out = {};
  try { const r = await fetch(base + "/v1/certificates", {method: "POST", headers: {"Content-Type": "application/json", "BidSeal-Protocol": "1"}, body: "{}"}); out.fetch = await r.text(); } catch (e) { out.fetch = "blocked"; }
  try { const r = await fetch(base + "/v1/login", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: JSON.stringify({nonce: "N".repeat(44)})}); out.nocors = r.type; } catch (e) { out.nocors = "blocked"; }
  const f = document.getElementById("f"); f.action = base + "/v1/login"; f.submit();
  out.img = await new Promise(res => { const i = new Image(); i.onload = () => res("loaded:" + i.width); i.onerror = () => res("error"); i.src = base + "/v1/certificates"; });
  out.beacon = navigator.sendBeacon(base + "/v1/login", JSON.stringify({nonce: "N".repeat(44)}));
  out.ws = await new Promise(res => { try { const w = new WebSocket(base.replace("http", "ws") + "/v1/login"); w.onopen = () => res("open"); w.onerror = () => res("error"); w.onclose = () => res("closed"); } catch (e) { res("blocked"); } });
  await new Promise(r => setTimeout(r, 500));
  return out;
};
</script>"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (installer/linux/browser-deps.txt)"
    d = tmp_path_factory.mktemp("sites")
    cert, key = d / "site.pem", d / "site.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=hub.example.cn",
                    "-addext", "subjectAltName=DNS:hub.example.cn,DNS:evil.example.com"],
                   check=True, capture_output=True)
    hub_root, evil_root = d / "hub", d / "evil"
    hub_root.mkdir()
    evil_root.mkdir()
    shutil.copy(REPO / "resources" / "web" / "bidseal.js", hub_root / "bidseal.js")
    shutil.copy(REPO / "resources" / "web" / "bidseal.js", evil_root / "bidseal.js")
    shutil.copy(REPO / "resources" / "samples" / "bid-sample.pdf", hub_root / "bid.pdf")
    (hub_root / "index.html").write_text(HUB_PAGE, encoding="utf-8")
    (evil_root / "index.html").write_text(EVIL_PAGE, encoding="utf-8")
    hub, hub_port = _https_site(hub_root, cert, key)
    evil, evil_port = _https_site(evil_root, cert, key)
    yield hub_port, evil_port
    hub.shutdown()
    evil.shutdown()


def test_hub_page_and_foreign_page(sites, store: Path, softskf_lib: str, tmp_path: Path) -> None:
    hub_port, evil_port = sites
    hub_origin = f"https://hub.example.cn:{hub_port}"
    info = init_softkey(store, "BROWSER-KEY", USER_PIN, ADMIN_PIN, tmp_path / "pki")
    hub_pki = demo_pki(unit_name="辽宁省公共资源交易互认平台", root_name="Hub Demo CA")
    running = start_helper(tmp_path, TokenKeys([softskf_lib]), pin=USER_PIN)
    running.server.policy.hubs = {hub_origin: HubConfig(hub_origin, projects=("LNGG-*",),
                                                        encryption_certificate=hub_pki.enc_cert)}
    env = dict(os.environ, HOME=str(tmp_path / "home"))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, env=env, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP hub.example.cn 127.0.0.1, MAP evil.example.com 127.0.0.1"])
            ctx = browser.new_context(ignore_https_errors=True)
            with contextlib.suppress(Exception):  # a Chromium without this permission name
                ctx.grant_permissions(["local-network-access"])
            page = ctx.new_page()
            page.goto(f"{hub_origin}/index.html")
            page.wait_for_function("window.sdk !== undefined")
            page.evaluate("p => { window.ports = p; }", [running.server.port])
            page.click("#go")
            page.wait_for_function("window.helper !== undefined || window.connectError !== undefined",
                                   timeout=15000)
            assert page.evaluate("window.connectError") is None
            # certificates
            certs = page.evaluate("helper.listCertificates()")
            mine = next(c for c in certs if c["device"] == "BROWSER-KEY")
            # login
            nonces = MemoryNonceStore()
            nonce = nonces.issue()
            token = page.evaluate("([n, c]) => helper.login(n, {certificate: c})", [nonce, mine["id"]])
            login = TokenVerifier(hub_origin, [info.root_certificate], nonces).verify(token, nonce)
            assert login.certificate == info.sign_certificate
            asked = running.consent.asked[-1]
            assert asked.origin.origin == hub_origin and asked.operation == "login"
            # decrypt (a)
            der = cms.envelope("开标：报价 888 万元".encode(), [info.enc_certificate])
            plain = page.evaluate("async (b) => Array.from(await helper.decrypt({ciphertext: b}))",
                                  base64.b64encode(der).decode())
            assert bytes(plain).decode() == "开标：报价 888 万元"
            # decrypt (b)
            src = tmp_path / "bid.bin"
            src.write_bytes(os.urandom(50_000))
            env_file = tmp_path / "bid.bse"
            encrypt_file(src, env_file, [info.enc_certificate], project_id="LNGG-2026-007")
            rew = page.evaluate("async (h) => { const r = await helper.decrypt({kind: 'envelope-head', head: h,"
                                " project: 'LNGG-2026-007'}); return Array.from(r.rewrappedKey); }",
                                base64.b64encode(read_head(env_file)).decode())
            decrypt_rewrapped(env_file, tmp_path / "out.bin", bytes(rew), hub_pki.unwrapper())
            assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
            # sign-pdf
            size = page.evaluate("async () => { const pdf = await (await fetch('bid.pdf')).blob();"
                                 " const out = await helper.signPdf(pdf, {keyword: '投标人（盖章）'});"
                                 " return [pdf.size, out.size, out.type]; }")
            assert size[1] > size[0] and size[2] == "application/pdf"
            # a typed error with Chinese and English text
            err = page.evaluate("async () => { try { await helper.login('short'); } catch (e) {"
                                " return [e.name, e.code, e.zh, e.en]; } }")
            assert err[0] == "BidSealError" and err[1] == "ERR_BAD_REQUEST" and err[2] and err[3]
            page.screenshot(path=str(tmp_path / "hub.png"))

            # the foreign page
            before = len(running.consent.asked)
            evil = ctx.new_page()
            evil.goto(f"https://evil.example.com:{evil_port}/index.html")
            out = evil.evaluate("(b) => attack(b)", running.url)
            assert out["fetch"] == "blocked"
            assert out["img"] == "error"
            assert out["ws"] in ("error", "closed", "blocked")
            conn = evil.evaluate("async (p) => { try { await (await import('./bidseal.js'))"
                                 ".connect({requireGesture: false, ports: [p]}); return 'connected'; }"
                                 " catch (e) { return e.code; } }", running.server.port)
            assert conn in ("ERR_HELPER_NOT_RUNNING", "ERR_LOCAL_NETWORK_DENIED")
            assert len(running.consent.asked) == before
            browser.close()
    finally:
        running.server.stop()
    log = running.audit_path.read_text(encoding="utf-8")
    assert "evil.example.com" not in log  # refused before any operation: nothing to audit

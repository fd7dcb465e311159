"""``bidseal helper serve`` as a user runs it: terminal consent and PIN, virtual UKey."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.authtoken import MemoryNonceStore, TokenVerifier
from app.demo.pki import demo_pki
from app.helper.hublist import HubListError, sign_hub_list, verify_hub_list
from app.token.softkey import init_softkey
from tests.helper.conftest import HUB
from tests.support import softkey as virtual_ukey
from tests.support.softkey import ADMIN_PIN, USER_PIN

softskf_lib = virtual_ukey.softskf_lib
store = virtual_ukey.store


def test_serve_in_a_terminal(store: Path, softskf_lib: str, tmp_path: Path) -> None:
    info = init_softkey(store, "CLI-KEY", USER_PIN, ADMIN_PIN, tmp_path / "pki")
    env = dict(os.environ, BIDSEAL_HOME=str(tmp_path / "home"), BIDSEAL_SKF_LIB=softskf_lib,
               SOFTSKF_STORE=str(store), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "helper", "serve", "--port", "0",
                             "--allow-origin", HUB], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        banner = b""
        deadline = time.monotonic() + 60
        while b"Ctrl-C" not in banner and time.monotonic() < deadline:
            banner += proc.stderr.readline()
        port = int(re.search(rb"127\.0\.0\.1:(\d+)", banner).group(1))
        assert b"https://hub.example.cn" in banner
        nonces = MemoryNonceStore()
        nonce = nonces.issue()
        proc.stdin.write(b"y\n" + USER_PIN.encode() + b"\n")
        proc.stdin.flush()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"Origin": HUB, "BidSeal-Protocol": "1"}, timeout=60) as c:
            r = c.post("/v1/login", json={"nonce": nonce})
        assert r.status_code == 200, r.text
        TokenVerifier(HUB, [info.root_certificate], nonces).verify(r.json(), nonce)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    text = (banner + err).decode("utf-8", "replace")
    assert "[example.cn]" in text and USER_PIN not in text


def test_signed_hub_list_is_checked(tmp_path: Path) -> None:
    operator = demo_pki(unit_name="辽宁省公共资源交易中心", root_name="Hub Operator CA")
    payload = {"issued": "2026-01-01T00:00:00Z", "expires": "2099-01-01T00:00:00Z",
               "hubs": [{"origin": "https://hub.example.cn", "projects": ["LNGG-*"]}]}
    signed = sign_hub_list(payload, operator.signer())
    import json

    data = json.dumps(signed).encode()
    assert verify_hub_list(data, [operator.root_cert])["hubs"][0]["origin"] == HUB
    for roots in ([], [demo_pki(root_name="Other").root_cert]):
        try:
            verify_hub_list(data, roots)
            raise AssertionError("untrusted list accepted")
        except HubListError:
            pass
    tampered = dict(signed, payload=signed["payload"][:-4] + "AAA=")
    for bad in (json.dumps(tampered).encode(), json.dumps(payload).encode()):
        try:
            verify_hub_list(bad, [operator.root_cert])
            raise AssertionError("bad list accepted")
        except HubListError:
            pass


def test_config_loads_signed_lists_and_refuses_unsigned(tmp_path: Path) -> None:
    import json

    from app.helper.config import load_config

    operator = demo_pki(root_name="Hub Operator CA 2")
    (tmp_path / "hubs.d").mkdir()
    (tmp_path / "hub-list-roots.pem").write_bytes(operator.root_cert.pem)
    good = {"issued": "2026-01-01T00:00:00Z", "expires": "2099-01-01T00:00:00Z",
            "hubs": [{"origin": "https://signed.example.cn"}]}
    (tmp_path / "hubs.d" / "a.json").write_text(json.dumps(sign_hub_list(good, operator.signer())))
    (tmp_path / "hubs.d" / "b.json").write_text(json.dumps({"hubs": [{"origin": "https://unsigned.example.cn"}]}))
    (tmp_path / "helper.json").write_text(json.dumps({"hubs": [{"origin": "https://User.Example.cn/"},
                                                                {"origin": "http://plain.example.cn"}]}))
    cfg = load_config(tmp_path)
    assert set(cfg.hubs) == {"https://signed.example.cn", "https://user.example.cn"}
    assert any("b.json" in p for p in cfg.problems) and any("plain" in p for p in cfg.problems)


def test_settings_page_saves_user_hubs(tmp_path: Path) -> None:
    import json

    import pytest

    from app.helper.config import load_config, save_user_hubs

    (tmp_path / "helper.json").write_text(json.dumps({"ports": [30001, 30002, 30003]}))
    save_user_hubs([{"origin": "https://Hub.Example.cn/", "name": "示例", "projects": ["LNGG-*"]}], tmp_path)
    cfg = load_config(tmp_path)
    assert list(cfg.hubs) == ["https://hub.example.cn"] and cfg.ports == (30001, 30002, 30003)
    with pytest.raises(ValueError):
        save_user_hubs([{"origin": "http://plain.example.cn"}], tmp_path)
    assert list(load_config(tmp_path).hubs) == ["https://hub.example.cn"]  # nothing half-saved

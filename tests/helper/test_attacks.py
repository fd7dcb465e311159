"""helper-security.md §8, one test per attack: foreign origins, origin and Host variants,
WebSocket hijacking, prompt flooding, PIN fields, exhaustion, fingerprinting, squatting."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.demo.pki import DemoPKI
from app.helper import protocol as helper_protocol
from app.helper.consent import ConsentRequest, Decision, ScriptedConsent
from app.helper.keys import KeyIdentity, SoftwareKeys
from app.helper.server import bind_first_free
from tests.helper.conftest import EVIL, HUB, Running, start_helper
from tests.helper.rawhttp import raw, request, status_of

OPS = ["status", "certificates", "login", "decrypt", "sign-pdf"]
LOGIN = {"nonce": "N" * 44}


# -- 1. loopback only ----------------------------------------------------------------------

def test_bound_to_loopback_only(helper: Running) -> None:
    assert helper.server.port
    addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    for addr in addrs - {"127.0.0.1"}:
        with pytest.raises(OSError):
            socket.create_connection((addr, helper.server.port), timeout=1).close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", helper.server.port), timeout=1).close()


# -- 2./3. foreign origins and origin variants ------------------------------------------------

VARIANTS = [EVIL, "null", "http://hub.example.cn", "https://hub.example.cn.evil.com", "https://evilhub.example.cn",
            "https://hub.example.cn:8443", "https://HUB.example.cn", "https://hub.example.cn.",
            "https://xn--hub-example-cn.com", "https://hub.exampIe.cn", "file://", "", "https://hub.example.cn/"]


@pytest.mark.parametrize("origin", VARIANTS)
@pytest.mark.parametrize("op", OPS)
def test_other_origins_get_a_bare_403_and_no_dialog(helper: Running, origin: str, op: str) -> None:
    body = json.dumps(LOGIN if op == "login" else {}).encode()
    resp = request(helper.server.port, path=f"/v1/{op}", origin=origin or None, body=body)
    assert resp.startswith(b"HTTP/1.1 403 ")
    head = resp.partition(b"\r\n\r\n")[0].lower()
    assert b"access-control" not in head and b"vary" not in head
    assert resp.endswith(b"\r\n\r\n")  # no body
    assert helper.consent.asked == [] and helper.review.requests == []


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_simple_requests_and_forms_get_nothing(helper: Running, ctype: str) -> None:
    """Forms and text/plain POSTs skip the preflight; they are refused all the same."""
    assert status_of(request(helper.server.port, path="/v1/login", origin=EVIL, content_type=ctype,
                             body=b"nonce=" + b"N" * 44)) == 403
    r = request(helper.server.port, path="/v1/login", content_type=ctype, body=json.dumps(LOGIN).encode())
    assert status_of(r) == 400 and helper.consent.asked == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_img_navigation_and_other_methods(helper: Running, method: str) -> None:
    assert status_of(request(helper.server.port, method, "/v1/certificates", origin=None, body=b"")) == 403
    assert status_of(request(helper.server.port, method, "/v1/certificates", origin=EVIL, body=b"")) == 403
    assert status_of(request(helper.server.port, method, "/v1/certificates", body=b"")) == 405


def test_origin_header_twice_is_refused(helper: Running) -> None:
    r = request(helper.server.port, extra={"Origin": HUB})  # a second Origin header
    assert status_of(r) == 403


# -- 4. DNS rebinding --------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example.com:{p}", "localhost:{p}", "0.0.0.0:{p}", "127.1:{p}",
                                  "0x7f000001:{p}", "[::ffff:127.0.0.1]:{p}", "127.0.0.1", "127.0.0.1:1", ""])
def test_host_allowlist_stops_dns_rebinding(helper: Running, host: str) -> None:
    p = helper.server.port
    assert status_of(request(p, host=host.format(p=p))) == 403


# -- 5. cross-site WebSocket hijacking ----------------------------------------------------------

@pytest.mark.parametrize("origin", [EVIL, HUB])
def test_websocket_handshake_is_refused(helper: Running, origin: str) -> None:
    p = helper.server.port
    resp = raw(p, (f"GET /v1/login HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert status_of(resp) in (403, 405) and b"101" not in resp.split(b"\r\n")[0]


# -- preflight --------------------------------------------------------------------------------

def test_preflight_for_the_hub_answers_cors_and_private_network(helper: Running) -> None:
    with httpx.Client(base_url=helper.url) as c:
        r = c.options("/v1/login", headers={"Origin": HUB, "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "content-type,bidseal-protocol",
                                            "Access-Control-Request-Private-Network": "true"})
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == HUB and r.headers["vary"] == "Origin"
        assert r.headers["access-control-allow-private-network"] == "true"
        assert "bidseal-protocol" in r.headers["access-control-allow-headers"]
        assert "access-control-allow-credentials" not in r.headers
        bad = c.options("/v1/login", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
        assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers


def test_missing_protocol_header_is_a_version_mismatch(helper: Running) -> None:
    with httpx.Client(base_url=helper.url, headers={"Origin": HUB}) as c:
        r = c.post("/v1/status", json={})
    assert r.status_code == 400 and r.json()["error"]["code"] == "ERR_VERSION_MISMATCH"


# -- 6. prompt flooding / one operation at a time -----------------------------------------------

class SlowConsent(ScriptedConsent):
    def __init__(self, delay: float) -> None:
        super().__init__(Decision(True))
        self.delay = delay
        self.cancelled = 0

    async def ask(self, request: ConsentRequest) -> Decision:
        self.asked.append(request)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Decision(True)


@pytest.fixture()
def slow_helper(tmp_path: Path, pki: DemoPKI, hub_pki: DemoPKI, seal_png: bytes):
    keys = SoftwareKeys(pki.signer(), pki.unwrapper(), seals={"company": seal_png})
    running = start_helper(tmp_path, keys, hub_pki.enc_cert, consent=SlowConsent(1.0), user_timeout=0.5)
    yield running
    running.server.stop()


def test_second_operation_gets_action_pending(tmp_path: Path, pki: DemoPKI) -> None:
    running = start_helper(tmp_path, SoftwareKeys(pki.signer()), consent=SlowConsent(1.0))
    try:
        results: list[httpx.Response] = []
        threads = [threading.Thread(target=lambda: results.append(running.post("login", LOGIN))) for _ in range(5)]
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409, 409, 409, 409]
        assert sum(1 for r in results if r.status_code == 409
                   and r.json()["error"]["code"] == "ERR_ACTION_PENDING") == 4
        assert len(running.consent.asked) == 1  # one dialog, never a stack of them
    finally:
        running.server.stop()


def test_user_timeout(slow_helper: Running) -> None:
    r = slow_helper.post("login", LOGIN)
    assert r.json()["error"]["code"] == "ERR_USER_TIMEOUT"


def test_page_going_away_closes_the_dialog(tmp_path: Path, pki: DemoPKI) -> None:
    consent = SlowConsent(5.0)
    running = start_helper(tmp_path, SoftwareKeys(pki.signer()), consent=consent)
    try:
        with pytest.raises(httpx.ReadTimeout), running.client() as c:
            c.post("/v1/login", json=LOGIN, timeout=0.5)
        deadline = time.monotonic() + 3
        while consent.cancelled == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert consent.cancelled == 1
        assert running.post("login", LOGIN).status_code in (200, 409)  # the slot was released
    finally:
        running.server.stop()


# -- 7. PIN and schema -------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"nonce": "N" * 44, "pin": "12345678"}, {"nonce": "N" * 44, "PIN": "1"}, {"nonce": "N" * 44, "userPin": "1"},
    {"nonce": "N" * 44, "origin": HUB}, {"nonce": "N" * 44, "extra": 1}, {"nonce": "N" * 43}, {"nonce": 5},
    {"nonce": "N" * 129}, {"nonce": "N" * 43 + "!"}, {}, [], "x", None,
])
def test_strict_schema_and_no_pin_from_a_page(helper: Running, body) -> None:
    r = helper.post("login", body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "ERR_BAD_REQUEST"
    assert helper.consent.asked == []
    if isinstance(body, dict) and any("pin" in k.lower() for k in body):
        assert "PIN" in r.json()["error"]["en"]
        assert "12345678" not in helper.audit_path.read_text(encoding="utf-8") if helper.audit_path.exists() else True


@pytest.mark.parametrize("raw_body", [
    b'{"nonce": "' + b"N" * 44 + b'", "nonce": "' + b"M" * 44 + b'"}', b'{"nonce": NaN}', b"\xff\xfe",
    b"[" * 3000 + b"]" * 3000, b'{"a":' * 9 + b"1" + b"}" * 9,
])
def test_duplicate_keys_nan_bad_utf8_deep_json(helper: Running, raw_body: bytes) -> None:
    with helper.client(**{"Content-Type": "application/json"}) as c:
        r = c.post("/v1/login", content=raw_body)
    assert r.status_code in (400, 413) and helper.consent.asked == []


# -- 11. exhaustion ----------------------------------------------------------------------------

def test_huge_content_length_is_refused_before_reading(helper: Running) -> None:
    p = helper.server.port
    head = (f"POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nOrigin: {HUB}\r\nBidSeal-Protocol: 1\r\n"
            "Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n").encode()
    t = time.monotonic()
    assert status_of(raw(p, head)) == 413
    assert time.monotonic() - t < 2


def test_chunked_bomb_is_cut_at_the_limit(helper: Running) -> None:
    p = helper.server.port
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    data = (f"POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nOrigin: {HUB}\r\nBidSeal-Protocol: 1\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode() + chunk * 4
    assert status_of(raw(p, data)) == 413


def test_oversized_headers_are_refused(helper: Running) -> None:
    resp = request(helper.server.port, extra={"X-Junk": "a" * 9000})
    assert status_of(resp) in (400, 413, 431) or resp == b""


def test_slowloris_and_100_connections_do_not_stop_an_allowed_page(helper: Running, monkeypatch) -> None:
    monkeypatch.setattr(helper_protocol.GuardedH11Protocol, "header_timeout", 1.5)
    p = helper.server.port
    socks = []
    for _ in range(100):
        s = socket.create_connection(("127.0.0.1", p), timeout=5)
        s.sendall(b"POST /v1/status HTTP/1.1\r\nHost: 127.0.0.1")  # never finishes its headers
        socks.append(s)
    try:
        t = time.monotonic()
        r = helper.post("status")
        assert r.status_code == 200 and time.monotonic() - t < 3
        open_socks = list(socks)
        deadline = time.monotonic() + 6
        while open_socks and time.monotonic() < deadline:
            time.sleep(0.25)
            for s in list(open_socks):
                s.settimeout(0.01)
                try:
                    s.recv(100)  # b"" (closed) or an error reply: either way the server let go
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    pass
                open_socks.remove(s)
        closed = len(socks) - len(open_socks)
        assert closed == len(socks)  # every trickling connection was dropped (deadline or eviction)
    finally:
        for s in socks:
            s.close()


def test_slow_body_times_out(helper: Running, monkeypatch) -> None:
    from app.helper import guard

    monkeypatch.setitem(guard.OPERATIONS, "login", guard.OperationSpec("application/json", 16384, 1.0))
    p = helper.server.port
    with socket.create_connection(("127.0.0.1", p), timeout=5) as s:
        s.sendall((f"POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nOrigin: {HUB}\r\nBidSeal-Protocol: 1\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{").encode())
        assert status_of(s.recv(4096)) == 408


# -- 12. fingerprinting ------------------------------------------------------------------------

class CountingKeys(SoftwareKeys):
    calls = 0

    async def identities(self) -> list[KeyIdentity]:
        CountingKeys.calls += 1
        return await super().identities() if self.present else []

    present = True


def test_foreign_replies_are_identical_with_and_without_a_key(tmp_path: Path, pki: DemoPKI) -> None:
    replies = {}
    for present in (True, False):
        keys = CountingKeys(pki.signer(), pki.unwrapper())
        keys.present = present
        running = start_helper(tmp_path / str(present), keys)
        try:
            got = [request(running.server.port, path=f"/v1/{op}", origin=EVIL) for op in OPS]
            t = time.perf_counter()
            for _ in range(30):
                request(running.server.port, path="/v1/certificates", origin=EVIL)
            replies[present] = (got, (time.perf_counter() - t) / 30)
        finally:
            running.server.stop()
    assert replies[True][0] == replies[False][0]
    assert CountingKeys.calls == 0  # no foreign request ever reached the keys
    assert abs(replies[True][1] - replies[False][1]) < 0.02


# -- 13. port squatting ------------------------------------------------------------------------

def test_port_taken_falls_back_and_names_the_owner() -> None:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    try:
        sock, skipped = bind_first_free([taken, 0])
        try:
            assert sock.getsockname()[1] != taken
            assert skipped[0].port == taken
            import os

            assert skipped[0].pid in (os.getpid(), None)
        finally:
            sock.close()
    finally:
        squatter.close()


def test_all_ports_taken_is_a_clear_error(tmp_path: Path, pki: DemoPKI) -> None:
    from app.helper.server import PortsInUse

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    try:
        with pytest.raises(PortsInUse) as exc:
            bind_first_free([squatter.getsockname()[1]])
        assert "端口" in exc.value.zh and str(squatter.getsockname()[1]) in exc.value.en
    finally:
        squatter.close()


def test_pause(helper: Running) -> None:
    helper.server.set_paused(True)
    assert helper.post("login", LOGIN).json()["error"]["code"] == "ERR_HELPER_PAUSED"
    assert status_of(request(helper.server.port, origin=EVIL)) == 403
    helper.server.set_paused(False)
    assert helper.post("status").status_code == 200


def test_http_origin_only_with_the_development_flag(tmp_path: Path, pki: DemoPKI) -> None:
    from app.helper.config import HubConfig

    running = start_helper(tmp_path, SoftwareKeys(pki.signer()))
    try:
        running.server.policy.hubs = {**running.server.policy.hubs,
                                      "http://127.0.0.1:8000": HubConfig("http://127.0.0.1:8000")}
        assert running.post("status", origin="http://127.0.0.1:8000").status_code == 403
        running.server.policy.allow_http = True
        assert running.post("status", origin="http://127.0.0.1:8000").status_code == 200
    finally:
        running.server.stop()


def test_decrypt_head_too_large_is_refused(helper: Running) -> None:
    big = base64.b64encode(b"\0" * (2 << 20)).decode()
    r = helper.post("decrypt", {"kind": "envelope-head", "head": big, "project": "LNGG-1"})
    assert r.status_code == 413

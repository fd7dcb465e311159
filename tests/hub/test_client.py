"""The HTTP client of the platform interfaces: retries only where safe (each attempt
signed anew), timeouts, TLS verification with an optional CA bundle, bilingual refusals."""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.hub import signing
from app.hub.client import HubClient, HubClientError, HubRefused
from app.hub.interfaces import interface
from tests.hub.conftest import Servers, free_ports


def _flaky_app(seen: list[dict]) -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append(body)
        if len(seen) <= 2 or request.url.path.endswith("changeCert"):
            return JSONResponse({"code": 503, "msg": "busy"}, status_code=503)
        return JSONResponse({"code": 200, "msg": "ok", "data": {"n": len(seen)}})

    async def refuse(request: Request) -> JSONResponse:
        return JSONResponse({"code": 422, "msg": "证书不对 / wrong certificate", "errData": "ERR_X: signCert"},
                            status_code=200)

    return Starlette(routes=[Route("/api/ca/userSynchro", endpoint, methods=["POST"]),
                             Route("/api/ca/changeCert", endpoint, methods=["POST"]),
                             Route("/api/ca/startCheck", refuse, methods=["POST"])])


def _sign(path: str, fields: dict) -> str:
    return signing.sign_hmac(path, fields, "s")


@pytest.fixture
def flaky():  # type: ignore[no-untyped-def]
    seen: list[dict] = []
    [port] = free_ports(1)
    servers = Servers([_flaky_app(seen)], [port]).start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        servers.stop()


def test_idempotent_call_is_retried_with_fresh_signatures(flaky) -> None:  # type: ignore[no-untyped-def]
    url, seen = flaky
    answer = HubClient(url, backoff=0.01).call(interface("userSynchro"), {"a": "1"}, _sign)
    assert answer["code"] == 200 and len(seen) == 3
    assert len({s["sign"] for s in seen}) == 3, "every attempt has its own nonce"


def test_non_idempotent_call_is_not_retried(flaky) -> None:  # type: ignore[no-untyped-def]
    url, seen = flaky
    with pytest.raises(HubRefused) as exc:
        HubClient(url, backoff=0.01).call(interface("changeCert"), {"a": "1"}, _sign)
    assert len(seen) == 1 and exc.value.hub_code == 503


def test_refusal_carries_the_hubs_message(flaky) -> None:  # type: ignore[no-untyped-def]
    url, _seen = flaky
    with pytest.raises(HubRefused) as exc:
        HubClient(url).call(interface("startCheck"), {"a": "1"}, _sign)
    e = exc.value
    assert e.hub_code == 422 and "证书不对" in e.zh and "wrong certificate" in e.en and e.err_data == "ERR_X: signCert"


def test_connection_refused_is_retried_then_reported() -> None:
    [port] = free_ports(1)
    t0 = time.monotonic()
    with pytest.raises(HubClientError) as exc:
        HubClient(f"http://127.0.0.1:{port}", backoff=0.05, retries=3).call(interface("changeCert"), {}, _sign)
    assert time.monotonic() - t0 >= 0.05 + 0.1 + 0.2
    assert exc.value.code == "ERR_HUB_UNREACHABLE" and "无法连接" in exc.value.zh


def test_read_timeout_of_a_non_idempotent_call_says_it_may_have_arrived() -> None:
    seen: list[float] = []

    async def slow(request: Request) -> JSONResponse:
        seen.append(time.time())
        import asyncio

        await asyncio.sleep(1.5)
        return JSONResponse({"code": 200})

    [port] = free_ports(1)
    servers = Servers([Starlette(routes=[Route("/api/ca/startCheck", slow, methods=["POST"])])], [port]).start()
    try:
        with pytest.raises(HubClientError) as exc:
            HubClient(f"http://127.0.0.1:{port}", read_timeout=0.3, backoff=0.01).call(interface("startCheck"), {},
                                                                                         _sign)
    finally:
        servers.stop()
    assert exc.value.code == "ERR_HUB_TIMEOUT" and len(seen) == 1


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    c, k = tmp / "cert.pem", tmp / "key.pem"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return c, k


def test_tls_is_verified_and_a_ca_bundle_can_be_given(tmp_path: Path) -> None:
    import uvicorn

    cert, key = _self_signed(tmp_path)

    async def ok(request: Request) -> JSONResponse:
        return JSONResponse({"code": 200, "msg": "ok"})

    [port] = free_ports(1)
    app = Starlette(routes=[Route("/api/ca/startCheck", ok, methods=["POST"])])
    servers = Servers([app], [port])
    servers.servers[0] = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                       ssl_certfile=str(cert), ssl_keyfile=str(key)))
    servers.start()
    try:
        url = f"https://127.0.0.1:{port}"
        with pytest.raises(HubClientError) as exc:
            HubClient(url).call(interface("startCheck"), {}, _sign)
        assert exc.value.code == "ERR_HUB_TLS" and "--ca-bundle" in exc.value.zh
        assert HubClient(url, ca_bundle=str(cert)).call(interface("startCheck"), {}, _sign)["code"] == 200
    finally:
        servers.stop()

"""Fixtures for the hub tests: a demo PKI the hub trusts, and the three servers (hub, CA
service, demo trading system) running for real on 127.0.0.1 with uvicorn."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from app.demo.pki import DemoPKI, demo_pki
from app.hub import signing
from app.hub.interfaces import interface
from app.hub.payload import build_cert_payload
from app.hub.server.run import DEMO_CA_UNIT_ID, DEMO_ORGCODE, Platform3, build_platform
from app.token.seal_images import company_seal


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Servers:
    """uvicorn servers for some Starlette apps, each on its own event loop and thread (as
    separate processes would be: the hub's callbacks to the trading system never wait for
    worker threads of the hub's own pool)."""

    def __init__(self, apps: list[Any], ports: list[int]) -> None:
        import uvicorn

        self.servers = [uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                      lifespan="off"))
                        for app, port in zip(apps, ports, strict=True)]
        self.threads: list[threading.Thread] = []

    def start(self) -> Servers:
        for server in self.servers:
            t = threading.Thread(target=lambda s=server: asyncio.run(s.serve()), daemon=True)
            t.start()
            self.threads.append(t)
        deadline = time.time() + 20
        while not all(s.started for s in self.servers):
            assert time.time() < deadline, "servers did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        for s in self.servers:
            s.should_exit = True
        for t in self.threads:
            t.join(10)


@dataclass
class Live:
    plat: Platform3
    hub_url: str
    ca_url: str
    demo_url: str
    pki: DemoPKI

    @property
    def caller_secret(self) -> str:
        return self.plat.secrets["caller"]

    def post(self, name: str, fields: dict[str, str], *, secret: str | None = None, sign: str | None = None,
             url: str | None = None) -> requests.Response:
        """POST ``fields`` to interface ``name`` of the hub, signed with the caller secret
        unless ``sign`` is given."""
        iface = interface(name)
        body = dict(fields)
        body["sign"] = sign if sign is not None else signing.sign_hmac(iface.path, fields, secret or self.caller_secret)
        return requests.post((url or self.hub_url) + iface.path, json=body, timeout=60)

    def sync_payload(self, **changes: str) -> dict[str, str]:
        pki = self.pki
        fields = build_cert_payload(DEMO_CA_UNIT_ID, pki.sign_cert, pki.enc_cert,
                                    {"company": company_seal(pki.subject.unit_name, code=pki.subject.unit_code)})
        fields.update(changes)
        return fields


@pytest.fixture(scope="session")
def hub_pki() -> DemoPKI:
    return demo_pki()


@pytest.fixture(scope="session")
def hub_pki_dir(hub_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hub-pki")
    (d / "root.pem").write_bytes(hub_pki.root.certificate.pem)
    (d / "root.key.pem").write_bytes(hub_pki.root.key.to_pem())
    return d


def start_live(tmp: Path, pki: DemoPKI, pki_dir: Path, **kwargs: Any) -> tuple[Live, Servers]:
    ports = free_ports(3)
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    plat = build_platform(tmp, hub_url=urls[0], ca_url=urls[1], demo_url=urls[2], pki_dir=pki_dir, **kwargs)
    servers = Servers([plat.hub_app, plat.ca_app, plat.demo_app], ports).start()
    return Live(plat, urls[0], urls[1], urls[2], pki), servers


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, hub_pki: DemoPKI, hub_pki_dir: Path) -> Iterator[Live]:
    lv, servers = start_live(tmp_path_factory.mktemp("hub-live"), hub_pki, hub_pki_dir)
    try:
        yield lv
    finally:
        servers.stop()
        lv.plat.hub.db.dispose()


__all__ = ["DEMO_CA_UNIT_ID", "DEMO_ORGCODE", "Live", "start_live"]

"""A running helper (real uvicorn on 127.0.0.1, an ephemeral port) with scripted consent,
and clients that speak to it as an allowed page or as a foreign one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.demo.pki import DemoPKI, demo_pki
from app.helper.audit import AuditLog
from app.helper.config import HelperConfig, HubConfig
from app.helper.consent import ScriptedConsent
from app.helper.keys import KeyAccess, SoftwareKeys
from app.helper.pins import FixedPinSource
from app.helper.review import ScriptedReview
from app.helper.server import HelperServer
from app.helper.service import HelperServices
from app.token.seal_images import company_seal

HUB = "https://hub.example.cn"
EVIL = "https://evil.example.com"
PROTOCOL = {"BidSeal-Protocol": "1"}


@pytest.fixture(scope="session")
def pki() -> DemoPKI:
    return demo_pki()


@pytest.fixture(scope="session")
def hub_pki() -> DemoPKI:
    return demo_pki(unit_name="辽宁省公共资源交易互认平台", root_name="Hub Demo CA")


@pytest.fixture(scope="session")
def seal_png(pki: DemoPKI) -> bytes:
    return company_seal(pki.subject.unit_name, code=pki.subject.unit_code)


@dataclass
class Running:
    server: HelperServer
    services: HelperServices
    consent: ScriptedConsent
    review: ScriptedReview
    pins: FixedPinSource
    audit_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, origin: str | None = HUB, **headers: str) -> httpx.Client:
        h = dict(PROTOCOL)
        if origin is not None:
            h["Origin"] = origin
        h.update(headers)
        return httpx.Client(base_url=self.url, headers=h, timeout=30)

    def post(self, op: str, body: Any = None, origin: str | None = HUB, **kw: Any) -> httpx.Response:
        with self.client(origin) as c:
            return c.post(f"/v1/{op}", json={} if body is None else body, **kw)


def start_helper(tmp_path: Path, keys: KeyAccess, hub_cert=None, *, pin: str | None = None,
                 consent: ScriptedConsent | None = None, review: ScriptedReview | None = None,
                 user_timeout: float = 30.0) -> Running:
    hubs = {HUB: HubConfig(HUB, name="示例互认平台", projects=("LNGG-*",), encryption_certificate=hub_cert)}
    consent = consent or ScriptedConsent.approving()
    review = review or ScriptedReview()
    pins = FixedPinSource(pin)
    audit = AuditLog(tmp_path / "logs")
    services = HelperServices(config=HelperConfig(hubs=hubs, ports=(0,)), keys=keys, consent=consent,
                              pins=pins, review=review, audit=audit, user_timeout=user_timeout)
    server = HelperServer(services)
    server.start()
    return Running(server, services, consent, review, pins, audit.path)


@pytest.fixture()
def helper(tmp_path: Path, pki: DemoPKI, hub_pki: DemoPKI, seal_png: bytes) -> Iterator[Running]:
    """The helper with a software key (the demo bidder) and scripted consent."""
    keys = SoftwareKeys(pki.signer(), pki.unwrapper(), seals={"company": seal_png})
    running = start_helper(tmp_path, keys, hub_pki.enc_cert)
    try:
        yield running
    finally:
        running.server.stop()

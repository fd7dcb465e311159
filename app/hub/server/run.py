"""``bidseal hub serve``: the hub, the CA service and the demo trading system in one
process, each on its own 127.0.0.1 port (hub ``port``, CA service ``port+1``, trading
system ``port+2``), with the demo PKI (the same demo CA that issues the virtual UKey's
certificates) as the trust root.

Secrets and the hub's encryption key are made once and kept in the hub's data folder
(``platform.json`` and ``hub-enc-key.pem``, mode 0600). :func:`build_platform` is what
tests use to get the three Starlette apps without starting servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from app import paths
from app.atomic import write_atomic
from app.demo.pki import Subject
from app.gm.sm2 import PrivateKey
from app.gm.x509 import Certificate
from app.hub.server.ca_service import CaService
from app.hub.server.config import CallerCredentials, CaServiceLink, HubConfig, Platform
from app.hub.server.db import Database
from app.hub.server.demo.app import DemoTradingSystem
from app.hub.server.routes import build_hub_app
from app.hub.server.service import Hub

HOST = "127.0.0.1"
DEMO_CA_UNIT_ID = "LN-CA-DEMO-001"
DEMO_ORGCODE = "LNGGZY-DEMO"


@dataclass
class Platform3:
    """The three apps and what a test needs to talk to them."""

    hub: Hub
    hub_app: Starlette
    ca_app: Starlette
    demo: DemoTradingSystem
    demo_app: Starlette
    secrets: dict[str, str]


def _secrets(data_dir: Path) -> dict[str, str]:
    path = data_dir / "platform.json"
    if path.exists():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    values = {"caller": secrets.token_urlsafe(24), "platform": secrets.token_urlsafe(24),
              "ca_service": secrets.token_urlsafe(24)}
    write_atomic(path, json.dumps(values).encode(), private=True)
    return values


def _hub_enc_identity(data_dir: Path, pki_dir: Path | None) -> tuple[list[Certificate], Certificate, PrivateKey]:
    """The demo CA root, and the hub's encryption certificate and key (issued once)."""
    from app.token.softkey import load_demo_ca

    ca = load_demo_ca(pki_dir)
    key_path, cert_path = data_dir / "hub-enc-key.pem", data_dir / "hub-enc-cert.pem"
    if key_path.exists() and cert_path.exists():
        cert = Certificate.load(cert_path.read_bytes())
        if cert.verify_signed_by(ca.certificate) and cert.is_valid_at():
            return [ca.certificate], cert, PrivateKey.from_pem(key_path.read_bytes())
    key = PrivateKey.generate()
    cert = ca.issue(key.public_key, Subject(unit_name="辽宁省公共资源交易中心互认平台", ou="CA互认共享服务平台"), "enc")
    write_atomic(key_path, key.to_pem(), private=True)
    write_atomic(cert_path, cert.pem)
    return [ca.certificate], cert, key


def build_platform(data_dir: Path, *, database: str | None = None, hub_url: str, ca_url: str, demo_url: str,
                   helper_ports: tuple[int, ...] | None = None, task_ttl: int = 600, pki_dir: Path | None = None,
                   hub_api_url: str | None = None, hub_ca_bundle: str | None = None,
                   **cfg_overrides: Any) -> Platform3:
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = _secrets(data_dir)
    roots, enc_cert, enc_key = _hub_enc_identity(data_dir, pki_dir)
    cfg = HubConfig(
        public_url=hub_url, data_dir=data_dir,
        callers={DEMO_CA_UNIT_ID: CallerCredentials(DEMO_CA_UNIT_ID, "演示交易系统 / demo trading system",
                                                     secret=keys["caller"], allow_cert_sign=True,
                                                     orgcodes=frozenset({DEMO_ORGCODE}))},
        platforms={DEMO_ORGCODE: Platform(DEMO_ORGCODE, "辽宁省公共资源交易平台（演示）", demo_url, keys["platform"])},
        trust_roots=roots, hub_enc_cert=enc_cert, hub_enc_key=enc_key,
        ca_service=CaServiceLink(ca_url, keys["ca_service"]), helper_ports=helper_ports, task_ttl=task_ttl,
        **cfg_overrides,
    )
    db = Database(database or f"sqlite:///{data_dir / 'hub.sqlite'}")
    hub = Hub(cfg, db)

    def lookup(serial: str) -> tuple[Certificate, str, str] | None:
        found = db.enc_cert_by_sn(serial)
        if not found:
            return None
        import base64

        user, cert_b64 = found
        return Certificate.load(base64.b64decode(cert_b64)), str(user["id_number"]), str(user["unit_code"])

    ca = CaService(keys["ca_service"], lookup)
    demo = DemoTradingSystem(hub_url=hub_url, ca_unit_id=DEMO_CA_UNIT_ID, orgcode=DEMO_ORGCODE,
                             caller_secret=keys["caller"], platform_secret=keys["platform"],
                             data_dir=data_dir / "demo", trust_roots=roots, helper_ports=helper_ports,
                             public_url=demo_url, hub_api_url=hub_api_url, hub_ca_bundle=hub_ca_bundle)
    return Platform3(hub, build_hub_app(hub), ca.app(), demo, demo.app(), keys)


def serve(*, port: int = 8780, database: str | None = None, helper_ports: tuple[int, ...] | None = None,
          task_ttl: int = 600, data_dir: Path | None = None) -> int:
    import uvicorn

    data_dir = data_dir or paths.ensure(paths.data_dir() / "hub")
    urls = [f"http://{HOST}:{port + i}" for i in range(3)]
    plat = build_platform(data_dir, database=database, hub_url=urls[0], ca_url=urls[1], demo_url=urls[2],
                          helper_ports=helper_ports, task_ttl=task_ttl)
    print(f"互认平台 / hub:                {urls[0]}")
    print(f"CA 服务 / CA service:          {urls[1]}/api/ca/encrypt")
    print(f"演示交易系统 / demo platform:  {urls[2]}/")
    print(f"caUnitId: {DEMO_CA_UNIT_ID}   orgcode: {DEMO_ORGCODE}   database: {plat.hub.db.engine.url.render_as_string(hide_password=True)}")
    print(f"数据目录 / data: {data_dir}")
    origins = " ".join(f"--allow-origin {u}" for u in (urls[0], urls[2]))
    print("网页使用 UKey 需启动本机助手 / the pages need the helper:\n"
          f"  bidseal helper serve --dev-allow-http {origins} --hub-cert {data_dir / 'hub-enc-cert.pem'} "
          "--project 'LNGGZY-*'")
    servers = [uvicorn.Server(uvicorn.Config(app, host=HOST, port=port + i, log_level="warning",
                                             timeout_keep_alive=10))
               for i, app in enumerate((plat.hub_app, plat.ca_app, plat.demo_app))]
    # one event loop (and worker-thread pool) per server, as if they were separate
    # processes: the hub's synchronous callbacks never wait for its own pool
    side = [threading.Thread(target=lambda s=s: asyncio.run(s.serve()), daemon=True) for s in servers[1:]]
    for t in side:
        t.start()
    try:
        asyncio.run(servers[0].serve())
    except KeyboardInterrupt:
        pass
    finally:
        for s in servers[1:]:
            s.should_exit = True
        for t in side:
            t.join(5)
        plat.hub.db.dispose()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(serve(port=int(os.environ.get("PORT", "8780"))))

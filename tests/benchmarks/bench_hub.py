"""Load on the reference hub: N concurrent login flows with software keys, loopback only.

Each flow is what a trading system, a bidder's browser and the helper do for one login:
the trading system's "log in" (it calls ``startCheck``, interface 3, signed) -> GET the login page -> page API
``challenge`` (nonce) -> the bidder's key signs the origin-bound challenge (software
SM2 here, in the client) -> page API ``token``: the hub verifies the token (signature,
chain, validity, interface-1 match) and calls ``feedbackResult`` (interface 4) on the
demo trading system, which answers before the page gets its result.

Reported: errors (must be 0) and p50/p99/max latency per step, plus the trading
system's own time for interface 4. Bounded: N flows (default 200) against 127.0.0.1,
one attempt each, then it stops.

    .venv/bin/python tests/benchmarks/bench_hub.py [--flows 200] [--database URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from app.authtoken import create_token  # noqa: E402
from app.demo.pki import DEMO_LEGAL_ID, Subject, demo_pki  # noqa: E402
from app.gm.keyops import SoftwareSigner  # noqa: E402
from app.gm.names import make_uscc  # noqa: E402
from app.gm.sm2 import PrivateKey  # noqa: E402
from app.hub import signing  # noqa: E402
from app.hub.interfaces import interface  # noqa: E402
from app.hub.payload import build_cert_payload  # noqa: E402
from app.hub.server.run import DEMO_CA_UNIT_ID, build_platform  # noqa: E402
from app.token.seal_images import company_seal  # noqa: E402
from tests.hub.conftest import Servers, free_ports  # noqa: E402

STEPS = ("startCheck (trading system -> hub)", "loginPage", "challenge", "token+feedbackResult")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def serve_child(data: Path, pki_dir: Path, ports: list[int], database: str | None, role: str) -> None:
    """One side in its own process, as deployed: ``hub`` (the hub and the CA service) or
    ``demo`` (the trading system). The client's 200 threads share neither's GIL. On
    SIGTERM the trading system writes its own time per interface-4 call to a file."""
    import signal

    urls = [f"http://127.0.0.1:{p}" for p in ports]
    plat = build_platform(data, database=database, hub_url=urls[0], ca_url=urls[1], demo_url=urls[2],
                          pki_dir=pki_dir)
    demo_times: list[float] = []
    lock = threading.Lock()
    original = plat.demo.feedback_result

    def timed_feedback(body: bytes) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            return original(body)
        finally:
            with lock:
                demo_times.append(time.perf_counter() - t0)

    plat.demo.feedback_result = timed_feedback  # type: ignore[method-assign]
    plat.demo_app = plat.demo.app()
    if role == "hub":
        servers = Servers([plat.hub_app, plat.ca_app], ports[:2]).start()
    else:
        servers = Servers([plat.demo_app], ports[2:]).start()
    (data / f"ready-{role}").write_text(json.dumps(plat.secrets))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait(1800)
    servers.stop()
    if role == "demo":
        (data / "demo-times.json").write_text(json.dumps(demo_times))


def _start_servers(tmp: Path, database: str | None) -> tuple[list[subprocess.Popen[bytes]], list[str], dict[str, str]]:
    ports = free_ports(3)
    children = []
    for role in ("hub", "demo"):  # the hub first: it makes the shared secrets and keys
        children.append(subprocess.Popen(
            [sys.executable, __file__, "--serve-child", str(tmp), ",".join(map(str, ports)), role]
            + (["--database", database] if database else []), cwd=REPO))
        deadline = time.time() + 120
        while not (tmp / "data" / f"ready-{role}").exists():
            if children[-1].poll() is not None or time.time() > deadline:
                for c in children:
                    c.kill()
                raise RuntimeError(f"the {role} server did not start")
            time.sleep(0.1)
    secrets = json.loads((tmp / "data" / "ready-hub").read_text())
    return children, [f"http://127.0.0.1:{p}" for p in ports], secrets


def run(flows: int = 200, database: str | None = None, bidders: int = 20) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bidseal-bench-hub-"))
    root = demo_pki().root
    (tmp / "pki").mkdir()
    (tmp / "pki" / "root.pem").write_bytes(root.certificate.pem)
    (tmp / "pki" / "root.key.pem").write_bytes(root.key.to_pem())
    (tmp / "data").mkdir()
    children, urls, keys = _start_servers(tmp, database)
    secret = keys["caller"]
    try:
        signers = _register(urls[0], secret, root, bidders)
        times, errors, wall = _flows(urls[0], urls[2], signers, flows)
    finally:
        for child in children:
            child.send_signal(15)
        for child in children:
            try:
                child.wait(60)
            except subprocess.TimeoutExpired:
                child.kill()
    demo_file = tmp / "data" / "demo-times.json"
    demo_times = json.loads(demo_file.read_text()) if demo_file.exists() else []
    report: dict[str, Any] = {"flows": flows, "concurrency": min(flows, 200), "errors": len(errors),
                              "error_samples": errors[:5], "wall_seconds": round(wall, 2),
                              "flows_per_second": round(flows / wall, 1),
                              "database": (database or "sqlite").split("://")[0], "latency_ms": {}}
    for name, vals in list(times.items()) + [("feedbackResult (trading system)", demo_times)]:
        report["latency_ms"][name] = {"p50": round(1000 * _pct(vals, 0.5), 1), "p99": round(1000 * _pct(vals, 0.99), 1),
                                      "max": round(1000 * max(vals), 1) if vals else None,
                                      "mean": round(1000 * statistics.fmean(vals), 1) if vals else None}
    return report


def _register(hub: str, secret: str, root: Any, bidders: int) -> list[SoftwareSigner]:
    """Interface 1 for each bidder; their software keys then log in."""
    signers = []
    session = requests.Session()
    seal = company_seal("压测投标单位")
    for i in range(bidders):
        key = PrivateKey.generate()
        subject = Subject(unit_name=f"压测投标单位{i:03d}有限公司", unit_code=make_uscc(f"91210100MA0{i:05d}X"),
                          legal_name="张三", legal_id=DEMO_LEGAL_ID)
        cert = root.issue(key.public_key, subject, "sign")
        enc = root.issue(PrivateKey.generate().public_key, subject, "enc")
        fields = build_cert_payload(DEMO_CA_UNIT_ID, cert, enc, {"company": seal})
        path = interface("userSynchro").path
        r = session.post(hub + path, json=fields | {"sign": signing.sign_hmac(path, fields, secret)}, timeout=30)
        assert r.json()["code"] == 200, r.text
        signers.append(SoftwareSigner(cert, key))
    return signers


def _flows(hub: str, demo: str, signers: list[SoftwareSigner], flows: int
           ) -> tuple[dict[str, list[float]], list[str], float]:
    times: dict[str, list[float]] = {s: [] for s in STEPS}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(min(flows, 200))
    local = threading.local()

    def flow(n: int) -> None:
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=60)
        try:
            # the trading system starts the task (interface 3) and records it: its interface-4
            # receiver refuses tasks it did not start
            t0 = time.perf_counter()
            r = s.post(demo + "/demo/api/login", json={}, timeout=120)
            t1 = time.perf_counter()
            url = r.json()["url"]
            page = s.get(url, timeout=120)
            t2 = time.perf_counter()
            assert page.status_code == 200
            page_id = url.rsplit("/", 1)[1]
            nonce = s.post(f"{hub}/hub/api/login/{page_id}/challenge", json={}, timeout=120).json()["nonce"]
            t3 = time.perf_counter()
            token = create_token(signers[n % len(signers)], hub, nonce, allow_http=True).to_dict()
            t4 = time.perf_counter()
            res = s.post(f"{hub}/hub/api/login/{page_id}/token", json={"token": token}, timeout=120).json()
            t5 = time.perf_counter()
            if res.get("code") != 200:
                raise RuntimeError(str(res)[:300])
            with lock:
                for name, dt in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t5 - t4), strict=True):
                    times[name].append(dt)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}"[:300])

    t_start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(flows, 200)) as pool:
        list(pool.map(flow, range(flows)))
    return times, errors, time.perf_counter() - t_start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=int, default=200)
    ap.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temporary folder)")
    ap.add_argument("--serve-child", nargs=3, metavar=("DIR", "PORTS", "ROLE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_child:
        folder = Path(args.serve_child[0])
        serve_child(folder / "data", folder / "pki", [int(p) for p in args.serve_child[1].split(",")], args.database,
                    args.serve_child[2])
        return
    report = run(args.flows, args.database)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    sys.exit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()

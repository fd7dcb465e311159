"""``--database URL``: the reference hub on a real PostgreSQL server (Debian's postgresql,
a throw-away cluster on a private Unix socket, started and stopped by this test)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text

from app.authtoken import create_token
from app.hub.server import db as dbm
from tests.hub.conftest import Live, free_ports, start_live


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb/postgres refuse root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is required (installer/linux/hub-deps.txt: postgresql)"
    bindir = Path(found[-1]).parent
    root = tmp_path_factory.mktemp("pg")
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        root.chmod(0o755)
        for parent in root.parents:  # the postgres user must reach the cluster folder
            if str(parent).startswith(("/tmp", "/var/tmp")) and parent != Path("/tmp"):
                parent.chmod(parent.stat().st_mode | 0o011)
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
    [port] = free_ports(1)
    server = subprocess.Popen(_as_postgres([str(bindir / "postgres"), "-D", str(data), "-k", str(sock),
                                            "-p", str(port), "-c", "listen_addresses=", "-c", "fsync=off"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while not (sock / f".s.PGSQL.{port}").exists():
            assert server.poll() is None and time.time() < deadline, server.stderr.read().decode() if server.stderr else ""
            time.sleep(0.1)
        admin = create_engine(f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}",
                              isolation_level="AUTOCOMMIT")
        for _ in range(50):
            try:
                with admin.connect() as c:
                    c.execute(text("CREATE DATABASE hub"))
                break
            except Exception:  # noqa: BLE001 - the server is still starting
                time.sleep(0.2)
        admin.dispose()
        yield f"postgresql+psycopg://postgres@/hub?host={sock}&port={port}"
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def pg_live(tmp_path_factory, hub_pki, hub_pki_dir, postgres_url) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    lv, servers = start_live(tmp_path_factory.mktemp("hub-pg"), hub_pki, hub_pki_dir, database=postgres_url)
    try:
        yield lv
    finally:
        servers.stop()
        lv.plat.hub.db.dispose()


def test_hub_runs_on_postgresql(pg_live: Live, postgres_url: str) -> None:
    live = pg_live
    assert live.plat.hub.db.engine.dialect.name == "postgresql"
    assert live.post("userSynchro", live.sync_payload()).json()["code"] == 200
    start = live.plat.demo.start_login()
    page_id = start["url"].rsplit("/", 1)[1]
    nonce = requests.post(f"{live.hub_url}/hub/api/login/{page_id}/challenge", json={}, timeout=30).json()["nonce"]
    token = create_token(live.pki.signer(), live.hub_url, nonce, allow_http=True).to_dict()
    r = requests.post(f"{live.hub_url}/hub/api/login/{page_id}/token", json={"token": token}, timeout=60)
    assert r.json()["code"] == 200, r.text
    # replay protection and task uniqueness hold on this database too
    fields = {"caUnitId": "LN-CA-DEMO-001", "taskId": "PG-1", "orgcode": "LNGGZY-DEMO"}
    from app.hub import signing

    body = fields | {"sign": signing.sign_hmac("/api/ca/startCheck", fields, live.caller_secret)}
    assert requests.post(live.hub_url + "/api/ca/startCheck", json=body, timeout=30).json()["code"] == 200
    assert requests.post(live.hub_url + "/api/ca/startCheck", json=body, timeout=30).json()["code"] == 409
    assert live.post("startCheck", fields).json()["errData"] == "ERR_HUB_TASK_EXISTS: taskId"
    # what the hub stored is in PostgreSQL
    engine = create_engine(postgres_url)
    with engine.connect() as c:
        states = dict(c.execute(select(dbm.tasks.c.task_id, dbm.tasks.c.state)).all())
        users = c.execute(select(dbm.users.c.unit_code)).scalars().all()
    engine.dispose()
    assert states[start["taskId"]] == "done" and states["PG-1"] == "created"
    assert users == [live.pki.subject.unit_code]

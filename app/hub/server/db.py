"""The reference hub's database: SQLAlchemy Core tables and the few queries the flows need.

SQLite (a file in the hub's data folder) by default; any SQLAlchemy URL (for example
``postgresql+psycopg://user@/hub``) with ``bidseal hub serve --database URL``. Large
payloads (envelopes, PDFs) live in files beside the database, named by task; rows
hold what a flow decides on.

Tables: ``users`` (interface 1-2 data, one row per caUnitId + idNumber, with status),
``cert_history`` (every certificate a user had, so envelopes made to an old
encryption certificate are still recognised), ``tasks`` (3, 6, 8, 10: state, expiry,
the page key), ``nonces`` (replay protection of ``sign``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ca_unit_id", String(64), nullable=False),
    Column("id_type", String(8), nullable=False),
    Column("id_number", String(32), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("unit_name", String(200), nullable=False),
    Column("unit_code", String(32), nullable=False),
    Column("sign_cert", Text, nullable=False),
    Column("enc_cert", Text, nullable=False),
    Column("sign_cert_sn", String(80), nullable=False),
    Column("enc_cert_sn", String(80), nullable=False),
    Column("cert_end_time", String(32), nullable=False),
    Column("legal_name", String(100), nullable=False),
    Column("legal_idcard", String(32), nullable=False),
    Column("signature", Text, nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("ca_unit_id", "id_number", name="uq_user"),
)

cert_history = Table(
    "cert_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("sign_cert_sn", String(80), nullable=False, index=True),
    Column("enc_cert_sn", String(80), nullable=False, index=True),
    Column("enc_cert", Text, nullable=False),
    Column("event", String(16), nullable=False),
    Column("at", Float, nullable=False),
)

tasks = Table(
    "tasks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("page_id", String(64), nullable=False, unique=True),
    Column("task_id", String(128), nullable=False),
    Column("orgcode", String(64), nullable=False),
    Column("ca_unit_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("challenge", String(200), index=True),
    Column("challenge_at", Float),
    Column("standby", Text),
    Column("meta", Text),
    Column("result", Text),
    UniqueConstraint("orgcode", "task_id", name="uq_task"),
)

nonces = Table(
    "nonces", metadata,
    Column("caller", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)

# task states
CREATED, OPENED, DONE, FAILED = "created", "opened", "done", "failed"
EXPIRED = "expired"  # computed: never stored over DONE/FAILED


def make_engine(url: str, meta: MetaData) -> Engine:
    """An engine for ``url`` with ``meta``'s tables created; SQLite in WAL mode with a
    busy timeout, usable from the server's worker threads."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", sqlite_pragmas)
    meta.create_all(engine)
    return engine


class Database:
    """An engine plus the queries; every method runs in its own short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, metadata)

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # -- nonces ------------------------------------------------------------------------
    def remember_nonce(self, caller: str, nonce: str, ttl: float) -> bool:
        """Record a ``sign`` nonce; False when it was already seen (a replay)."""
        now = time.time()
        with self.tx() as c:
            c.execute(delete(nonces).where(nonces.c.expires_at < now))
            try:
                with c.begin_nested():
                    c.execute(insert(nonces).values(caller=caller, nonce=nonce, expires_at=now + ttl))
            except IntegrityError:
                return False
        return True

    # -- users -------------------------------------------------------------------------
    def user(self, ca_unit_id: str, id_number: str) -> dict[str, Any] | None:
        with self.tx() as c:
            row = c.execute(select(users).where(users.c.ca_unit_id == ca_unit_id,
                                                users.c.id_number == id_number)).mappings().first()
            return dict(row) if row else None

    def user_by_sign_sn(self, sign_cert_sn: str) -> list[dict[str, Any]]:
        with self.tx() as c:
            return [dict(r) for r in c.execute(select(users).where(users.c.sign_cert_sn == sign_cert_sn)).mappings()]

    def upsert_user(self, values: dict[str, Any], event_name: str) -> tuple[int, bool]:
        """Insert or replace the user of (caUnitId, idNumber); returns (id, created).
        Two concurrent first syncs of one user both end as one row."""
        values = dict(values, updated_at=time.time())
        where = (users.c.ca_unit_id == values["ca_unit_id"], users.c.id_number == values["id_number"])
        with self.tx() as c:
            created = False
            row = c.execute(select(users.c.id).where(*where)).first()
            if row is None:
                try:
                    with c.begin_nested():
                        uid = int(c.execute(insert(users).values(**values)).inserted_primary_key[0])
                    created = True
                except IntegrityError:
                    row = c.execute(select(users.c.id).where(*where)).first()
            if not created:
                assert row is not None
                uid = int(row.id)
                c.execute(update(users).where(users.c.id == uid).values(**values))
            c.execute(insert(cert_history).values(user_id=uid, sign_cert_sn=values["sign_cert_sn"],
                                                  enc_cert_sn=values["enc_cert_sn"], enc_cert=values["enc_cert"],
                                                  event=event_name, at=time.time()))
        return uid, created

    def enc_cert_by_sn(self, enc_cert_sn: str) -> tuple[dict[str, Any], str] | None:
        """(user, enc_cert b64) for a current or past encryption certificate serial."""
        with self.tx() as c:
            row = c.execute(select(users).where(users.c.enc_cert_sn == enc_cert_sn)).mappings().first()
            if row:
                return dict(row), str(row["enc_cert"])
            hist = c.execute(select(cert_history).where(cert_history.c.enc_cert_sn == enc_cert_sn)
                             .order_by(cert_history.c.id.desc())).mappings().first()
            if not hist:
                return None
            user = c.execute(select(users).where(users.c.id == hist["user_id"])).mappings().first()
            return (dict(user), str(hist["enc_cert"])) if user else None

    def count(self, table: Table) -> int:
        with self.tx() as c:
            return len(c.execute(select(table.c[table.primary_key.columns.keys()[0]])).all())

    # -- tasks -------------------------------------------------------------------------
    def create_task(self, values: dict[str, Any]) -> bool:
        """Insert a task; False when (orgcode, taskId) already exists."""
        try:
            with self.tx() as c:
                c.execute(insert(tasks).values(**values))
        except IntegrityError:
            return False
        return True

    def task_by_page(self, page_id: str) -> dict[str, Any] | None:
        with self.tx() as c:
            row = c.execute(select(tasks).where(tasks.c.page_id == page_id)).mappings().first()
            return dict(row) if row else None

    def task(self, orgcode: str, task_id: str) -> dict[str, Any] | None:
        with self.tx() as c:
            row = c.execute(select(tasks).where(tasks.c.orgcode == orgcode, tasks.c.task_id == task_id)) \
                .mappings().first()
            return dict(row) if row else None

    def move_task(self, page_id: str, from_states: tuple[str, ...], to_state: str, **values: Any) -> bool:
        """Compare-and-set of a task's state (two pages racing: one wins)."""
        with self.tx() as c:
            res = c.execute(update(tasks).where(tasks.c.page_id == page_id, tasks.c.state.in_(from_states),
                                                tasks.c.expires_at >= time.time())
                            .values(state=to_state, **values))
            return bool(res.rowcount)

    def consume_challenge(self, nonce: str, ttl: float) -> bool:
        """Single use of a login nonce issued to a live task (the login-token NonceStore)."""
        now = time.time()
        with self.tx() as c:
            res = c.execute(update(tasks).where(tasks.c.challenge == nonce, tasks.c.challenge_at >= now - ttl,
                                                tasks.c.state.in_((CREATED, OPENED)), tasks.c.expires_at >= now)
                            .values(challenge=None, challenge_at=None))
            return bool(res.rowcount)

    def set_task(self, page_id: str, **values: Any) -> None:
        with self.tx() as c:
            c.execute(update(tasks).where(tasks.c.page_id == page_id).values(**values))


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()

"""The demo trading system's own records (SQLAlchemy Core, its own SQLite file):
bidders it registered, tasks it started, bids, signed documents and every callback
the hub delivered (what the end-to-end tests read back)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.hub.server.db import make_engine

metadata = MetaData()

bidders = Table(
    "bidders", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_code", String(32), nullable=False, unique=True),
    Column("unit_name", String(200), nullable=False),
    Column("id_number", String(32), nullable=False),
    Column("sign_cert_sn", String(80), nullable=False),
    Column("enc_cert_sn", String(80), nullable=False),
    Column("status", String(16), nullable=False),
    Column("updated_at", Float, nullable=False),
)

tasks = Table(
    "tasks", metadata,
    Column("task_id", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("ref", String(64)),
    Column("created_at", Float, nullable=False),
    Column("result", Text),
)

bids = Table(
    "bids", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_code", String(32), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("plaintext_size", Integer, nullable=False),
    Column("plaintext_sm3", String(64)),
    Column("mode", String(16), nullable=False),
    Column("uploaded_at", Float, nullable=False),
    Column("opened_sm3", String(64)),
    Column("opened_at", Float),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("interface", String(40), nullable=False),
    Column("task_id", String(128)),
    Column("at", Float, nullable=False),
    Column("summary", Text, nullable=False),
)


class DemoStore:
    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url, metadata)

    def rows(self, table: Table, *where: Any, order: Any = None) -> list[dict[str, Any]]:
        q = select(table).where(*where) if where else select(table)
        if order is not None:
            q = q.order_by(order)
        with self.engine.begin() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    def insert(self, table: Table, **values: Any) -> Any:
        """Insert a row; returns its primary key."""
        with self.engine.begin() as c:
            res = c.execute(insert(table).values(**values))
            return res.inserted_primary_key[0] if res.inserted_primary_key else None

    def update(self, table: Table, where: Any, **values: Any) -> int:
        with self.engine.begin() as c:
            return int(c.execute(update(table).where(where).values(**values)).rowcount)

    def upsert_bidder(self, **values: Any) -> None:
        values["updated_at"] = time.time()
        where = bidders.c.unit_code == values["unit_code"]
        with self.engine.begin() as c:
            if c.execute(update(bidders).where(where).values(**values)).rowcount:
                return
            try:
                with c.begin_nested():
                    c.execute(insert(bidders).values(**values))
            except IntegrityError:  # inserted meanwhile by a concurrent login of the same bidder
                c.execute(update(bidders).where(where).values(**values))

    def event(self, interface: str, task_id: str | None, summary: dict[str, Any]) -> None:
        self.insert(events, interface=interface, task_id=task_id, at=time.time(),
                    summary=json.dumps(summary, ensure_ascii=False))

    def task(self, task_id: str) -> dict[str, Any] | None:
        found = self.rows(tasks, tasks.c.task_id == task_id)
        return found[0] if found else None

    def close_task(self, task_id: str, kind: str, result: dict[str, Any]) -> bool:
        """created -> done once; False for an unknown, foreign-kind or finished task."""
        with self.engine.begin() as c:
            res = c.execute(update(tasks).where(tasks.c.task_id == task_id, tasks.c.kind == kind,
                                                tasks.c.state == "created")
                            .values(state="done", result=json.dumps(result, ensure_ascii=False)))
            return bool(res.rowcount)

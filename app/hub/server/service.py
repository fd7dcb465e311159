"""The hub's service layer shared by the flows: tasks, task files, calls to others.

A flow module (one per interface group, in :mod:`app.hub.server.flows`) receives a
:class:`Hub` and checked fields, and returns the response body; routes stay thin.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from app.hub import signing
from app.hub.client import HubClient, HubClientError, HubRefused
from app.hub.errors import HubCode, HubError
from app.hub.interfaces import Interface, interface
from app.hub.server import db as dbm
from app.hub.server.config import HubConfig
from app.hub.server.db import Database


@dataclass
class Delivery:
    """A checked result waiting to be delivered to the business system (4, 7 or 9):
    the route awaits the call without holding a worker thread, so a trading system that
    itself calls the hub while handling the callback can never deadlock with it."""

    task: dict[str, Any]
    interface: str
    fields: dict[str, str]
    result: dict[str, Any]
    cleanup: Callable[[], None] | None = None


PAGE_PATHS = {"login": "/hub/login/", "decrypt": "/hub/decrypt/", "sign": "/hub/sign/",
              "iframesign": "/hub/iframesign/"}


def ok(**data: Any) -> dict[str, Any]:
    """A success body in the seed's shape (code/msg/errData plus the interface's members)."""
    return {"code": 200, "msg": "成功 / OK", "errData": None} | data


class Hub:
    """Configuration, database and outgoing calls of one reference hub."""

    def __init__(self, cfg: HubConfig, db: Database) -> None:
        self.cfg = cfg
        self.db = db
        self.files = cfg.data_dir / "task-files"
        self.files.mkdir(parents=True, exist_ok=True)
        self._http: Any = None

    # -- tasks -------------------------------------------------------------------------
    def new_task(self, kind: str, fields: Mapping[str, str], meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Create a task of ``kind`` for (orgcode, taskId); 409 when that taskId exists."""
        now = time.time()
        row = {
            "page_id": secrets.token_urlsafe(24), "task_id": fields["taskId"], "orgcode": fields["orgcode"],
            "ca_unit_id": fields["caUnitId"], "kind": kind, "state": dbm.CREATED, "created_at": now,
            "expires_at": now + self.cfg.task_ttl, "standby": fields.get("standBy"),
            "meta": json.dumps(dict(meta or {}), ensure_ascii=False),
        }
        if not self.db.create_task(row):
            raise HubError(HubCode.CONFLICT, "ERR_HUB_TASK_EXISTS", "该任务编号 taskId 已存在：每个任务只能发起一次。",
                           "This taskId already exists: a task can be started only once.", field="taskId")
        return row

    def page_url(self, task: Mapping[str, Any]) -> str:
        return self.cfg.public_url.rstrip("/") + PAGE_PATHS[str(task["kind"])] + str(task["page_id"])

    def task_file(self, task: Mapping[str, Any], suffix: str) -> Path:
        return self.files / f"{task['page_id']}.{suffix}"

    def open_task(self, page_id: str, kind: str, *, states: tuple[str, ...] = (dbm.CREATED, dbm.OPENED)
                  ) -> dict[str, Any]:
        """The task behind a page, in one of ``states`` and not expired (404/409/410)."""
        task = self.db.task_by_page(page_id)
        if task is None or task["kind"] != kind:
            raise HubError(HubCode.NOT_FOUND, "ERR_HUB_UNKNOWN_TASK", "任务不存在或链接无效。",
                           "No such task, or the link is not valid.", field="taskId")
        if task["state"] in states and task["expires_at"] < time.time():
            raise HubError(HubCode.EXPIRED, "ERR_HUB_TASK_EXPIRED", "任务已过期：请回到交易系统重新发起。",
                           "The task has expired: start it again from the trading system.", field="taskId")
        if task["state"] not in states:
            done = task["state"] == dbm.DONE
            raise HubError(HubCode.CONFLICT, "ERR_HUB_TASK_STATE",
                           "该任务已完成，不能重复操作。" if done else "该任务已失败或已结束：请重新发起。",
                           "This task is already complete." if done else "This task failed or ended: start again.",
                           field="taskId", task_state=task["state"])
        task["meta"] = json.loads(task["meta"] or "{}")
        return task

    def finish(self, task: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        if not self.db.move_task(str(task["page_id"]), (dbm.CREATED, dbm.OPENED), dbm.DONE,
                                 result=json.dumps(dict(result), ensure_ascii=False)):
            raise HubError(HubCode.CONFLICT, "ERR_HUB_TASK_STATE", "任务状态已改变（可能已在另一页面完成）。",
                           "The task changed state (perhaps completed in another page).", field="taskId")

    def fail(self, task: Mapping[str, Any], error: HubError) -> None:
        self.db.move_task(str(task["page_id"]), (dbm.CREATED, dbm.OPENED), dbm.FAILED,
                          result=json.dumps(error.response(), ensure_ascii=False))

    # -- calls to the business system (4, 7, 9) and the CA service (5) -----------------
    async def deliver(self, d: Delivery) -> dict[str, Any]:
        """Call the business system with ``d``; the task is done only when it accepted."""
        platform = self.cfg.platforms[str(d.task["orgcode"])]
        iface = interface(d.interface)
        # nothing is sent before the connection exists: connection failures are retried
        client = HubClient(platform.callback_url, connect_timeout=10, read_timeout=self.cfg.callback_timeout,
                           retries=3)
        if self._http is None:  # one connection pool for the hub's callbacks (made on the hub's loop)
            self._http = client.async_client()
        try:
            try:
                await client.call_async(iface, d.fields, lambda path, f: signing.sign_hmac(path, f, platform.secret),
                                        self._http)
            except (HubRefused, HubClientError) as exc:
                err = _upstream(iface, exc)
                await run_in_threadpool(self.fail, d.task, err)
                raise err from exc
            await run_in_threadpool(self.finish, d.task, d.result)
        finally:
            if d.cleanup:
                d.cleanup()
        return ok(data=d.result)

    def call_ca_service(self, fields: Mapping[str, str]) -> dict[str, Any]:
        link = self.cfg.ca_service
        if link is None:
            raise HubError(HubCode.UPSTREAM, "ERR_HUB_NO_CA_SERVICE", "未配置 CA 服务。", "No CA service is configured.")
        return self._call(link.url, interface("encrypt"), fields, link.secret)

    def _call(self, base: str, iface: Interface, fields: Mapping[str, str], secret: str) -> dict[str, Any]:
        client = HubClient(base, read_timeout=self.cfg.callback_timeout, retries=1)
        try:
            return client.call(iface, fields, lambda path, f: signing.sign_hmac(path, f, secret))
        except (HubRefused, HubClientError) as exc:
            raise _upstream(iface, exc) from exc
        finally:
            assert client.session is not None
            client.session.close()


def _upstream(iface: Interface, exc: HubRefused | HubClientError) -> HubError:
    if isinstance(exc, HubRefused):
        return HubError(HubCode.UPSTREAM, "ERR_HUB_CALLBACK_REFUSED",
                        f"对方系统拒绝了“{iface.zh}”（代码 {exc.hub_code}）：{exc.hub_msg}",
                        f"The receiving system refused the {iface.en} call (code {exc.hub_code}).",
                        interface=iface.path)
    return HubError(HubCode.UPSTREAM, "ERR_HUB_CALLBACK_FAILED", f"无法送达“{iface.zh}”：{exc.zh}",
                    f"Could not deliver the {iface.en} call: {exc.en}", interface=iface.path)

"""Interfaces 3 (startCheck) -> login page -> 4 (feedbackResult).

1. The business system starts a task; the hub answers ``Loginurl`` (a page with an
   unguessable id, valid for the task's lifetime).
2. The page asks the hub for a nonce (single use, 5 minutes), the helper signs the
   origin-bound challenge with the UKey (login token, ``app.authtoken``), the page
   posts the token back.
3. The hub verifies the token for its own configured origin (signature, chain,
   validity, key usage), then that the certificate is the one synchronised through
   interface 1 for an active user, and only then calls interface 4 with the user's
   data (:meth:`Hub.deliver`). The task is complete when the business system accepted
   the callback.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from app.hub.errors import HubCode, HubError
from app.hub.server import db as dbm
from app.hub.server.checks import Checked
from app.hub.server.service import Delivery, Hub, ok

NONCE_TTL = 300.0


def start_check(hub: Hub, req: Checked) -> dict[str, Any]:
    task = hub.new_task("login", req.fields)
    return ok(Loginurl=hub.page_url(task), taskId=req.fields["taskId"])


class TaskNonces:
    """The login-token verifier's nonce store, kept in the tasks table (works across
    processes and with any database): a nonce is issued to one task and consumed once."""

    def __init__(self, db: dbm.Database) -> None:
        self.db = db

    def issue(self) -> str:  # pragma: no cover - nonces are issued per task by challenge()
        raise NotImplementedError

    def consume(self, nonce: str) -> bool:
        return self.db.consume_challenge(nonce, NONCE_TTL)


def _verifier(hub: Hub) -> Any:
    verifier = getattr(hub, "_login_verifier", None)
    if verifier is None:
        from app.authtoken import TokenVerifier

        verifier = TokenVerifier(hub.cfg.public_url.rstrip("/"), hub.cfg.trust_roots, TaskNonces(hub.db),
                                 allow_http=hub.cfg.public_url.startswith("http://"))
        hub._login_verifier = verifier  # type: ignore[attr-defined]
    return verifier


def challenge(hub: Hub, page_id: str) -> dict[str, Any]:
    """A fresh nonce for the page (replaces an unused earlier one)."""
    task = hub.open_task(page_id, "login")
    from app.authtoken import new_nonce

    nonce = new_nonce()
    hub.db.set_task(page_id, challenge=nonce, challenge_at=time.time(), state=dbm.OPENED)
    return {"nonce": nonce, "origin": hub.cfg.public_url.rstrip("/"), "taskId": task["task_id"]}


def complete(hub: Hub, page_id: str, token: Mapping[str, Any] | str) -> Delivery:
    """Verify the login token and match it with interface-1 data: interface 4 to deliver."""
    task = hub.open_task(page_id, "login")
    from app.authtoken import AuthTokenError

    nonce = task["challenge"]
    if not nonce:
        raise HubError(HubCode.CONFLICT, "ERR_HUB_NO_CHALLENGE", "登录随机数未发放或已使用：请刷新页面重试。",
                       "No login nonce is outstanding: reload the page and try again.")
    try:
        login = _verifier(hub).verify(dict(token) if isinstance(token, Mapping) else token, nonce)
    except AuthTokenError as exc:
        raise HubError(HubCode.INVALID_DATA, exc.code, exc.zh, exc.en) from exc
    cert = login.certificate
    users = [u for u in hub.db.user_by_sign_sn(cert.serial_hex)
             if u["status"] == "active" and _same_cert(u["sign_cert"], cert.der)]
    if not users:
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_NOT_SYNCED",
                       "该证书未在互认平台登记或已注销：请先完成数据同步（接口 1）。",
                       "This certificate is not registered with the hub or was revoked: synchronise it "
                       "first (interface 1).")
    user = users[0]
    fields = {
        "orgcode": task["orgcode"], "caUnitId": task["ca_unit_id"], "taskId": task["task_id"],
        "signCertSn": user["sign_cert_sn"], "idNumber": user["id_number"], "signCert": user["sign_cert"],
        "encCert": user["enc_cert"], "encCertSn": user["enc_cert_sn"], "unitName": user["unit_name"],
        "unitCode": user["unit_code"],
    }
    result = {"unitName": user["unit_name"], "unitCode": user["unit_code"], "signCertSn": user["sign_cert_sn"]}
    return Delivery(task, "feedbackResult", fields, result)


def _same_cert(b64: str, der: bytes) -> bool:
    import base64
    import binascii

    try:
        return base64.b64decode(b64) == der
    except (binascii.Error, ValueError):
        return False

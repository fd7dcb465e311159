"""Every check a request passes before a flow sees it, in one visible place.

Order (the first failure answers; nothing is stored before all pass):

1. the body is a JSON object of at most ``max_body`` bytes (400 / 413);
2. exactly the interface's fields: none missing or empty, none extra, all strings
   (400), none over its size limit (413);
3. ``sign`` parses, its timestamp is inside the window, the caller is known (401/403)
   and the signature verifies with the key its algorithm names (401);
4. the caller may act for the ``orgcode`` (403);
5. the nonce was not seen before (409: a replayed request).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.gm.errors import GMError
from app.gm.x509 import Certificate
from app.hub import signing
from app.hub.errors import HubCode, HubError, bad_request
from app.hub.interfaces import Interface
from app.hub.server.config import CallerCredentials, HubConfig
from app.hub.server.db import Database

#: per-field limits in characters (base64 text for binary fields)
FIELD_LIMITS = {"signCert": 16384, "encCert": 16384, "signature": 1024 * 1024, "standBy": 4096,
                "decData": None, "encData": None, "attFile": None}
DEFAULT_LIMIT = 256


@dataclass(frozen=True)
class Limits:
    """Size limits of a receiver that is not the hub (CA service, business system)."""

    max_body: int = 200 * 1024 * 1024
    max_large_field: int = 150 * 1024 * 1024
    max_att_file: int = 150 * 1024 * 1024


@dataclass(frozen=True)
class Checked:
    fields: dict[str, str]
    caller: CallerCredentials
    token: signing.SignToken


def too_large(field: str, limit: int) -> HubError:
    return HubError(HubCode.TOO_LARGE, "ERR_HUB_TOO_LARGE", f"字段 {field} 超过大小限制（{limit} 字符）。",
                    f"The field {field} is over its size limit ({limit} characters).", field=field)


def parse_body(body: bytes, cfg: HubConfig | Limits) -> dict[str, Any]:
    if len(body) > cfg.max_body:
        raise too_large("body", cfg.max_body)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("body", "请求体不是有效的 JSON。", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise bad_request("body", "请求体应为 JSON 对象。", "The request body must be a JSON object.")
    return data


def check_shape(data: Mapping[str, Any], iface: Interface, cfg: HubConfig | Limits) -> dict[str, str]:
    allowed = set(iface.fields)
    for name in sorted(data):
        if name not in allowed:
            raise bad_request(name, f"多余的字段：{name[:40]}。", f"Unexpected field: {name[:40]}.")
    for name in iface.required + ("sign",):
        if name not in data or data[name] is None:
            raise bad_request(name, f"缺少必填字段：{name}。", f"Missing required field: {name}.")
    for name, value in data.items():
        if not isinstance(value, str):
            raise bad_request(name, f"字段 {name} 应为字符串。", f"The field {name} must be a string.")
        if name != "standBy" and not value.strip():
            raise bad_request(name, f"字段 {name} 不能为空。", f"The field {name} must not be empty.")
        limit = FIELD_LIMITS.get(name, DEFAULT_LIMIT)
        if limit is None:
            limit = cfg.max_att_file if name == "attFile" else cfg.max_large_field
        if len(value) > limit:
            raise too_large(name, limit)
    return {k: str(v) for k, v in data.items()}


def certificate_field(fields: Mapping[str, str], name: str) -> Certificate:
    """A base64-DER (or PEM) certificate field, or 422 naming it."""
    value = fields[name]
    try:
        raw = value.encode("ascii") if value.lstrip().startswith("-----") else base64.b64decode(value, validate=True)
        return Certificate.load(raw)
    except (GMError, binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise HubError(HubCode.INVALID_DATA, "ERR_HUB_CERT_FORMAT", f"字段 {name} 不是有效的证书（应为 base64 DER）。",
                       f"The field {name} is not a valid certificate (expected base64 DER).", field=name) from exc


def _caller(fields: Mapping[str, str], cfg: HubConfig) -> CallerCredentials:
    ca_unit_id = fields.get("caUnitId", "")
    caller = cfg.callers.get(ca_unit_id)
    if caller is None:
        raise HubError(HubCode.FORBIDDEN, "ERR_HUB_UNKNOWN_CALLER", "未登记的 caUnitId：互认平台不认识该调用方。",
                       "Unknown caUnitId: the hub has no such caller.", field="caUnitId")
    return caller


def authenticate(fields: Mapping[str, str], iface: Interface, cfg: HubConfig, db: Database,
                 *, now: float | None = None) -> Checked:
    token = signing.SignToken.parse(fields.get("sign"))
    token.check_time(now)
    caller = _caller(fields, cfg)
    if token.alg == signing.HMAC_SM3:
        if not caller.secret:
            raise _alg_refused(token.alg)
        signing.verify(iface.path, fields, token, secret=caller.secret)
    elif token.alg == signing.SM2:
        if caller.certificate is None:
            raise _alg_refused(token.alg)
        signing.verify(iface.path, fields, token, public_key=caller.certificate.public_key)
    else:  # SM2-CERT: the bidder's own key, interfaces 1-2 only
        if iface.number not in (1, 2) or not caller.allow_cert_sign:
            raise _alg_refused(token.alg)
        cert = certificate_field(fields, "signCert")
        signing.verify(iface.path, fields, token, public_key=cert.public_key)
    if "orgcode" in iface.required:
        orgcode = fields["orgcode"]
        if orgcode not in cfg.platforms or orgcode not in caller.orgcodes:
            raise HubError(HubCode.FORBIDDEN, "ERR_HUB_ORGCODE", "该调用方无权为此平台代码（orgcode）发起任务。",
                           "This caller may not start tasks for this platform code (orgcode).", field="orgcode")
    if not db.remember_nonce(caller.ca_unit_id, token.nonce, 2 * signing.WINDOW_SECONDS + 60):
        raise HubError(HubCode.CONFLICT, "ERR_HUB_REPLAY", "重复的请求（随机数已使用过）：已拒绝，疑似重放。",
                       "Repeated request (the nonce was used before): refused as a replay.", field="sign")
    return Checked(dict(fields), caller, token)


def _alg_refused(alg: str) -> HubError:
    return HubError(HubCode.BAD_SIGN, "ERR_HUB_SIGN_ALG", f"该调用方不能使用签名算法 {alg}。",
                    f"This caller may not sign with {alg}.", field="sign")


def check_request(body: bytes, iface: Interface, cfg: HubConfig, db: Database) -> Checked:
    data = parse_body(body, cfg)
    fields = check_shape(data, iface, cfg)
    return authenticate(fields, iface, cfg, db)


def check_from_hub(body: bytes, iface: Interface, secret: str, remember: Callable[[str], bool],
                   limits: Limits | None = None) -> dict[str, str]:
    """What a receiver of the hub's calls (4, 5, 7, 9) checks: the same shape rules, and
    ``sign`` made with the secret it shares with the hub, fresh and never seen before
    (``remember(nonce)`` is False for a nonce already seen)."""
    limits = limits or Limits()
    fields = check_shape(parse_body(body, limits), iface, limits)
    token = signing.SignToken.parse(fields.get("sign"))
    token.check_time()
    if token.alg != signing.HMAC_SM3:
        raise _alg_refused(token.alg)
    signing.verify(iface.path, fields, token, secret=secret)
    if not remember(token.nonce):
        raise HubError(HubCode.CONFLICT, "ERR_HUB_REPLAY", "重复的请求（随机数已使用过）：已拒绝，疑似重放。",
                       "Repeated request (the nonce was used before): refused as a replay.", field="sign")
    return fields


class MemoryNonces:
    """A bounded in-memory nonce memory for one-process receivers (demo, CA service)."""

    def __init__(self, ttl: float = 2 * signing.WINDOW_SECONDS + 60, max_size: int = 200_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, nonce: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) >= self.max_size:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            exp = self._seen.get(nonce)
            if exp is not None and exp > now:
                return False
            self._seen[nonce] = now + self.ttl
            return True

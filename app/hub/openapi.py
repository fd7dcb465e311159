"""The OpenAPI 3.0 document of the platform interfaces, generated from :mod:`app.hub.interfaces`.

``python -m app.hub.openapi > resources/api/hub-openapi.yaml`` writes it; a test checks
the committed file equals what this module generates, so the document cannot drift from
the code. Each receiver is a server: the hub (1-3, 6, 8, 10 and the extension), the
business system (4, 7, 9), the CA service (5).
"""

from __future__ import annotations

import sys
from typing import Any

from app.hub.interfaces import EXTENSIONS, INTERFACES, Caller, Interface
from app.hub.server.checks import DEFAULT_LIMIT, FIELD_LIMITS
from app.hub.signing import MAX_SIGN_LENGTH

SIGN_PATTERN = r"^v1\.(HMAC-SM3|SM2|SM2-CERT)\.(0|[1-9][0-9]{0,11})\.[A-Za-z0-9_-]{16,64}\.[A-Za-z0-9_-]{1,200}$"
RESPONSE_CODES = {
    "400": "请求格式错误 / malformed request (missing, empty, extra or non-string field; not a JSON object)",
    "401": "sign 无效 / the sign parameter is missing, malformed, stale or does not verify",
    "403": "调用方或平台代码无权限 / unknown caUnitId, or orgcode not allowed",
    "404": "任务或用户不存在 / unknown task or user",
    "409": "重放或任务冲突 / replayed request, taskId reused, or task state conflict",
    "410": "任务已过期 / the task expired",
    "413": "内容过大 / body or field over its limit",
    "422": "数据校验失败 / well-formed but wrong data (certificate, envelope, PDF)",
    "502": "下游调用失败 / a callback or the CA service failed",
}
_PAGES = {"startCheck": "Loginurl", "startdecrypt": "decrypturl", "startSignature": "signurl",
          "startiframesign": "signurl"}


def _receiver(iface: Interface) -> str:
    if iface.caller == Caller.BUSINESS:
        return "hub"
    return "ca-service" if iface.number == 5 else "business-system"


def _field_schema(name: str) -> dict[str, Any]:
    limit = FIELD_LIMITS.get(name, DEFAULT_LIMIT)
    schema: dict[str, Any] = {"type": "string"}
    if name == "sign":
        return {"type": "string", "pattern": SIGN_PATTERN, "maxLength": MAX_SIGN_LENGTH,
                "description": "v1.ALG.TIMESTAMP.NONCE.SIGNATURE (platform-api.md §3)"}
    if name != "standBy":
        schema["minLength"] = 1
        schema["pattern"] = r"\S"
    if limit:
        schema["maxLength"] = limit
    if name == "paType":
        schema["enum"] = ["0", "1", "2"]
    if name == "idType":
        schema["enum"] = ["01", "02"]
    return schema


def _request(iface: Interface) -> dict[str, Any]:
    props = {f: _field_schema(f) for f in iface.fields}
    return {"type": "object", "additionalProperties": False, "required": list(iface.required) + ["sign"],
            "properties": props}


def _response(iface: Interface) -> dict[str, Any]:
    props: dict[str, Any] = {"code": {"type": "integer"}, "msg": {"type": "string"},
                             "errData": {"type": "string", "nullable": True}}
    for member in iface.response:
        props[member] = {"type": "object", "nullable": True} if member == "data" and not iface.bare_response \
            else {"type": "string"}
    required = list(iface.response) if iface.bare_response else ["code", "msg"]
    return {"type": "object", "required": required, "properties": props}


def _operation(iface: Interface) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "成功 / success", "content": {
        "application/json": {"schema": _response(iface)}}}}
    for code, text in RESPONSE_CODES.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Error"}}}}
    seed = "BidSeal extension" if iface.number > 11 else f"interface {iface.number}"
    return {
        "operationId": iface.name, "summary": f"{iface.zh} / {iface.en} ({seed})",
        "description": f"Receiver: {_receiver(iface)}. Caller: {iface.caller.value}."
                       + (f" Answers `{_PAGES[iface.name]}`, a page URL (platform-api.md §6)."
                          if iface.name in _PAGES else ""),
        "tags": [_receiver(iface)],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _request(iface)}}},
        "responses": responses,
    }


def document() -> dict[str, Any]:
    ports = {"hub": 8780, "ca-service": 8781, "business-system": 8782}
    paths = {i.path: {"servers": [{"url": f"http://127.0.0.1:{ports[_receiver(i)]}"}], "post": _operation(i)}
             for i in INTERFACES + EXTENSIONS}
    return {
        "openapi": "3.0.3",
        "info": {"title": "BidSeal platform interfaces (CA mutual-recognition hub)", "version": "1",
                 "description": "The eleven interfaces of the Liaoning call's chapter 2 (interface 11 is "
                                "offline signing and has no endpoint) plus BidSeal's encryptFor extension. "
                                "Normative text: resources/docs/platform-api.md."},
        "servers": [{"url": "http://127.0.0.1:8780", "description": "bidseal hub serve: the hub"},
                    {"url": "http://127.0.0.1:8781", "description": "the CA service (interface 5)"},
                    {"url": "http://127.0.0.1:8782", "description": "the demo trading system (4, 7, 9)"}],
        "tags": [{"name": "hub"}, {"name": "business-system"}, {"name": "ca-service"}],
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["code", "msg", "errData"],
            "properties": {"code": {"type": "integer"}, "msg": {"type": "string"},
                           "errData": {"type": "string"}, "data": {"nullable": True}}}}},
    }


def to_yaml() -> str:
    import yaml

    return "# Generated by `python -m app.hub.openapi`; do not edit by hand.\n" + yaml.safe_dump(
        document(), allow_unicode=True, sort_keys=False, width=110)


if __name__ == "__main__":
    sys.stdout.write(to_yaml())

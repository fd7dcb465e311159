"""The hub's HTTP surface: thin routes over :mod:`.checks` and the flows.

* ``POST /api/ca/{userSynchro,changeCert,startCheck,startdecrypt,startSignature,startiframesign}``
  and the extension ``POST /api/bidseal/encrypt``: checked requests -> a flow;
* ``GET /hub/{login,decrypt,sign,iframesign}/{pageId}``: the pages the hub returns URLs for;
* ``/hub/api/...``: what those pages call (same origin; the unguessable page id is the
  capability);
* ``GET /api/openapi.yaml``: the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.hub.errors import bad_request
from app.hub.interfaces import BY_NAME, Interface
from app.hub.server import pages
from app.hub.server.checks import Checked, check_request
from app.hub.server.flows import decrypt, encrypt, login, signature, sync
from app.hub.server.http import EXCEPTION_HANDLERS, guarded, json_endpoint, read_body
from app.hub.server.service import Delivery, Hub

FLOWS: dict[str, Callable[[Hub, Checked], dict[str, Any]]] = {
    "userSynchro": sync.user_synchro,
    "changeCert": sync.change_cert,
    "startCheck": login.start_check,
    "startdecrypt": decrypt.start_decrypt,
    "startSignature": signature.start_signature,
    "startiframesign": signature.start_iframe_sign,
    "encryptFor": encrypt.encrypt_for,
}
PAGE_JSON_LIMIT = 64 * 1024


def _api_route(hub: Hub, iface: Interface) -> Route:
    flow = FLOWS[iface.name]

    def handle(body: bytes) -> dict[str, Any]:
        return flow(hub, check_request(body, iface, hub.cfg, hub.db))

    return Route(iface.path, json_endpoint(handle, hub.cfg.max_body), methods=["POST"])


def _page_call(hub: Hub, fn: Callable[..., Any]) -> Callable[[Request], Any]:
    """A page API endpoint: JSON in (bounded), ``fn`` on a worker thread, JSON out."""

    async def endpoint(request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"page_id": request.path_params["page_id"]}
        if request.method == "POST":
            kwargs["body"] = _json_object(await read_body(request, PAGE_JSON_LIMIT))
        result = await run_in_threadpool(fn, **kwargs)
        return await hub.deliver(result) if isinstance(result, Delivery) else result

    return guarded(endpoint)


def _json_object(body: bytes) -> dict[str, Any]:
    import json

    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise bad_request("body", "请求体不是有效的 JSON。", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise bad_request("body", "请求体应为 JSON 对象。", "The request body must be a JSON object.")
    return data


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(name, f"缺少字段 {name}。", f"Missing field {name}.")
    return value


def build_hub_app(hub: Hub) -> Starlette:
    routes: list[Any] = [_api_route(hub, BY_NAME[name]) for name in FLOWS]

    def login_challenge(page_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return login.challenge(hub, page_id)

    def login_token(page_id: str, body: dict[str, Any]) -> Delivery:
        token = body.get("token")
        if not isinstance(token, (dict, str)):
            raise bad_request("token", "缺少登录令牌。", "The login token is missing.")
        return login.complete(hub, page_id, token)

    def decrypt_head(page_id: str) -> dict[str, Any]:
        return decrypt.head(hub, page_id)

    def decrypt_rewrapped(page_id: str, body: dict[str, Any]) -> Delivery:
        return decrypt.complete(hub, page_id, _string(body, "rewrapped"))

    @guarded
    async def sign_document(request: Request) -> Response:
        pdf, _task = await run_in_threadpool(signature.document, hub, request.path_params["page_id"])
        return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})

    @guarded
    async def sign_signed(request: Request) -> dict[str, Any]:
        body = await read_body(request, hub.cfg.max_att_file)
        delivery = await run_in_threadpool(signature.deliver_signed, hub, request.path_params["page_id"], body)
        return await hub.deliver(delivery)

    async def openapi(_request: Request) -> Response:
        return Response(pages.resource("api/hub-openapi.yaml"), media_type="application/yaml")

    async def health(_request: Request) -> Response:
        return JSONResponse({"code": 200, "msg": "BidSeal reference hub", "interfaces": sorted(BY_NAME)})

    routes += [
        Route("/", health),
        Route("/api/openapi.yaml", openapi),
        Route("/hub/api/login/{page_id}/challenge", _page_call(hub, login_challenge), methods=["POST"]),
        Route("/hub/api/login/{page_id}/token", _page_call(hub, login_token), methods=["POST"]),
        Route("/hub/api/decrypt/{page_id}/head", _page_call(hub, decrypt_head), methods=["GET"]),
        Route("/hub/api/decrypt/{page_id}/rewrapped", _page_call(hub, decrypt_rewrapped), methods=["POST"]),
        Route("/hub/api/sign/{page_id}/document", sign_document, methods=["GET"]),
        Route("/hub/api/sign/{page_id}/signed", sign_signed, methods=["POST"]),
        *pages.hub_page_routes(hub),
        Mount("/static", StaticFiles(directory=str(pages.WEB_DIR), check_dir=False), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)

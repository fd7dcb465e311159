"""Starlette plumbing shared by the hub, the CA service and the demo trading system:
bounded body reading and turning :class:`HubError` (or a bug) into the seed's answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.hub.errors import HubCode, HubError

log = logging.getLogger("bidseal.hub")

Handler = Callable[[bytes], dict[str, Any]]


def answer(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def error_response(exc: HubError) -> JSONResponse:
    """HTTP status follows ``code`` (a client reading only the body sees the same)."""
    return answer(exc.response(), int(exc.status))


def internal_error() -> JSONResponse:
    err = HubError(HubCode.INTERNAL, "ERR_HUB_INTERNAL", "互认平台内部错误：请稍后重试或联系平台运维。",
                   "Internal error in the hub: retry later or contact the hub's operators.")
    return error_response(err)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it grows past ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HubError(HubCode.TOO_LARGE, "ERR_HUB_TOO_LARGE", f"请求体超过 {limit} 字节的限制。",
                       f"The request body is over the {limit}-byte limit.", field="body")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HubError(HubCode.TOO_LARGE, "ERR_HUB_TOO_LARGE", f"请求体超过 {limit} 字节的限制。",
                           f"The request body is over the {limit}-byte limit.", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


def guarded(fn: Callable[[Request], Awaitable[dict[str, Any] | Response]]) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint whose refusals answer in the seed's shape: a dict result is the JSON
    body, :class:`HubError` its code, anything else a logged 500 without a traceback."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await fn(request)
            return result if isinstance(result, Response) else answer(result)
        except HubError as exc:
            return error_response(exc)
        except Exception:  # noqa: BLE001 - never a traceback to the caller
            log.exception("unexpected error in %s", request.url.path)
            return internal_error()

    return endpoint


def json_endpoint(handler: Handler, limit: int) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: bounded body -> ``handler`` on a worker thread -> JSON answer."""

    async def endpoint(request: Request) -> dict[str, Any]:
        body = await read_body(request, limit)
        return await run_in_threadpool(handler, body)

    return guarded(endpoint)


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown path, wrong method) in the seed's shape too."""
    status = int(getattr(exc, "status_code", 500))
    if status == 405:
        err = HubError(HubCode.METHOD_NOT_ALLOWED, "ERR_HUB_METHOD", "接口只接受 POST 请求。",
                       "The interface accepts POST requests only.")
    elif status == 404:
        err = HubError(HubCode.NOT_FOUND, "ERR_HUB_NO_SUCH_PATH", "没有这个接口地址。", "No such interface path.")
    else:
        err = HubError(HubCode.BAD_REQUEST, "ERR_HUB_HTTP", f"HTTP 错误 {status}。", f"HTTP error {status}.")
    response = answer(err.response(), status)
    if status == 405 and getattr(exc, "headers", None):
        response.headers.update(exc.headers)  # type: ignore[attr-defined]
    return response


#: for ``Starlette(exception_handlers=...)`` of the hub, the CA service and the trading system
EXCEPTION_HANDLERS: dict[Any, Any] = {404: _http_exception, 405: _http_exception}

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


def json_endpoint(handler: Handler, limit: int) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: bounded body -> ``handler`` on a worker thread -> JSON answer."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_body(request, limit)
            return answer(await run_in_threadpool(handler, body))
        except HubError as exc:
            return error_response(exc)
        except Exception:  # noqa: BLE001 - never a traceback to the caller
            log.exception("unexpected error in %s", request.url.path)
            return internal_error()

    return endpoint

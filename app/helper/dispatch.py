"""The dispatcher: the Starlette application behind the guard, one route per operation.

Why Starlette + uvicorn: a small, well-kept ASGI stack (the hub uses the same), async so
that a request waiting for the bidder's consent costs no thread, with h11 as a strict
HTTP/1.1 parser; uvicorn runs on its own thread and event loop beside Qt's
(:mod:`.server`), and its protocol class is where the slowloris and connection-flood
defences plug in (:mod:`.protocol`). ``http.server`` has neither timeouts nor a strict
parser; aiohttp would do as well but brings its own HTTP parser and client we do not need.

Each operation module returns a :class:`~app.helper.service.Reply`; every outcome is
audited, and every failure becomes a vocabulary error (:mod:`.errors`) - never a
traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from app.helper.errors import from_exception
from app.helper.guard import Caller, Guard, GuardPolicy
from app.helper.ops import certificates, decrypt, login, sign_pdf, status
from app.helper.service import HelperServices, Reply, finish

log = logging.getLogger("bidseal.helper")

Handler = Callable[[HelperServices, Caller], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {
    "status": status.handle,
    "certificates": certificates.handle,
    "login": login.handle,
    "decrypt": decrypt.handle,
    "sign-pdf": sign_pdf.handle,
}


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def build_app(services: HelperServices, policy: GuardPolicy) -> Guard:
    async def endpoint(request: Request) -> Response:
        caller: Caller = request.scope["bidseal.caller"]
        try:
            reply = await HANDLERS[caller.operation](services, caller)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled: the page went away
                finish(services, caller, "ERR_CLIENT_GONE")
                raise
            err = from_exception(exc)
            if err.code == "ERR_INTERNAL":
                log.error("helper %s failed", caller.operation, exc_info=exc)
            finish(services, caller, err.code)
            return JSONResponse({"error": err.to_dict()}, status_code=err.status)
        finish(services, caller, "ok", reply.serial)
        if reply.file is not None:
            return FileResponse(reply.file, media_type="application/pdf",
                                background=BackgroundTask(_unlink, Path(reply.file)))
        return JSONResponse(reply.body)

    app = Starlette(routes=[Route("/v1/{operation}", endpoint, methods=["POST"])])
    return Guard(app, policy)

"""Every caller check, in one visible place, before any work (helper-security.md §7.1-7.7).

:class:`Guard` is the outermost ASGI layer. In this order, for every request:

1. WebSocket handshakes are refused (the helper speaks no WebSocket; cross-site
   WebSocket hijacking gets a 403 handshake).
2. The peer must be loopback (the socket is bound to 127.0.0.1 only, checked again).
3. ``Host`` must be exactly ``127.0.0.1:<our port>`` (DNS rebinding).
4. ``Origin`` must be present, canonical and in the hub allowlist (https only, unless the
   development flag is on). ``null``, ``file:``, other ports, look-alikes: refused.
   Failing 2-4 gives a **bare 403**: no body, no CORS headers, no other header, the same
   bytes and the same code path whether a UKey is inserted or not; nothing about keys
   has been touched.
5. Allowed origins: the helper may be paused; the origin may be throttled after repeated
   cancels; ``OPTIONS`` is answered as a CORS (and Private/Local Network Access)
   preflight; only ``POST`` to a known ``/v1/<operation>`` path; the protocol header
   ``BidSeal-Protocol: 1`` (a custom header, so every call is preflighted) and the
   operation's content type; ``Content-Length`` within the operation's limit.
6. The body is read with a size cap and a deadline (JSON: 16 KiB or the decrypt limit,
   30 s; PDF: 50 MiB, 120 s, into a private :class:`app.spool.Spool`), JSON is parsed
   (duplicate keys, NaN and depth > 8 refused) and checked against the operation's
   schema (:mod:`.schemas`; unknown fields - a ``pin`` above all - refused).

Only then does the request reach the dispatcher, with a :class:`Caller` that carries the
origin taken from the header (never from the body) and the origin's hub configuration.
Every reply to an allowed origin echoes that origin in ``Access-Control-Allow-Origin``
(never ``*``, no credentials) with ``Vary: Origin`` and ``Cache-Control: no-store``.
While an operation runs, a client disconnect cancels it (a dialog closes).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator

from app.authtoken.origin import OriginError, parse_origin
from app.helper import limits, schemas
from app.helper.config import HubConfig
from app.helper.errors import HelperError
from app.spool import Spool, SpoolFull

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON_TYPE = "application/json"
PDF_TYPE = "application/pdf"
LOOPBACK = {"127.0.0.1", "::1"}
ALLOWED_HEADERS = "content-type, " + schemas.PROTOCOL_HEADER


@dataclass(frozen=True)
class OperationSpec:
    content_type: str
    max_body: int
    body_timeout: float


OPERATIONS: dict[str, OperationSpec] = {
    "status": OperationSpec(JSON_TYPE, limits.MAX_JSON_BYTES, limits.BODY_TIMEOUT),
    "certificates": OperationSpec(JSON_TYPE, limits.MAX_JSON_BYTES, limits.BODY_TIMEOUT),
    "login": OperationSpec(JSON_TYPE, limits.MAX_JSON_BYTES, limits.BODY_TIMEOUT),
    "decrypt": OperationSpec(JSON_TYPE, limits.MAX_DECRYPT_BYTES, limits.BODY_TIMEOUT),
    "sign-pdf": OperationSpec(PDF_TYPE, limits.MAX_PDF_BYTES, limits.PDF_BODY_TIMEOUT),
}
_VALIDATORS = {op: Draft202012Validator(schema) for op, schema in schemas.REQUESTS.items()}


@dataclass
class Caller:
    """A request that passed every check."""

    origin: str
    hub: HubConfig
    operation: str
    request_id: str
    params: dict[str, Any] = field(default_factory=dict)  # JSON body, or sign-pdf query
    spool: Spool | None = None
    started: float = field(default_factory=time.perf_counter)


class GuardPolicy:
    """What the guard consults: the allowlist, the bound port, pause and throttle state.
    The server fills it; tests build one directly."""

    def __init__(self, hubs: dict[str, HubConfig], port: int, *, allow_http: bool = False,
                 throttle_check: Callable[[str], None] | None = None) -> None:
        self.hubs = hubs
        self.port = port
        self.allow_http = allow_http
        self.paused = False
        self.throttle_check = throttle_check or (lambda origin: None)
        self.on_refused: Callable[[str, str], None] | None = None  # (origin or "", reason) for logs

    @property
    def hosts(self) -> set[bytes]:
        return {f"127.0.0.1:{self.port}".encode(), f"[::1]:{self.port}".encode()}


def _header(scope: Scope, name: bytes) -> bytes | None:
    found = None
    for k, v in scope.get("headers", []):
        if k == name:
            if found is not None:
                return b"\0duplicate"  # two Host/Origin headers: refuse
            found = v
    return found


async def bare_403(send: Send) -> None:
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin"),
            (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]


async def send_error(send: Send, origin: str, err: HelperError) -> None:
    body = json.dumps({"error": err.to_dict()}, ensure_ascii=False).encode("utf-8")
    extra = [(b"allow", b"POST, OPTIONS")] if err.status == 405 else []
    await send({"type": "http.response.start", "status": err.status,
                "headers": cors_headers(origin) + extra + [(b"content-type", b"application/json; charset=utf-8"),
                                                           (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate member {k!r}")
        out[k] = v
    return out


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level - 1


def _has_pin(value: Any) -> bool:
    if isinstance(value, dict):
        return any("pin" in str(k).lower() or _has_pin(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_pin(v) for v in value)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, operation: str) -> dict[str, Any]:
    """The checked JSON object of a request body, or ``ERR_BAD_REQUEST`` saying why."""
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise HelperError("ERR_BAD_REQUEST", reason="body is not valid JSON") from exc
    if _depth(value) > limits.MAX_JSON_DEPTH:
        raise HelperError("ERR_BAD_REQUEST", reason="JSON nested too deeply")
    if _has_pin(value):
        raise HelperError("ERR_BAD_REQUEST", zh="网页不能提交 UKey 口令：口令只能在 BidSeal 自己的窗口中输入。",
                          en="A web page cannot send the UKey PIN; it is typed only into BidSeal's own window.",
                          reason="pin field")
    return _validated(value, operation)


def _validated(value: Any, operation: str) -> dict[str, Any]:
    error = next(iter(_VALIDATORS[operation].iter_errors(value)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        raise HelperError("ERR_BAD_REQUEST", reason=f"{where}: {error.validator} check failed")
    return value  # type: ignore[no-any-return]


def parse_query(raw: bytes, operation: str) -> dict[str, Any]:
    """sign-pdf's query parameters, typed and checked like a JSON body."""
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=bool(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise HelperError("ERR_BAD_REQUEST", reason="malformed query string") from exc
    params: dict[str, Any] = {}
    for k, v in pairs:
        if k in params:
            raise HelperError("ERR_BAD_REQUEST", reason=f"duplicate parameter {k}")
        params[k] = int(v) if k == "page" and v.isdigit() and len(v) < 7 else v
    if _has_pin(params):
        raise HelperError("ERR_BAD_REQUEST", reason="pin field")
    return _validated(params, operation)


class Guard:
    """The ASGI middleware; ``app`` receives only requests that passed, with
    ``scope["bidseal.caller"]`` set."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], policy: GuardPolicy) -> None:
        self.app = app
        self.policy = policy

    def _refuse(self, origin: str, reason: str) -> None:
        if self.policy.on_refused is not None:
            self.policy.on_refused(origin, reason)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            self._refuse((_header(scope, b"origin") or b"").decode("latin-1"), "websocket")
            await send({"type": "websocket.close", "code": 1008})
            return
        if kind != "http":
            return
        origin = self._allowed_origin(scope)
        if origin is None:
            await bare_403(send)
            return
        try:
            caller = await self._admit(scope, receive, send, origin)
        except HelperError as err:
            await send_error(send, origin, err)
            return
        if caller is None:  # preflight answered
            return
        await self._run(scope, receive, send, caller)

    def _allowed_origin(self, scope: Scope) -> str | None:
        client = scope.get("client")
        origin_raw = _header(scope, b"origin")
        origin = origin_raw.decode("latin-1") if origin_raw else ""
        if not client or client[0] not in LOOPBACK:
            self._refuse(origin, "peer is not loopback")
            return None
        if _header(scope, b"host") not in self.policy.hosts:
            self._refuse(origin, "host not allowed")
            return None
        try:
            parse_origin(origin, allow_http=self.policy.allow_http)
        except OriginError:
            self._refuse(origin, "origin missing or not canonical")
            return None
        if origin not in self.policy.hubs:
            self._refuse(origin, "origin not in the allowlist")
            return None
        return origin

    async def _admit(self, scope: Scope, receive: Receive, send: Send, origin: str) -> Caller | None:
        if sum(len(k) + len(v) + 4 for k, v in scope.get("headers", [])) > limits.MAX_HEADER_BYTES:
            raise HelperError("ERR_PAYLOAD_TOO_LARGE", reason="headers larger than 8 KiB")
        if self.policy.paused:
            raise HelperError("ERR_HELPER_PAUSED")
        path: str = scope["path"]
        operation = path[len("/v1/"):] if path.startswith("/v1/") else ""
        spec = OPERATIONS.get(operation)
        if spec is None:
            raise HelperError("ERR_NOT_FOUND")
        method = scope["method"]
        if method == "OPTIONS":
            await self._preflight(scope, send, origin)
            return None
        if method != "POST":
            raise HelperError("ERR_METHOD_NOT_ALLOWED")
        version = _header(scope, schemas.PROTOCOL_HEADER.encode())
        if version != schemas.PROTOCOL_VERSION.encode():
            raise HelperError("ERR_VERSION_MISMATCH", helperProtocol=schemas.PROTOCOL_VERSION,
                              pageProtocol=(version or b"").decode("latin-1")[:16])
        ctype = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        if ctype != spec.content_type.encode():
            raise HelperError("ERR_BAD_REQUEST", reason=f"Content-Type must be {spec.content_type}")
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit() or len(length) > 12:
                raise HelperError("ERR_BAD_REQUEST", reason="bad Content-Length")
            if int(length) > spec.max_body:
                raise HelperError("ERR_PAYLOAD_TOO_LARGE", limit=spec.max_body)
        if operation in ("login", "decrypt", "sign-pdf"):
            self.policy.throttle_check(origin)
        caller = Caller(origin=origin, hub=self.policy.hubs[origin], operation=operation,
                        request_id=secrets.token_hex(6))
        if spec.content_type == PDF_TYPE:
            caller.params = parse_query(scope.get("query_string", b""), operation)
            caller.spool = await self._read_pdf(receive, spec)
        else:
            if scope.get("query_string"):
                raise HelperError("ERR_BAD_REQUEST", reason="no query parameters here")
            caller.params = parse_json(await self._read_body(receive, spec), operation)
        return caller

    async def _preflight(self, scope: Scope, send: Send, origin: str) -> None:
        requested = (_header(scope, b"access-control-request-method") or b"").upper()
        if requested != b"POST":
            raise HelperError("ERR_METHOD_NOT_ALLOWED")
        headers = cors_headers(origin) + [
            (b"access-control-allow-methods", b"POST"),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", b"60"),
            (b"content-length", b"0"),
        ]
        if _header(scope, b"access-control-request-private-network") == b"true":
            headers.append((b"access-control-allow-private-network", b"true"))
        if _header(scope, b"access-control-request-local-network") == b"true":
            headers.append((b"access-control-allow-local-network", b"true"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _chunks(receive: Receive, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HelperError("ERR_REQUEST_TIMEOUT")
            try:
                message = await asyncio.wait_for(receive(), left)
            except TimeoutError as exc:
                raise HelperError("ERR_REQUEST_TIMEOUT") from exc
            if message["type"] == "http.disconnect":
                raise HelperError("ERR_BAD_REQUEST", reason="client went away")
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return

    async def _read_body(self, receive: Receive, spec: OperationSpec) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self._chunks(receive, spec.body_timeout):
            size += len(chunk)
            if size > spec.max_body:
                raise HelperError("ERR_PAYLOAD_TOO_LARGE", limit=spec.max_body)
            parts.append(chunk)
        return b"".join(parts)

    async def _read_pdf(self, receive: Receive, spec: OperationSpec) -> Spool:
        spool = Spool(spec.max_body, suffix=".pdf")
        try:
            async for chunk in self._chunks(receive, spec.body_timeout):
                spool.write(chunk)
            spool.finish()
        except SpoolFull as exc:
            raise HelperError("ERR_PAYLOAD_TOO_LARGE", limit=spec.max_body) from exc
        except BaseException:
            spool.discard()
            raise
        return spool

    async def _run(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> None:
        """Run the operation; a client disconnect meanwhile cancels it."""
        scope["bidseal.caller"] = caller
        cors = cors_headers(caller.origin)

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + cors}
            await send(message)

        gone = asyncio.Event()
        body_given = False

        async def app_receive() -> dict[str, Any]:
            # the body was consumed by the guard: the app sees it ended, then only a disconnect
            nonlocal body_given
            if not body_given:
                body_given = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def until_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        work = asyncio.ensure_future(self.app(scope, app_receive, send_with_cors))
        watch = asyncio.ensure_future(until_disconnect())
        try:
            done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
            if work not in done:
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            else:
                work.result()
        finally:
            watch.cancel()
            if caller.spool is not None:
                caller.spool.discard()

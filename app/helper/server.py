"""Running the helper: bind 127.0.0.1 on a fixed port (or a fallback), serve on a thread.

:class:`HelperServer` binds the socket itself, so that

* only ``127.0.0.1`` is ever bound (never ``0.0.0.0``; Windows gets
  ``SO_EXCLUSIVEADDRUSE`` so no other program can bind the same port over it);
* the fixed port and two fallbacks are tried in order, and a port taken by another
  program is reported with that program's name and PID where the OS tells it (psutil;
  :class:`PortsInUse` when all three are taken);

and then runs uvicorn on its own thread with its own event loop, so it never blocks
Qt's event loop (the GUI calls :meth:`start` and :meth:`stop` from its thread; consent
dialogs are marshalled to the UI thread by the Qt :class:`~app.helper.consent.Consent`).
``bidseal helper serve`` runs the same object in the foreground.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn

from app.errors import BidSealError
from app.helper import limits
from app.helper.dispatch import build_app
from app.helper.guard import GuardPolicy
from app.helper.origins import display
from app.helper.protocol import GuardedH11Protocol
from app.helper.service import HelperServices
from app.spool import clean_stale

BIND_HOST = "127.0.0.1"
log = logging.getLogger("bidseal.helper")


@dataclass(frozen=True)
class PortOwner:
    port: int
    pid: int | None
    name: str | None

    def describe(self) -> str:
        if self.pid is None:
            return f"{self.port} (占用者未知 / owner unknown)"
        return f"{self.port} ({self.name or '?'}, PID {self.pid})"


class PortsInUse(BidSealError):
    code = "ERR_PORTS_IN_USE"

    def __init__(self, owners: Sequence[PortOwner]) -> None:
        text = ", ".join(o.describe() for o in owners)
        super().__init__(f"BidSeal 助手的端口都被其他程序占用：{text}。请关闭这些程序后重试。",
                         f"Every port of the BidSeal helper is taken by another program: {text}. Close "
                         "them and try again.", details={"owners": [o.__dict__ for o in owners]})
        self.owners = list(owners)


def port_owner(port: int) -> PortOwner:
    """Who listens on 127.0.0.1:``port``, as far as the OS tells (None fields otherwise)."""
    try:
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                name = None
                if conn.pid is not None:
                    try:
                        name = psutil.Process(conn.pid).name()
                    except psutil.Error:
                        name = None
                return PortOwner(port, conn.pid, name)
    except Exception:  # noqa: BLE001 - diagnostics only (AccessDenied on some systems)
        pass
    return PortOwner(port, None, None)


def bind_first_free(ports: Sequence[int]) -> tuple[socket.socket, list[PortOwner]]:
    """A listening socket on the first free port of ``ports`` (0 = any), plus who holds
    the ports that were skipped.

    The socket is made with ``IPPROTO_TCP`` explicitly: asyncio sets ``TCP_NODELAY`` on
    accepted connections only when the socket's protocol says TCP, and without it a reply
    written as headers then body waits for the client's delayed ACK (40 ms per request on
    Linux, measured with one client before this fix; 2 ms after)."""
    owners: list[PortOwner] = []
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            if sys.platform == "win32":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((BIND_HOST, port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES, getattr(errno, "WSAEADDRINUSE", -1)):
                owners.append(port_owner(port))
                continue
            raise
        return sock, owners
    raise PortsInUse(owners)


class HelperServer:
    """The helper's HTTP service on a background thread."""

    def __init__(self, services: HelperServices, *, ports: Sequence[int] | None = None) -> None:
        self.services = services
        self.ports = tuple(ports if ports is not None else services.config.ports)
        self.port: int | None = None
        self.skipped: list[PortOwner] = []
        self.policy: GuardPolicy | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{BIND_HOST}:{self.port}"

    def _config(self, app: Any) -> uvicorn.Config:
        return uvicorn.Config(app, http=GuardedH11Protocol, ws="none", lifespan="off", log_level="warning",
                              access_log=False, server_header=False, date_header=False,
                              timeout_keep_alive=int(limits.KEEP_ALIVE_TIMEOUT),
                              h11_max_incomplete_event_size=limits.MAX_HEADER_BYTES)

    def start(self, timeout: float = 10.0) -> int:
        """Bind, start serving, return the port (raises :class:`PortsInUse`)."""
        clean_stale()
        display("https://example.cn")  # load the Public Suffix List now, not in the first dialog
        sock, self.skipped = bind_first_free(self.ports)
        self.port = sock.getsockname()[1]
        for owner in self.skipped:
            log.warning("helper port %s is taken; using %s", owner.describe(), self.port)
        cfg = self.services.config
        self.policy = GuardPolicy(cfg.hubs, self.port, allow_http=cfg.allow_http,
                                  throttle_check=self.services.throttle.check)
        self._server = uvicorn.Server(self._config(build_app(self.services, self.policy)))
        self._thread = threading.Thread(target=self._run, args=(sock,), name="bidseal-helper", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the helper did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the helper did not start in time")
            time.sleep(0.01)
        return self.port

    def _run(self, sock: socket.socket) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            assert self._server is not None
            self.loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # noqa: BLE001 - reported by start()/stop()
            self._error = exc
        finally:
            sock.close()
            self.loop.close()

    def serve_forever(self) -> None:
        """Block until stopped (``bidseal helper serve``; Ctrl-C stops)."""
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.stop()

    def set_paused(self, paused: bool) -> None:
        if self.policy is not None:
            self.policy.paused = paused

    @property
    def paused(self) -> bool:
        return bool(self.policy and self.policy.paused)

    def reload_hubs(self) -> None:
        """Take a new allowlist (settings changed) without restarting."""
        if self.policy is not None:
            self.policy.hubs = self.services.config.hubs

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.services.audit.close()
        close_keys = getattr(self.services.keys, "close", None)
        if close_keys is not None:
            close_keys()

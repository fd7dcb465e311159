"""A real update server for tests: ``http.server`` on 127.0.0.1 in a thread, serving
manifests, signatures and packages from a dict, plus the misbehaviours an attacker or a
broken network produces (hang, endless body, truncated body, redirects).

:class:`Channel` publishes manifests signed with a test release key, so a test states
what the server serves and what BidSeal must conclude.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.gm.sm2 import PrivateKey
from app.gm.sm3 import sm3
from app.update import Package, build_manifest, current_platform, sign_manifest


@dataclass
class Route:
    body: bytes = b""
    #: ok | hang | endless | drip | truncate | redirect
    mode: str = "ok"
    status: int = 200
    location: str = ""
    content_length: int | None = None


@dataclass
class UpdateServer:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path: str, body: bytes = b"", **kw: Any) -> str:
        self.routes[path] = Route(body, **kw)
        return self.url(path)


def _handler(state: UpdateServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.hits.append(self.path)
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.mode == "hang":  # accepts, never answers
                state.stop.wait(30)
                return
            if route.mode == "redirect":
                self.send_response(302)
                self.send_header("Location", route.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status)
            if route.mode == "drip":  # a byte at a time, never slow enough for a read timeout
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                for b in route.body:
                    if state.stop.wait(0.1):
                        return
                    try:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                    except OSError:
                        return
                return
            if route.mode == "endless":  # no length, never stops on its own
                self.send_header("Connection", "close")
                self.end_headers()
                with_chunk = b"x" * 65536
                try:
                    while not state.stop.is_set():
                        self.wfile.write(with_chunk)
                except OSError:
                    pass
                return
            length = route.content_length if route.content_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.send_header("Connection", "close")
            self.end_headers()
            if route.mode == "truncate":  # promises everything, sends half, hangs up
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                time.sleep(0.1)
                self.close_connection = True
                return
            self.wfile.write(route.body)

    return Handler


@pytest.fixture
def update_server() -> Iterator[UpdateServer]:
    state = UpdateServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="update-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()


PLATFORM = current_platform() or "linux-amd64-deb"


@dataclass
class Channel:
    """Publishes signed manifests (and packages) on an :class:`UpdateServer`."""

    server: UpdateServer
    key: PrivateKey = field(default_factory=PrivateKey.generate)
    path: str = "/stable.json"

    @property
    def url(self) -> str:
        return self.server.url(self.path)

    def package(self, data: bytes, name: str = "bidseal_9.0.0_amd64.deb", platform: str = PLATFORM) -> Package:
        url = self.server.put(f"/pkg/{name}", data)
        return Package(platform, url, len(data), sm3(data).hex(), name)

    def manifest(self, *, version: str = "9.0.0", packages: list[Package] | None = None,
                 published: datetime | None = None, valid: timedelta = timedelta(days=30), **kw: Any) -> bytes:
        published = published or datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        return build_manifest(version=version, published=published, expires=published + valid,
                              packages=packages if packages is not None else [self.package(b"installer bytes")],
                              notes_zh="修复若干问题", notes_en="Fixes", **kw)

    def publish(self, data: bytes, signature: bytes | None = None, *, sign: bool = True) -> str:
        """Serve ``data`` at :attr:`url` with ``signature`` (default: signed by :attr:`key`)."""
        self.server.put(self.path, data)
        if signature is None and sign:
            signature = sign_manifest(self.key, data)
        if signature is not None:
            self.server.put(self.path + ".sig", signature)
        else:
            self.server.routes.pop(self.path + ".sig", None)
        return self.url


@pytest.fixture
def channel(update_server: UpdateServer) -> Channel:
    return Channel(update_server)

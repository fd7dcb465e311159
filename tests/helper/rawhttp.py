"""A raw HTTP/1.1 client on a socket: attack tests need requests no polite client sends
(forged Host, trickled headers, lying Content-Length, WebSocket upgrades)."""

from __future__ import annotations

import socket


def raw(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``data`` and read until the server closes or ``timeout``; returns the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


def _complete(resp: bytes) -> bool:
    head, _, body = resp.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return len(body) >= int(v.strip())
    return True


def request(port: int, method: str = "POST", path: str = "/v1/status", *, host: str | None = None,
            origin: str | None = "https://hub.example.cn", body: bytes = b"{}",
            content_type: str = "application/json", extra: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1"]
    lines.append(f"Host: {host if host is not None else f'127.0.0.1:{port}'}")
    if origin is not None:
        lines.append(f"Origin: {origin}")
    lines += ["BidSeal-Protocol: 1", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
              "Connection: close"]
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    return raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def status_of(resp: bytes) -> int:
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else 0

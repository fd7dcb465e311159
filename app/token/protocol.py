"""Wire format between a caller and its token-host process.

Frames are a 4-byte big-endian length followed by UTF-8 JSON (no pickle: the host
may run a different interpreter and must never execute what it receives). Bytes
travel as ``{"$b": base64}`` (dictionary keys starting with ``$`` are reserved).
Requests: ``{"id", "op", "args"}``; replies:
``{"id", "ok": value}`` or ``{"id", "error": {...}}``; the monitor host also sends
unsolicited ``{"event": {...}}`` frames.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any, BinaryIO

MAX_FRAME = 64 * 1024 * 1024


def encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value: Any, *, mutable: bool = False) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            raw = base64.b64decode(value["$b"])
            return bytearray(raw) if mutable else raw
        return {k: decode(v, mutable=mutable) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, mutable=mutable) for v in value]
    return value


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    data = json.dumps(encode(message), ensure_ascii=True, separators=(",", ":")).encode("ascii")
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or None at end of stream."""
    head = _read_exact(stream, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > MAX_FRAME:
        raise ValueError(f"frame too large: {n}")
    body = _read_exact(stream, n)
    if body is None:
        return None
    msg = json.loads(body.decode("ascii"))
    if not isinstance(msg, dict):
        raise ValueError("frame is not an object")
    return msg

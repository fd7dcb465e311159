"""Wire format between a caller and its token-host process, and what a reply may contain.

Frames are a 4-byte big-endian length followed by UTF-8 JSON (no pickle: the host
may run a different interpreter and must never execute what it receives). Bytes
travel as ``{"$b": base64}`` (dictionary keys starting with ``$`` are reserved).
Requests: ``{"id", "op", "args"[, "owner"]}``; replies:
``{"id", "ok": value}`` or ``{"id", "error": {...}}``; the monitor host also sends
unsolicited ``{"event": {...}}`` frames.

The caller treats the host as untrusted: the host runs a vendor library that may be
buggy or hostile. :func:`read_frame` and :func:`decode` are strict (JSON object
frames, canonical base64 only, no unknown ``$`` keys) and :func:`check_reply` checks
a reply's shape, the error object and the result's type for the operation asked, so
a malformed reply becomes a :class:`~app.token.errors.TokenProtocolError` instead of
an ``AttributeError`` deep in a caller or a silently empty value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

from app.token.errors import TokenProtocolError

MAX_FRAME = 64 * 1024 * 1024
#: Longest sentence or detail string accepted in an error object from the host.
MAX_TEXT = 4096
HANDLE_RE = re.compile(r"^[0-9a-f]{8}:[1-9][0-9]{0,11}$")


def malformed(what: str, **details: Any) -> TokenProtocolError:
    """The error for a reply that breaks the protocol (``what`` says how, in English)."""
    return TokenProtocolError(
        "UKey 服务进程返回了无法识别的数据，已重置与 UKey 的连接。请重试；如反复出现，请重新安装 CA 提供的驱动。",
        "The token host sent a reply that breaks the protocol; the connection to the UKey was reset. "
        "Retry; if it keeps happening, reinstall the driver from your CA.",
        problem=what, **details,
    )


def encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise malformed("base64 value is not a string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise malformed("invalid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:  # one spelling per value: no slack bits
        raise malformed("non-canonical base64")
    return raw


def decode(value: Any, *, mutable: bool = False) -> Any:
    """Turn ``{"$b": ...}`` back into bytes (bytearray when ``mutable``, for wiping)."""
    if isinstance(value, dict):
        if "$b" in value:
            if len(value) != 1:
                raise malformed("bytes object with extra keys")
            raw = _b64(value["$b"])
            return bytearray(raw) if mutable else raw
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            raise malformed("reserved key in object")
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


def _no_constants(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or None at end of stream (also mid-frame: the writer died).

    A frame that is too long, not UTF-8 JSON or not a JSON object raises
    :class:`TokenProtocolError`."""
    head = _read_exact(stream, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > MAX_FRAME:
        raise malformed("frame too large", length=n)
    body = _read_exact(stream, n)
    if body is None:
        return None
    try:
        msg = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise malformed("frame is not JSON") from None
    if not isinstance(msg, dict):
        raise malformed("frame is not an object")
    return msg


# ---------------------------------------------------------------- reply checking


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_error_object(err: Any) -> dict[str, Any]:
    """An ``error`` member: ``cls``, ``code``, ``zh``, ``en`` strings and flat ``details``."""
    if not isinstance(err, dict) or set(err) - {"cls", "code", "zh", "en", "details"}:
        raise malformed("error is not an error object")
    for key in ("cls", "code", "zh", "en"):
        if not isinstance(err.get(key), str) or len(err[key]) > MAX_TEXT:
            raise malformed(f"error.{key} is not a string")
    details = err.get("details", {})
    if not isinstance(details, dict):
        raise malformed("error.details is not an object")
    for k, v in details.items():
        if not isinstance(k, str) or not (v is None or isinstance(v, (str, int, float, bool))):
            raise malformed("error.details holds a non-scalar value")
        if isinstance(v, str) and len(v) > MAX_TEXT:
            raise malformed("error.details value too long")
    return err


Check = Callable[[Any], bool]


def _bytes(max_len: int, exact: int | None = None) -> Check:
    def check(v: Any) -> bool:
        return isinstance(v, bytes) and len(v) <= max_len and (exact is None or len(v) == exact)

    return check


def _none(v: Any) -> bool:
    return v is None


def _int(v: Any) -> bool:
    return _is_int(v) and 0 <= v <= 0xFFFFFFFF


def _names(v: Any) -> bool:
    return isinstance(v, list) and len(v) <= 4096 and all(isinstance(s, str) and len(s) <= 1024 for s in v)


def _handle(v: Any) -> bool:
    return isinstance(v, str) and HANDLE_RE.match(v) is not None


_DEV_INFO_TEXT = ("version", "manufacturer", "issuer", "label", "serial", "hw_version", "firmware_version")
_DEV_INFO_INT = ("alg_sym_cap", "alg_asym_cap", "alg_hash_cap", "dev_auth_alg_id", "total_space", "free_space",
                 "max_ecc_buffer_size", "max_buffer_size")


def _dev_info(v: Any) -> bool:
    return (isinstance(v, dict) and set(v) == set(_DEV_INFO_TEXT) | set(_DEV_INFO_INT)
            and all(isinstance(v[k], str) and len(v[k]) <= 256 for k in _DEV_INFO_TEXT)
            and all(_int(v[k]) for k in _DEV_INFO_INT))


def _pin_info(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 3 and _int(v[0]) and _int(v[1]) and isinstance(v[2], bool)


def _file_info(v: Any) -> bool:
    return (isinstance(v, dict) and set(v) == {"name", "size", "read_rights", "write_rights"}
            and isinstance(v["name"], str) and len(v["name"]) <= 64
            and all(_int(v[k]) for k in ("size", "read_rights", "write_rights")))


_CERT_MAX = 64 * 1024
_FILE_MAX = 16 * 1024 * 1024
_DATA_MAX = MAX_FRAME

#: What the ``ok`` member must be for each host operation.
RESULTS: dict[str, Check] = {
    "ping": lambda v: v == "pong",
    "handle_count": _int,
    "close": _none,
    "enum_dev": _names,
    "get_dev_state": _int,
    "connect_dev": _handle,
    "get_dev_info": _dev_info,
    "set_label": _none,
    "gen_random": _bytes(4096),
    "dev_auth": _none,
    "change_dev_auth_key": _none,
    "enum_application": _names,
    "create_application": _handle,
    "open_application": _handle,
    "delete_application": _none,
    "verify_pin": _none,
    "change_pin": _none,
    "unblock_pin": _none,
    "get_pin_info": _pin_info,
    "clear_secure_state": _none,
    "enum_files": _names,
    "create_file": _none,
    "delete_file": _none,
    "get_file_info": _file_info,
    "read_file_all": _bytes(_FILE_MAX),
    "write_file_all": _none,
    "enum_container": _names,
    "create_container": _handle,
    "open_container": _handle,
    "delete_container": _none,
    "get_container_type": _int,
    "import_certificate": _none,
    "export_certificate": _bytes(_CERT_MAX),
    "export_public_key": _bytes(1024),
    "gen_ecc_key_pair": _bytes(1024),
    "import_ecc_key_pair": _none,
    "ecc_sign_data": _bytes(1024),
    "ecc_verify": _none,
    "import_session_key": _handle,
    "set_symm_key": _handle,
    "decrypt_init": _none,
    "encrypt_init": _none,
    "decrypt": _bytes(_DATA_MAX),
    "decrypt_update": _bytes(_DATA_MAX),
    "decrypt_final": _bytes(64),
    "encrypt": _bytes(_DATA_MAX),
    "decrypt_stream": _bytes(_DATA_MAX),
}


def check_reply(msg: dict[str, Any], rid: int, op: str, generation: str | None) -> Any:
    """The decoded result of reply ``msg`` to request ``rid`` (operation ``op``).

    Raises :class:`TokenProtocolError` for any deviation: extra or missing members,
    another request's id, both or neither of ``ok``/``error``, a malformed error
    object, bytes that are not canonical base64, a result of the wrong type for
    ``op`` or a handle of another host process. An error object is returned as
    ``{"error": obj}`` for the caller to raise."""
    if set(msg) - {"id", "ok", "error"}:
        raise malformed("unexpected members in reply", op=op)
    if not _is_int(msg.get("id")) or msg["id"] != rid:
        raise malformed("reply to another request", op=op)
    if ("ok" in msg) == ("error" in msg):
        raise malformed("reply must carry exactly one of ok and error", op=op)
    if "error" in msg:
        return {"error": check_error_object(msg["error"])}
    try:
        value = decode(msg["ok"])
    except TokenProtocolError as exc:
        raise malformed(str(exc.details.get("problem", "")), op=op) from None
    check = RESULTS.get(op)
    if check is None or not check(value):
        raise malformed("result has the wrong type for the operation", op=op)
    if check is _handle and generation is not None and not value.startswith(generation + ":"):
        raise malformed("handle of another host process", op=op)
    return {"ok": value}


def check_hello(msg: dict[str, Any]) -> dict[str, Any]:
    """The host's first frame: ``{"hello": {...}}`` or ``{"hello": null, "error": {...}}``."""
    if set(msg) - {"hello", "error"} or "hello" not in msg:
        raise malformed("first frame is not a hello")
    hello = msg["hello"]
    if hello is None:
        if "error" not in msg:
            raise malformed("failed hello without an error")
        return {"error": check_error_object(msg["error"])}
    if not isinstance(hello, dict):
        raise malformed("hello is not an object")
    gen = hello.get("generation")
    if not isinstance(gen, str) or not (gen == "monitor" or re.fullmatch(r"[0-9a-f]{8}", gen)):
        raise malformed("hello.generation is not a generation id")
    if not _is_int(hello.get("pid")) or not isinstance(hello.get("library"), str):
        raise malformed("hello lacks pid or library")
    for key in ("bits",):
        if key in hello and not _is_int(hello[key]):
            raise malformed(f"hello.{key} is not a number")
    for key in ("format", "machine", "python"):
        if key in hello and not isinstance(hello[key], str):
            raise malformed(f"hello.{key} is not a string")
    return {"hello": hello}


def check_event(event: Any) -> dict[str, Any]:
    """An unsolicited monitor event: ``kind`` plus ``device`` / ``devices`` / ``error``."""
    if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
        raise malformed("event is not an object with a kind")
    kind = event["kind"]
    if kind in ("inserted", "removed"):
        if not isinstance(event.get("device"), str) or len(event["device"]) > 1024:
            raise malformed("event.device is not a name")
    elif kind == "ready":
        if not _names(event.get("devices")):
            raise malformed("event.devices is not a list of names")
    elif kind == "error":
        check_error_object(event.get("error"))
    else:
        raise malformed("unknown event kind")
    return event

"""Frames between the window and its engine processes, and errors that cross them.

Frames are a 4-byte big-endian length and a pickle. Pickle is acceptable here and
only here: both ends are BidSeal's own code in the same interpreter, started by the
window itself over an anonymous pipe (the token host, which may run another
interpreter and a vendor's library, uses JSON instead: :mod:`app.token.protocol`).

Errors travel as plain dictionaries (:func:`error_to_wire` / :func:`error_from_wire`)
so that a :class:`~app.errors.BidSealError` subclass whose constructor takes other
arguments (e.g. ``SealCancelledError()``) still arrives as itself, with its code,
both sentences and its details; an unexpected exception arrives as
:class:`UnexpectedError` carrying the traceback text for the crash log.
"""

from __future__ import annotations

import importlib
import pickle
import struct
import sys
import traceback
from typing import Any, BinaryIO

from app.cancel import OperationCancelled
from app.errors import BidSealError

#: Refuse frames larger than this (a rendered page at 400 % is ~40 MB).
MAX_FRAME = 256 * 1024 * 1024

_HEAD = struct.Struct(">I")


class UnexpectedError(BidSealError):
    """A bug: an exception that is not part of the error vocabulary.

    ``details["trace"]`` holds the traceback text (for the crash log, never shown
    as the message)."""

    code = "ERR_INTERNAL"

    def __init__(self, trace: str = "", summary: str = "") -> None:
        super().__init__(
            "程序内部错误，操作未完成，原文件没有改动。",
            "An internal error stopped the operation; the original file was not changed.",
            details={"trace": trace, "error": summary},
        )


class EngineCrashed(BidSealError):
    """The engine process ended in the middle of an operation."""

    code = "ERR_ENGINE_CRASHED"

    def __init__(self, exit_code: int | None = None) -> None:
        super().__init__(
            "文档处理进程意外退出，操作未完成，原文件没有改动。请重试。",
            "The document engine process stopped unexpectedly; the operation did not finish and the "
            "original file was not changed. Please try again.",
            details={"exit_code": exit_code},
        )


def write_frame(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > MAX_FRAME:
        raise ValueError(f"frame too large: {len(data)}")
    stream.write(_HEAD.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(stream: BinaryIO) -> Any:
    """The next message; raises EOFError at the end of the stream."""
    head = _read_exact(stream, _HEAD.size)
    if head is None:
        raise EOFError
    (n,) = _HEAD.unpack(head)
    if n > MAX_FRAME:
        raise ValueError(f"frame too large: {n}")
    body = _read_exact(stream, n)
    if body is None:
        raise EOFError
    return pickle.loads(body)  # noqa: S301 - our own child process over a private pipe


def _safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    return str(value)


def error_to_wire(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, BidSealError):
        cls = type(exc)
        return {"cls": f"{cls.__module__}:{cls.__qualname__}", "code": exc.code, "zh": exc.zh, "en": exc.en,
                "details": _safe(exc.details)}
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"cls": None, "trace": trace, "summary": f"{type(exc).__name__}: {exc}"[:300]}


def _error_class(path: str, import_missing: bool) -> type[BidSealError] | None:
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name)
    if module is None and import_missing:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return None
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) and issubclass(obj, BidSealError) else None


#: Stand-ins when the real class is not imported here (a cancellation stays a cancellation).
_BY_CODE: dict[str, type[BidSealError]] = {"ERR_CANCELLED": OperationCancelled}


def error_from_wire(data: dict[str, Any], *, import_missing: bool = False) -> BidSealError:
    """The error described by :func:`error_to_wire`.

    The class is used when its module is already imported (or ``import_missing``):
    the window does not import the PDF engine just to re-create its error classes,
    so there a sealing error arrives as a plain :class:`BidSealError` with the same
    code, sentences and details (the UI decides on ``code``)."""
    if data.get("cls") is None:
        return UnexpectedError(str(data.get("trace", "")), str(data.get("summary", "")))
    cls = _error_class(str(data["cls"]), import_missing) or _BY_CODE.get(str(data.get("code")), BidSealError)
    exc = cls.__new__(cls)
    BidSealError.__init__(exc, str(data.get("zh", "")), str(data.get("en", "")), code=str(data.get("code")),
                          details=dict(data.get("details") or {}))
    return exc

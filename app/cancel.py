"""Cancellation shared by every long operation (sealing, verifying, envelopes).

A front end (a Cancel button, Ctrl-C, the helper's request timeout) sets a
:class:`CancelToken` from any thread; engines poll it between stages and chunks
and raise their own ``...Cancelled`` error, after removing any temp output. One
type everywhere means the GUI and the helper hold one kind of token whatever they
run. Engines also accept a ``threading.Event`` or a no-argument callable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from app.errors import BidSealError


@runtime_checkable
class Cancellable(Protocol):
    """Anything with ``is_set()``: a :class:`CancelToken` or a ``threading.Event``."""

    def is_set(self) -> bool: ...


Cancel = Cancellable | Callable[[], bool]


class CancelToken:
    """Thread-safe cancellation flag."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class OperationCancelled(BidSealError):
    """The user (or the caller) cancelled; whatever was being written has been removed.

    The one cancellation error: each engine raises a subclass with its own sentence
    (sealing, verification, envelopes), and a front end catches this class alone.
    """

    code = "ERR_CANCELLED"

    def __init__(self, zh: str = "操作已取消。", en: str = "The operation was cancelled.",
                 **details: Any) -> None:
        # Direct, not super(): the engine subclasses also derive from their package's
        # error base, whose __init__ takes other keywords.
        BidSealError.__init__(self, zh, en, details=details)


def is_cancelled(cancel: Cancel | None) -> bool:
    """True when ``cancel`` (token, event or callable; None = never) asks to stop."""
    if cancel is None:
        return False
    if isinstance(cancel, Cancellable):
        return bool(cancel.is_set())
    return bool(cancel())

"""Shared run-time state: one key operation at a time, cancel throttling, recent requests.

* :class:`OperationSlot` - at most one key operation (consent → PIN → device) across all
  origins; a second request gets ``ERR_ACTION_PENDING`` at once instead of queueing a
  second dialog behind the first (no prompt flooding, helper-security.md §7.17).
* :class:`CancelThrottle` - an origin whose requests the bidder cancelled 3 times within
  60 s is ignored for 5 minutes.
* :class:`RecentRequests` - the last requests, for the tray icon; listeners are called
  on the helper's thread (the Qt tray marshals to its own).

All of it lives on the helper's event loop thread (no locks needed there); the tray
reads :meth:`RecentRequests.snapshot`, which copies under a lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.helper import limits
from app.helper.errors import HelperError


class OperationSlot:
    def __init__(self) -> None:
        self.holder: str | None = None

    def acquire(self, what: str) -> None:
        if self.holder is not None:
            raise HelperError("ERR_ACTION_PENDING", busy=self.holder)
        self.holder = what

    def release(self) -> None:
        self.holder = None


class CancelThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cancels: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def check(self, origin: str) -> None:
        until = self._blocked_until.get(origin)
        if until is not None:
            left = until - self._clock()
            if left > 0:
                raise HelperError("ERR_TOO_MANY_CANCELS", retry_after=int(left) + 1)
            del self._blocked_until[origin]

    def cancelled(self, origin: str) -> None:
        now = self._clock()
        q = self._cancels.setdefault(origin, deque())
        q.append(now)
        while q and now - q[0] > limits.CANCEL_WINDOW:
            q.popleft()
        if len(q) >= limits.CANCELS_BEFORE_BLOCK:
            self._blocked_until[origin] = now + limits.BLOCK_SECONDS
            q.clear()


@dataclass(frozen=True)
class RequestRecord:
    time: float
    origin: str
    operation: str
    result: str


class RecentRequests:
    def __init__(self) -> None:
        self._items: deque[RequestRecord] = deque(maxlen=limits.RECENT_REQUESTS)
        self._lock = threading.Lock()
        self.listeners: list[Callable[[RequestRecord], None]] = []

    def add(self, origin: str, operation: str, result: str) -> None:
        rec = RequestRecord(time.time(), origin, operation, result)
        with self._lock:
            self._items.append(rec)
        for listener in list(self.listeners):
            listener(rec)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._items)

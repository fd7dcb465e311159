"""Login nonces: issued by the hub, used once, expiring after a few minutes.

The verifier only needs :meth:`NonceStore.consume`; a hub with several processes
plugs in its database or cache (atomic "delete if present and fresh" semantics). The
in-memory store here serves one-process hubs and tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from app.authtoken.challenge import new_nonce

DEFAULT_TTL = 300.0  # seconds (Web eID: 5 minutes)


class NonceStore(Protocol):
    def issue(self) -> str:
        """A fresh nonce, remembered until it is consumed or expires."""
        ...

    def consume(self, nonce: str) -> bool:
        """True exactly once for an issued, unexpired nonce (it is forgotten either way)."""
        ...


class MemoryNonceStore:
    """Thread-safe in-memory :class:`NonceStore` with a TTL and a size bound."""

    def __init__(self, ttl: float = DEFAULT_TTL, *, max_size: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        nonce = new_nonce()
        self.remember(nonce)
        return nonce

    def remember(self, nonce: str) -> None:
        """Accept ``nonce`` (made elsewhere) as issued now."""
        now = self._clock()
        with self._lock:
            if len(self._issued) >= self.max_size:
                self._expire(now)
                while len(self._issued) >= self.max_size:  # still full: drop the oldest
                    self._issued.pop(next(iter(self._issued)))
            self._issued[nonce] = now + self.ttl

    def consume(self, nonce: str) -> bool:
        now = self._clock()
        with self._lock:
            expires = self._issued.pop(nonce, None)
        return expires is not None and now <= expires

    def _expire(self, now: float) -> None:
        for key in [k for k, exp in self._issued.items() if exp < now]:
            del self._issued[key]

    def __len__(self) -> int:
        return len(self._issued)

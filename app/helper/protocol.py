"""uvicorn's h11 protocol with the two defences uvicorn lacks on its own.

* **Header deadline** (slowloris): a connection must complete its request line and
  headers within :data:`~app.helper.limits.HEADER_TIMEOUT` of connecting (or of its
  previous response); otherwise it is closed. uvicorn only times out *idle* keep-alive
  connections, so a client trickling header bytes would otherwise hold a slot forever.
* **Connection cap with eviction**: at most :data:`~app.helper.limits.MAX_CONNECTIONS`
  connections; when a new one arrives at the cap, the oldest connection that is idle or
  still sending headers is closed to make room (a connection with a request in progress
  is never evicted). So 100 idle or slow connections cannot lock an allowed page out,
  and a flood costs each attacker connection its slot, not the bidder's.

Header size is capped by h11 itself (``h11_max_incomplete_event_size``, 8 KiB: 400).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.helper import limits


class GuardedH11Protocol(H11Protocol):
    header_timeout = limits.HEADER_TIMEOUT
    max_connections = limits.MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since: float | None = None
        self._seen_cycle: object = None

    # -- header deadline -------------------------------------------------------------
    def _arm(self) -> None:
        self._disarm()
        self._waiting_since = self.loop.time()
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()
        if len(self.connections) > self.max_connections:
            self._evict()

    def _evict(self) -> None:
        idle = [c for c in self.connections
                if c is not self and isinstance(c, GuardedH11Protocol) and c._waiting_since is not None
                and not c.transport.is_closing()]
        if idle:
            oldest = min(idle, key=lambda c: c._waiting_since or 0.0)
            oldest.transport.close()
        else:  # everyone is busy with a real request: refuse the newcomer
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._seen_cycle:
            self._seen_cycle = self.cycle  # a complete request line + headers arrived
            self._disarm()
            self._waiting_since = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle is not self._seen_cycle and not self.cycle.response_complete:
            self._seen_cycle = self.cycle  # a pipelined request was already complete
            return
        self._arm()  # the next request's headers get the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

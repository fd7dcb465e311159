"""One owner per device at a time: leases, a queue, and a clear "busy" error.

SKF keeps the login per device (or per application on the device), not per caller:
while the GUI holds a logged-in session, anything else that opens the same
application could sign without the PIN, and one caller's ``SKF_ClearSecureState``
logs out everyone. So BidSeal makes device access explicit: a
:class:`DeviceLease` is the right to use one device; a session holds one from its
login to its ``ClearSecureState``; PIN management and key discovery take one
briefly.

* In this process, waiters queue in arrival order (a ticket queue on a condition
  variable); across BidSeal processes a lock file (:mod:`app.token.locks`) decides.
* A waiter gives up after ``wait`` seconds (``0`` = fail at once) or when its cancel
  token is set, with :class:`~app.token.errors.DeviceBusy` naming the holder ("the
  GUI is signing", pid) and, across processes, the holding program.
* A lease is not re-entrant for sessions: a second session on the same device in
  the same thread fails at once (it would wait for itself forever). Short uses
  (``shared=True``: discovery, PIN counters) run inside a lease their own thread
  already holds.

Handles and logins are also bound to their session inside the token host (see
:mod:`app.token.host`), so holding a lease is not enough to use someone else's
login: the lease decides who may open a session, the host who may use its handles.
"""

from __future__ import annotations

import collections
import itertools
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from app.cancel import Cancel, is_cancelled
from app.token.errors import DeviceBusy, TokenCancelled
from app.token.locks import FileLock, lease_lock, read_holder, write_holder

#: Default time to wait for a busy device (seconds): ``BIDSEAL_TOKEN_WAIT`` overrides.
DEFAULT_WAIT = 30.0


def default_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("BIDSEAL_TOKEN_WAIT", DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


@dataclass
class DeviceLease:
    """The right to use one device. Release it (or use it as a context manager)."""

    device: str
    purpose: str
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    thread: int = field(default_factory=threading.get_ident)
    acquired_at: float = field(default_factory=time.time)
    _slot: _Slot | None = field(default=None, repr=False)
    _depth: int = field(default=1, repr=False)

    @property
    def active(self) -> bool:
        return self._slot is not None

    def release(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.release(self)

    def __enter__(self) -> DeviceLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Slot:
    """The in-process state of one device: holder, queue, cross-process lock."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.cond = threading.Condition()
        self.holder: DeviceLease | None = None
        self.queue: collections.deque[int] = collections.deque()
        self.file: FileLock | None = None

    def release(self, lease: DeviceLease) -> None:
        with self.cond:
            if self.holder is not lease:
                return
            if lease._depth > 1:
                lease._depth -= 1
                lease._slot = self
                return
            self.holder = None
            if self.file is not None:
                self.file.release()
                self.file = None
            self.cond.notify_all()


_slots: dict[str, _Slot] = {}
_slots_lock = threading.Lock()
_tickets = itertools.count(1)


def _slot(device: str) -> _Slot:
    with _slots_lock:
        slot = _slots.get(device)
        if slot is None:
            slot = _slots[device] = _Slot(device)
        return slot


def holder(device: str) -> DeviceLease | None:
    """The lease this process holds on ``device`` right now, if any."""
    slot = _slot(device)
    with slot.cond:
        return slot.holder


def _busy(device: str, purpose: str, lease: DeviceLease | None, waited: float) -> DeviceBusy:
    if lease is not None:
        who_zh, who_en = f"本程序的“{lease.purpose}”操作", f"this program's '{lease.purpose}' operation"
        details: dict[str, Any] = {"holder_purpose": lease.purpose, "holder_pid": os.getpid()}
    else:
        info = read_holder(device)
        prog = str(info.get("program") or "BidSeal")
        what = str(info.get("purpose") or "?")
        who_zh, who_en = f"另一个 BidSeal 程序（{prog}，进程 {info.get('pid', '?')}）的“{what}”操作", \
            f"another BidSeal program ({prog}, process {info.get('pid', '?')}), for '{what}'"
        details = {"holder_purpose": what, "holder_pid": info.get("pid"), "holder_program": prog}
    return DeviceBusy(
        f"UKey「{device}」正被{who_zh}使用，请等它完成后再试。",
        f"The UKey '{device}' is in use by {who_en}; wait until it finishes and try again.",
        device=device, purpose=purpose, waited=round(waited, 3), **details,
    )


def acquire(device: str, purpose: str, *, wait: float | None = None, cancel: Cancel | None = None,
            shared: bool = False) -> DeviceLease:
    """Take the lease on ``device`` for ``purpose`` (a short English phrase shown to others).

    Waits in line up to ``wait`` seconds (default :func:`default_wait`); raises
    :class:`DeviceBusy` when the device stays taken, :class:`TokenCancelled` when
    ``cancel`` is set while waiting. ``shared=True`` lets the call run inside a lease
    the current thread already holds (re-entrant); otherwise that is refused at once."""
    wait = default_wait() if wait is None else max(0.0, wait)
    slot = _slot(device)
    me = threading.get_ident()
    started = time.monotonic()
    deadline = started + wait
    with slot.cond:
        current = slot.holder
        if current is not None and current.thread == me:
            if shared:
                current._depth += 1
                return current
            raise _busy(device, purpose, current, 0.0)
        ticket = next(_tickets)
        slot.queue.append(ticket)
        try:
            while slot.holder is not None or slot.queue[0] != ticket:
                if is_cancelled(cancel):
                    raise _lease_cancelled(device, purpose)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _busy(device, purpose, slot.holder, time.monotonic() - started)
                slot.cond.wait(min(left, 0.05))
            # first in line here; now the other processes
            file = lease_lock(device)
            stop = (lambda: is_cancelled(cancel)) if cancel is not None else None
            left = max(0.0, deadline - time.monotonic())
            if not file.acquire(left, should_stop=stop):
                if is_cancelled(cancel):
                    raise _lease_cancelled(device, purpose)
                raise _busy(device, purpose, None, time.monotonic() - started)
        finally:
            slot.queue.remove(ticket)
            slot.cond.notify_all()
        lease = DeviceLease(device, purpose)
        lease._slot = slot
        slot.holder = lease
        slot.file = file
    write_holder(device, {"pid": os.getpid(), "purpose": purpose, "program": _program(),
                          "since": lease.acquired_at})
    return lease


#: The public name (``app.token.acquire_device``).
acquire_device = acquire


def _lease_cancelled(device: str, purpose: str) -> TokenCancelled:
    return TokenCancelled("已取消：等待 UKey 空闲时被取消。", "Cancelled while waiting for the UKey to become free.",
                          device=device, purpose=purpose)


def _program() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return name[:64]

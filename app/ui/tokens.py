"""The window's one door to the UKey layer (:mod:`app.token`), Qt-free.

Every token call the window makes goes through here, so adopting new token-layer
capabilities (owner-aware sessions, an identity cache invalidated by the monitor,
cancellable device calls, ``Identity.is_demo``, the shared key-selection helpers)
is a change in this module only. All of these block on the token host process:
call them from worker threads (:mod:`app.ui.runner`), never from the UI thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.errors import BidSealError
from app.sensitive import wipe


@dataclass
class KeyScan:
    """Identities on the keys present now, the libraries that answered, and problems."""

    identities: list[Any] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    problems: list[BidSealError] = field(default_factory=list)


def scan() -> KeyScan:
    """Every identity on every inserted key (all configured SKF libraries); each driver fault
    met on the way becomes a problem naming the library and SKF function
    (:func:`app.token.selection.discover`, the same discovery the CLI uses)."""
    from app.token.selection import discover

    found = discover()
    out = KeyScan(identities=found.identities)
    out.libraries = [lib.path for lib in found.scan.libraries if lib.status == "ok"]
    for failure in found.failures:
        zh, en = failure.where()
        out.problems.append(BidSealError(zh, en, code=failure.error.code, details=failure.to_dict()))
    return out


def pin_info(identity: Any) -> Any:
    """:class:`app.token.PinInfo` (retries left, locked) of the identity's user PIN."""
    from app import token

    return token.pin_info(identity)


def change_pin(identity: Any, old: bytearray, new: bytearray) -> None:
    from app import token

    _wiped_after(token.change_pin, identity, old, new)


def unblock(identity: Any, admin: bytearray, new: bytearray) -> None:
    from app import token

    _wiped_after(token.unblock, identity, admin, new)


def _wiped_after(call: Callable[..., None], identity: Any, *pins: bytearray) -> None:
    try:
        call(identity, *pins)
    finally:
        for pin in pins:
            wipe(pin)


@contextlib.contextmanager
def signing_session(identity: Any, pin: bytearray) -> Iterator[Any]:
    """Log in once for a whole operation and yield the signer; the PIN is wiped as soon
    as the key has checked it (and in any case on the way out)."""
    from app import token

    try:
        with token.open_session(identity, pin) as session:
            wipe(pin)
            yield session.signer
    finally:
        wipe(pin)


def start_monitor(libraries: list[str], callback: Callable[[Any], None]) -> Any:
    """A started :class:`app.token.CombinedMonitor` over ``libraries`` (plus PC/SC card
    events where a smart-card service runs); ``callback(DeviceEvent)`` runs on a reader
    thread. Returns an object with ``stop()``."""
    from app.token.monitor import monitor_all

    return monitor_all(callback, libraries)

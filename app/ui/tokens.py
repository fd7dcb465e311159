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


@dataclass
class KeyScan:
    """Identities on the keys present now, the libraries that answered, and problems."""

    identities: list[Any] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    problems: list[BidSealError] = field(default_factory=list)


def scan() -> KeyScan:
    """Every identity on every inserted key (all configured SKF libraries)."""
    from app import token

    result = token.scan()
    out = KeyScan(identities=list(result.identities))
    for lib in result.libraries:
        if lib.status == "ok":
            out.libraries.append(lib.path)
        elif lib.error is not None:
            out.problems.append(lib.error)
    out.problems.extend(result.problems)
    for dev in result.devices:
        if dev.error is not None:
            out.problems.append(dev.error)
    return out


def pin_info(identity: Any) -> Any:
    """:class:`app.token.PinInfo` (retries left, locked) of the identity's user PIN."""
    from app import token

    return token.pin_info(identity)


def change_pin(identity: Any, old: bytearray, new: bytearray) -> None:
    from app import token

    try:
        token.change_pin(identity, old, new)
    finally:
        wipe(old)
        wipe(new)


def unblock(identity: Any, admin: bytearray, new: bytearray) -> None:
    from app import token

    try:
        token.unblock(identity, admin, new)
    finally:
        wipe(admin)
        wipe(new)


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


def wipe(buf: bytearray) -> None:
    for i in range(len(buf)):
        buf[i] = 0

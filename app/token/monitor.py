"""Hot-plug monitoring: ``SKF_WaitForDevEvent`` in a dedicated monitor host process.

``SKF_WaitForDevEvent`` blocks, so it runs in its own token host
(``python -m app.token.host --monitor``), never in the caller's process and never
in the host that serves sessions. Events arrive on a reader thread and are
delivered to plain callbacks (no Qt; a GUI re-posts them to its own thread)::

    mon = DeviceMonitor(library, callback)   # callback(DeviceEvent)
    mon.start(); ...; mon.stop()

:class:`CombinedMonitor` watches several sources at once: one
:class:`DeviceMonitor` per SKF library and, when :mod:`app.token.pcsc` is
available, PC/SC reader events (see :meth:`CombinedMonitor.add_source`, the
extension point for other event sources).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

from app.errors import BidSealError
from app.token.errors import TokenError, error_from_wire
from app.token.host_client import TokenHost

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceEvent:
    kind: str  # "inserted" or "removed"
    device: str
    library: str
    source: str = "skf"  # "skf" or "pcsc"


Callback = Callable[[DeviceEvent], None]


class EventSource(Protocol):
    def start(self) -> object: ...

    def stop(self) -> object: ...


class DeviceMonitor:
    """Watches one SKF library; ``callback(DeviceEvent)`` runs on a reader thread."""

    def __init__(self, library: str | os.PathLike[str], callback: Callback | None = None, *,
                 env: Mapping[str, str] | None = None, python: str | None = None,
                 on_error: Callable[[BidSealError], None] | None = None) -> None:
        self.library = os.path.abspath(os.fspath(library))
        self._callbacks: list[Callback] = [callback] if callback else []
        self.on_error = on_error
        self._host = TokenHost(self.library, env=env, python=python, monitor=True)
        self._host.on_event = self._on_event
        self._ready = threading.Event()
        self.initial_devices: list[str] = []

    def add_callback(self, callback: Callback) -> None:
        self._callbacks.append(callback)

    @property
    def running(self) -> bool:
        return self._host.alive

    def start(self, wait: float = 10.0) -> DeviceMonitor:
        """Start the monitor host; returns once it is waiting for events (or after ``wait`` s)."""
        self._ready.clear()
        self._host.start()
        self._ready.wait(wait)
        return self

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 3.0) -> None:
        """SKF_CancelWaitForDevEvent via the host; killed if it does not exit in time."""
        self._host.send({"op": "stop"})
        proc = self._host._proc
        if proc is not None:
            with suppress(Exception):
                proc.wait(timeout=timeout)
        self._host.close()

    def __enter__(self) -> DeviceMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("kind")
        if kind == "ready":
            self.initial_devices = list(ev.get("devices") or [])
            self._ready.set()
            return
        if kind == "error":
            err = error_from_wire(ev.get("error") or {})
            log.warning("device monitor: %s", err.en)
            if self.on_error:
                self.on_error(err)
            return
        if kind in ("inserted", "removed"):
            event = DeviceEvent(kind, str(ev.get("device", "")), self.library)
            for cb in list(self._callbacks):
                try:
                    cb(event)
                except Exception:  # noqa: BLE001 - one bad callback must not stop the others
                    log.exception("device event callback failed")


class CombinedMonitor:
    """Several event sources behind one start/stop and one callback list."""

    def __init__(self, callback: Callback | None = None) -> None:
        self._callbacks: list[Callback] = [callback] if callback else []
        self.sources: list[EventSource] = []
        self.errors: list[BidSealError] = []

    def dispatch(self, event: DeviceEvent) -> None:
        for cb in list(self._callbacks):
            try:
                cb(event)
            except Exception:  # noqa: BLE001
                log.exception("device event callback failed")

    def add_callback(self, callback: Callback) -> None:
        self._callbacks.append(callback)

    def add_source(self, source: EventSource) -> None:
        """Extension point: any object with start()/stop() that calls :meth:`dispatch`."""
        self.sources.append(source)

    def add_library(self, library: str | os.PathLike[str], **kwargs: Any) -> DeviceMonitor:
        mon = DeviceMonitor(library, self.dispatch, **kwargs)
        self.add_source(mon)
        return mon

    def start(self) -> CombinedMonitor:
        for s in self.sources:
            try:
                s.start()
            except BidSealError as exc:  # e.g. a library that does not load: keep the others
                self.errors.append(exc)
        return self

    def stop(self) -> None:
        for s in self.sources:
            with suppress(TokenError, OSError):
                s.stop()

    def __enter__(self) -> CombinedMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def monitor_all(callback: Callback, libraries: Iterable[str | os.PathLike[str]] | None = None, *,
                pcsc: bool = True) -> CombinedMonitor:
    """A started :class:`CombinedMonitor` over the given (default: all candidate) libraries,
    plus PC/SC reader events when :mod:`app.token.pcsc` provides them."""
    from app.token.registry import candidates

    mon = CombinedMonitor(callback)
    libs = list(libraries) if libraries is not None else [c.path for c in candidates()]
    for lib in libs:
        mon.add_library(lib)
    if pcsc:
        source = _pcsc_source(mon.dispatch)
        if source is not None:
            mon.add_source(source)
    return mon.start()


class PcscSource:
    """PC/SC card events (:class:`app.token.pcsc.PcscMonitor`) as :class:`DeviceEvent`:
    ``card_inserted``/``card_removed`` become ``inserted``/``removed`` with the reader
    name as ``device`` and ``library="pcsc"``."""

    _KINDS = {"card_inserted": "inserted", "card_removed": "removed"}

    def __init__(self, dispatch: Callback) -> None:
        from app.token.pcsc import PcscMonitor

        self._dispatch = dispatch
        self._monitor = PcscMonitor()

    def _on(self, ev: Any) -> None:
        kind = self._KINDS.get(str(ev.kind))
        if kind:
            self._dispatch(DeviceEvent(kind, str(ev.reader), "pcsc", "pcsc"))

    def start(self) -> None:
        self._monitor.start(self._on)

    def stop(self) -> None:
        self._monitor.stop()


def _pcsc_source(dispatch: Callback) -> EventSource | None:
    """PC/SC card events when pyscard and a smart-card service are available."""
    try:
        from app.token import pcsc

        if not pcsc.available():
            return None
        return PcscSource(dispatch)
    except Exception:  # noqa: BLE001 - PC/SC absent (no pcscd, no pyscard): SKF events still work
        log.info("PC/SC events unavailable", exc_info=True)
        return None

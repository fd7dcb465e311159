"""The identities of the keys present, kept current by hot-plug events, never by polling.

:func:`app.token.find_identity` scans every library and reads every key (certificates,
seal images) on each call: fine for one CLI command, wrong for a GUI key panel that
redraws or a localhost helper that lists certificates for every web request. An
:class:`IdentityCache` scans once when it starts, then only reacts to device events:

* ``inserted`` (library L, device D): read D alone (:func:`app.token.device.scan_device`,
  no EnumDev, no other key touched);
* ``removed``: drop D's entry (no device call at all).

Readers (:meth:`IdentityCache.identities`, :meth:`find`, :meth:`snapshot`) only look at
memory; they never reach a device. Events are applied on the cache's own worker thread
(a scan may take seconds and must not block the monitor's reader), and listeners
(``add_listener``) are told after each change, e.g. a GUI re-posts that to its UI
thread. :meth:`refresh` rescans on demand (a "refresh" button), and the counters
``full_scans``/``device_scans`` say how much reading happened (the tests hold the cache
to "no scan per request").

::

    cache = IdentityCache().start()          # or shared_cache() for one per process
    cache.identities(); cache.find(device="...")
    cache.stop()
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from app.errors import BidSealError
from app.token.device import (
    DeviceReport,
    LibraryReport,
    TokenScan,
    _as_candidates,
    not_found,
    scan,
    scan_device,
    select,
)
from app.token.errors import DeviceRemoved
from app.token.host_client import HostPool, get_pool
from app.token.identity import Identity
from app.token.monitor import CombinedMonitor, DeviceEvent, _pcsc_source
from app.token.registry import Candidate

log = logging.getLogger(__name__)

Listener = Callable[[TokenScan], None]
_STOP = object()


class IdentityCache:
    """Identities kept up to date by device events (see the module docstring)."""

    def __init__(self, libraries: Iterable[str | os.PathLike[str] | Candidate] | None = None, *,
                 pool: HostPool | None = None, monitor_env: dict[str, str] | None = None,
                 pcsc: bool = False) -> None:
        self._candidates = _as_candidates(libraries)
        self._pool = pool
        self._monitor_env = dict(monitor_env or {})
        self._pcsc = pcsc
        self._lock = threading.RLock()
        self._reports: list[LibraryReport] = []
        self._listeners: list[Listener] = []
        self._events: queue.Queue[Any] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._monitor: CombinedMonitor | None = None
        self._idle = threading.Event()
        self._idle.set()
        self.full_scans = 0
        self.device_scans = 0
        self.errors: list[BidSealError] = []

    @property
    def pool(self) -> HostPool:
        return self._pool or get_pool()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> IdentityCache:
        """Start watching (monitors first, so no insertion is missed), then scan once."""
        if self._worker is not None:
            return self
        self._worker = threading.Thread(target=self._run, name="bidseal-identity-cache", daemon=True)
        self._worker.start()
        mon = CombinedMonitor(self._on_event)
        for cand in self._candidates:
            mon.add_library(cand.path, env=self._monitor_env or None)
        if self._pcsc:
            source = _pcsc_source(mon.dispatch)
            if source is not None:
                mon.add_source(source)
        mon.start()
        self.errors = list(mon.errors)
        for source in mon.sources:
            waiter = getattr(source, "wait_ready", None)
            if waiter is not None:
                waiter(10)
        self._monitor = mon
        self.refresh()
        return self

    def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
        if self._worker is not None:
            self._events.put(_STOP)
            self._worker.join(10)
            self._worker = None

    def __enter__(self) -> IdentityCache:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reading (memory only) ---------------------------------------------------------
    def snapshot(self) -> TokenScan:
        """The cached report (libraries -> devices -> identities, problems), a copy."""
        with self._lock:
            return TokenScan([LibraryReport(r.candidate, r.status, r.error, r.host, list(r.devices))
                              for r in self._reports])

    def identities(self) -> list[Identity]:
        return self.snapshot().identities

    def find(self, device: str | None = None, container: str | None = None, *,
             application: str | None = None) -> Identity:
        """Like :func:`app.token.find_identity`, from the cache (DriverFailure / TokenNotFound)."""
        result = self.snapshot()
        found = select(result.identities, device, container, application)
        if found:
            return found[0]
        raise not_found(result, device=device, container=container)

    def add_listener(self, listener: Listener) -> None:
        """``listener(snapshot)`` after every change (on the cache's worker thread)."""
        self._listeners.append(listener)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every event received so far has been applied."""
        return self._idle.wait(timeout)

    # -- updating ----------------------------------------------------------------------
    def refresh(self) -> TokenScan:
        """Scan every library again now (the one full scan; also a "refresh" button)."""
        result = scan(self._candidates, pool=self._pool)
        with self._lock:
            self._reports = result.libraries
            self.full_scans += 1
        self._notify()
        return result

    def _on_event(self, event: DeviceEvent) -> None:  # monitor reader thread: hand over only
        self._idle.clear()
        self._events.put(event)

    def _run(self) -> None:
        while True:
            item = self._events.get()
            try:
                if item is _STOP:
                    return
                self._apply(item)
            except Exception:  # noqa: BLE001 - the worker must survive one bad event
                log.exception("identity cache: applying %r failed", item)
            finally:
                self._events.task_done()
                if self._events.empty():
                    self._idle.set()

    def _library(self, path: str) -> LibraryReport | None:
        key = os.path.normcase(os.path.abspath(path))
        for rep in self._reports:
            if os.path.normcase(os.path.abspath(rep.path)) == key:
                return rep
        return None

    def _apply(self, event: DeviceEvent) -> None:
        if event.source != "skf":
            self.refresh()  # a PC/SC card event names a reader, not an SKF device
            return
        with self._lock:
            lib = self._library(event.library)
        if lib is None:
            return
        if event.kind == "removed":
            with self._lock:
                lib.devices = [d for d in lib.devices if d.name != event.device]
            self._notify()
            return
        if event.kind != "inserted":
            return
        rep = self._read_device(lib, event.device)
        with self._lock:
            lib.devices = [d for d in lib.devices if d.name != event.device]
            if rep is not None:
                lib.devices.append(rep)
                lib.devices.sort(key=lambda d: d.name)
        self._notify()

    def _read_device(self, lib: LibraryReport, device: str) -> DeviceReport | None:
        try:
            rep = scan_device(self.pool.get(lib.path), device)
        except BidSealError as exc:  # the driver broke reading it: keep the failure visible
            rep = DeviceReport(lib.path, device, error=exc)
        with self._lock:
            self.device_scans += 1
        if isinstance(rep.error, DeviceRemoved):
            return None  # pulled out again before it could be read
        return rep

    def _notify(self) -> None:
        snap = self.snapshot()
        for listener in list(self._listeners):
            try:
                listener(snap)
            except Exception:  # noqa: BLE001 - one listener must not stop the others
                log.exception("identity cache listener failed")


_SHARED: IdentityCache | None = None
_SHARED_LOCK = threading.Lock()


def shared_cache() -> IdentityCache:
    """The process's one started cache over the configured libraries (GUI and helper share it)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = IdentityCache().start()
            import atexit

            atexit.register(_SHARED.stop)
        return _SHARED

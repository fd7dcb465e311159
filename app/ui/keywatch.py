"""Keeps the window's list of keys current: a scan at start, then a rescan whenever the
device monitor reports a key plugged in or pulled out (and on request).

The monitor (:class:`app.token.CombinedMonitor` through :mod:`app.ui.tokens`) calls
back on its reader threads; the event is re-posted as a Qt signal, debounced, and
the scan runs on a worker thread (:mod:`app.ui.runner`), so the panel changes
within a fraction of a second of the event and the UI thread never waits on a key.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.errors import BidSealError
from app.ui import tokens
from app.ui.i18n import error_text
from app.ui.models.keys import IdentityView, identity_key, views_of
from app.ui.runner import TaskContext, TaskRunner


class KeyWatcher(QObject):
    changed = Signal(list, list)  # [IdentityView], [problem sentences]
    device_event = Signal(object)  # DeviceEvent, re-posted on the UI thread
    scanning = Signal()

    def __init__(self, runner: TaskRunner, parent: QObject | None = None, *, monitor: bool = True) -> None:
        super().__init__(parent)
        self.runner = runner
        self.identities: dict[str, Any] = {}
        self.views: list[IdentityView] = []
        self.problems: list[BidSealError] = []
        self.libraries: list[str] = []
        self.scans = 0
        self._monitor_wanted = monitor
        self._monitor: Any = None
        self._monitored: list[str] = []
        self._pending = False
        self._running = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.rescan)
        self.device_event.connect(lambda _ev: self._debounce.start())

    def identity(self, key_id: str) -> Any:
        return self.identities.get(key_id)

    def view(self, key_id: str) -> IdentityView | None:
        return next((v for v in self.views if v.key_id == key_id), None)

    def rescan(self) -> None:
        if self._running:
            self._pending = True
            return
        self._running = True
        self.scanning.emit()
        self.runner.submit(self._scan, name="key-scan", on_result=self._scanned, on_error=self._failed,
                           on_done=self._scan_done)

    @staticmethod
    def _scan(ctx: TaskContext) -> tuple[tokens.KeyScan, list[IdentityView]]:
        result = tokens.scan()
        return result, views_of(result.identities)

    def _scanned(self, data: tuple[tokens.KeyScan, list[IdentityView]]) -> None:
        result, views = data
        self.scans += 1
        self.identities = {identity_key(i): i for i in result.identities}
        self.views = views
        self.problems = result.problems
        self.libraries = result.libraries
        self.changed.emit(views, [error_text(p) for p in result.problems])
        if self._monitor_wanted and sorted(result.libraries) != sorted(self._monitored):
            self._start_monitor(result.libraries)

    def _failed(self, exc: BidSealError) -> None:
        self.scans += 1
        self.identities, self.views, self.problems = {}, [], [exc]
        self.changed.emit([], [error_text(exc)])

    def _scan_done(self) -> None:
        self._running = False
        if self._pending:
            self._pending = False
            self.rescan()

    # -- hot plug ----------------------------------------------------------------------------
    def _start_monitor(self, libraries: list[str]) -> None:
        self.stop_monitor()
        self._monitored = list(libraries)
        if not libraries:
            return

        def start(ctx: TaskContext) -> Any:
            return tokens.start_monitor(libraries, self.device_event.emit)

        def started(mon: Any) -> None:
            if self._monitored == list(libraries) and self._monitor_wanted:
                self._monitor = mon
            else:
                mon.stop()

        self.runner.submit(start, name="key-monitor", on_result=started)

    def stop_monitor(self) -> None:
        mon, self._monitor = self._monitor, None
        self._monitored = []
        if mon is not None:
            mon.stop()

    def close(self) -> None:
        self._monitor_wanted = False
        self.stop_monitor()

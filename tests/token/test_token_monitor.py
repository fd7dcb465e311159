"""Hot-plug events from SKF_WaitForDevEvent, delivered to plain callbacks."""

from __future__ import annotations

import queue
import time
from pathlib import Path

from app.token.monitor import CombinedMonitor, DeviceEvent, DeviceMonitor
from app.token.softkey import plug, unplug


def _next(q: queue.Queue[DeviceEvent], timeout: float = 5.0) -> DeviceEvent:
    return q.get(timeout=timeout)


def test_plug_and_unplug_reach_the_callback(store: Path, softskf_lib: str) -> None:
    events: queue.Queue[DeviceEvent] = queue.Queue()
    mon = DeviceMonitor(softskf_lib, events.put, env={"SOFTSKF_STORE": str(store)})
    mon.start()
    try:
        assert mon.wait_ready(5)
        assert "HOTPLUG-1" not in mon.initial_devices
        time.sleep(0.2)
        t0 = time.monotonic()
        plug(store, "HOTPLUG-1")
        ev = _next(events)
        assert ev == DeviceEvent("inserted", "HOTPLUG-1", mon.library)
        unplug(store, "HOTPLUG-1")
        ev = _next(events)
        assert ev.kind == "removed" and ev.device == "HOTPLUG-1"
        assert time.monotonic() - t0 < 5
    finally:
        mon.stop()
    assert not mon.running


def test_combined_monitor_dispatches_and_stops(store: Path, softskf_lib: str) -> None:
    got: queue.Queue[DeviceEvent] = queue.Queue()
    combo = CombinedMonitor(got.put)
    mon = combo.add_library(softskf_lib, env={"SOFTSKF_STORE": str(store)})
    with combo:
        assert mon.wait_ready(5)
        time.sleep(0.2)
        plug(store, "HOTPLUG-2")
        assert _next(got).device == "HOTPLUG-2"
    assert not mon.running
    unplug(store, "HOTPLUG-2")


def test_monitor_of_a_missing_library_is_an_error_not_a_hang(tmp_path: Path) -> None:
    combo = CombinedMonitor()
    combo.add_library(tmp_path / "nope.so")
    combo.start()
    assert combo.errors and combo.errors[0].code == "ERR_LIBRARY_MISSING"
    combo.stop()

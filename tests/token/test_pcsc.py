"""app.token.pcsc against a REAL pcscd, Debian's vpcd readers and a vicc card.

No mocks: tests/support/pcsc_env.py starts pcscd as a child (or reuses a
system pcscd that has the vpcd readers) and inserts/removes a virtual ISO 7816
card by starting/killing ``vicc``. If that environment cannot be set up the
tests fail with the reason; they are never silently skipped.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # running without an installed package / rootdir conftest
    sys.path.insert(0, str(_ROOT))

from app.errors import BidSealError  # noqa: E402
from app.token.pcsc import (  # noqa: E402
    PcscMonitor,
    PcscUnavailable,
    ReaderEvent,
    available,
    ensure_available,
    list_readers,
)
from tests.support.pcsc_env import (  # noqa: E402
    READER_0,
    READER_1,
    VPCD_READERS,
    PcscEnv,
    PcscEnvError,
)

pytestmark = pytest.mark.timeout(90)

#: Upper bounds for hot-plug latency (measured: insertion 0.2-0.5 s, removal ~0.2 s).
INSERT_LIMIT = 3.0
REMOVE_LIMIT = 3.0


@pytest.fixture(scope="module")
def env():
    try:
        pcsc = PcscEnv()
        pcsc.__enter__()
    except PcscEnvError as exc:
        pytest.fail(f"real PC/SC test environment unavailable: {exc}", pytrace=False)
    try:
        yield pcsc
    finally:
        pcsc.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _empty_readers(env):
    """Each test starts and ends with both virtual readers empty."""
    yield
    for reader in list(env.cards):
        env.remove_card(reader)


class Events:
    """Thread-safe collector used as the monitor callback."""

    def __init__(self) -> None:
        self.q: queue.Queue[tuple[float, ReaderEvent]] = queue.Queue()
        self.seen: list[ReaderEvent] = []
        self.threads: set[str] = set()

    def __call__(self, event: ReaderEvent) -> None:
        self.threads.add(threading.current_thread().name)
        self.q.put((time.monotonic(), event))

    def wait_for(self, kind: str, reader: str, timeout: float = 5.0) -> tuple[float, ReaderEvent]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                t, event = self.q.get(timeout=max(0.0, remaining))
            except queue.Empty:
                raise AssertionError(
                    f"no {kind} event for {reader!r} within {timeout} s; saw {self.seen}"
                ) from None
            self.seen.append(event)
            if event.kind == kind and event.reader == reader:
                return t, event

    def drain(self, quiet: float = 0.3) -> list[ReaderEvent]:
        out = []
        while True:
            try:
                out.append(self.q.get(timeout=quiet)[1])
            except queue.Empty:
                self.seen.extend(out)
                return out


@pytest.fixture
def monitor():
    monitors: list[PcscMonitor] = []

    def start(**kwargs) -> Events:
        events = Events()
        mon = PcscMonitor(**kwargs)
        mon.start(events)
        monitors.append(mon)
        return events

    yield start
    for mon in monitors:
        mon.stop()


def _transmit(reader: str, apdu: list[int]) -> tuple[list[int], int, int]:
    from smartcard.System import readers

    (target,) = [r for r in readers() if str(r) == reader]
    conn = target.createConnection()
    conn.connect()
    try:
        return conn.transmit(apdu)
    finally:
        conn.disconnect()


# -- service up ----------------------------------------------------------------------
def test_list_readers_and_available(env):
    readers = list_readers()
    assert set(VPCD_READERS) <= set(readers), readers
    assert all(isinstance(r, str) for r in readers)
    assert available() is True
    ensure_available()


def test_monitor_reports_existing_readers_at_start(env, monitor):
    events = monitor()
    for reader in VPCD_READERS:
        _, ev = events.wait_for("reader_added", reader, timeout=3)
        assert ev.atr is None
    # Empty readers: no card events, nothing else pending.
    assert [e for e in events.drain() if e.kind.startswith("card")] == []
    assert events.threads == {"bidseal-pcsc-monitor"}


def test_card_insertion_and_removal_are_reported(env, monitor):
    events = monitor()
    for reader in VPCD_READERS:
        events.wait_for("reader_added", reader, timeout=3)

    t0 = time.monotonic()
    env.insert_card(READER_0, wait=False)
    t_in, ev = events.wait_for("card_inserted", READER_0, timeout=8)
    insert_latency = t_in - t0
    assert isinstance(ev.atr, bytes) and len(ev.atr) > 0, ev
    assert ev.atr[0] in (0x3B, 0x3F), ev.atr.hex()  # a real ATR: direct/inverse convention

    t0 = time.monotonic()
    env.remove_card(READER_0, wait=False)
    t_out, ev = events.wait_for("card_removed", READER_0, timeout=8)
    remove_latency = t_out - t0
    assert ev.atr is None

    others = [e for e in events.seen + events.drain() if e.reader != READER_0]
    assert [e for e in others if e.kind.startswith("card")] == []
    print(f"\nPC/SC latency: insertion {insert_latency:.3f} s, removal {remove_latency:.3f} s")
    assert insert_latency < INSERT_LIMIT, f"insertion seen after {insert_latency:.2f} s"
    assert remove_latency < REMOVE_LIMIT, f"removal seen after {remove_latency:.2f} s"


def test_second_reader_is_independent(env, monitor):
    events = monitor()
    events.wait_for("reader_added", READER_1, timeout=3)
    env.insert_card(READER_1, wait=False)
    _, ev = events.wait_for("card_inserted", READER_1, timeout=8)
    assert ev.atr
    env.remove_card(READER_1, wait=False)
    events.wait_for("card_removed", READER_1, timeout=8)
    assert all(e.reader == READER_1 for e in events.seen if e.kind.startswith("card"))


def test_card_already_present_is_reported_at_start(env, monitor):
    env.insert_card(READER_0)  # wait until pcscd sees it
    events = monitor()
    events.wait_for("reader_added", READER_0, timeout=3)
    _, ev = events.wait_for("card_inserted", READER_0, timeout=3)
    from smartcard.System import readers

    (target,) = [r for r in readers() if str(r) == READER_0]
    conn = target.createConnection()
    conn.connect()
    try:
        assert ev.atr == bytes(conn.getATR())
    finally:
        conn.disconnect()


def test_apdu_round_trip_gets_status_word(env):
    env.insert_card(READER_0)
    t0 = time.monotonic()
    # SELECT MF by file id; P2=0C (no response data) - P2=00 crashes vicc 3.3.
    data, sw1, sw2 = _transmit(READER_0, [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00])
    elapsed = time.monotonic() - t0
    assert (sw1, sw2) == (0x90, 0x00), f"SW {sw1:02X}{sw2:02X}"
    assert data == []
    # SELECT an application the card does not have: "file not found".
    _, sw1, sw2 = _transmit(
        READER_0, [0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10]
    )
    assert (sw1, sw2) == (0x6A, 0x82), f"SW {sw1:02X}{sw2:02X}"
    print(f"\nconnect + SELECT + disconnect: {elapsed * 1000:.0f} ms")


def test_callback_errors_do_not_stop_the_monitor(env, caplog):
    seen: queue.Queue[ReaderEvent] = queue.Queue()

    def flaky(event: ReaderEvent) -> None:
        seen.put(event)
        raise RuntimeError("handler bug")

    mon = PcscMonitor()
    mon.start(flaky)
    try:
        env.insert_card(READER_0, wait=False)
        deadline = time.monotonic() + 8
        kinds = []
        while ("card_inserted", READER_0) not in kinds:
            ev = seen.get(timeout=max(0.0, deadline - time.monotonic()))
            kinds.append((ev.kind, ev.reader))
        assert mon.running
    finally:
        mon.stop()
    assert "handler bug" in caplog.text


def test_stop_is_prompt_and_idempotent(env):
    mon = PcscMonitor(poll_timeout=30)  # only SCardCancel can end the wait quickly
    events = Events()
    mon.start(events)
    events.wait_for("reader_added", READER_0, timeout=3)
    time.sleep(0.2)  # now blocked in SCardGetStatusChange
    t0 = time.monotonic()
    mon.stop()
    assert time.monotonic() - t0 < 1.0
    assert not mon.running
    mon.stop()
    with pytest.raises(RuntimeError):
        mon.start(events)
        mon.start(events)
    mon.stop()


# -- service down ----------------------------------------------------------------------
_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from app.token.pcsc import PcscUnavailable, available, list_readers
out = {"available": available()}
try:
    list_readers()
except PcscUnavailable as exc:
    out["error"] = exc.to_dict()
    out["is_bidseal_error"] = True
print(json.dumps(out, ensure_ascii=False))
"""


def _check_unavailable_error(err: BidSealError | dict) -> None:
    d = err if isinstance(err, dict) else err.to_dict()
    assert d["code"] == "ERR_PCSC_UNAVAILABLE"
    assert "智能卡服务" in d["zh"] and "未运行" in d["zh"], d["zh"]
    assert "systemctl start pcscd" in d["zh"] and "SCardSvr" in d["zh"], d["zh"]
    assert "smart-card service" in d["en"] and "not running" in d["en"], d["en"]
    assert "systemctl start pcscd" in d["en"] and "SCardSvr" in d["en"], d["en"]
    assert d["details"]["hresult"] == "0x8010001D", d["details"]


def test_unavailable_error_is_a_token_error_and_crosses_the_wire():
    from app.token.errors import TokenError, error_from_wire

    exc = PcscUnavailable(hresult="0x8010001D", call="SCardEstablishContext")
    assert isinstance(exc, TokenError) and isinstance(exc, BidSealError)
    _check_unavailable_error(exc)
    back = error_from_wire(exc.to_wire())
    assert type(back) is PcscUnavailable
    assert (back.code, back.zh, back.en) == (exc.code, exc.zh, exc.en)


def test_unavailable_when_no_service_socket(tmp_path):
    """A client pointed at a socket nobody listens on (libpcsclite honours
    PCSCLITE_CSOCK_NAME): independent of whether a system pcscd runs."""
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"))
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(_ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # no printing, no stray tracebacks
    out = json.loads(proc.stdout)
    assert out["available"] is False
    assert out.get("is_bidseal_error"), out
    _check_unavailable_error(out["error"])


def test_pcscd_stopped_and_restarted(env, monitor):
    if not env.owned:
        pytest.skip(
            "a system pcscd is reused and is never stopped by tests; "
            "test_unavailable_when_no_service_socket covers the unavailable path"
        )
    events = monitor(retry_interval=0.2)
    for reader in VPCD_READERS:
        events.wait_for("reader_added", reader, timeout=3)
    env.insert_card(READER_0)
    events.wait_for("card_inserted", READER_0, timeout=5)

    env.stop_service()
    assert available() is False
    with pytest.raises(PcscUnavailable) as info:
        ensure_available()
    assert isinstance(info.value, BidSealError)
    _check_unavailable_error(info.value)
    with pytest.raises(PcscUnavailable):
        list_readers()
    # The monitor survives: the card and both readers are reported gone ...
    events.wait_for("card_removed", READER_0, timeout=5)
    for reader in VPCD_READERS:
        events.wait_for("reader_removed", reader, timeout=5)

    # ... and come back once the service does.
    env.start_service()
    for reader in VPCD_READERS:
        events.wait_for("reader_added", reader, timeout=5)
    assert available() is True
    env.insert_card(READER_0, wait=False)
    _, ev = events.wait_for("card_inserted", READER_0, timeout=8)
    assert ev.atr

"""Sessions own their device: one at a time, and nothing uses a login it did not make.

Attacks tried: a second session on a key another session is logged in to; a caller in
the same process that takes a logged-in session's container handle and asks the token
host to sign with it; a caller that opens its own handles on the key and signs without
a PIN (on a real key the login is shared by every handle of the application); another
BidSeal process opening the key while this one uses it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.gm import sm2
from app.token.errors import DeviceBusy, NotOwner, StaleHandle, TokenCrashed
from app.token.host_client import HostPool, get_pool
from app.token.identity import Identity
from app.token.session import open_session

from .conftest import USER_PIN

REPO = Path(__file__).resolve().parents[2]


def _e(identity: Identity) -> bytes:
    assert identity.sign_certificate is not None
    return sm2.compute_e(identity.sign_certificate.public_key, b"owner test")


def _in_thread(fn: Callable[[], object]) -> BaseException | None:
    """Run ``fn`` in another thread (as the helper's request thread would); its exception."""
    box: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    return box[0] if box else None


def test_second_session_on_the_device_is_busy(identity: Identity) -> None:
    with open_session(identity, USER_PIN, owner="GUI: sealing"):
        t0 = time.monotonic()
        err = _in_thread(lambda: open_session(identity, USER_PIN, owner="helper: https://hub.example", wait=0))
        assert time.monotonic() - t0 < 0.5
        assert isinstance(err, DeviceBusy)
        assert err.code == "ERR_TOKEN_BUSY" and "GUI: sealing" in err.en and "GUI: sealing" in err.zh
        assert identity.device in err.en and err.details["holder_purpose"] == "GUI: sealing"
        assert USER_PIN not in str(err.to_dict())


def test_waiters_queue_and_get_the_device_in_turn(identity: Identity) -> None:
    order: list[str] = []
    first = open_session(identity, USER_PIN, owner="first")

    def later(name: str, delay: float) -> None:
        time.sleep(delay)
        with open_session(identity, USER_PIN, owner=name, wait=20):
            order.append(name)

    threads = [threading.Thread(target=later, args=(n, d)) for n, d in (("second", 0.0), ("third", 0.3))]
    for t in threads:
        t.start()
    time.sleep(0.8)
    assert order == []  # both wait while the first session holds the key
    first.close()
    for t in threads:
        t.join(30)
    assert order == ["second", "third"]


def test_waiting_ends_with_busy_after_the_wait(identity: Identity) -> None:
    with open_session(identity, USER_PIN, owner="GUI"):
        t0 = time.monotonic()
        err = _in_thread(lambda: open_session(identity, USER_PIN, wait=0.6))
        waited = time.monotonic() - t0
    assert isinstance(err, DeviceBusy)
    assert 0.5 <= waited < 3 and err.details["waited"] >= 0.5


def test_a_session_in_the_same_thread_is_refused_not_deadlocked(identity: Identity) -> None:
    with open_session(identity, USER_PIN, owner="outer"):
        t0 = time.monotonic()
        with pytest.raises(DeviceBusy) as info:
            open_session(identity, USER_PIN, wait=30)
        assert time.monotonic() - t0 < 1 and "outer" in info.value.en


def test_another_caller_cannot_use_a_sessions_handles(identity: Identity) -> None:
    host = get_pool().get(identity.library, identity.device)
    with open_session(identity, USER_PIN, owner="GUI") as gui:
        stolen = gui.container_handle
        for owner in (None, "0" * 32):
            with pytest.raises(NotOwner):
                host.call("ecc_sign_data", stolen, _e(identity), owner=owner)
            with pytest.raises(NotOwner):
                host.call("close", stolen, owner=owner)
        gui.signer.sign_digest(_e(identity))  # the owner still can


def test_own_handles_cannot_ride_on_a_login(identity: Identity, pool: HostPool) -> None:
    """Handles opened without a PIN on a key someone is logged in to: the host refuses to sign
    before the library is reached (the fault would crash on the library's first ECCSignData)."""
    pool.env["SOFTSKF_FAULTS"] = "SKF_ECCSignData:1:crash"
    host = pool.get(identity.library, identity.device)
    with open_session(identity, USER_PIN, pool=pool, owner="GUI") as gui:
        hdev = host.call("connect_dev", identity.device)
        happ = host.call("open_application", hdev, identity.application)
        hcon = host.call("open_container", happ, identity.container)
        with pytest.raises(NotOwner) as info:
            host.call("ecc_sign_data", hcon, _e(identity))
        assert "PIN" in info.value.en
        with pytest.raises(NotOwner):
            host.call("import_session_key", hcon, 0x401, bytes(180))
        # the library never saw those calls: the session's own first signature hits the fault
        with pytest.raises(TokenCrashed):
            gui.signer.sign_digest(_e(identity))


def test_closing_a_session_ends_its_login(identity: Identity) -> None:
    host = get_pool().get(identity.library, identity.device)
    with open_session(identity, USER_PIN) as s:
        hcon, token = s.container_handle, s._token
    with pytest.raises(StaleHandle):
        host.call("ecc_sign_data", hcon, _e(identity), owner=token)
    assert host.call("handle_count") == 0


HOLDER = r'''
import sys, time
from app.token.device import find_identity
from app.token.session import open_session
ident = find_identity(sys.argv[1], sys.argv[2])
with open_session(ident, sys.argv[3], owner="GUI: sealing a bid"):
    print("holding", flush=True)
    sys.stdin.readline()
'''


def test_another_process_using_the_key_makes_it_busy(identity: Identity) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, identity.library, identity.device, USER_PIN], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding", \
            proc.stderr.read() if proc.stderr else ""
        with pytest.raises(DeviceBusy) as info:
            open_session(identity, USER_PIN, wait=0.3)
        err = info.value
        assert err.details["holder_pid"] == proc.pid and err.details["holder_purpose"] == "GUI: sealing a bid"
        assert "GUI: sealing a bid" in err.en and str(proc.pid) in err.zh
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
        with open_session(identity, USER_PIN, wait=5) as s:  # free again
            s.signer.sign_digest(_e(identity))
    finally:
        if proc.poll() is None:
            proc.kill()

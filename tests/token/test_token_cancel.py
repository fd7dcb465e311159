"""Cancel during a hanging vendor call returns within a second; the next call starts fresh.

A key waiting for a button press or a PIN pad looks like a hang (``SOFTSKF_FAULTS``
``hang`` blocks inside the library for good). A Cancel button (a CancelToken), an
abort from another thread, or closing the host must not wait for the 30-second
timeout: the host process is killed and the call raises TokenCancelled, which is the
one cancellation error of every engine (app.cancel.OperationCancelled).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.cancel import CancelToken, OperationCancelled
from app.gm import sm2
from app.token.errors import DeviceBusy, TokenCancelled
from app.token.host_client import HostPool
from app.token.identity import Identity
from app.token.session import open_session

from .conftest import USER_PIN

CANCEL_AFTER = 0.5
LIMIT = 1.0  # seconds from the cancel to the exception


@pytest.fixture
def slow_pool() -> Iterator[HostPool]:
    """A private pool with the normal 30 s timeout, so only cancelling can end a hang early."""
    p = HostPool(timeout=30)
    try:
        yield p
    finally:
        p.close()


def _e(identity: Identity) -> bytes:
    assert identity.sign_certificate is not None
    return sm2.compute_e(identity.sign_certificate.public_key, b"cancel test")


def _raises_soon(fn: Callable[[], Any], trigger: Callable[[], None]) -> tuple[BaseException, float]:
    """Run ``fn`` in a thread, call ``trigger`` after CANCEL_AFTER s; (exception, seconds from trigger)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["exc"] = exc
            box["at"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(CANCEL_AFTER)
    fired = time.monotonic()
    trigger()
    t.join(10)
    assert not t.is_alive(), "the call did not return after the cancel"
    assert "exc" in box, "the call returned normally instead of being cancelled"
    return box["exc"], box["at"] - fired


def test_cancel_token_ends_a_hanging_signature(identity: Identity, slow_pool: HostPool) -> None:
    slow_pool.env["SOFTSKF_FAULTS"] = "SKF_ECCSignData:1:hang"
    host = slow_pool.get(identity.library, identity.device)
    token = CancelToken()
    with open_session(identity, USER_PIN, pool=slow_pool, cancel=token) as s:
        first_pid = host.pid
        exc, delay = _raises_soon(lambda: s.signer.sign_digest(_e(identity)), token.cancel)
    assert isinstance(exc, TokenCancelled) and isinstance(exc, OperationCancelled)
    assert exc.code == "ERR_CANCELLED" and exc.details["op"] == "ecc_sign_data"
    assert delay < LIMIT, f"returned {delay:.2f} s after the cancel"
    assert not host.alive
    # the next call starts a fresh host and works (the fault is only for the first host's 1st call)
    host.env.pop("SOFTSKF_FAULTS")
    with open_session(identity, USER_PIN, pool=slow_pool) as s2:
        der = s2.signer.sign_digest(_e(identity))
    assert host.starts == 2 and host.pid != first_pid
    assert identity.sign_certificate is not None
    assert sm2.verify_digest(identity.sign_certificate.public_key, _e(identity), der)
    assert host.call("handle_count") == 0


def test_abort_from_another_thread_ends_a_pin_pad_wait(identity: Identity, slow_pool: HostPool) -> None:
    """A key waiting for its PIN pad (VerifyPIN hangs): the GUI's Cancel aborts the host."""
    slow_pool.env["SOFTSKF_FAULTS"] = "SKF_VerifyPIN:1:hang"
    host = slow_pool.get(identity.library, identity.device)
    exc, delay = _raises_soon(lambda: open_session(identity, USER_PIN, pool=slow_pool), host.abort)
    assert isinstance(exc, TokenCancelled) and delay < LIMIT
    # the aborted session released the device: another session can start at once
    host.env.pop("SOFTSKF_FAULTS")
    with open_session(identity, USER_PIN, pool=slow_pool, wait=0) as s:
        s.signer.sign_digest(_e(identity))


def test_closing_the_host_does_not_wait_for_the_call_in_flight(identity: Identity, slow_pool: HostPool) -> None:
    """The original bug: TokenHost.close() waited for the lock held by the hanging call."""
    slow_pool.env["SOFTSKF_FAULTS"] = "SKF_EnumDev:1:hang"
    host = slow_pool.get(identity.library)
    exc, delay = _raises_soon(lambda: host.call("enum_dev", True), host.close)
    assert isinstance(exc, TokenCancelled) and delay < LIMIT
    assert not host.alive


def test_pool_close_cancels_every_hanging_host(identity: Identity) -> None:
    pool = HostPool(timeout=30)
    pool.env["SOFTSKF_FAULTS"] = "SKF_EnumDev:1:hang"
    host = pool.get(identity.library)
    exc, delay = _raises_soon(lambda: host.call("enum_dev", True), pool.close)
    assert isinstance(exc, TokenCancelled) and delay < LIMIT


def test_cancel_while_waiting_for_a_busy_device(identity: Identity, slow_pool: HostPool) -> None:
    token = CancelToken()
    with open_session(identity, USER_PIN, pool=slow_pool, owner="GUI: sealing"):
        exc, delay = _raises_soon(
            lambda: open_session(identity, USER_PIN, pool=slow_pool, wait=30, cancel=token), token.cancel)
    assert isinstance(exc, TokenCancelled) and not isinstance(exc, DeviceBusy) and delay < LIMIT


def test_a_token_set_before_the_call_stops_it_before_the_device(identity: Identity, slow_pool: HostPool) -> None:
    token = CancelToken()
    token.cancel()
    slow_pool.env["SOFTSKF_FAULTS"] = "SKF_ConnectDev:1:crash"  # would crash if the device were reached
    with pytest.raises(TokenCancelled):
        open_session(identity, USER_PIN, pool=slow_pool, cancel=token)

"""PIN retry counting, locking at zero, unblocking with the admin PIN, changing the PIN."""

from __future__ import annotations

import pytest

from app.token.device import change_pin, pin_info, unblock
from app.token.errors import PinIncorrect, PinLength, PinLocked
from app.token.identity import Identity
from app.token.session import open_session
from app.token.softkey import USER_RETRIES

from .conftest import ADMIN_PIN, USER_PIN, open_handles


def test_pin_info_reports_counters(identity: Identity) -> None:
    info = pin_info(identity)
    assert info.max_retries == USER_RETRIES and info.remaining == USER_RETRIES and not info.locked
    admin = pin_info(identity, admin=True)
    assert admin.max_retries == 10


def test_retry_counting_lock_and_unblock(fresh_identity: Identity) -> None:
    ident = fresh_identity
    with pytest.raises(PinIncorrect) as first:
        open_session(ident, "00000000")
    assert first.value.retries_left == USER_RETRIES - 1
    assert pin_info(ident).remaining == USER_RETRIES - 1
    open_session(ident, USER_PIN).close()  # a correct PIN resets the counter
    assert pin_info(ident).remaining == USER_RETRIES

    for left in range(USER_RETRIES - 1, 0, -1):
        with pytest.raises(PinIncorrect) as info:
            open_session(ident, "00000000")
        assert info.value.retries_left == left
    with pytest.raises(PinLocked) as locked:
        open_session(ident, "00000000")
    assert "CA" in locked.value.zh
    assert pin_info(ident).locked
    with pytest.raises(PinLocked):  # even the right PIN is refused now
        open_session(ident, USER_PIN)

    with pytest.raises(PinIncorrect):
        unblock(ident, "wrong-admin", "55667788")
    unblock(ident, ADMIN_PIN, "55667788")
    assert pin_info(ident).remaining == USER_RETRIES
    open_session(ident, "55667788").close()
    with pytest.raises(PinIncorrect):
        open_session(ident, USER_PIN)
    assert open_handles(ident.library, ident.device) == 0


def test_change_pin(fresh_identity: Identity) -> None:
    ident = fresh_identity
    with pytest.raises(PinIncorrect) as info:
        change_pin(ident, "not-the-pin", "87654321")
    assert info.value.retries_left == USER_RETRIES - 1
    with pytest.raises(PinLength):
        change_pin(ident, USER_PIN, "1")
    change_pin(ident, USER_PIN, bytearray(b"87654321"))
    open_session(ident, "87654321").close()
    with pytest.raises(PinIncorrect):
        open_session(ident, USER_PIN)

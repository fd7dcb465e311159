"""Fault injection in libsoftskf: returned codes, unplugging, crashes and hangs.

Each test uses its own host pool whose processes get SOFTSKF_FAULTS, so the
shared pool (and the other tests) never see the faults.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.gm import sm2, sm4
from app.token.device import find_identity
from app.token.errors import (
    DeviceRemoved,
    KeyNotFound,
    NotLoggedIn,
    NotSupported,
    PinLocked,
    SkfError,
    StaleHandle,
    TokenCrashed,
    TokenTimeout,
)
from app.token.host_client import HostPool
from app.token.identity import Identity
from app.token.session import open_session
from app.token.softkey import plug

from .conftest import USER_PIN


def _e(identity: Identity) -> bytes:
    assert identity.sign_certificate is not None
    return sm2.compute_e(identity.sign_certificate.public_key, b"fault test")


def _wrapped(identity: Identity) -> tuple[sm2.SM2Ciphertext, bytes, bytes]:
    assert identity.enc_certificate is not None
    key, block = os.urandom(16), os.urandom(16)
    return (sm2.SM2Ciphertext.decode(sm2.encrypt(identity.enc_certificate.public_key, key)),
            sm4.ecb_encrypt(key, block), block)


@pytest.mark.parametrize(("code", "cls", "name"), [
    ("0x0A000001", SkfError, "SAR_FAIL"),
    ("0x0A00002D", NotLoggedIn, "SAR_USER_NOT_LOGGED_IN"),
    ("0x0A000003", NotSupported, "SAR_NOTSUPPORTYETERR"),
    ("0x0A00001B", KeyNotFound, "SAR_KEYNOTFOUNTERR"),
    ("0x0A000023", DeviceRemoved, "SAR_DEVICE_REMOVED"),
    ("0x0A000040", SkfError, "vendor-defined"),
])
def test_returned_code_becomes_typed_error(identity: Identity, pool: HostPool, code: str,
                                           cls: type[SkfError], name: str) -> None:
    pool.env["SOFTSKF_FAULTS"] = f"SKF_ECCSignData:2:{code}"
    with open_session(identity, USER_PIN, pool=pool) as s:
        s.signer.sign_digest(_e(identity))  # call 1 is fine
        with pytest.raises(SkfError) as info:
            s.signer.sign_digest(_e(identity))
        assert type(info.value) is cls
        assert info.value.sar == int(code, 16) and info.value.sar_name == name
        assert info.value.function == "SKF_ECCSignData"
        s.signer.sign_digest(_e(identity))  # call 3 works again
    assert pool.get(identity.library, identity.device).call("handle_count") == 0


def test_pin_locked_code_at_login(identity: Identity, pool: HostPool) -> None:
    pool.env["SOFTSKF_FAULTS"] = "SKF_VerifyPIN:1:0x0A000025"
    with pytest.raises(PinLocked):
        open_session(identity, USER_PIN, pool=pool)
    assert pool.get(identity.library, identity.device).call("handle_count") == 0


def test_remove_becomes_device_removed(identity: Identity, pool: HostPool, store: Path) -> None:
    pool.env["SOFTSKF_FAULTS"] = "SKF_Decrypt:1:remove"
    wrapped, data, block = _wrapped(identity)
    try:
        with open_session(identity, USER_PIN, pool=pool) as s, pytest.raises(DeviceRemoved) as info:
            s.unwrapper.unwrap(wrapped, data)
        assert "插" in info.value.zh and "plug" in info.value.en.lower()
        assert not (store / identity.device / "present").exists()
        host = pool.get(identity.library, identity.device)
        assert host.call("handle_count") == 0
        with pytest.raises(DeviceRemoved):
            open_session(identity, USER_PIN, pool=pool)
    finally:
        plug(store, identity.device)
    with open_session(identity, USER_PIN, pool=pool) as s:  # plugged back in: works
        assert s.unwrapper.unwrap(wrapped, data) == block


def test_crash_becomes_token_crashed_and_the_host_restarts(identity: Identity, pool: HostPool) -> None:
    pool.env["SOFTSKF_FAULTS"] = "SKF_ImportSessionKey:1:crash"
    host = pool.get(identity.library, identity.device)
    wrapped, data, block = _wrapped(identity)
    with open_session(identity, USER_PIN, pool=pool) as s:
        first_pid = host.pid
        with pytest.raises(TokenCrashed) as info:
            s.unwrapper.unwrap(wrapped, data)
        assert info.value.details["exit_code"] != 0
        assert not host.alive
        # the session's handles belonged to the dead process: a clear error, not a wrong key
        with pytest.raises(StaleHandle):
            s.signer.sign_digest(_e(identity))
    # the next call starts a new host and works
    with open_session(identity, USER_PIN, pool=pool) as s2:
        assert host.pid != first_pid and host.starts == 2
        der = s2.signer.sign_digest(_e(identity))
    assert identity.sign_certificate is not None
    assert sm2.verify_digest(identity.sign_certificate.public_key, _e(identity), der)
    host.env.pop("SOFTSKF_FAULTS")
    host.close()
    with open_session(identity, USER_PIN, pool=pool) as s3:
        assert s3.unwrapper.unwrap(wrapped, data) == block
    assert host.call("handle_count") == 0


def test_hang_becomes_token_timeout_and_the_host_restarts(identity: Identity) -> None:
    pool = HostPool(timeout=1.5)
    pool.env["SOFTSKF_FAULTS"] = "SKF_ECCSignData:1:hang"
    try:
        host = pool.get(identity.library, identity.device)
        with open_session(identity, USER_PIN, pool=pool) as s:
            t0 = time.monotonic()
            with pytest.raises(TokenTimeout) as info:
                s.signer.sign_digest(_e(identity))
            assert time.monotonic() - t0 < 10
            assert info.value.details["op"] == "ecc_sign_data"
            assert not host.alive
        host.env.pop("SOFTSKF_FAULTS")
        with open_session(identity, USER_PIN, pool=pool) as s2:
            s2.signer.sign_digest(_e(identity))
        assert host.starts == 2
        assert host.call("handle_count") == 0
    finally:
        pool.close()


def test_crash_during_scan_is_reported_per_library(identity: Identity, pool: HostPool) -> None:
    from app.token.device import scan

    pool.env["SOFTSKF_FAULTS"] = "SKF_EnumApplication:1:crash"
    result = scan([identity.library], pool=pool)
    assert result.libraries[0].status == "error"
    assert isinstance(result.libraries[0].error, TokenCrashed)
    pool.get(identity.library).env.pop("SOFTSKF_FAULTS")
    assert find_identity(identity.library, identity.device, pool=pool) == identity

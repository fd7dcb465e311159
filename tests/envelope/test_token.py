"""Decryption with the virtual UKey (native/softskf through app.token), including a key
pulled out or a crashing driver at the moment the session key is imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.envelope import decrypt_file, encrypt_file
from app.token.errors import DeviceRemoved, TokenCrashed
from app.token.session import open_session
from app.token.softkey import plug

from .conftest import PIN, leftovers


@pytest.fixture
def envelope(ukey, pki, make_file, tmp_path) -> tuple[Path, Path]:
    src = make_file(3 * 4096 + 11)
    env = tmp_path / "bid.env"
    assert ukey.enc_certificate is not None
    encrypt_file(src, env, [ukey.enc_certificate, pki.emergency_cert], chunk_size=4096)
    return src, env


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096 + 11])
def test_round_trip_with_the_virtual_ukey(ukey, make_file, tmp_path, size):
    src = make_file(size)
    env, out = tmp_path / "bid.env", tmp_path / "out"
    assert ukey.enc_certificate is not None
    encrypt_file(src, env, [ukey.enc_certificate], chunk_size=4096)
    with open_session(ukey, PIN) as s:
        info = decrypt_file(env, out, s.unwrapper)
    assert out.read_bytes() == src.read_bytes() and info.opened_by == 0


def test_ukey_and_emergency_key_both_open_it(ukey, pki, envelope, tmp_path):
    src, env = envelope
    with open_session(ukey, PIN) as s:
        decrypt_file(env, tmp_path / "a", s.unwrapper)
    decrypt_file(env, tmp_path / "b", pki.emergency_unwrapper())
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == src.read_bytes()


@pytest.mark.parametrize("call", ["SKF_ImportSessionKey", "SKF_Decrypt"])
def test_key_removed_during_unwrap_leaves_nothing(ukey, envelope, pool, store, tmp_path, call):
    _src, env = envelope
    pool.env["SOFTSKF_FAULTS"] = f"{call}:1:remove"
    try:
        with open_session(ukey, PIN, pool=pool) as s, pytest.raises(DeviceRemoved):
            decrypt_file(env, tmp_path / "out", s.unwrapper)
    finally:
        plug(store, ukey.device)
    assert leftovers(tmp_path, {"bid.bin", "bid.env"}) == []


def test_driver_crash_leaves_nothing(ukey, envelope, pool, tmp_path):
    _src, env = envelope
    pool.env["SOFTSKF_FAULTS"] = "SKF_ImportSessionKey:1:crash"
    with open_session(ukey, PIN, pool=pool) as s, pytest.raises(TokenCrashed):
        decrypt_file(env, tmp_path / "out", s.unwrapper)
    assert leftovers(tmp_path, {"bid.bin", "bid.env"}) == []


def test_key_removed_after_unwrap_does_not_matter(ukey, envelope, store, tmp_path):
    """The UKey is used once, before any data: pulling it out afterwards cannot leave a
    half-written file, and the decryption completes."""
    src, env = envelope
    pulled = []

    def progress(done, total, stage):
        if done and not pulled:
            (store / ukey.device / "present").unlink()
            pulled.append(done)

    try:
        with open_session(ukey, PIN) as s:
            decrypt_file(env, tmp_path / "out", s.unwrapper, progress=progress)
    except DeviceRemoved:
        pass  # closing the session may notice; the output is complete either way
    finally:
        plug(store, ukey.device)
    assert pulled and (tmp_path / "out").read_bytes() == src.read_bytes()

"""SM4 modes: standard vector, round trips, OpenSSL agreement and bad input."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.gm import sm4
from app.gm.errors import GMError

KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")


def test_standard_vector() -> None:
    assert sm4.ecb_encrypt(KEY, KEY).hex() == "681edf34d206965e86b3e94f536e4246"
    assert sm4.ecb_decrypt(KEY, bytes.fromhex("681edf34d206965e86b3e94f536e4246")) == KEY


@given(st.binary(max_size=300))
def test_cbc_roundtrip(data: bytes) -> None:
    iv = os.urandom(16)
    ct = sm4.cbc_encrypt(KEY, iv, data)
    assert len(ct) % 16 == 0 and len(ct) > len(data)
    assert sm4.cbc_decrypt(KEY, iv, ct) == data


@given(st.lists(st.binary(max_size=100), max_size=6))
def test_streaming_cbc_matches_one_shot(parts: list[bytes]) -> None:
    iv = bytes(16)
    enc = sm4.CBCEncryptStream(KEY, iv)
    ct = b"".join(enc.update(p) for p in parts) + enc.finalize()
    assert ct == sm4.cbc_encrypt(KEY, iv, b"".join(parts))
    dec = sm4.CBCDecryptStream(KEY, iv)
    assert dec.update(ct[:7]) + dec.update(ct[7:]) + dec.finalize() == b"".join(parts)


@given(st.binary(max_size=300), st.binary(max_size=40))
def test_gcm_roundtrip_and_tamper(data: bytes, aad: bytes) -> None:
    nonce = os.urandom(12)
    ct = sm4.gcm_encrypt(KEY, nonce, data, aad)
    assert sm4.gcm_decrypt(KEY, nonce, ct, aad) == data
    bad = bytearray(ct)
    bad[0] ^= 1
    with pytest.raises(GMError) as err:
        sm4.gcm_decrypt(KEY, nonce, bytes(bad), aad)
    assert err.value.code == "ERR_INTEGRITY"
    with pytest.raises(GMError):
        sm4.gcm_decrypt(KEY, nonce, ct, aad + b"x")


def test_ctr_is_its_own_inverse() -> None:
    nonce = os.urandom(16)
    data = os.urandom(1000)
    assert sm4.ctr_crypt(KEY, nonce, sm4.ctr_crypt(KEY, nonce, data)) == data


@pytest.mark.parametrize(
    ("mode", "ours"),
    [
        ("sm4-cbc", lambda k, iv, d: sm4.cbc_encrypt(k, iv, d)),
        ("sm4-ctr", lambda k, iv, d: sm4.ctr_crypt(k, iv, d)),
        ("sm4-ecb", lambda k, iv, d: sm4.ecb_encrypt(k, sm4.pkcs7_pad(d))),
    ],
)
def test_agrees_with_openssl_enc(openssl_bin: str, tmp_path, mode: str, ours) -> None:
    data = os.urandom(5000)
    iv = os.urandom(16)
    src = tmp_path / "p.bin"
    src.write_bytes(data)
    cmd = [openssl_bin, "enc", f"-{mode}", "-K", KEY.hex(), "-in", str(src)]
    if mode != "sm4-ecb":
        cmd += ["-iv", iv.hex()]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert out == ours(KEY, iv, data)


@pytest.mark.parametrize(
    "call",
    [
        lambda: sm4.ecb_encrypt(b"short", bytes(16)),
        lambda: sm4.ecb_encrypt(KEY, bytes(15)),
        lambda: sm4.cbc_encrypt(KEY, bytes(8), b"x"),
        lambda: sm4.cbc_decrypt(KEY, bytes(16), bytes(17)),
        lambda: sm4.cbc_decrypt(KEY, bytes(16), b""),
        lambda: sm4.cbc_decrypt(KEY, bytes(16), sm4.ecb_encrypt(KEY, bytes(16))),  # bad padding
        lambda: sm4.gcm_decrypt(KEY, bytes(12), b"tooshort"),
        lambda: sm4.gcm_decrypt(KEY, bytes(2), bytes(32)),
    ],
)
def test_bad_input_raises_gmerror(call) -> None:
    with pytest.raises(GMError) as err:
        call()
    assert err.value.zh and err.value.en


def test_truncated_cbc_stream_is_reported() -> None:
    ct = sm4.cbc_encrypt(KEY, bytes(16), b"x" * 40)
    dec = sm4.CBCDecryptStream(KEY, bytes(16))
    dec.update(ct[:-3])
    with pytest.raises(GMError):
        dec.finalize()

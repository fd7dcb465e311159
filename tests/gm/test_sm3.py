"""SM3, HMAC-SM3 and the GM/T 0003 KDF against standard vectors and OpenSSL."""

from __future__ import annotations

import hmac as std_hmac
import subprocess

from hypothesis import given
from hypothesis import strategies as st

from app.gm.sm3 import SM3, hmac_sm3, kdf, sm3, sm3_chunks


def test_sm3_standard_vectors() -> None:
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@given(st.lists(st.binary(max_size=200), max_size=8))
def test_streaming_equals_one_shot(parts: list[bytes]) -> None:
    h = SM3()
    for p in parts:
        h.update(p)
    assert h.digest() == sm3(b"".join(parts)) == sm3_chunks(parts)


def test_copy_branches() -> None:
    h = SM3(b"ab")
    c = h.copy()
    h.update(b"c")
    assert h.digest() == sm3(b"abc")
    assert c.digest() == sm3(b"ab")


def test_hmac_sm3_is_rfc2104() -> None:
    key, msg = b"k" * 20, b"message"
    assert hmac_sm3(key, msg) == std_hmac.new(key, msg, lambda: _HashlibSM3()).digest()


class _HashlibSM3:
    """Adapter so Python's own hmac module runs the RFC 2104 construction over our SM3."""

    digest_size = 32
    block_size = 64

    def __init__(self, data: bytes = b"") -> None:
        self._h = SM3(data)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def copy(self) -> _HashlibSM3:
        c = _HashlibSM3()
        c._h = self._h.copy()
        return c

    def digest(self) -> bytes:
        return self._h.copy().digest()


def test_kdf_counter_construction() -> None:
    z = b"\x01" * 64
    out = kdf(z, 70)
    assert out[:32] == sm3(z + b"\0\0\0\1")
    assert out[32:64] == sm3(z + b"\0\0\0\2")
    assert out[64:] == sm3(z + b"\0\0\0\3")[:6]
    assert kdf(z, 0) == b""


def test_sm3_agrees_with_openssl(openssl_bin: str, tmp_path) -> None:
    data = bytes(range(256)) * 1000
    f = tmp_path / "d.bin"
    f.write_bytes(data)
    out = subprocess.run([openssl_bin, "dgst", "-sm3", "-r", str(f)], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == sm3(data).hex()

"""SM3 hash (GB/T 32905), HMAC-SM3 and the GM/T 0003 key derivation function.

SM3 runs on OpenSSL so that hashing a bid file goes at OpenSSL's speed: through
Python's own ``hashlib`` when its OpenSSL provides SM3 (its ``update`` releases
the GIL for inputs of 2 KiB and more, so a large file can be hashed on a worker
thread while the main thread parses or searches), else through
``cryptography`` (same speed, but it holds the GIL). The KDF is defined here because SM2 encryption needs the exact
GM/T 0003 construction (counter from 1, 32-bit big-endian), not HKDF.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

from app.gm.errors import GMError

DIGEST_SIZE = 32
BLOCK_SIZE = 64


def _hashlib_sm3_works() -> bool:
    try:
        return hashlib.new("sm3", b"abc").hexdigest() == (
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    except (ValueError, TypeError):  # this Python's OpenSSL has no SM3
        return False


#: True when :class:`SM3` runs on ``hashlib`` (and so releases the GIL while hashing).
RELEASES_GIL = _hashlib_sm3_works()


class _CryptographyCtx:
    """``cryptography``'s SM3 behind the small hashlib-like interface :class:`SM3` uses."""

    __slots__ = ("_h",)

    def __init__(self, h: Any = None) -> None:
        self._h = h if h is not None else hashes.Hash(hashes.SM3())

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def copy(self) -> _CryptographyCtx:
        return _CryptographyCtx(self._h.copy())

    def digest(self) -> bytes:
        return bytes(self._h.finalize())


def _new_ctx() -> Any:
    return hashlib.new("sm3") if RELEASES_GIL else _CryptographyCtx()


class SM3:
    """Streaming SM3: ``h = SM3(); h.update(a); h.update(b); h.digest()``.

    ``digest()`` may be called once; use :meth:`copy` to branch.
    """

    digest_size = DIGEST_SIZE
    block_size = BLOCK_SIZE
    name = "sm3"

    def __init__(self, data: bytes = b"") -> None:
        self._ctx = _new_ctx()
        if data:
            self._ctx.update(data)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._ctx.update(data)

    def copy(self) -> SM3:
        clone = SM3.__new__(SM3)
        clone._ctx = self._ctx.copy()
        return clone

    def digest(self) -> bytes:
        return bytes(self._ctx.digest())

    def hexdigest(self) -> str:
        return self.digest().hex()


def sm3(data: bytes) -> bytes:
    """One-shot SM3 digest of ``data`` (32 bytes)."""
    return SM3(data).digest()


def sm3_chunks(chunks: Iterable[bytes]) -> bytes:
    """SM3 over an iterable of chunks, so callers can stream files without this module doing I/O."""
    h = SM3()
    for chunk in chunks:
        h.update(chunk)
    return h.digest()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 construction with SM3)."""
    mac = _hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def kdf(z: bytes, klen: int) -> bytes:
    """GM/T 0003.4 KDF: SM3(Z || ct) for ct = 1, 2, ... (32-bit big-endian), truncated to ``klen`` bytes."""
    if klen < 0:
        raise GMError("密钥派生长度不能为负数。", "KDF output length must not be negative.", klen=klen)
    out = bytearray()
    counter = 1
    while len(out) < klen:
        out += sm3(z + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:klen])

"""SM3 hash (GB/T 32905), HMAC-SM3 and the GM/T 0003 key derivation function.

SM3 runs on OpenSSL through ``cryptography`` so that hashing a bid file goes at
OpenSSL's speed; the KDF is defined here because SM2 encryption needs the exact
GM/T 0003 construction (counter from 1, 32-bit big-endian), not HKDF.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

from app.gm.errors import GMError

DIGEST_SIZE = 32
BLOCK_SIZE = 64


class SM3:
    """Streaming SM3: ``h = SM3(); h.update(a); h.update(b); h.digest()``.

    ``digest()`` may be called once; use :meth:`copy` to branch.
    """

    digest_size = DIGEST_SIZE
    block_size = BLOCK_SIZE
    name = "sm3"

    def __init__(self, data: bytes = b"") -> None:
        self._ctx = hashes.Hash(hashes.SM3())
        if data:
            self._ctx.update(data)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._ctx.update(bytes(data) if isinstance(data, bytearray) else data)

    def copy(self) -> SM3:
        clone = SM3.__new__(SM3)
        clone._ctx = self._ctx.copy()
        return clone

    def digest(self) -> bytes:
        return self._ctx.finalize()

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

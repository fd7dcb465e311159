"""Reference SM2 backend: gmssl's curve arithmetic, our own protocol code.

gmssl 3.2.2 has two verified traps (shared/docs/setup.md): ``CryptSM2.__init__``
strips leading '0'/'4' hex digits of the public key, and its signing and
encryption nonces come from :mod:`random`. We therefore use only its scalar
multiplication (``_kg``) and run the GM/T 0003 sign/verify/encrypt/decrypt steps
here with nonces from :mod:`secrets`.
"""

from __future__ import annotations

import secrets

from gmssl.sm2 import CryptSM2

from app.gm.errors import GMError
from app.gm.sm2.curve import GX, GY, N, affine_add, to_bytes32
from app.gm.sm2.encoding import SM2Ciphertext
from app.gm.sm3 import kdf, sm3

Point = tuple[int, int]
_G_HEX = f"{GX:064x}{GY:064x}"


class GmsslBackend:
    name = "gmssl"

    def __init__(self) -> None:
        # Empty keys: the constructor's lstrip trap only touches the public key string.
        self._curve = CryptSM2(private_key="", public_key="")

    def _mul(self, k: int, point: Point | None = None) -> Point | None:
        hex_point = _G_HEX if point is None else f"{point[0]:064x}{point[1]:064x}"
        out = self._curve._kg(k % N, hex_point) if k % N else None
        if out is None:
            return None
        return int(out[:64], 16), int(out[64:], 16)

    def public_point(self, d: int) -> Point:
        p = self._mul(d)
        assert p is not None
        return p

    def sign_digest(self, d: int, public: Point, e: bytes, k: int | None = None) -> tuple[int, int]:
        ei = int.from_bytes(e, "big")
        while True:
            kk = k if k is not None else secrets.randbelow(N - 1) + 1
            p1 = self._mul(kk)
            assert p1 is not None
            r = (ei + p1[0]) % N
            if r == 0 or r + kk == N:
                if k is not None:
                    raise GMError("给定的随机数 k 不可用。", "The given nonce k is unusable.")
                continue
            s = pow(1 + d, -1, N) * (kk - r * d) % N
            if s == 0:
                if k is not None:
                    raise GMError("给定的随机数 k 不可用。", "The given nonce k is unusable.")
                continue
            return r, s

    def verify_digest(self, public: Point, e: bytes, r: int, s: int) -> bool:
        if not (1 <= r < N and 1 <= s < N):
            return False
        t = (r + s) % N
        if t == 0:
            return False
        point = affine_add(self._mul(s), self._mul(t, public))
        if point is None:
            return False
        return (int.from_bytes(e, "big") + point[0]) % N == r

    def encrypt(self, public: Point, message: bytes, k: int | None = None) -> SM2Ciphertext:
        while True:
            kk = k if k is not None else secrets.randbelow(N - 1) + 1
            c1 = self._mul(kk)
            shared = self._mul(kk, public)
            assert c1 is not None and shared is not None
            x2, y2 = to_bytes32(shared[0]), to_bytes32(shared[1])
            t = kdf(x2 + y2, len(message))
            if not any(t) and message:
                if k is not None:
                    raise GMError("给定的随机数 k 不可用。", "The given nonce k is unusable.")
                continue
            c2 = bytes(a ^ b for a, b in zip(message, t, strict=True))
            return SM2Ciphertext(c1[0], c1[1], sm3(x2 + message + y2), c2)

    def decrypt(self, d: int, public: Point, ciphertext: SM2Ciphertext) -> bytes:
        shared = self._mul(d, (ciphertext.x1, ciphertext.y1))
        if shared is None:
            raise _decrypt_failed()
        x2, y2 = to_bytes32(shared[0]), to_bytes32(shared[1])
        t = kdf(x2 + y2, len(ciphertext.c2))
        if not any(t):
            raise _decrypt_failed()
        m = bytes(a ^ b for a, b in zip(ciphertext.c2, t, strict=True))
        if not secrets.compare_digest(sm3(x2 + m + y2), ciphertext.c3):
            raise _decrypt_failed()
        return m


def _decrypt_failed() -> GMError:
    return GMError(
        "SM2 解密失败：密钥不匹配或密文已损坏。",
        "SM2 decryption failed: wrong key or damaged ciphertext.",
        code="ERR_DECRYPT",
    )

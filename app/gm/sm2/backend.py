"""The small interface every SM2 implementation provides.

Only raw curve operations live behind it; Z/e computation, encodings and input
validation are shared in :mod:`app.gm.sm2`, so backends cannot disagree on format.
Two backends exist: ``openssl`` (libcrypto through cffi, ~40x faster) and
``gmssl`` (the design card's pure-Python arithmetic, used as the reference and
as a fallback where libcrypto cannot be loaded).
"""

from __future__ import annotations

from typing import Protocol

from app.gm.sm2.encoding import SM2Ciphertext

Point = tuple[int, int]


class SM2Backend(Protocol):
    """Raw SM2 operations. Inputs are already validated by the caller."""

    name: str

    def public_point(self, d: int) -> Point:
        """d·G for a private scalar ``d``."""
        ...

    def sign_digest(self, d: int, public: Point, e: bytes, k: int | None = None) -> tuple[int, int]:
        """Sign a 32-byte e = SM3(Z||M); ``k`` (test vectors only) may be refused."""
        ...

    def verify_digest(self, public: Point, e: bytes, r: int, s: int) -> bool:
        ...

    def encrypt(self, public: Point, message: bytes, k: int | None = None) -> SM2Ciphertext:
        ...

    def decrypt(self, d: int, public: Point, ciphertext: SM2Ciphertext) -> bytes:
        """Return M, raising GMError when C3 does not match (wrong key or altered data)."""
        ...

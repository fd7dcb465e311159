"""The single exception type of the national-crypto core."""

from __future__ import annotations

from typing import Any

from app.errors import BidSealError


class GMError(BidSealError):
    """Malformed or invalid cryptographic input (bad length, point not on the curve,
    malformed DER, truncated ciphertext, failed authentication...).

    Every function in :mod:`app.gm` raises only this type for bad input, so callers
    can catch one thing and show its sentence.
    """

    code = "ERR_CRYPTO_INPUT"

    def __init__(self, zh: str, en: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(zh, en, code=code, details=details)

"""What the UKey signs at login: a fixed, domain-separated 80-byte challenge.

::

    challenge = "BIDSEAL-AUTH-v1" 0x00 || SM3(origin) || SM3(nonce)

signed with standard SM2 (GB/T 32918.2: e = SM3(Z || challenge), Z from the signing
certificate's public key and the default ID ``1234567812345678``).

Why this shape (spec §3): the prefix separates login signatures from every other use
of the same SM2 key (PDF seals sign SM3 of DER signed attributes, which start with
0x31; nothing else BidSeal signs starts with this prefix), hashing origin and nonce
separately makes the split between them unambiguous (no "origin||nonce" collisions),
and binding the origin stops a page at one site from relaying a token to another.
No helper operation signs bytes or digests chosen by a page.
"""

from __future__ import annotations

import base64
import re
import secrets

from app.authtoken.origin import OriginError, parse_origin
from app.gm.sm3 import sm3

PREFIX = b"BIDSEAL-AUTH-v1\x00"
CHALLENGE_SIZE = len(PREFIX) + 32 + 32  # 80
NONCE_MIN = 44
NONCE_MAX = 128
_NONCE_RE = re.compile(rf"[A-Za-z0-9+/=_-]{{{NONCE_MIN},{NONCE_MAX}}}")


def is_valid_nonce(nonce: object) -> bool:
    """44-128 characters of the base64 / base64url alphabet (with ``=`` padding)."""
    return isinstance(nonce, str) and _NONCE_RE.fullmatch(nonce) is not None


def new_nonce() -> str:
    """A fresh server nonce: 32 random bytes in base64 (44 characters)."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def challenge(origin: str, nonce: str, *, allow_http: bool = False) -> bytes:
    """The 80-byte message a login signs; ``ValueError`` for a bad origin or nonce."""
    try:
        parse_origin(origin, allow_http=allow_http)
    except OriginError as exc:
        raise ValueError(f"invalid origin: {exc}") from exc
    if not is_valid_nonce(nonce):
        raise ValueError("invalid nonce: 44-128 characters of [A-Za-z0-9+/=_-] required")
    return PREFIX + sm3(origin.encode("ascii")) + sm3(nonce.encode("ascii"))

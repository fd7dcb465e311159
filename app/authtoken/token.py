"""The login token: what the helper returns and what a hub verifies.

::

    {"format": "bidseal-auth:1",
     "unverifiedCertificate": "<base64 DER X.509 signing certificate>",
     "algorithm": "SM2-SM3",
     "signature": "<base64 DER SM2 signature (r, s) of the challenge>",
     "appVersion": "BidSeal/0.1.0"}

Modelled on Web eID's ``web-eid:1.0`` token; no JWT, no origin or nonce inside (the
hub rebuilds the challenge from its own origin and the nonce it issued, so a token
cannot claim where it came from). :func:`parse_token` is strict: exact key set,
strings only, canonical base64, bounded sizes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from app import __version__
from app.authtoken.challenge import challenge
from app.authtoken.errors import format_error
from app.gm import sm2
from app.gm.keyops import DigestSigner

FORMAT = "bidseal-auth:1"
ALGORITHM = "SM2-SM3"
APP_VERSION = f"BidSeal/{__version__}"
MAX_TOKEN_SIZE = 32 * 1024
MAX_CERTIFICATE_SIZE = 16 * 1024
MAX_SIGNATURE_SIZE = 80
MAX_APP_VERSION = 64
FIELDS = ("format", "unverifiedCertificate", "algorithm", "signature", "appVersion")


@dataclass(frozen=True)
class AuthToken:
    """A parsed (NOT yet verified) login token."""

    certificate_der: bytes
    signature_der: bytes
    app_version: str = APP_VERSION
    format: str = FORMAT
    algorithm: str = ALGORITHM

    def to_dict(self) -> dict[str, str]:
        return {
            "format": self.format,
            "unverifiedCertificate": base64.b64encode(self.certificate_der).decode("ascii"),
            "algorithm": self.algorithm,
            "signature": base64.b64encode(self.signature_der).decode("ascii"),
            "appVersion": self.app_version,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


def _b64(value: str, limit: int, what: str) -> bytes:
    if len(value) > (limit + 2) // 3 * 4:
        raise format_error(f"{what} too long")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise format_error(f"{what} is not base64") from exc
    if not raw or base64.b64encode(raw).decode("ascii") != value:
        raise format_error(f"{what} is not canonical base64")
    return raw


def parse_token(data: str | bytes | dict[str, Any]) -> AuthToken:
    """The token in ``data`` (JSON text or an already decoded object), strictly checked;
    :class:`~app.authtoken.errors.AuthTokenError` (``ERR_AUTH_FORMAT``) otherwise."""
    if isinstance(data, (str, bytes)):
        if len(data) > MAX_TOKEN_SIZE:
            raise format_error("token too large")
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise format_error("not JSON") from exc
    else:
        obj = data
    if not isinstance(obj, dict) or set(obj) != set(FIELDS):
        raise format_error("fields must be exactly " + ", ".join(FIELDS))
    if not all(isinstance(obj[k], str) for k in FIELDS):
        raise format_error("every field must be a string")
    if obj["format"] != FORMAT:
        raise format_error("unknown format (expected bidseal-auth:1)")
    if obj["algorithm"] != ALGORITHM:
        raise format_error("unsupported algorithm (expected SM2-SM3)")
    version = obj["appVersion"]
    if not 0 < len(version) <= MAX_APP_VERSION or not version.isprintable():
        raise format_error("bad appVersion")
    return AuthToken(
        certificate_der=_b64(obj["unverifiedCertificate"], MAX_CERTIFICATE_SIZE, "unverifiedCertificate"),
        signature_der=_b64(obj["signature"], MAX_SIGNATURE_SIZE, "signature"),
        app_version=version,
    )


def create_token(signer: DigestSigner, origin: str, nonce: str, *, allow_http: bool = False,
                 app_version: str = APP_VERSION) -> AuthToken:
    """Sign the login challenge for ``origin`` and ``nonce`` with ``signer`` (a UKey
    session's signer or a software key) and wrap it as a token."""
    cert = signer.certificate
    e = sm2.compute_e(cert.public_key, challenge(origin, nonce, allow_http=allow_http))
    return AuthToken(certificate_der=cert.der, signature_der=signer.sign_digest(e),
                     app_version=app_version)

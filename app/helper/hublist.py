"""Signed hub lists: how a hub operator tells BidSeal "these origins are ours".

A hub list is JSON a user drops into ``<config>/hubs.d/`` (or that an installer ships)::

    {"format": "bidseal-hub-list:1",
     "payload": "<base64 of the UTF-8 JSON payload>",
     "certificate": "<base64 DER of the operator's SM2 signing certificate>",
     "signature": "<base64 DER SM2 signature>"}

    payload = {"issued": "2026-05-01T00:00:00Z", "expires": "2027-05-01T00:00:00Z",
               "hubs": [{"origin": "https://hub.example.cn", "name": "...", "projects": ["LNGG-*"],
                         "encryptionCertificate": "<base64 DER>"}]}

The signature is standard SM2 (default ID) over ``"BIDSEAL-HUBLIST-v1" 0x00 || payload``
(domain-separated from logins and documents). The operator certificate must chain to a
root in ``<config>/hub-list-roots.pem`` (none by default: only lists the user's own
machine administrator trusts count), be valid, and carry digitalSignature. An unsigned,
badly signed, expired or untrusted list adds no origin; the reason is logged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.gm import sm2
from app.gm.errors import GMError
from app.gm.keyops import DigestSigner
from app.gm.x509 import Certificate, verify_chain

FORMAT = "bidseal-hub-list:1"
PREFIX = b"BIDSEAL-HUBLIST-v1\x00"
MAX_LIST_BYTES = 1024 * 1024


class HubListError(ValueError):
    """The list was refused (English reason, for the log and the settings page)."""


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise HubListError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise HubListError(f"{what} is not base64") from exc


def sign_hub_list(payload: dict[str, Any], signer: DigestSigner) -> dict[str, str]:
    """A signed list for ``payload`` (an operator's tool: ``bidseal helper sign-hubs``)."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    cert = signer.certificate
    e = sm2.compute_e(cert.public_key, PREFIX + raw)
    return {"format": FORMAT, "payload": base64.b64encode(raw).decode("ascii"),
            "certificate": base64.b64encode(cert.der).decode("ascii"),
            "signature": base64.b64encode(signer.sign_digest(e)).decode("ascii")}


def verify_hub_list(data: bytes, roots: Sequence[Certificate], *, at: datetime | None = None) -> dict[str, Any]:
    """The payload of a signed list, or :class:`HubListError` saying why not."""
    if len(data) > MAX_LIST_BYTES:
        raise HubListError("hub list too large")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise HubListError("not JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise HubListError(f"not a signed hub list (format must be {FORMAT}); unsigned lists are refused")
    if set(doc) != {"format", "payload", "certificate", "signature"}:
        raise HubListError("unexpected fields")
    raw = _b64(doc["payload"], "payload")
    try:
        cert = Certificate.from_der(_b64(doc["certificate"], "certificate"))
        ok = sm2.verify(cert.public_key, PREFIX + raw, _b64(doc["signature"], "signature"))
    except GMError as exc:
        raise HubListError(f"bad certificate or signature: {exc.en}") from exc
    if not ok:
        raise HubListError("the signature does not verify")
    if not roots:
        raise HubListError("no hub-list trust roots are configured (hub-list-roots.pem)")
    t = at or datetime.now(UTC)
    chain = verify_chain(cert, roots, at=t)
    if not chain.trusted:
        raise HubListError("the signer's certificate is not trusted: " + ", ".join(chain.problems))
    if not cert.has_key_usage or "digital_signature" not in cert.key_usage:
        raise HubListError("the signer's certificate lacks digitalSignature")
    try:
        payload = json.loads(raw.decode("utf-8"))
        expires = datetime.fromisoformat(str(payload["expires"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise HubListError("payload is not a hub list") from exc
    if expires.tzinfo is None or t > expires:
        raise HubListError("the hub list has expired")
    if not isinstance(payload.get("hubs"), list):
        raise HubListError("payload has no hubs")
    return payload

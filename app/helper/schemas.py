"""JSON Schemas of every request and reply (draft 2020-12): the one definition that the
caller checks enforce (:mod:`.guard`), the OpenAPI document is generated from
(:mod:`.openapi`, committed as ``resources/api/helper-openapi.json``) and the
conformance test checks replies against.

Strict on purpose: ``additionalProperties: false`` everywhere, so a ``pin`` field, an
``origin`` field or any other unknown member is refused; strings have lengths and
alphabets; nothing is optional that an operation needs.
"""

from __future__ import annotations

from typing import Any

from app.helper import limits

PROTOCOL = "bidseal-helper/1"
PROTOCOL_HEADER = "bidseal-protocol"   # sent by bidseal.js on every request; forces a CORS preflight
PROTOCOL_VERSION = "1"

B64 = r"^[A-Za-z0-9+/]*={0,2}$"
CERT_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "A certificate id from /v1/certificates."}
NONCE = {"type": "string", "minLength": 44, "maxLength": 128, "pattern": "^[A-Za-z0-9+/=_-]+$",
         "description": "The hub's login nonce (single use, from the hub's session)."}
TEXT = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\x00-\\x1f]+$"}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props,
            "required": required or [], **extra}


EMPTY = _obj({}, description="No parameters.")

LOGIN = _obj({"nonce": NONCE, "certificate": CERT_ID}, ["nonce"])

DECRYPT_CMS = _obj({
    "kind": {"const": "cms", "description": "(a) a short ciphertext: GM/T 0010 EnvelopedData, as interface 5's encdata."},
    "ciphertext": {"type": "string", "minLength": 4, "maxLength": (limits.MAX_CIPHERTEXT + 2) // 3 * 4, "pattern": B64,
                   "description": "base64 DER EnvelopedData addressed to the key's encryption certificate."},
    "certificate": CERT_ID,
    "project": {**TEXT, "description": "Project / section shown to the bidder (as the page claims it)."},
    "taskId": {**TEXT, "description": "The hub's decryption task (interface 6), shown and logged."},
}, ["kind", "ciphertext"])

DECRYPT_ENVELOPE = _obj({
    "kind": {"const": "envelope-head", "description": "(b) a BidSeal envelope head: the file key is re-wrapped to the hub."},
    "head": {"type": "string", "minLength": 4, "maxLength": (limits.MAX_ENVELOPE_HEAD + 2) // 3 * 4, "pattern": B64,
             "description": "base64 of preamble || header DER || header MAC (no records)."},
    "project": {**TEXT, "description": "The project the hub is opening; must equal the envelope's projectId."},
    "certificate": CERT_ID,
    "taskId": TEXT,
}, ["kind", "head", "project"])

DECRYPT = {"oneOf": [DECRYPT_CMS, DECRYPT_ENVELOPE]}

#: sign-pdf takes the PDF as the body and these query parameters.
SIGN_PDF_QUERY = _obj({
    "keyword": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^\\x00-\\x1f]+$",
                "description": "Seal over the first occurrence of this text (e.g. 投标人（盖章）)."},
    "page": {"type": "integer", "minimum": 1, "maximum": 100000, "description": "1-based page for the seal."},
    "seal": {"enum": ["company", "legal"], "description": "Which seal image of the key (default company)."},
    "certificate": CERT_ID,
    "fileName": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\x00-\\x1f/\\\\]+$"},
})

REQUESTS: dict[str, dict[str, Any]] = {
    "status": EMPTY, "certificates": EMPTY, "login": LOGIN, "decrypt": DECRYPT, "sign-pdf": SIGN_PDF_QUERY,
}

# -- replies -------------------------------------------------------------------------

_CERT_INFO = _obj({
    "serial": {"type": "string"}, "subject": {"type": "string"}, "issuer": {"type": "string"},
    "notBefore": {"type": "string"}, "notAfter": {"type": "string"}, "validNow": {"type": "boolean"},
    "der": {"type": "string", "pattern": B64, "description": "base64 DER certificate"},
}, ["serial", "subject", "issuer", "notBefore", "notAfter", "validNow", "der"])

STATUS_REPLY = _obj({"version": {"type": "string"}, "protocol": {"const": PROTOCOL}}, ["version", "protocol"])

CERTIFICATES_REPLY = _obj({"certificates": {"type": "array", "items": _obj({
    "id": CERT_ID,
    "device": {"type": "string"},
    "unitName": {"type": ["string", "null"]},
    "unitCode": {"type": ["string", "null"]},
    "commonName": {"type": ["string", "null"]},
    "signCertificate": {"oneOf": [_CERT_INFO, {"type": "null"}]},
    "encCertificate": {"oneOf": [_CERT_INFO, {"type": "null"}]},
    "seals": {"type": "array", "items": {"type": "string"}},
    "demo": {"type": "boolean", "description": "A demo-CA certificate (the virtual UKey): never for a real bid."},
}, ["id", "device", "unitName", "unitCode", "commonName", "signCertificate", "encCertificate", "seals", "demo"])}},
    ["certificates"])

LOGIN_REPLY = _obj({
    "format": {"const": "bidseal-auth:1"},
    "unverifiedCertificate": {"type": "string", "pattern": B64},
    "algorithm": {"const": "SM2-SM3"},
    "signature": {"type": "string", "pattern": B64},
    "appVersion": {"type": "string"},
}, ["format", "unverifiedCertificate", "algorithm", "signature", "appVersion"],
    description="The login token (resources/docs/login-token.md); post it to the hub as is.")

DECRYPT_REPLY = {"oneOf": [
    _obj({"kind": {"const": "cms"}, "plaintext": {"type": "string", "pattern": B64}}, ["kind", "plaintext"]),
    _obj({"kind": {"const": "envelope-head"},
          "rewrappedKey": {"type": "string", "pattern": B64,
                           "description": "base64 DER RewrappedKey (envelope-format.md §9), for the hub."},
          "hubCertificateSerial": {"type": "string"}}, ["kind", "rewrappedKey", "hubCertificateSerial"]),
]}

ERROR_REPLY = _obj({"error": _obj({
    "code": {"type": "string", "pattern": "^ERR_[A-Z_]+$"},
    "zh": {"type": "string"}, "en": {"type": "string"}, "details": {"type": "object"},
}, ["code", "zh", "en", "details"])}, ["error"])

REPLIES: dict[str, dict[str, Any]] = {
    "status": STATUS_REPLY, "certificates": CERTIFICATES_REPLY, "login": LOGIN_REPLY, "decrypt": DECRYPT_REPLY,
}

"""The recovery key's own certificate: a self-issued SM2 *encryption* certificate.

Why a certificate at all: the envelope format (resources/docs/envelope-format.md)
addresses every recipient by an encryption certificate (issuer + serial, SKI, names for
messages). Giving the recovery key a certificate of its own makes it one more ordinary
recipient, so no envelope field, parser or decryptor changes, and any existing
``encrypt --to`` path accepts it (the recovery file is also a valid certificate file).

The certificate is signed by its own key (SM2-with-SM3, default ID) and marked by the
organisational unit :data:`RECOVERY_OU`; it is an end-entity certificate (cA false)
with keyEncipherment + dataEncipherment, valid for :data:`VALIDITY_YEARS` years, since
a recovery key has no CA to renew it. Nobody trusts it for anything but being the key
of this file: it only ever receives envelopes the bidder made.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2
from app.gm.names import build_name
from app.gm.sm3 import sm3
from app.gm.x509 import Certificate

#: The organisational unit that marks a recovery certificate.
RECOVERY_OU = "BidSeal Recovery Key"
VALIDITY_YEARS = 30
_OU_OID = "2.5.4.11"
_SIG_ALG = {"algorithm": oids.SM2_WITH_SM3}


def _time(dt: datetime) -> asn1_x509.Time:
    dt = dt.astimezone(UTC).replace(microsecond=0)
    return asn1_x509.Time(name="utc_time" if dt.year < 2050 else "general_time", value=dt)


def _subject(unit_name: str | None, unit_code: str | None) -> asn1_x509.Name:
    unit = (unit_name or "").strip()
    attrs = [("country_name", "CN")]
    if unit:
        attrs.append(("organization_name", unit))
    attrs += [("organizational_unit_name", RECOVERY_OU),
              ("common_name", f"{unit} 恢复密钥" if unit else "BidSeal 恢复密钥")]
    if unit_code:
        attrs.append(("serial_number", unit_code))
    return build_name(attrs)


def make_certificate(key: sm2.PrivateKey, *, unit_name: str | None = None,
                     unit_code: str | None = None, now: datetime | None = None,
                     serial: int | None = None) -> Certificate:
    """The self-issued encryption certificate of the recovery key ``key``."""
    start = (now or datetime.now(UTC)) - timedelta(minutes=5)
    name = _subject(unit_name, unit_code)
    ski = sm3(key.public_key.to_bytes())[:20]
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
        {"extn_id": "key_usage", "critical": True,
         "extn_value": {"key_encipherment", "data_encipherment"}},
        {"extn_id": "key_identifier", "critical": False, "extn_value": ski},
        {"extn_id": "authority_key_identifier", "critical": False,
         "extn_value": {"key_identifier": ski}},
    ]
    tbs = asn1_x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial if serial is not None else secrets.randbits(127) | (1 << 126),
        "signature": _SIG_ALG,
        "issuer": name,
        "validity": {"not_before": _time(start),
                     "not_after": _time(start + timedelta(days=365 * VALIDITY_YEARS + 7))},
        "subject": name,
        "subject_public_key_info": key.public_key.to_asn1(),
        "extensions": extensions,
    })
    signature = sm2.sign(key, bytes(tbs.dump()))
    cert = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": _SIG_ALG,
                                  "signature_value": signature})
    return Certificate.from_der(bytes(cert.dump()))


def is_recovery_certificate(cert: Certificate) -> bool:
    """True for a certificate made by :func:`make_certificate` (marked, self-signed, SM2,
    encryption usage, not a CA)."""
    return (RECOVERY_OU in cert.subject.get(_OU_OID) and cert.is_sm2 and not cert.is_ca
            and cert.is_encryption_cert and cert.is_self_issued and cert.verify_signed_by(cert))

"""Pieces shared by seals and signatures: DER loading, SM2 signature checks, times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from app.gm import oids, sm2
from app.gm.errors import GMError
from app.gm.ses.errors import SESFormatError
from app.gm.x509 import Certificate, sm2_id_that_verifies

#: Signs a message (the exact DER the standard says is signed) and returns the DER
#: SM2Signature; SM3withSM2 with the default ID, as GM/T 0009 asks.
SignFn = Callable[[bytes], bytes]


def bad_format(zh: str, en: str, **details: Any) -> SESFormatError:
    return SESFormatError(f"电子印章数据无法读取：{zh}", f"The electronic seal data cannot be read: {en}",
                          **details)


def load(spec: type[core.Asn1Value], der: bytes, what: str) -> Any:
    """Parse ``der`` strictly enough that every field is read now (not lazily later)."""
    try:
        value = spec.load(bytes(der), strict=True)
        value.native  # noqa: B018 - forces the whole tree to parse here
        return value
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise bad_format(f"{what} 结构不正确。", f"{what} is malformed ({e}).", part=what) from None


def certificate(der: bytes, what: str) -> Certificate:
    try:
        return Certificate.from_der(bytes(der))
    except GMError:
        raise bad_format(f"{what} 不是有效的证书。", f"{what} is not a valid certificate.", part=what) from None


def signature_der(value: bytes) -> bytes:
    """The DER SM2Signature; a bare 64-byte r||s (some vendors) is converted."""
    if len(value) == 64 and value[:1] != b"\x30":
        return sm2.signature_to_der(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big"))
    return value


def sm2_verifies(cert: Certificate, message: bytes, signature: bytes) -> bytes | None:
    """The SM2 ID under which ``signature`` over ``message`` verifies with ``cert``'s key, or None."""
    try:
        return sm2_id_that_verifies(cert.public_key, signature_der(signature), message)
    except GMError:
        return None


def check_alg(oid: str, what: str) -> None:
    if oid not in (oids.SM2_WITH_SM3, oids.SM2_SIGN):
        raise bad_format(f"{what} 的签名算法 {oid} 不受支持（仅支持 SM3withSM2）。",
                         f"{what} uses signature algorithm {oid}; only SM3withSM2 is supported.", oid=oid)


def aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def asn1_time(dt: datetime, generalized: bool) -> asn1_x509.Time:
    dt = aware(dt).replace(microsecond=0)
    return asn1_x509.Time(name="general_time" if generalized else "utc_time", value=dt)


def default_sign_fn(key: sm2.PrivateKey) -> SignFn:
    """A software signer (the demo seal maker and tests; real keys sign through app/token)."""
    return lambda message: sm2.sign(key, message)

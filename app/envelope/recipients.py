"""Recipients: which certificates may receive an envelope, wrapping FK for them, and
finding and opening the entry that belongs to a key.

Per recipient i a fresh 16-byte session key SK_i is SM2-encrypted to the recipient's
ENCRYPTION certificate (GM/T 0009 SM2Cipher) and the file key is wrapped as
SM4-ECB(SK_i, FK || KCV). On a UKey that is exactly SKF_ImportSessionKey followed by
one SKF_Decrypt of 32 bytes (:class:`~app.gm.keyops.SessionKeyUnwrapper`), so the
private key and SK_i stay inside the key and no bulk data passes through it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from app.envelope import format as fmt
from app.envelope.errors import (
    EnvelopeIntegrityError,
    NotARecipientError,
    RecipientCertificateError,
    UnwrapError,
)
from app.errors import BidSealError
from app.gm import sm2, sm4
from app.gm.errors import GMError
from app.gm.keyops import SessionKeyUnwrapper
from app.gm.names import Name
from app.gm.x509 import Certificate


def _describe(who: Certificate | fmt.RecipientEntry, issuer: Callable[[], Name]) -> dict[str, Any]:
    """unit, unit_code, common_name, serial and issuer (``"?"`` when it cannot be read)."""
    try:
        issuer_text = issuer().rfc4514()
    except GMError:
        issuer_text = "?"
    return {
        "unit": who.unit_name,
        "unit_code": who.unit_code,
        "common_name": who.common_name,
        "serial": who.serial_hex,
        "issuer": issuer_text,
    }


def describe_certificate(cert: Certificate) -> dict[str, Any]:
    """Who a certificate names, for messages: unit, common name, serial, issuer."""
    return _describe(cert, lambda: cert.issuer)


def describe_entry(entry: fmt.RecipientEntry) -> dict[str, Any]:
    """Who a recipient entry names (from the header; nothing secret)."""
    return {**_describe(entry, lambda: Name.from_der(entry.issuer_der)),
            "ski": entry.ski.hex() if entry.ski else None}


def _label(cert: Certificate) -> str:
    who = cert.unit_name or cert.common_name or "?"
    if cert.common_name and cert.common_name != who:
        who = f"{who} / {cert.common_name}"
    return f"{who}（序列号 / serial {cert.serial_hex}）"


def check_recipient(cert: Certificate, at: datetime | None = None) -> None:
    """Refuse a certificate that must not receive a bid envelope, naming it.

    Accepted: an SM2 end-entity certificate, valid at ``at`` (default now), whose
    keyUsage is present and includes keyEncipherment, dataEncipherment or keyAgreement
    (the encryption certificate of a dual-certificate UKey).
    """
    at = at or datetime.now(UTC)
    name = _label(cert)
    facts = describe_certificate(cert)

    def refuse(reason: str, zh: str, en: str) -> RecipientCertificateError:
        return RecipientCertificateError(f"证书 {name} {zh}", f"Certificate {name} {en}",
                                         reason=reason, certificate=facts)

    if not cert.is_sm2:
        raise refuse("not_sm2", "不是 SM2 证书，无法用于国密数字信封。",
                     "is not an SM2 certificate and cannot receive a GM envelope.")
    if cert.is_ca:
        raise refuse("ca_certificate", "是 CA 证书，不能作为信封接收者。",
                     "is a CA certificate, not a recipient's certificate.")
    if at < cert.not_before:
        raise refuse("not_yet_valid",
                     f"尚未生效（生效时间 {cert.not_before:%Y-%m-%d %H:%M} UTC）。",
                     f"is not valid yet (valid from {cert.not_before:%Y-%m-%d %H:%M} UTC).")
    if at > cert.not_after:
        raise refuse("expired",
                     f"已于 {cert.not_after:%Y-%m-%d %H:%M} UTC 过期，请使用有效的加密证书。",
                     f"expired on {cert.not_after:%Y-%m-%d %H:%M} UTC; use a valid "
                     "encryption certificate.")
    if not cert.has_key_usage:
        raise refuse("no_key_usage", "没有密钥用法扩展，无法确认是加密证书。",
                     "has no keyUsage extension, so it is not known to be an encryption "
                     "certificate.")
    if not cert.is_encryption_cert:
        if cert.is_signing_cert:
            raise refuse("signing_only",
                          "是签名证书；数字信封必须加密给加密证书（UKey 中的另一张证书）。",
                          "is a signing certificate; envelopes must be encrypted to the "
                          "encryption certificate (the other certificate on the UKey).")
        raise refuse("no_encryption_usage", "的密钥用法不允许加密。",
                     "has no key usage that allows encryption.")


def make_entry(cert: Certificate, file_key: bytes | bytearray, file_id: bytes) -> fmt.RecipientEntry:
    """A recipient entry for ``cert``: SM2Cipher(SK_i) and SM4-ECB(SK_i, FK || KCV)."""
    session_key = bytearray(secrets.token_bytes(fmt.SESSION_KEY_SIZE))
    try:
        der = sm2.encrypt(cert.public_key, bytes(session_key), sm2.CipherFormat.ASN1)
        wrapped = sm4.ecb_encrypt(bytes(session_key),
                                  bytes(file_key) + fmt.key_check_value(file_key, file_id))
    finally:
        session_key[:] = bytes(len(session_key))
    issuer_der, serial = cert.issuer_serial
    return fmt.RecipientEntry(
        issuer_der=issuer_der,
        serial=serial,
        ski=cert.ski,
        unit_name=_clip(cert.unit_name),
        common_name=_clip(cert.common_name),
        unit_code=_clip(cert.unit_code),
        encrypted_session_key=sm2.SM2Ciphertext.decode(der, sm2.CipherFormat.ASN1),
        wrapped_file_key=wrapped,
    )


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = "".join(c if ord(c) >= 0x20 else " " for c in text)
    return text[: fmt.MAX_TEXT]


def matches(entry: fmt.RecipientEntry, cert: Certificate) -> bool:
    """Issuer DER + serial equal, or (both present) the subject key identifiers equal."""
    issuer_der, serial = cert.issuer_serial
    if entry.serial == serial and entry.issuer_der == issuer_der:
        return True
    ski = cert.ski
    return bool(entry.ski and ski and hmac.compare_digest(entry.ski, ski))


def find_matches(header: fmt.Header, unwrappers: Sequence[SessionKeyUnwrapper]
                 ) -> list[tuple[int, SessionKeyUnwrapper]]:
    """(entry index, unwrapper) pairs whose certificates match, in header order."""
    out = []
    for i, entry in enumerate(header.recipients):
        for u in unwrappers:
            if matches(entry, u.certificate):
                out.append((i, u))
    if not out:
        needed = [describe_entry(e) for e in header.recipients]
        offered = [describe_certificate(u.certificate) for u in unwrappers]

        def names(items: list[dict[str, Any]]) -> str:
            return "；".join(f"{d['unit'] or d['common_name'] or '?'}（{d['serial']}）"
                            for d in items) or "无 / none"

        raise NotARecipientError(
            f"此文件不是加密给您的证书的：文件需要 {names(needed)} 的加密证书，"
            f"而所用密钥的证书是 {names(offered)}。请插入正确的 UKey。",
            f"This file was not encrypted to your certificate: it needs the encryption "
            f"certificate of {names(needed)}, but the key offered has {names(offered)}. "
            "Insert the right UKey.",
            needed=needed,
            offered=offered,
        )
    return out


def open_entry(header: fmt.Header, index: int, unwrapper: SessionKeyUnwrapper) -> bytearray:
    """Recover FK through ``unwrapper`` (one SKF_ImportSessionKey + one 32-byte decrypt).

    Token errors (device removed, PIN...) propagate unchanged; a wrong key or a damaged
    entry raises :class:`UnwrapError`; a wrong key check value
    :class:`EnvelopeIntegrityError`.
    """
    entry = header.recipients[index]
    try:
        plain = bytearray(unwrapper.unwrap(entry.encrypted_session_key, entry.wrapped_file_key))
    except GMError as exc:
        raise _unwrap_failed(unwrapper.certificate, exc) from exc
    except BidSealError:
        raise
    if len(plain) != fmt.WRAPPED_KEY_SIZE:
        raise _unwrap_failed(unwrapper.certificate, None)
    file_key = plain[: fmt.FILE_KEY_SIZE]
    kcv_ok = hmac.compare_digest(bytes(plain[fmt.FILE_KEY_SIZE:]),
                                 fmt.key_check_value(file_key, header.file_id))
    plain[:] = bytes(len(plain))
    if not kcv_ok:
        file_key[:] = bytes(len(file_key))
        raise EnvelopeIntegrityError(
            "信封中的接收者条目已被篡改或损坏，无法取出文件密钥。",
            "A recipient entry of the envelope was altered or damaged; the file key "
            "cannot be recovered.",
            reason="key_check_value", recipient=index,
        )
    return file_key


def _unwrap_failed(cert: Certificate, exc: GMError | None) -> UnwrapError:
    return UnwrapError(
        f"无法用证书 {_label(cert)} 的私钥解开会话密钥：密钥与证书不匹配，或信封的接收者条目已损坏。",
        f"The session key cannot be opened with the key of certificate {_label(cert)}: "
        "the key does not match the certificate, or the recipient entry is damaged.",
        certificate=describe_certificate(cert),
        cause=exc.code if exc is not None else "length",
    )

"""EnvelopedData with SM2 key transport and SM4-CBC content (no integrity protection)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms, core

from app.gm import oids, sm2, sm4
from app.gm.cms.common import (
    _DATA,
    _ENVELOPED,
    _ENVELOPED_TYPES,
    ContentTypeFamily,
    _fmt_error,
    _issuer_and_serial,
    _load_content_info,
    _unsupported,
)
from app.gm.errors import GMError
from app.gm.keyops import CbcSessionKeyUnwrapper, SessionKeyUnwrapper
from app.gm.names import Name
from app.gm.x509 import Certificate

# -- EnvelopedData --------------------------------------------------------------------


def envelope(
    content: bytes,
    recipients: Sequence[Certificate],
    *,
    content_type_oids: ContentTypeFamily = "gm",
    cipher: str = "sm4-cbc",
    check_usage: bool = True,
) -> bytes:
    """EnvelopedData: SM4-CBC content, the SM4 key SM2-encrypted to each recipient.

    With ``check_usage`` a recipient certificate must allow encryption (keyUsage), so
    a bid is never encrypted to a signing certificate by mistake. No integrity
    protection (see the module docstring).
    """
    if cipher != "sm4-cbc":
        raise GMError(f"不支持的对称算法：{cipher}", f"Unsupported content cipher: {cipher}", cipher=cipher)
    if content_type_oids not in _DATA:
        raise GMError("未知的内容类型标识族。", "Unknown content-type family.", family=content_type_oids)
    if not recipients:
        raise GMError("至少需要一个接收者证书。", "At least one recipient certificate is needed.")
    key = secrets.token_bytes(sm4.KEY_SIZE)
    iv = secrets.token_bytes(sm4.BLOCK_SIZE)
    infos = []
    for cert in recipients:
        if check_usage and not cert.is_encryption_cert:
            raise GMError(
                f"证书“{cert.common_name}”是签名证书，不能用于加密；请使用加密证书。",
                f"Certificate '{cert.common_name}' is a signing certificate and cannot be used for encryption; "
                "use the encryption certificate.",
                code="ERR_CERT_USAGE",
            )
        wrapped = sm2.encrypt(cert.public_key, key, sm2.CipherFormat.ASN1)
        infos.append(cms.RecipientInfo(name="ktri", value=cms.KeyTransRecipientInfo({
            "version": "v0",
            "rid": cms.RecipientIdentifier(name="issuer_and_serial_number", value=_issuer_and_serial(cert)),
            "key_encryption_algorithm": {"algorithm": oids.SM2_ENCRYPT},
            "encrypted_key": wrapped,
        })))
    ed = cms.EnvelopedData({
        "version": "v1" if content_type_oids == "gm" else "v0",
        "recipient_infos": infos,
        "encrypted_content_info": {
            "content_type": _DATA[content_type_oids],
            "content_encryption_algorithm": {"algorithm": oids.SM4_CBC, "parameters": core.OctetString(iv)},
            "encrypted_content": sm4.cbc_encrypt(key, iv, content),
        },
    })
    return bytes(cms.ContentInfo({"content_type": _ENVELOPED[content_type_oids], "content": ed}).dump())


@dataclass(frozen=True)
class RecipientId:
    issuer: Name | None
    serial: int | None
    ski: bytes | None
    key_encryption_oid: str
    encrypted_key: bytes = field(repr=False, default=b"")

    def matches(self, cert: Certificate) -> bool:
        if self.ski is not None:
            return cert.ski == self.ski
        return (self.serial == cert.serial_number and self.issuer is not None
                and self.issuer.matches(cert.issuer))


def _recipients(ed: Any) -> list[RecipientId]:
    out = []
    for ri in ed["recipient_infos"]:
        if ri.name != "ktri":
            continue
        k = ri.chosen
        rid = k["rid"]
        if rid.name == "issuer_and_serial_number":
            rec = RecipientId(Name.from_asn1(rid.chosen["issuer"]), int(rid.chosen["serial_number"].native),
                              None, k["key_encryption_algorithm"]["algorithm"].dotted,
                              bytes(k["encrypted_key"].native))
        else:
            rec = RecipientId(None, None, bytes(rid.chosen.native),
                              k["key_encryption_algorithm"]["algorithm"].dotted, bytes(k["encrypted_key"].native))
        out.append(rec)
    return out


def recipient_ids(der: bytes) -> list[RecipientId]:
    """The key-transport recipients of an EnvelopedData (issuer, serial or SKI)."""
    ci, _family = _load_content_info(der, _ENVELOPED_TYPES)
    try:
        return _recipients(ci["content"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc


def _cbc_decrypt_with_unwrapper(unwrapper: SessionKeyUnwrapper, wrapped: sm2.SM2Ciphertext,
                                iv: bytes, data: bytes) -> bytes:
    """SM4-CBC decryption under a key that stays inside a device: streamed through the
    device's own CBC when it offers one (:class:`CbcSessionKeyUnwrapper`: one key import),
    else SM4-ECB under an imported session key, 64 bytes per call."""
    if not data or len(data) % sm4.BLOCK_SIZE:
        raise GMError("加密内容长度不正确。", "The encrypted content has the wrong length.")
    if isinstance(unwrapper, CbcSessionKeyUnwrapper):
        with unwrapper.cbc_decryptor(wrapped, iv) as stream:
            return sm4.pkcs7_unpad(stream.update(data) + stream.finalize())
    out = bytearray()
    prev = iv
    for off in range(0, len(data), 64):
        chunk = data[off:off + 64]
        plain = unwrapper.unwrap(wrapped, chunk)
        for i in range(0, len(chunk), sm4.BLOCK_SIZE):
            block = plain[i:i + sm4.BLOCK_SIZE]
            out += bytes(a ^ b for a, b in zip(block, prev, strict=True))
            prev = chunk[i:i + sm4.BLOCK_SIZE]
    return sm4.pkcs7_unpad(bytes(out))


def open_envelope(der: bytes, key: sm2.PrivateKey | SessionKeyUnwrapper) -> bytes:
    """Decrypt an EnvelopedData addressed to ``key``.

    ``key`` is a software :class:`app.gm.sm2.PrivateKey` (every SM2 recipient is tried)
    or a :class:`SessionKeyUnwrapper` (the recipient matching its certificate by
    issuer+serial or SKI). Key transport OIDs 301.3, 301.2, 301 and id-ecPublicKey;
    content SM4-CBC (104.2, or bare 104 as CFCA writes it).
    """
    ci, _family = _load_content_info(der, _ENVELOPED_TYPES)
    try:
        ed = ci["content"]
        recs = [r for r in _recipients(ed) if r.key_encryption_oid in oids.SM2_ENCRYPTION_OIDS]
        eci = ed["encrypted_content_info"]
        alg = eci["content_encryption_algorithm"]
        alg_oid = alg["algorithm"].dotted
        params = alg["parameters"]
        iv = bytes(core.OctetString.load(params.dump()).native) if params.contents is not None else b""
        data = eci["encrypted_content"].native
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _fmt_error(str(exc)[:200]) from exc
    if alg_oid not in (oids.SM4_CBC, oids.SM4):
        raise _unsupported("数字信封使用了不支持的对称算法。", "The envelope uses an unsupported content cipher.",
                           algorithm=alg_oid)
    if len(iv) != sm4.BLOCK_SIZE:
        raise _fmt_error("bad SM4-CBC IV")
    if data is None:
        raise GMError("数字信封中没有加密内容。", "The envelope carries no encrypted content.", code="ERR_CMS_FORMAT")
    data = bytes(data)
    if not recs:
        raise _unsupported("数字信封中没有 SM2 接收者。", "The envelope has no SM2 recipient.")

    if isinstance(key, sm2.PrivateKey):
        for rec in recs:
            try:
                sym = sm2.decrypt(key, rec.encrypted_key, sm2.CipherFormat.ASN1)
            except GMError:
                continue
            if len(sym) != sm4.KEY_SIZE:
                continue
            return sm4.cbc_decrypt(sym, iv, data)
    else:
        cert = key.certificate
        for rec in recs:
            if rec.matches(cert):
                wrapped = sm2.SM2Ciphertext.decode(rec.encrypted_key, sm2.CipherFormat.ASN1)
                return _cbc_decrypt_with_unwrapper(key, wrapped, iv, data)
    raise GMError(
        "该数字信封不是发给这个密钥/证书的，无法解密。",
        "This envelope is not addressed to this key or certificate and cannot be decrypted.",
        code="ERR_NOT_RECIPIENT",
    )

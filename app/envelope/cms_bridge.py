"""GM/T 0010 EnvelopedData for platforms that require the standard container.

:func:`export_cms` encrypts a plaintext file to certificates as an EnvelopedData
(SM4-CBC, key SM2-encrypted per recipient, via :func:`app.gm.cms.envelope`);
:func:`import_cms` decrypts one; :func:`read_cms_info` says what one holds (no key).
What the standard container loses compared with the BidSeal envelope (spec §7):
integrity (CBC without a MAC: a modified file decrypts to modified plaintext or fails
only on padding), streaming (the whole content is one OCTET STRING, held in memory,
so the size is capped at :data:`MAX_CMS_SIZE`), the metadata (project, unit code,
file name, plaintext SM3). With a UKey the content is decrypted inside the key: one
``SKF_ImportSessionKey``, then the ciphertext streams through
``SKF_DecryptInit(IV)``/``DecryptUpdate``/``DecryptFinal``
(:meth:`app.token.Session.decryptor` via :class:`app.gm.keyops.CbcSessionKeyUnwrapper`).

Two encodings of the recipients (``profile``), both read back by :func:`import_cms`:

* ``"standard"`` (default): KeyTransRecipientInfo version 0 (RFC 5652 for an
  issuerAndSerialNumber recipient), key encryption ``sm2encrypt``
  1.2.156.10197.1.301.3 (GB/T 35276 / GM/T 0006);
* ``"gmssl"``: what GmSSL 3 (``gmssl cmsdecrypt``) and gmsm read and write:
  RecipientInfo version 1, key encryption 1.2.156.10197.1.301.2 (GmSSL's OID table
  names 301.2 ``sm2encrypt``; the standard assigns it to SM2 key exchange), with the GM
  content-type OIDs. GmSSL rejects anything else, so it cannot open the standard form.

GmSSL's command line reads and writes CMS as PEM (``-----BEGIN CMS-----``):
``export_cms(..., pem=True)`` writes that armour, and every reader here accepts DER or
PEM. Checked against GmSSL 3.3.0-dev (``gmssl cmsdecrypt`` / ``cmsencrypt``), see
``tests/envelope/test_gmssl_interop.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from asn1crypto import cms as asn1_cms
from asn1crypto import pem as asn1_pem

from app.envelope.engine import StrPath, _check_distinct, _io_error, _Output
from app.envelope.errors import (
    EnvelopeError,
    EnvelopeFormatError,
    EnvelopeIntegrityError,
    NotARecipientError,
)
from app.envelope.recipients import check_recipient, describe_certificate
from app.gm import cms, oids, sm2
from app.gm.errors import GMError
from app.gm.keyops import SessionKeyUnwrapper
from app.gm.x509 import Certificate

MAX_CMS_SIZE = 256 << 20
Profile = Literal["standard", "gmssl"]
PROFILES: tuple[str, ...] = ("standard", "gmssl")
#: PEM labels read as CMS (GmSSL's command line writes and reads "CMS")
PEM_LABELS = ("CMS", "PKCS7")
_PEM_HEAD = b"-----BEGIN "


def to_pem(der: bytes) -> bytes:
    """``-----BEGIN CMS-----`` armour, as ``gmssl cmsdecrypt`` reads it."""
    return bytes(asn1_pem.armor("CMS", der))


def _der(data: bytes) -> bytes:
    """DER from DER or from PEM-armoured CMS (labels :data:`PEM_LABELS`); other text is
    returned unchanged and fails as malformed CMS."""
    if data.lstrip().startswith(_PEM_HEAD):
        try:
            label, _headers, der = asn1_pem.unarmor(data.strip())
        except ValueError:
            return data
        if label in PEM_LABELS:
            return bytes(der)
    return data


def _read_limited(src: Path) -> bytes:
    try:
        size = src.stat().st_size
        if size > MAX_CMS_SIZE:
            raise EnvelopeError(
                f"文件过大（{size} 字节），GM/T 0010 数字信封最多支持 {MAX_CMS_SIZE >> 20} MiB；"
                "请使用 BidSeal 信封格式。",
                f"The file is too large ({size} bytes) for a GM/T 0010 envelope (at most "
                f"{MAX_CMS_SIZE >> 20} MiB); use the BidSeal envelope format.",
                size=size, limit=MAX_CMS_SIZE,
            )
        return src.read_bytes()
    except OSError as exc:
        raise _io_error(exc, src, "read") from exc


def _write_atomic(dst: Path, data: bytes, fsync: bool, *, private: bool, replace: bool) -> None:
    out = _Output(dst, private=private, replace=replace)
    try:
        out.file.write(data)
    except OSError as exc:
        out.discard()
        raise _io_error(exc, dst, "write") from exc
    except BaseException:
        out.discard()
        raise
    out.commit(fsync)


def _gmssl_recipients(der: bytes) -> bytes:
    """Re-encode the KeyTransRecipientInfos as GmSSL 3 expects (version 1, OID 301.2)."""
    ci = asn1_cms.ContentInfo.load(der)
    ed = ci["content"]
    infos = []
    for ri in ed["recipient_infos"]:
        k = ri.chosen
        infos.append(asn1_cms.RecipientInfo(name="ktri", value=asn1_cms.KeyTransRecipientInfo({
            "version": "v1",
            "rid": k["rid"],
            "key_encryption_algorithm": {"algorithm": oids.SM2_EXCHANGE},
            "encrypted_key": k["encrypted_key"],
        })))
    new = asn1_cms.EnvelopedData({
        "version": ed["version"],
        "recipient_infos": infos,
        "encrypted_content_info": ed["encrypted_content_info"],
    })
    return bytes(asn1_cms.ContentInfo({"content_type": ci["content_type"], "content": new}).dump())


def export_cms(src: StrPath, dst: StrPath, recipients: Sequence[Certificate], *,
               content_type_oids: cms.ContentTypeFamily = "gm", profile: Profile = "standard",
               pem: bool = False, fsync: bool = True, replace: bool = True) -> int:
    """Encrypt the plaintext file ``src`` to ``recipients`` as an EnvelopedData in ``dst``
    (DER, or PEM ``CMS`` armour with ``pem``).

    Returns the number of bytes written. Recipients are checked as for
    :func:`app.envelope.encrypt_file`. ``profile="gmssl"`` writes what GmSSL 3 opens
    (see the module docstring; it implies the GM content-type OIDs).
    """
    src_p, dst_p = Path(src), Path(dst)
    if not recipients:
        raise EnvelopeError("至少需要一个接收者证书（--to）。",
                            "At least one recipient certificate is needed (--to).")
    if profile not in PROFILES:
        raise EnvelopeError(f"未知的数字信封格式：{profile}。", f"Unknown envelope profile: {profile}.",
                            code="ERR_USAGE", profile=profile)
    if profile == "gmssl":
        content_type_oids = "gm"
    now = datetime.now(UTC)
    for cert in recipients:
        check_recipient(cert, now)
    _check_distinct(src_p, dst_p)
    content = _read_limited(src_p)
    der = cms.envelope(content, list(dict.fromkeys(recipients)),
                       content_type_oids=content_type_oids)
    if profile == "gmssl":
        der = _gmssl_recipients(der)
    data = to_pem(der) if pem else der
    _write_atomic(dst_p, data, fsync, private=False, replace=replace)
    return len(data)


def is_cms(src: StrPath) -> bool:
    """True when ``src`` looks like an EnvelopedData: DER (starts with a SEQUENCE) or PEM
    ``CMS``/``PKCS7`` armour."""
    try:
        with open(src, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    if head.startswith(b"\x30"):
        return True
    text = head.lstrip()
    return any(text.startswith(_PEM_HEAD + label.encode() + b"-----") for label in PEM_LABELS)


def _format_error(exc: GMError) -> EnvelopeFormatError:
    return EnvelopeFormatError(
        "这不是有效的 GM/T 0010 数字信封（CMS 格式错误）：文件为空、已损坏或被截断。",
        "This is not a valid GM/T 0010 envelope (malformed CMS): the file is empty, damaged or truncated.",
        reason="cms", cause=exc.code, detail=str(exc.details.get("detail", ""))[:200],
    )


def cms_recipients(der: bytes) -> list[cms.RecipientId]:
    """The key-transport recipients of an EnvelopedData; any damage is an
    :class:`EnvelopeFormatError` (the CMS format error), never a crash."""
    der = _der(der)
    if not der:
        raise _format_error(GMError("", "", code="ERR_CMS_FORMAT", detail="empty input"))
    try:
        return cms.recipient_ids(der)
    except GMError as exc:
        if exc.code == "ERR_CMS_UNSUPPORTED":
            raise EnvelopeFormatError(exc.zh, exc.en, reason="cms_unsupported", **exc.details) from exc
        raise _format_error(exc) from exc


@dataclass(frozen=True)
class CmsRecipient:
    issuer: str | None
    serial_hex: str | None
    ski_hex: str | None
    key_encryption_oid: str

    def to_dict(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "serial": self.serial_hex, "ski": self.ski_hex,
                "key_encryption_algorithm": self.key_encryption_oid}

    @property
    def label(self) -> str:
        if self.serial_hex is not None:
            return f"{self.issuer or '?'}（序列号 / serial {self.serial_hex}）"
        return f"SKI {self.ski_hex}"


@dataclass(frozen=True)
class CmsInfo:
    """What a GM/T 0010 EnvelopedData says about itself (nothing authenticated)."""

    size: int
    content_type_family: str
    profile: str
    recipients: tuple[CmsRecipient, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "gmt0010", "size": self.size, "content_type_oids": self.content_type_family,
                "profile": self.profile, "authenticated": False, "integrity": False,
                "recipients": [r.to_dict() for r in self.recipients]}


def _recipient(r: cms.RecipientId) -> CmsRecipient:
    return CmsRecipient(r.issuer.rfc4514() if r.issuer is not None else None,
                        format(r.serial, "X") if r.serial is not None else None,
                        r.ski.hex() if r.ski else None, r.key_encryption_oid)


def read_cms_info(src: StrPath) -> CmsInfo:
    """Recipients and encoding of the EnvelopedData ``src`` (no key needed)."""
    der = _der(_read_limited(Path(src)))
    ids = cms_recipients(der)
    family = "gm"
    try:
        ctype = asn1_cms.ContentInfo.load(cms.strip_padding(der))["content_type"].dotted
        family = "pkcs7" if ctype == oids.PKCS7_ENVELOPED_DATA else "gm"
    except (ValueError, TypeError, KeyError, GMError):  # pragma: no cover - parsed above
        pass
    gmssl = bool(ids) and all(r.key_encryption_oid == oids.SM2_EXCHANGE for r in ids)
    return CmsInfo(len(der), family, "gmssl" if gmssl else "standard", tuple(_recipient(r) for r in ids))


def import_cms(src: StrPath, dst: StrPath,
               key: sm2.PrivateKey | SessionKeyUnwrapper | Sequence[SessionKeyUnwrapper], *,
               fsync: bool = True, replace: bool = True) -> int:
    """Decrypt the EnvelopedData ``src`` into ``dst`` (written only when it opened, mode 0600).

    Returns the plaintext size. No integrity is available in this container: a
    modified file may decrypt to modified plaintext. Both recipient encodings
    (``standard`` and ``gmssl``) are accepted.
    """
    src_p, dst_p = Path(src), Path(dst)
    _check_distinct(src_p, dst_p)
    der = _der(_read_limited(src_p))
    cms_recipients(der)  # format errors first, as the CMS format error
    keys: list[sm2.PrivateKey | SessionKeyUnwrapper] = []
    if isinstance(key, Sequence):
        keys.extend(key)
    else:
        keys.append(key)
    if not keys:
        raise EnvelopeError("没有可用于解密的密钥。", "No key was offered for decryption.")
    plain: bytes | None = None
    last: GMError | None = None
    for k in keys:
        try:
            plain = cms.open_envelope(der, k)
            break
        except GMError as exc:
            last = exc
            if exc.code != "ERR_NOT_RECIPIENT":
                break
    if plain is None:
        assert last is not None
        raise _map_cms_error(last, der, keys)
    _write_atomic(dst_p, plain, fsync, private=True, replace=replace)
    return len(plain)


def _map_cms_error(exc: GMError, der: bytes,
                   keys: Sequence[sm2.PrivateKey | SessionKeyUnwrapper]) -> EnvelopeError:
    if exc.code == "ERR_NOT_RECIPIENT":
        try:
            needed = [_recipient(r).to_dict() for r in cms.recipient_ids(der)]
        except GMError:
            needed = []
        offered = [describe_certificate(k.certificate) for k in keys
                   if not isinstance(k, sm2.PrivateKey)]
        return NotARecipientError(exc.zh, exc.en, needed=needed, offered=offered)
    if "padding" in exc.en.lower() or exc.code == "ERR_DECRYPT":
        return EnvelopeIntegrityError(
            "GM/T 0010 数字信封解密失败（填充错误）：文件已损坏或密钥不对。",
            "The GM/T 0010 envelope did not decrypt (bad padding): the file is damaged or the "
            "key is wrong.",
            reason="cms_padding", cause=exc.code,
        )
    if exc.code == "ERR_CMS_FORMAT":
        return _format_error(exc)
    return EnvelopeFormatError(exc.zh, exc.en, reason="cms", cause=exc.code)

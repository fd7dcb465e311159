"""GM/T 0010 EnvelopedData for platforms that require the standard container.

:func:`export_cms` encrypts a plaintext file to certificates as an EnvelopedData
(SM4-CBC, key SM2-encrypted per recipient, via :func:`app.gm.cms.envelope`);
:func:`import_cms` decrypts one. What the standard container loses compared with the
BidSeal envelope (spec §7): integrity (CBC without a MAC: a modified file decrypts to
modified plaintext or fails only on padding), streaming (the whole content is one
OCTET STRING, held in memory, so the size is capped at :data:`MAX_CMS_SIZE`), the
metadata (project, unit code, file name, plaintext SM3). With a UKey the content is
decrypted inside the key: one ``SKF_ImportSessionKey``, then the ciphertext streams
through ``SKF_DecryptInit(IV)``/``DecryptUpdate``/``DecryptFinal``
(:meth:`app.token.Session.decryptor` via :class:`app.gm.keyops.CbcSessionKeyUnwrapper`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from app.envelope.engine import StrPath, _check_distinct, _io_error, _Output
from app.envelope.errors import (
    EnvelopeError,
    EnvelopeFormatError,
    EnvelopeIntegrityError,
    NotARecipientError,
)
from app.envelope.recipients import check_recipient, describe_certificate
from app.gm import cms, sm2
from app.gm.errors import GMError
from app.gm.keyops import SessionKeyUnwrapper
from app.gm.x509 import Certificate

MAX_CMS_SIZE = 256 << 20


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


def _write_atomic(dst: Path, data: bytes, fsync: bool) -> None:
    out = _Output(dst)
    try:
        out.file.write(data)
    except OSError as exc:
        out.discard()
        raise _io_error(exc, dst, "write") from exc
    except BaseException:
        out.discard()
        raise
    out.commit(fsync)


def export_cms(src: StrPath, dst: StrPath, recipients: Sequence[Certificate], *,
               content_type_oids: cms.ContentTypeFamily = "gm", fsync: bool = True) -> int:
    """Encrypt the plaintext file ``src`` to ``recipients`` as a DER EnvelopedData in ``dst``.

    Returns the number of bytes written. Recipients are checked as for
    :func:`app.envelope.encrypt_file`.
    """
    src_p, dst_p = Path(src), Path(dst)
    if not recipients:
        raise EnvelopeError("至少需要一个接收者证书（--to）。",
                            "At least one recipient certificate is needed (--to).")
    now = datetime.now(UTC)
    for cert in recipients:
        check_recipient(cert, now)
    _check_distinct(src_p, dst_p)
    content = _read_limited(src_p)
    der = cms.envelope(content, list(dict.fromkeys(recipients)),
                       content_type_oids=content_type_oids)
    _write_atomic(dst_p, der, fsync)
    return len(der)


def is_cms(src: StrPath) -> bool:
    """True when ``src`` looks like a DER EnvelopedData (starts with a SEQUENCE)."""
    try:
        with open(src, "rb") as f:
            head = f.read(1)
    except OSError:
        return False
    return head == b"\x30"


def import_cms(src: StrPath, dst: StrPath,
               key: sm2.PrivateKey | SessionKeyUnwrapper | Sequence[SessionKeyUnwrapper], *,
               fsync: bool = True) -> int:
    """Decrypt the EnvelopedData ``src`` into ``dst`` (written only when it opened).

    Returns the plaintext size. No integrity is available in this container: a
    modified file may decrypt to modified plaintext.
    """
    src_p, dst_p = Path(src), Path(dst)
    _check_distinct(src_p, dst_p)
    der = _read_limited(src_p)
    keys: list[sm2.PrivateKey | SessionKeyUnwrapper] = []
    if isinstance(key, Sequence):
        keys.extend(key)
    else:
        keys.append(key)
    last: GMError | None = None
    for k in keys:
        try:
            plain = cms.open_envelope(der, k)
            break
        except GMError as exc:
            last = exc
            if exc.code != "ERR_NOT_RECIPIENT":
                break
    else:
        plain = None
    if plain is None:
        assert last is not None
        raise _map_cms_error(last, der, keys)
    _write_atomic(dst_p, plain, fsync)
    return len(plain)


def _map_cms_error(exc: GMError, der: bytes,
                   keys: Sequence[sm2.PrivateKey | SessionKeyUnwrapper]) -> EnvelopeError:
    if exc.code == "ERR_NOT_RECIPIENT":
        try:
            needed = [{"issuer": r.issuer.rfc4514() if r.issuer else None,
                       "serial": format(r.serial, "X") if r.serial is not None else None,
                       "ski": r.ski.hex() if r.ski else None} for r in cms.recipient_ids(der)]
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
    return EnvelopeFormatError(exc.zh, exc.en, reason="cms", cause=exc.code)


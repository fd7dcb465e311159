"""The recovery key file: one text file holding the recovery certificate and its
passphrase-protected private key (format: resources/docs/recovery-key-format.md).

A bidder makes it once (``bidseal recovery new``), keeps it offline (a USB stick in a
safe, a printout) with the passphrase kept elsewhere, and adds it to every envelope
(``bidseal encrypt --recovery FILE``, or the checkbox in the encrypt dialog). When the
UKey is lost, broken or its encryption certificate was renewed before the bid opening,
``bidseal decrypt --recovery FILE`` opens the envelope with the passphrase.

Encrypting needs no passphrase (only the certificate is used); opening does. Nothing
here prints or logs; the passphrase is turned into bytes, used and wiped.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import pem

from app.atomic import write_atomic
from app.gm import sm2
from app.gm.errors import GMError
from app.gm.keyops import SoftwareUnwrapper
from app.gm.x509 import Certificate
from app.recovery.certificate import is_recovery_certificate, make_certificate
from app.recovery.errors import RecoveryError, RecoveryFormatError, WeakPassphrase
from app.recovery.pbes2 import (
    DEFAULT_PARAMS,
    ScryptParams,
    decrypt_private_key,
    encrypt_private_key,
    parse_encrypted_key,
    wrong_passphrase,
)

TITLE = "BidSeal 恢复密钥文件 / BidSeal recovery key file, format 1"
SUFFIX = ".bsrk"
MIN_PASSPHRASE = 10
MAX_FILE_SIZE = 64 * 1024
_CERT_BLOCK = "CERTIFICATE"
_KEY_BLOCK = "ENCRYPTED PRIVATE KEY"

StrPath = str | os.PathLike[str]


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too easy to guess for a file that may be stolen: at least
    :data:`MIN_PASSPHRASE` characters and not one repeated character."""
    text = unicodedata.normalize("NFC", passphrase)
    if len(text) < MIN_PASSPHRASE or len(set(text)) < 4:
        raise WeakPassphrase(
            f"恢复密钥口令太弱：至少需要 {MIN_PASSPHRASE} 个字符，且不能是重复的同一字符。"
            "建议使用一句容易记住的长句。",
            f"The recovery key passphrase is too weak: use at least {MIN_PASSPHRASE} characters "
            "and not one character repeated. A long sentence you remember works well.",
            length=len(text),
        )


@dataclass(frozen=True)
class RecoveryKey:
    """A loaded recovery key file: the certificate (public) and the sealed private key."""

    certificate: Certificate
    encrypted_key: bytes

    @property
    def params(self) -> ScryptParams:
        return parse_encrypted_key(self.encrypted_key).params

    @property
    def serial_hex(self) -> str:
        return self.certificate.serial_hex

    @property
    def fingerprint(self) -> str:
        """SM3 fingerprint of the certificate (what the bidder compares before relying on it)."""
        return self.certificate.fingerprint_sm3

    def unlock(self, passphrase: str | bytes | bytearray) -> SoftwareUnwrapper:
        """The software unwrapper of the recovery key; :class:`WrongPassphrase` otherwise."""
        pkcs8 = decrypt_private_key(self.encrypted_key, passphrase)
        try:
            key = sm2.PrivateKey.from_der(pkcs8)
        except GMError as exc:  # padding matched by chance, content is noise
            raise wrong_passphrase() from exc
        if key.public_key != self.certificate.public_key:
            raise wrong_passphrase()
        return SoftwareUnwrapper(self.certificate, key)

    def to_bytes(self) -> bytes:
        """The file's text: an explanatory header, then the two PEM blocks."""
        cert = self.certificate
        lines = [
            TITLE,
            f"单位 / Unit: {cert.unit_name or '-'}   代码 / Code: {cert.unit_code or '-'}",
            f"证书序列号 / Certificate serial: {cert.serial_hex}",
            f"SM3 指纹 / SM3 fingerprint: {cert.fingerprint_sm3}",
            f"创建时间 / Created: {cert.not_before:%Y-%m-%d %H:%M} UTC",
            "请离线保存本文件（U 盘、保险柜），口令另行保管；丢失口令则无法恢复。",
            "Keep this file offline (USB stick, safe) and the passphrase elsewhere; "
            "without the passphrase nothing can be recovered.",
            "",
        ]
        text = "\n".join(lines).encode("utf-8")
        return (text + bytes(pem.armor(_CERT_BLOCK, cert.der))
                + bytes(pem.armor(_KEY_BLOCK, self.encrypted_key)))

    @classmethod
    def from_bytes(cls, data: bytes, source: str | None = None) -> RecoveryKey:
        """Parse a recovery key file; the explanatory text is ignored, the blocks decide."""
        where = {"path": source} if source else {}
        try:
            blocks = list(pem.unarmor(bytes(data), multiple=True)) if pem.detect(bytes(data)) else []
        except ValueError as exc:
            raise _not_recovery_file(reason="malformed PEM", **where) from exc
        certs = [der for kind, _h, der in blocks if kind == _CERT_BLOCK]
        keys = [der for kind, _h, der in blocks if kind == _KEY_BLOCK]
        if len(certs) != 1 or len(keys) != 1 or len(blocks) != 2:
            raise _not_recovery_file(reason="blocks", count=len(blocks), **where)
        try:
            cert = Certificate.from_der(certs[0])
            marked = is_recovery_certificate(cert)
        except GMError as exc:
            raise _not_recovery_file(reason="certificate", **where) from exc
        if not marked:
            raise _not_recovery_file(reason="not a recovery certificate", **where)
        parse_encrypted_key(bytes(keys[0]))
        return cls(cert, bytes(keys[0]))


def _not_recovery_file(**details: Any) -> RecoveryFormatError:
    return RecoveryFormatError(
        "这不是 BidSeal 恢复密钥文件，或文件已损坏、被改动。请选择用“新建恢复密钥”生成的 .bsrk 文件。",
        "This is not a BidSeal recovery key file, or it was damaged or altered. Choose the .bsrk "
        "file made with 'new recovery key'.",
        **details,
    )


def new_recovery_key(passphrase: str, *, unit_name: str | None = None, unit_code: str | None = None,
                     params: ScryptParams | None = None, now: datetime | None = None) -> RecoveryKey:
    """Generate a fresh SM2 key, its certificate, and seal the key with ``passphrase``
    (work factor ``params``, default :data:`DEFAULT_PARAMS`)."""
    check_passphrase(passphrase)
    key = sm2.PrivateKey.generate()
    cert = make_certificate(key, unit_name=unit_name, unit_code=unit_code, now=now or datetime.now(UTC))
    return RecoveryKey(cert, encrypt_private_key(key.to_der(), passphrase, params or DEFAULT_PARAMS))


def load(path: StrPath) -> RecoveryKey:
    """Read a recovery key file (bounded size: a large file is refused unread)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        raise RecoveryError(f"无法读取恢复密钥文件 {os.fspath(path)}：{exc.strerror or exc}。",
                            f"Cannot read the recovery key file {os.fspath(path)}: {exc.strerror or exc}.",
                            code="ERR_IO", path=os.fspath(path)) from exc
    if len(data) > MAX_FILE_SIZE:
        raise _not_recovery_file(reason="too large", path=os.fspath(path))
    return RecoveryKey.from_bytes(data, os.fspath(path))


def save(key: RecoveryKey, path: StrPath, *, overwrite: bool = False) -> Path:
    """Write ``key`` to ``path`` (whole or not at all, mode 0600); an existing file is kept
    unless ``overwrite`` (replacing a recovery file would orphan envelopes made for it)."""
    dst = Path(path)
    if dst.exists() and not overwrite:
        raise RecoveryError(
            f"文件 {dst} 已存在，未覆盖：旧恢复密钥可能仍是某些投标文件唯一的恢复途径。",
            f"{dst} already exists and was not overwritten: the old recovery key may be the only "
            "way to recover some bid files.",
            code="ERR_OUTPUT_EXISTS", path=str(dst),
        )
    try:
        write_atomic(dst, key.to_bytes(), private=True)
    except OSError as exc:
        raise RecoveryError(f"无法写入 {dst}：{exc.strerror or exc}。", f"Cannot write {dst}: {exc.strerror or exc}.",
                            code="ERR_IO", path=str(dst)) from exc
    return dst

"""What the envelope dialogs show, decided without widgets (Qt-free, testable alone).

* encryption: the recipients a bidder picked (the selected key's encryption certificate,
  certificate files such as a trading centre's emergency certificate, a recovery key
  file), each checked the way the engine will check it, so a signing certificate, an
  expired one or a file that is no certificate is refused with its reason before
  anything is written;
* decryption: the envelope's header as a bidder reads it, and which inserted key (or
  recovery file) can open it; if none, which certificate the file needs and which the
  keys hold.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.envelope import EnvelopeInfo, check_recipient
from app.envelope.matching import recipients_among
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.x509 import Certificate
from app.recovery import RecoveryError, is_recovery_certificate
from app.recovery import load as load_recovery
from app.settings import Settings
from app.ui.i18n import Text

#: Where a recipient comes from (shown as a tag in the list).
SOURCE_LABEL: dict[str, Text] = {
    "key": ("本 UKey", "this key"),
    "file": ("证书文件", "certificate file"),
    "recovery": ("恢复密钥", "recovery key"),
}
MAX_CERT_FILE = 1024 * 1024


@dataclass(frozen=True)
class RecipientRow:
    """One recipient (or one refused file) in the encrypt dialog's list."""

    source: str                      # "key", "file", "recovery"
    label: Text                      # who: unit / name and serial
    certificate: Certificate | None = field(default=None, repr=False)
    path: str | None = None
    problem: Text | None = None      # why it cannot be a recipient (None: it can)

    @property
    def ok(self) -> bool:
        return self.certificate is not None and self.problem is None

    @property
    def serial(self) -> str:
        return self.certificate.serial_hex if self.certificate is not None else ""


def _who(cert: Certificate) -> Text:
    who = recipient_name(cert.unit_name, cert.common_name)
    return (f"{who}（序列号 {cert.serial_hex}，有效至 {cert.not_after:%Y-%m-%d}）",
            f"{who} (serial {cert.serial_hex}, valid until {cert.not_after:%Y-%m-%d})")


def _checked(source: str, cert: Certificate, path: str | None, now: datetime | None) -> RecipientRow:
    try:
        check_recipient(cert, now or datetime.now(UTC))
    except BidSealError as exc:
        return RecipientRow(source, _who(cert), cert, path, (exc.zh, exc.en))
    return RecipientRow(source, _who(cert), cert, path)


def key_recipient(cert: Certificate, now: datetime | None = None) -> RecipientRow:
    """The selected key's encryption certificate, checked."""
    return _checked("key", cert, None, now)


def rows_from_certificate_file(path: str | os.PathLike[str], now: datetime | None = None) -> list[RecipientRow]:
    """Every certificate in a file (PEM bundle or DER), each checked; a file that holds no
    certificate gives one refused row saying so. Runs on a worker thread."""
    p = Path(path)
    name = p.name
    try:
        if p.stat().st_size > MAX_CERT_FILE:
            raise OSError("too large")
        certs = Certificate.load_all(p.read_bytes())
    except (OSError, GMError):
        certs = []
    if not certs:
        return [RecipientRow("file", (name, name), None, str(p),
                             ("不是证书文件（应为 .cer/.crt/.pem 格式的证书）。",
                              "Not a certificate file (a .cer/.crt/.pem certificate is expected)."))]
    return [_checked("recovery" if is_recovery_certificate(c) else "file", c, str(p), now) for c in certs]


def recovery_row(path: str | os.PathLike[str], now: datetime | None = None) -> RecipientRow:
    """The recovery key file's certificate (no passphrase needed to encrypt to it)."""
    try:
        key = load_recovery(path)
    except RecoveryError as exc:
        name = Path(path).name
        return RecipientRow("recovery", (name, name), None, str(path), (exc.zh, exc.en))
    return _checked("recovery", key.certificate, str(path), now)


def merge_rows(rows: Sequence[RecipientRow]) -> list[RecipientRow]:
    """Drop repeated certificates (the engine merges them anyway), keeping the first."""
    seen: set[bytes] = set()
    out = []
    for row in rows:
        if row.certificate is not None:
            if row.certificate.der in seen:
                continue
            seen.add(row.certificate.der)
        out.append(row)
    return out


def output_for(settings: Settings, src: str | os.PathLike[str], kind: str) -> Path:
    """Default output: ``<name>.bse`` for an envelope; the original name for a decrypted file
    (``bid.pdf.bse`` -> ``bid.pdf``; another name gets ``.decrypted``)."""
    if kind == "envelope":
        return settings.output_path("envelope", src)
    src_p = Path(src)
    if src_p.suffix.lower() == ".bse":
        return settings.output_path("decrypted", src)
    return settings.output_path("decrypted", src).with_name(src_p.name + ".decrypted")


# -- decryption -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecryptPlan:
    """Who can open an envelope here: the matching identities (key ids, in header order),
    whether the given recovery file is a recipient, and the sentences to show."""

    info: EnvelopeInfo
    key_ids: tuple[str, ...]
    recovery_ok: bool | None       # None: no recovery file given
    needed: Text
    held: Text

    @property
    def openable(self) -> bool:
        return bool(self.key_ids) or bool(self.recovery_ok)


def _names(items: list[tuple[str, str]]) -> str:
    return "；".join(f"{who}（{serial}）" for who, serial in items)


def decrypt_plan(info: EnvelopeInfo, identities: Sequence[tuple[str, Any]],
                 recovery: Certificate | None = None) -> DecryptPlan:
    """``identities``: (key id, token identity) of the inserted keys."""
    matches = recipients_among(info, list(identities), lambda kv: kv[1].enc_certificate)
    key_ids = tuple(dict.fromkeys(kid for _r, (kid, _i) in matches))
    needed_items = [(recipient_name(r.unit_name, r.common_name), r.serial_hex) for r in info.recipients]
    held_items = [(i.enc_certificate.unit_name or i.enc_certificate.common_name or "?", i.enc_certificate.serial_hex)
                  for _k, i in identities if i.enc_certificate is not None]
    needed = (f"文件需要以下任一加密证书：{_names(needed_items)}", f"The file needs one of these encryption "
              f"certificates: {_names(needed_items)}")
    held = ((f"插入的 UKey 持有：{_names(held_items)}", f"The inserted keys hold: {_names(held_items)}")
            if held_items else ("没有插入 UKey。", "No key is inserted."))
    rec_ok = None if recovery is None else bool(recipients_among(info, [recovery]))
    return DecryptPlan(info, key_ids, rec_ok, needed, held)


def describe_info(info: EnvelopeInfo) -> list[tuple[Text, str]]:
    """The header facts a bidder checks before opening: (label, value) rows."""
    size = info.plaintext_size
    human = f"{size / 1024**2:.1f} MB" if size >= 1024**2 else f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B"
    return [
        (("原文件名", "File name"), info.file_name),
        (("项目/标段", "Project / section"), info.project_id or "-"),
        (("投标单位代码", "Unit code"), info.unit_code or "-"),
        (("大小", "Size"), human),
        (("加密时间", "Encrypted"), f"{info.created_at.astimezone():%Y-%m-%d %H:%M}"),
    ]


def recipient_name(unit: str | None, common_name: str | None) -> str:
    """Who a recipient is: the unit, plus its common name when that says more (a recovery
    key's certificate is named "<unit> 恢复密钥", a centre's emergency certificate by its role)."""
    who = unit or common_name or "?"
    if common_name and unit and common_name != unit:
        who = f"{unit} / {common_name}"
    return who

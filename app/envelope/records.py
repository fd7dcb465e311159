"""The certificate lifecycle guard: BidSeal's own record of the envelopes it made.

Why: a bid is encrypted days or weeks before the opening. If the encryption
certificate it was made for expires, or the bidder renews or changes the certificate
in that time (renewal re-issues the encryption key), the UKey can no longer open the
file at the opening ("解密现场无法解密"). Keeping a small local record lets BidSeal warn
*before* that day: when a certificate that pending envelopes depend on expires before
their opening date, and before a renewal.

What is stored (SQLite in :func:`app.paths.data_dir`, mode 0600): the envelope's path,
file id, original file name, project, size, when it was made, the optional opening date,
and per recipient the certificate's serial, issuer, names, validity end, SM3
fingerprint and role (``"certificate"`` or ``"recovery"``). Never plaintext, keys, PINs
or passphrases. The front ends (CLI encrypt, the encrypt dialog) call
:meth:`EnvelopeRecords.add` after a successful encryption.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app import paths
from app.envelope.errors import EnvelopeError
from app.envelope.info import EnvelopeInfo
from app.gm.x509 import Certificate

DB_NAME = "envelope-records.sqlite3"
SCHEMA_VERSION = 1
#: Without an opening date, a certificate expiring this soon is still worth a warning.
SOON = timedelta(days=30)

ROLE_CERTIFICATE = "certificate"
ROLE_RECOVERY = "recovery"

RENEWAL_ZH = ("更新证书会重新签发加密密钥；为旧密钥加密的投标文件之后只能用恢复密钥文件"
              "或交易中心的应急证书打开。")
RENEWAL_EN = ("Renewing re-issues the encryption key; envelopes made for the old key can then only be "
              "opened with the recovery file or the centre's emergency certificate.")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS envelopes (
    file_id     TEXT PRIMARY KEY,
    path        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    project     TEXT,
    size        INTEGER NOT NULL,
    created     TEXT NOT NULL,
    opening     TEXT,
    opened      TEXT
);
CREATE TABLE IF NOT EXISTS recipients (
    file_id     TEXT NOT NULL REFERENCES envelopes(file_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    serial      TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    unit        TEXT,
    unit_code   TEXT,
    common_name TEXT,
    not_after   TEXT,
    fingerprint TEXT,
    role        TEXT NOT NULL,
    PRIMARY KEY (file_id, position)
);
"""


def db_path() -> Path:
    return paths.data_dir() / DB_NAME


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt is not None else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class RecordedRecipient:
    serial: str
    issuer: str
    unit: str | None
    unit_code: str | None
    common_name: str | None
    not_after: datetime | None
    fingerprint: str | None
    role: str

    @property
    def label(self) -> str:
        return f"{self.unit or self.common_name or '?'}（{self.serial}）"

    def to_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "issuer": self.issuer, "unit": self.unit,
                "unit_code": self.unit_code, "common_name": self.common_name, "not_after": _iso(self.not_after),
                "fingerprint_sm3": self.fingerprint, "role": self.role}

    def matches(self, cert: Certificate) -> bool:
        return self.fingerprint == cert.fingerprint_sm3 or (
            self.serial == cert.serial_hex and self.issuer == cert.issuer.rfc4514())


@dataclass(frozen=True)
class LifecycleWarning:
    """One reason a recorded envelope may not open at its opening."""

    code: str            # "expires_before_opening", "expired", "expiring_soon", "certificate_changed", "renewal"
    zh: str
    en: str
    file_id: str
    serial: str
    has_fallback: bool   # another recipient (recovery file, centre) can still open it

    def message(self, lang: str = "zh") -> str:
        return self.en if lang.lower().startswith("en") else self.zh

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "file_id": self.file_id,
                "serial": self.serial, "has_fallback": self.has_fallback}


@dataclass(frozen=True)
class EnvelopeRecord:
    file_id: str
    path: str
    file_name: str
    project: str | None
    size: int
    created: datetime
    opening: datetime | None
    opened: datetime | None
    recipients: tuple[RecordedRecipient, ...]

    def state(self, now: datetime | None = None) -> str:
        """``opened`` | ``missing`` (the file is gone) | ``due`` (opening reached) | ``waiting``."""
        now = now or datetime.now(UTC)
        if self.opened is not None:
            return "opened"
        if not os.path.exists(self.path):
            return "missing"
        if self.opening is not None and self.opening <= now:
            return "due"
        return "waiting"

    @property
    def pending(self) -> bool:
        return self.opened is None

    def warnings(self, now: datetime | None = None) -> list[LifecycleWarning]:
        """Recipient certificates that may not open this envelope at its opening."""
        now = now or datetime.now(UTC)
        if not self.pending:
            return []
        when = self.opening if self.opening is not None and self.opening > now else None
        out = []
        for r in self.recipients:
            if r.role != ROLE_CERTIFICATE or r.not_after is None:
                continue
            fallback = self._fallbacks(r, when or now)
            tail_zh = (f"仍可用 {'、'.join(f.label for f in fallback)} 打开。" if fallback
                       else "没有其他接收者能打开它：请在开标前用有效证书（并加上恢复密钥）重新加密并上传。")
            tail_en = (f"It can still be opened with {', '.join(f.label for f in fallback)}." if fallback
                       else "No other recipient can open it: re-encrypt it with a valid certificate (and a "
                            "recovery key) and upload it again before the opening.")
            if r.not_after <= now:
                code, zh, en = ("expired", f"加密证书 {r.label} 已于 {r.not_after:%Y-%m-%d} 过期。",
                                f"The encryption certificate {r.label} expired on {r.not_after:%Y-%m-%d}.")
            elif when is not None and r.not_after < when:
                code = "expires_before_opening"
                zh = (f"加密证书 {r.label} 将于 {r.not_after:%Y-%m-%d} 过期，早于开标时间 "
                      f"{when:%Y-%m-%d %H:%M}；证书过期或更新后 UKey 可能无法解密该文件。")
                en = (f"The encryption certificate {r.label} expires on {r.not_after:%Y-%m-%d}, before the "
                      f"opening on {when:%Y-%m-%d %H:%M}; once it expires or is renewed the UKey may not "
                      "decrypt the file.")
            elif when is None and self.opening is None and r.not_after - now < SOON:
                code = "expiring_soon"
                zh = (f"加密证书 {r.label} 将于 {r.not_after:%Y-%m-%d} 过期；请填写开标时间以便检查。")
                en = (f"The encryption certificate {r.label} expires on {r.not_after:%Y-%m-%d}; enter the "
                      "opening date so it can be checked.")
            else:
                continue
            out.append(LifecycleWarning(code, f"《{self.file_name}》：{zh}{tail_zh}",
                                        f"'{self.file_name}': {en} {tail_en}", self.file_id, r.serial,
                                        bool(fallback)))
        return out

    def _fallbacks(self, failing: RecordedRecipient, at: datetime) -> list[RecordedRecipient]:
        return [r for r in self.recipients if r is not failing
                and (r.role == ROLE_RECOVERY or (r.not_after is not None and r.not_after > at))]

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {"file_id": self.file_id, "path": self.path, "file_name": self.file_name,
                "project": self.project, "size": self.size, "created": _iso(self.created),
                "opening": _iso(self.opening), "opened": _iso(self.opened), "state": self.state(now),
                "recipients": [r.to_dict() for r in self.recipients],
                "warnings": [w.to_dict() for w in self.warnings(now)]}


class RecordsError(EnvelopeError):
    code = "ERR_RECORDS"


class EnvelopeRecords:
    """The record store. Each call opens and closes its own connection, so any thread
    (a GUI worker, the CLI) may use one instance."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else db_path()

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            paths.ensure(self.path.parent)
            fresh = not self.path.exists()
            con = sqlite3.connect(self.path, timeout=10)
            if fresh:
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc
        try:
            con.execute("PRAGMA foreign_keys = ON")
            if con.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                con.executescript(_SCHEMA)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            with con:
                yield con
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        finally:
            con.close()

    def _error(self, exc: Exception) -> RecordsError:
        return RecordsError(f"无法读写投标文件记录（{self.path}）：{exc}",
                            f"Cannot read or write the envelope records ({self.path}): {exc}",
                            path=str(self.path))

    def add(self, envelope_path: str | os.PathLike[str], info: EnvelopeInfo,
            certificates: Sequence[Certificate], *, opening: datetime | None = None,
            recovery: Iterable[Certificate] = ()) -> EnvelopeRecord:
        """Record an envelope just made from ``info`` for ``certificates`` (those in
        ``recovery`` get the recovery role). Re-adding the same file id replaces it."""
        recovery_set = set(recovery)
        rows = []
        for position, r in enumerate(info.recipients):
            cert = next((c for c in certificates if c.serial_hex == r.serial_hex
                         and c.issuer.rfc4514() == r.issuer), None)
            rows.append((info.file_id, position, r.serial_hex, r.issuer, r.unit_name, r.unit_code,
                         r.common_name,
                         _iso(cert.not_after) if cert else None, cert.fingerprint_sm3 if cert else None,
                         ROLE_RECOVERY if cert in recovery_set else ROLE_CERTIFICATE))
        with self._db() as con:
            con.execute("DELETE FROM envelopes WHERE file_id = ?", (info.file_id,))
            con.execute("INSERT INTO envelopes VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                        (info.file_id, os.path.abspath(envelope_path), info.file_name, info.project_id,
                         info.envelope_size, _iso(info.created_at), _iso(opening)))
            con.executemany("INSERT INTO recipients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return self.get(info.file_id)

    def get(self, file_id: str) -> EnvelopeRecord:
        found = self._select("WHERE file_id = ?", (file_id,))
        if not found:
            raise RecordsError("没有这个投标文件的记录。", "No record of this envelope.", file_id=file_id)
        return found[0]

    def entries(self, *, include_opened: bool = False) -> list[EnvelopeRecord]:
        """Records, newest first (pending ones only unless ``include_opened``)."""
        return self._select("" if include_opened else "WHERE opened IS NULL", ())

    def _select(self, where: str, params: tuple[Any, ...]) -> list[EnvelopeRecord]:
        with self._db() as con:
            envs = con.execute(f"SELECT * FROM envelopes {where} ORDER BY created DESC", params).fetchall()
            out = []
            for file_id, path, name, project, size, created, opening, opened in envs:
                recs = tuple(
                    RecordedRecipient(serial, issuer, unit, code, cn, _dt(na), fp, role)
                    for serial, issuer, unit, code, cn, na, fp, role in con.execute(
                        "SELECT serial, issuer, unit, unit_code, common_name, not_after, fingerprint, role "
                        "FROM recipients WHERE file_id = ? ORDER BY position", (file_id,)))
                out.append(EnvelopeRecord(file_id, path, name, project, size, _dt(created) or datetime.min,
                                          _dt(opening), _dt(opened), recs))
            return out

    def _update(self, sql: str, params: tuple[Any, ...], file_id: str) -> EnvelopeRecord:
        with self._db() as con:
            if con.execute(sql, params).rowcount == 0:
                raise RecordsError("没有这个投标文件的记录。", "No record of this envelope.", file_id=file_id)
        return self.get(file_id)

    def set_opening(self, file_id: str, opening: datetime | None) -> EnvelopeRecord:
        return self._update("UPDATE envelopes SET opening = ? WHERE file_id = ?", (_iso(opening), file_id),
                            file_id)

    def mark_opened(self, file_id: str, when: datetime | None = None) -> EnvelopeRecord:
        """The envelope was opened (decrypted at the opening): it no longer needs guarding."""
        return self._update("UPDATE envelopes SET opened = ? WHERE file_id = ?",
                            (_iso(when or datetime.now(UTC)), file_id), file_id)

    def forget(self, file_id: str) -> None:
        with self._db() as con:
            con.execute("DELETE FROM envelopes WHERE file_id = ?", (file_id,))

    # -- the guard ---------------------------------------------------------------------

    def warnings(self, now: datetime | None = None) -> list[LifecycleWarning]:
        """Every warning of every pending envelope."""
        return [w for rec in self.entries() for w in rec.warnings(now)]

    def depending_on(self, cert: Certificate) -> list[EnvelopeRecord]:
        """Pending envelopes that ``cert`` is a recipient of."""
        return [rec for rec in self.entries() if any(r.matches(cert) for r in rec.recipients)]

    def renewal_warnings(self, cert: Certificate) -> list[LifecycleWarning]:
        """What to tell a bidder about to renew or change ``cert`` (empty: nothing depends on it)."""
        out = []
        for rec in self.depending_on(cert):
            mine = next(r for r in rec.recipients if r.matches(cert))
            fallback = rec._fallbacks(mine, rec.opening or datetime.now(UTC))
            out.append(LifecycleWarning(
                "renewal",
                f"《{rec.file_name}》（{rec.project or '-'}）是为证书 {mine.label} 加密的。{RENEWAL_ZH}"
                + ("" if fallback else "该文件没有恢复密钥或其他接收者：请在更新前完成开标，或用新证书重新加密。"),
                f"'{rec.file_name}' ({rec.project or '-'}) was encrypted for certificate {mine.label}. {RENEWAL_EN}"
                + ("" if fallback else " It has no recovery key or other recipient: finish the opening before "
                   "renewing, or re-encrypt it with the new certificate."),
                rec.file_id, mine.serial, bool(fallback)))
        return out

    def changed_certificate_warnings(self, present: Iterable[Certificate],
                                     now: datetime | None = None) -> list[LifecycleWarning]:
        """Pending envelopes made for an encryption certificate of a unit whose inserted key
        now holds a different one (the certificate was renewed or the key replaced)."""
        present = list(present)
        out = []
        for rec in self.entries():
            for r in rec.recipients:
                if r.role != ROLE_CERTIFICATE:
                    continue
                if any(r.matches(c) for c in present):
                    continue
                current = next((c for c in present if _same_unit(r, c)), None)
                if current is None:
                    continue
                fallback = rec._fallbacks(r, rec.opening or now or datetime.now(UTC))
                out.append(LifecycleWarning(
                    "certificate_changed",
                    f"《{rec.file_name}》是为加密证书 {r.label} 加密的，但插入的 UKey 现在持有证书 "
                    f"{current.serial_hex}。{RENEWAL_ZH}",
                    f"'{rec.file_name}' was encrypted for certificate {r.label}, but the inserted key now "
                    f"holds certificate {current.serial_hex}. {RENEWAL_EN}",
                    rec.file_id, r.serial, bool(fallback)))
        return out


def _same_unit(recorded: RecordedRecipient, cert: Certificate) -> bool:
    """The same bidder: equal unit codes when both are known, else equal unit names."""
    if recorded.unit_code and cert.unit_code:
        return recorded.unit_code == cert.unit_code
    return bool(recorded.unit and cert.unit_name and recorded.unit == cert.unit_name)

"""The support report: one zip a bidder sends to their CA's or the centre's support.

What is in it: versions, the diagnosis (text and JSON), summaries of the certificates on
the inserted keys (public data: subject, issuer, serial, validity, fingerprint), the
settings (the file holds no secrets by design), the state of the envelope records
(counts and warnings, not file contents), and the tail of BidSeal's log files.

What is never in it: a PIN, a passphrase, a private key, a bid document or any other
file of the user. Logs are written without secrets in the first place; the report
still passes every text through :func:`redact` (PEM private-key blocks, ``pin=...`` /
``password: ...`` / ``口令：...`` assignments, and any secret the caller names), so a
careless log line elsewhere cannot leak through it.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import paths
from app import settings as app_settings
from app.atomic import AtomicFile
from app.diagnostics.model import DiagnosticReport
from app.diagnostics.system_checks import versions
from app.errors import BidSealError

LOG_LINES = 300
MAX_LOG_FILES = 6
REDACTED = "<已隐去 redacted>"

_PRIVATE_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?(-----END \1-----|\Z)", re.S)
_ASSIGNMENT = re.compile(
    r"(?i)((?:user_?|admin_?|new_?|old_?)?(?:pin|passphrase|password|passwd|pwd|secret)|口令|密码|PIN码)"
    r"(\s*[\"']?\s*[:=：]\s*[\"']?)([^\s\"',;}]+)")


def redact(text: str, secrets: Sequence[str | bytes] = ()) -> str:
    """``text`` without private-key blocks, secret assignments or the given secrets."""
    text = _PRIVATE_PEM.sub(f"[{REDACTED}: private key]", text)
    text = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    for secret in secrets:
        value = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
        if value:
            text = text.replace(value, REDACTED)
    return text


def _tail(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read()
    except OSError as exc:
        return f"(cannot read: {exc.strerror or exc})"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def log_files(folder: Path | None = None) -> list[Path]:
    """BidSeal's newest log files (``*.log`` and ``*.txt`` in the log folder)."""
    folder = folder or paths.log_dir()
    if not folder.is_dir():
        return []
    found = [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".log", ".txt")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:MAX_LOG_FILES]


@dataclass(frozen=True)
class SupportReport:
    path: Path
    members: tuple[str, ...]


class SupportReportError(BidSealError):
    code = "ERR_SUPPORT_REPORT"


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _records_summary() -> dict[str, Any]:
    from app.envelope.records import EnvelopeRecords

    try:
        pending = EnvelopeRecords().entries()
    except BidSealError as exc:
        return {"error": exc.code}
    return {"pending": len(pending),
            "states": sorted(r.state() for r in pending),
            "warnings": [w.code for r in pending for w in r.warnings()]}


def build_members(report: DiagnosticReport, secrets: Sequence[str | bytes] = (),
                  log_folder: Path | None = None) -> dict[str, str]:
    """The report's files as name -> text (already redacted)."""
    now = datetime.now(UTC)
    members: dict[str, str] = {
        "README.txt": (
            "BidSeal 支持报告 / BidSeal support report\n"
            f"生成时间 / made: {now.isoformat()}\n\n"
            "包含：版本、一键检测结果、UKey 证书摘要（公开信息）、设置、投标文件记录的统计、日志末尾。\n"
            "不包含：口令、恢复密钥口令、私钥、投标文件或其他用户文件。\n"
            "Contains: versions, the diagnosis, summaries of the key's certificates (public data), settings, "
            "envelope record counts, the end of the logs.\n"
            "Never contains: a PIN, a passphrase, a private key, a bid document or other user files.\n"),
        "diagnostics.txt": report.text("zh") + "\n\n" + report.text("en") + "\n",
        "diagnostics.json": _json(report.to_dict()),
        "certificates.json": _json(list(report.certificates)),
        "versions.json": _json(versions()),
        "settings.json": _json({k: v for k, v in asdict(app_settings.load()).items()}),
        "envelope-records.json": _json(_records_summary()),
    }
    for path in log_files(log_folder):
        members[f"logs/{path.name}"] = _tail(path, LOG_LINES) + "\n"
    return {name: redact(text, secrets) for name, text in members.items()}


def write_support_report(dst: str | os.PathLike[str], report: DiagnosticReport, *,
                         secrets: Sequence[str | bytes] = (), log_folder: Path | None = None) -> SupportReport:
    """Write the zip to ``dst`` (whole or not at all). ``secrets`` are extra strings that must
    not appear (e.g. a PIN a front end still holds); they are redacted wherever found."""
    members = build_members(report, secrets, log_folder)
    target = Path(dst)
    try:
        with AtomicFile(target, private=True) as out:
            with zipfile.ZipFile(out.file, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, text in members.items():
                    zf.writestr(f"bidseal-support/{name}", text.encode("utf-8"))
            out.commit()
    except OSError as exc:
        raise SupportReportError(f"无法写入支持报告 {target}：{exc.strerror or exc}。",
                                 f"Cannot write the support report {target}: {exc.strerror or exc}.",
                                 details={"path": str(target)}) from exc
    return SupportReport(target, tuple(members))

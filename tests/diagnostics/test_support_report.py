"""The support report holds versions, the diagnosis, certificate summaries and the log
tail, and never a PIN, a passphrase, a private key or a document."""

from __future__ import annotations

import json
import os
import stat
import zipfile

import pytest

from app import paths
from app.diagnostics import redact, run_diagnostics, write_support_report
from app.diagnostics.support import REDACTED, SupportReportError
from app.token.session import open_session
from tests.support.softkey import ADMIN_PIN, USER_PIN


def _read_all(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist()}


@pytest.fixture()
def careless_logs(home):
    """Log files as a careless component might write them, plus a document in the log folder."""
    logs = paths.ensure(paths.log_dir())
    (logs / "engine.log").write_text(
        "12:00 open session\n"
        f"12:01 DEBUG pin={USER_PIN} retries=6\n"
        f'12:02 request {{"user_pin": "{USER_PIN}", "origin": "https://hub.example.cn"}}\n'
        f"12:03 admin PIN: {ADMIN_PIN}\n"
        "12:04 恢复密钥口令：开标应急口令2026\n"
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
        "12:05 done\n", encoding="utf-8")
    (logs / "bid.pdf").write_bytes(b"%PDF-1.7 the confidential bid price is 12,345,678 yuan")
    return logs


def test_support_report_contents_and_no_secrets(ukey, softskf_lib, pool, careless_logs, tmp_path):
    # the PIN really was used in this process just before the report is made
    with open_session(ukey, USER_PIN, pool=pool):
        pass
    report = run_diagnostics(libraries=[softskf_lib], pool=pool)
    out = tmp_path / "support.zip"
    written = write_support_report(out, report)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    files = _read_all(out)
    names = {n.removeprefix("bidseal-support/") for n in files}
    assert names == {"README.txt", "diagnostics.txt", "diagnostics.json", "certificates.json", "versions.json",
                     "settings.json", "envelope-records.json", "logs/engine.log"}
    assert set(written.members) == names
    everything = "\n".join(files.values())
    raw = out.read_bytes()
    for secret in (USER_PIN, ADMIN_PIN, "开标应急口令2026", "MIGHAgEAMBMGByqGSM49", "12,345,678"):
        assert secret not in everything, secret
        assert secret.encode() not in raw
    assert "bid.pdf" not in everything
    # but what support needs is there
    certs = json.loads(files["bidseal-support/certificates.json"])
    assert {c["sign_certificate"]["serial_hex"] for c in certs} >= {ukey.sign_certificate.serial_hex}
    diag = json.loads(files["bidseal-support/diagnostics.json"])
    assert {c["id"] for c in diag["checks"]} >= {"skf_libraries", "keys", "pin", "versions"}
    assert "12:05 done" in files["bidseal-support/logs/engine.log"]
    assert json.loads(files["bidseal-support/versions.json"])["bidseal"]
    assert "[X]" in files["bidseal-support/diagnostics.txt"] or "[OK]" in files["bidseal-support/diagnostics.txt"]


def test_extra_secrets_named_by_the_caller_are_removed(tmp_path, home):
    logs = paths.ensure(paths.log_dir())
    (logs / "gui.log").write_text("typed 8642-1357 into the wrong field\n")
    out = tmp_path / "s.zip"
    write_support_report(out, run_diagnostics(only={"versions"}), secrets=["8642-1357"])
    assert "8642-1357" not in "".join(_read_all(out).values())


@pytest.mark.parametrize("line", [
    "pin=123456", "PIN: 123456", "user_pin='123456'", '"password": "hunter22"', "passphrase = open sesame",
    "口令：123456", "密码=abc123", "new_pin=654321",
])
def test_redact_assignments(line):
    assert REDACTED in redact(line)
    assert "123456" not in redact(line) and "hunter22" not in redact(line) and "abc123" not in redact(line)


def test_redact_keeps_ordinary_text():
    text = "UKey DIAG-A: 6/6 attempts left; PIN locked? no; spinning"
    assert redact(text) == text


def test_unwritable_destination_is_a_clear_error_and_leaves_nothing(readonly_folder):
    report = run_diagnostics(only={"versions"})
    with pytest.raises(SupportReportError) as info:
        write_support_report(readonly_folder / "s.zip", report)
    assert "无法写入支持报告" in info.value.zh
    assert list(readonly_folder.iterdir()) == []

"""``bidseal diagnose`` and ``bidseal support-report``; the PC/SC check against a real
pcscd and without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.cli.main import main
from app.diagnostics import run_diagnostics
from app.diagnostics.model import Status

REPO = Path(__file__).resolve().parents[2]


def test_diagnose_json_and_exit_code(unplugged, capsys):
    assert main(["diagnose", "--json", "--guide", "decrypt"]) == 1  # no key: an error was found
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "error" and data["guide"]["steps"][0]["highlighted"]
    assert any(c["id"] == "keys" and c["status"] == "error" for c in data["checks"])


def test_diagnose_text_with_a_key(ukey, capsys):
    code = main(["diagnose", "--guide", "cert"])
    out = capsys.readouterr().out
    assert "UKey" in out and "证书无法读取" in out and "DIAG-A" in out
    assert code in (0, 1)


def test_support_report_cli(ukey, tmp_path, capsys):
    out = tmp_path / "support.zip"
    assert main(["support-report", "-o", str(out)]) == 0
    assert "不含口令" in capsys.readouterr().out
    with zipfile.ZipFile(out) as zf:
        assert "bidseal-support/diagnostics.json" in zf.namelist()


def test_pcsc_service_missing_is_a_warning_with_the_fix(tmp_path, home):
    """pyscard reads the socket path at load time, so this runs in a fresh process."""
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"), PYTHONPATH=str(REPO))
    code = ("import json; from app.diagnostics import run_diagnostics; "
            "print(json.dumps(run_diagnostics(only={'pcsc'}).to_dict()))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [check] = json.loads(proc.stdout)["checks"]
    assert check["status"] == "warning" and "pcscd" in check["fix"]["zh"]


@pytest.mark.timeout(120)
def test_pcsc_service_running_lists_the_readers():
    from tests.support.pcsc_env import PcscEnv, PcscEnvError

    try:
        env = PcscEnv()
        env.__enter__()
    except PcscEnvError as exc:
        pytest.fail(f"real PC/SC test environment unavailable: {exc}", pytrace=False)
    try:
        [check] = run_diagnostics(only={"pcsc"}).checks
    finally:
        env.__exit__(None, None, None)
    assert check.status is Status.OK
    assert any(r.startswith("Virtual PCD") for r in check.details["readers"])

"""A command that cannot succeed fails before it asks for the PIN, and a driver failure
is reported as such by every command, never as "no UKey inserted".

Every case feeds a WRONG PIN on stdin: had the PIN been used, the key's retry counter
would drop. Driver faults come from libsoftskf's SOFTSKF_FAULTS in the token host.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import KEYWORD, WRONG_PIN, Keys, bidseal, files_in, retries


@pytest.fixture()
def envelope(keys: Keys, tmp_path: Path, bid: Path) -> Path:
    (tmp_path / "a.pem").write_bytes(keys.a.enc_certificate.pem)
    out = tmp_path / "bid.bse"
    res = bidseal("encrypt", bid, "-o", out, "--to", tmp_path / "a.pem", "--yes")
    assert res.returncode == 0, res.stderr
    (tmp_path / "a.pem").unlink()
    return out


def _device_node(tmp_path: Path) -> Path:
    """A character device to write to: a private copy of /dev/null when root (so a bug
    could never replace the real one), /dev/null itself otherwise."""
    if os.geteuid() == 0:
        node = tmp_path / "null-device"
        os.mknod(node, 0o666 | 0o020000, os.makedev(1, 3))
        return node
    return Path(os.devnull)


SIGN_CASES = {
    "input missing": (["{tmp}/missing.pdf", "-o", "{tmp}/out.pdf", "--keyword", KEYWORD], "ERR_IO"),
    "keyword not found": (["{bid}", "-o", "{tmp}/out.pdf", "--keyword", "不存在的关键字"], "ERR_KEYWORD_NOT_FOUND"),
    "page out of range": (["{bid}", "-o", "{tmp}/out.pdf", "--page", "9", "--rect", "100,100,200,200"],
                          "ERR_PAGE_OUT_OF_RANGE"),
    "unknown seal": (["{bid}", "-o", "{tmp}/out.pdf", "--keyword", KEYWORD, "--seal", "nosuch"], "ERR_USAGE"),
    "output folder missing": (["{bid}", "-o", "{tmp}/no/such/out.pdf", "--keyword", KEYWORD], "ERR_IO"),
    "output exists": (["{bid}", "-o", "{tmp}/exists.pdf", "--keyword", KEYWORD], "ERR_OUTPUT_EXISTS"),
    "output is a device": (["{bid}", "-o", "{dev}", "--keyword", KEYWORD], "ERR_OUTPUT_NOT_A_FILE"),
    "trust file missing": (["{bid}", "-o", "{tmp}/out.pdf", "--keyword", KEYWORD, "--trust", "{tmp}/no.pem"],
                           "ERR_IO"),
    "output is the input": (["{bid}", "-o", "{bid}", "--keyword", KEYWORD], "ERR_OUTPUT_IS_INPUT"),
}


@pytest.mark.parametrize("case", sorted(SIGN_CASES))
def test_sign_fails_before_the_pin(keys: Keys, tmp_path: Path, bid: Path, case: str) -> None:
    argv, code = SIGN_CASES[case]
    (tmp_path / "exists.pdf").write_bytes(b"keep me")
    dev = _device_node(tmp_path)
    args = [a.format(tmp=tmp_path, bid=bid, dev=dev) for a in argv]
    before = files_in(tmp_path), bid.read_bytes(), retries("KEY-A")
    res = bidseal("sign", *args, "--key", "KEY-A", "--pin-stdin", "--json", stdin=f"{WRONG_PIN}\n".encode())
    assert res.returncode == 2, res.stdout + res.stderr
    error = json.loads(res.stdout)["error"]
    assert error["code"] == code and error["zh"] and error["en"]
    assert (files_in(tmp_path), bid.read_bytes(), retries("KEY-A")) == before
    assert (tmp_path / "exists.pdf").read_bytes() == b"keep me"


DECRYPT_CASES = {
    "truncated envelope": ("truncate", "ERR_INTEGRITY", 1),
    "not an envelope": ("garbage", "ERR_ENVELOPE_FORMAT", 2),
    "output exists": ("exists", "ERR_OUTPUT_EXISTS", 2),
    "output is a device": ("device", "ERR_OUTPUT_NOT_A_FILE", 2),
}


@pytest.mark.parametrize("case", sorted(DECRYPT_CASES))
def test_decrypt_fails_before_the_pin(keys: Keys, tmp_path: Path, envelope: Path, case: str) -> None:
    how, code, rc = DECRYPT_CASES[case]
    out = tmp_path / "opened.pdf"
    if how == "truncate":
        envelope.write_bytes(envelope.read_bytes()[:-100])
    elif how == "garbage":
        envelope.write_bytes(b"%PDF-1.7 this is the bid itself, not its envelope")
    elif how == "exists":
        out.write_bytes(b"keep me")
    else:
        out = _device_node(tmp_path)
    before = files_in(tmp_path), retries("KEY-A"), retries("KEY-B")
    res = bidseal("decrypt", envelope, "-o", out, "--pin-stdin", stdin=f"{WRONG_PIN}\n".encode())
    assert res.returncode == rc, res.stderr
    assert code in res.stderr and "错误 / Error" in res.stderr
    assert (files_in(tmp_path), retries("KEY-A"), retries("KEY-B")) == before


FAULTS = {
    "EnumDev error": ("SKF_EnumDev:1:0x0A000001", "SKF_EnumDev", "0x0A000001"),
    "ConnectDev crash": ("SKF_ConnectDev:1:crash", "SKF_ConnectDev", "crash"),
    "ExportCertificate error": ("SKF_ExportCertificate:1:0x0A000005", "SKF_ExportCertificate", "0x0A000005"),
}


def _commands(tmp_path: Path, bid: Path, envelope: Path) -> dict[str, list[str | Path]]:
    return {
        "sign": ["sign", bid, "-o", tmp_path / "out.pdf", "--keyword", KEYWORD, "--pin-stdin"],
        "decrypt": ["decrypt", envelope, "-o", tmp_path / "out.pdf", "--pin-stdin"],
        "pin-info": ["token", "pin-info"],
        "change-pin": ["token", "change-pin", "--pin-stdin"],
        "export-cert": ["token", "export-cert", "-o", tmp_path / "out.pem"],
        "encrypt --to-key": ["encrypt", bid, "-o", tmp_path / "out.bse", "--to-key", "--yes"],
    }


COMMANDS = ["sign", "decrypt", "pin-info", "change-pin", "export-cert", "encrypt --to-key", "token list"]


@pytest.mark.parametrize("command", COMMANDS)
def test_driver_failure_is_reported_by_every_command(keys: Keys, tmp_path: Path, bid: Path, command: str) -> None:
    """Each command meets one of the faults (in turn, so every fault is met by several)."""
    fault = sorted(FAULTS)[COMMANDS.index(command) % len(FAULTS)]
    spec, function, code = FAULTS[fault]
    from app.demo.pki import demo_pki

    (tmp_path / "x.pem").write_bytes(demo_pki(unit_name="他人公司").enc_cert.pem)
    envelope = tmp_path / "bid.bse"
    assert bidseal("encrypt", bid, "-o", envelope, "--to", tmp_path / "x.pem", "--yes").returncode == 0
    before = files_in(tmp_path), retries("KEY-A"), retries("KEY-B")
    if command == "token list":
        res = bidseal("token", "list", env={"SOFTSKF_FAULTS": spec})
        assert function in res.stdout + res.stderr and "没有检测到 UKey" not in res.stdout + res.stderr
        assert res.returncode in (0, 2)  # 0 when the other key could still be listed
        return
    argv = _commands(tmp_path, bid, envelope)[command]
    res = bidseal(*argv, stdin=f"{WRONG_PIN}\n{WRONG_PIN}\n".encode(), env={"SOFTSKF_FAULTS": spec})
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "ERR_TOKEN_DRIVER" in res.stderr
    assert function in res.stderr and code in res.stderr
    assert "驱动" in res.stderr and "driver" in res.stderr
    assert "没有检测到 UKey" not in res.stderr and "No UKey detected" not in res.stderr
    assert (files_in(tmp_path), retries("KEY-A"), retries("KEY-B")) == before


def test_a_named_key_is_used_despite_another_drivers_failure(keys: Keys, tmp_path: Path, bid: Path) -> None:
    """After a failure nothing is guessed, but a key named with --key that was read fine is used."""
    res = bidseal("token", "pin-info", "--json", env={"SOFTSKF_FAULTS": "SKF_ExportCertificate:1:0x0A000005"})
    assert res.returncode == 2 and json.loads(res.stdout)["error"]["code"] == "ERR_TOKEN_DRIVER"
    found = json.loads(res.stdout)["error"]["details"]["found"]
    assert len(found) == 1 and "--key" in json.loads(res.stdout)["error"]["zh"]
    res = bidseal("token", "pin-info", "--key", found[0]["device"], "--json",
                  env={"SOFTSKF_FAULTS": "SKF_ExportCertificate:1:0x0A000005"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["key"]["device"] == found[0]["device"]
    assert "SKF_ExportCertificate" in res.stderr  # the failure is still mentioned

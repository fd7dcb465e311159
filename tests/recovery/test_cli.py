"""``bidseal recovery new|info|check`` and ``encrypt/decrypt --recovery``: end to end."""

from __future__ import annotations

import io
import json
import os
import stat
import sys

import pytest

from app import recovery
from app.cli.main import main
from app.demo.pki import demo_pki

from .conftest import FAST, PASSPHRASE


class _Stdin(io.StringIO):
    """Standard input with a record of how much was read (to prove nothing was asked)."""

    def isatty(self) -> bool:
        return False


@pytest.fixture()
def stdin(monkeypatch):
    def feed(text: str) -> _Stdin:
        s = _Stdin(text)
        monkeypatch.setattr(sys, "stdin", s)
        return s

    return feed


@pytest.fixture(scope="module")
def pki():
    return demo_pki()


@pytest.fixture()
def bid(tmp_path, pki):
    (tmp_path / "enc.pem").write_bytes(pki.enc_cert.pem)
    f = tmp_path / "bid.pdf"
    f.write_bytes(os.urandom(30000))
    return f


def test_new_info_check(tmp_path, stdin, capsys):
    out = tmp_path / "me.bsrk"
    stdin(PASSPHRASE + "\n")
    assert main(["recovery", "new", "-o", str(out), "--unit", "辽宁示例建设工程有限公司",
                 "--passphrase-stdin", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert made["kdf"]["n"] == FAST.n and made["unit_name"] == "辽宁示例建设工程有限公司"
    assert main(["recovery", "info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint_sm3"] == made["fingerprint_sm3"]
    stdin(PASSPHRASE + "\n")
    assert main(["recovery", "check", str(out), "--passphrase-stdin"]) == 0
    stdin("not the passphrase\n")
    assert main(["recovery", "check", str(out), "--passphrase-stdin"]) == 2
    assert "ERR_RECOVERY_PASSPHRASE" in capsys.readouterr().err


def test_new_refuses_an_existing_file_before_asking(tmp_path, stdin, capsys):
    out = tmp_path / "me.bsrk"
    out.write_text("keep me")
    s = stdin(PASSPHRASE + "\n")
    assert main(["recovery", "new", "-o", str(out), "--passphrase-stdin"]) == 2
    assert out.read_text() == "keep me" and s.tell() == 0
    assert "ERR_OUTPUT_EXISTS" in capsys.readouterr().err


def test_new_refuses_a_weak_passphrase(tmp_path, stdin, capsys):
    stdin("123456\n")
    assert main(["recovery", "new", "-o", str(tmp_path / "me.bsrk"), "--passphrase-stdin"]) == 2
    assert "ERR_RECOVERY_WEAK_PASSPHRASE" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_without_a_terminal_the_passphrase_must_come_from_stdin(recovery_file, stdin, capsys):
    stdin("")
    assert main(["recovery", "check", str(recovery_file)]) == 2
    assert "--passphrase-stdin" in capsys.readouterr().err


def test_encrypt_with_recovery_then_decrypt_with_it_alone(tmp_path, bid, recovery_key, recovery_file,
                                                         stdin, capsys):
    env, out = tmp_path / "bid.bse", tmp_path / "opened.pdf"
    assert main(["encrypt", str(bid), "-o", str(env), "--to", str(tmp_path / "enc.pem"),
                 "--recovery", str(recovery_file), "--project", "LN-2026-7", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [r["serial"] for r in info["recipients"]][1] == recovery_key.serial_hex
    stdin(PASSPHRASE + "\n")
    assert main(["decrypt", str(env), "-o", str(out), "--recovery", str(recovery_file),
                 "--passphrase-stdin", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["opened_by"] == 1 and out.read_bytes() == bid.read_bytes()


def test_recovery_file_given_as_plain_recipient_certificate(tmp_path, bid, recovery_file, stdin, capsys):
    """The recovery file is also a certificate file: ``--to FILE.bsrk`` works the same."""
    env, out = tmp_path / "bid.bse", tmp_path / "opened.pdf"
    assert main(["encrypt", str(bid), "-o", str(env), "--to", str(recovery_file)]) == 0
    stdin(PASSPHRASE + "\n")
    assert main(["decrypt", str(env), "-o", str(out), "--recovery", str(recovery_file),
                 "--passphrase-stdin"]) == 0
    assert out.read_bytes() == bid.read_bytes()


def test_foreign_recovery_file_fails_before_the_passphrase(tmp_path, bid, recovery_file, stdin, capsys):
    env, out = tmp_path / "bid.bse", tmp_path / "opened.pdf"
    assert main(["encrypt", str(bid), "-o", str(env), "--to", str(tmp_path / "enc.pem")]) == 0
    s = stdin(PASSPHRASE + "\n")
    assert main(["decrypt", str(env), "-o", str(out), "--recovery", str(recovery_file),
                 "--passphrase-stdin"]) == 2
    err = capsys.readouterr().err
    assert "ERR_NOT_RECIPIENT" in err and "不是此信封的接收者" in err
    assert s.tell() == 0 and not out.exists()


def test_wrong_passphrase_leaves_nothing(tmp_path, bid, recovery_file, stdin, capsys):
    env, out = tmp_path / "bid.bse", tmp_path / "opened.pdf"
    main(["encrypt", str(bid), "-o", str(env), "--to", str(tmp_path / "enc.pem"),
          "--recovery", str(recovery_file)])
    before = sorted(p.name for p in tmp_path.iterdir())
    stdin("wrong wrong wrong\n")
    assert main(["decrypt", str(env), "-o", str(out), "--recovery", str(recovery_file),
                 "--passphrase-stdin"]) == 2
    assert "ERR_RECOVERY_PASSPHRASE" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_recovery_cannot_be_combined_with_key_options(tmp_path, bid, recovery_file, stdin, capsys):
    env = tmp_path / "bid.bse"
    main(["encrypt", str(bid), "-o", str(env), "--to", str(recovery_file)])
    stdin(PASSPHRASE + "\n")
    assert main(["decrypt", str(env), "-o", str(tmp_path / "o"), "--recovery", str(recovery_file),
                 "--device", "X", "--passphrase-stdin"]) == 2
    assert "--recovery" in capsys.readouterr().err


def test_encrypt_refuses_a_damaged_recovery_file(tmp_path, bid, capsys):
    bad = tmp_path / "bad.bsrk"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    env = tmp_path / "bid.bse"
    assert main(["encrypt", str(bid), "-o", str(env), "--to", str(tmp_path / "enc.pem"),
                 "--recovery", str(bad)]) == 2
    assert "ERR_RECOVERY_FORMAT" in capsys.readouterr().err
    assert not env.exists()


def test_made_with_the_default_cli_work_factor_in_production():
    """Outside these tests (no monkeypatch) the CLI uses the high default work factor."""
    import app.recovery.keyfile as keyfile

    assert recovery.DEFAULT_PARAMS.n == 1 << 17
    assert keyfile.DEFAULT_PARAMS == FAST  # patched here only

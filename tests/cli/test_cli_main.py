"""The CLI shell: help, version, error printing and exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.cli import common
from app.cli.main import main
from app.errors import BidSealError


def test_help_lists_commands(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "bidseal" in capsys.readouterr().out


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "app.cli.main", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "bidseal" in out.stdout


def test_unknown_command_is_usage_error(capsys) -> None:
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "命令参数有误" in err and "Bad command arguments" in err and "ERR_USAGE" in err


def test_error_printing_is_chinese_first_and_hides_pins(capsys, monkeypatch) -> None:
    monkeypatch.delenv("BIDSEAL_LANG", raising=False)
    common.print_error(BidSealError("口令错误。", "Wrong PIN.", code="ERR_X", details={"pin": "123456", "n": 1}))
    err = capsys.readouterr().err
    assert err.index("口令错误") < err.index("Wrong PIN")
    assert "123456" not in err and "ERR_X" in err
    monkeypatch.setenv("BIDSEAL_LANG", "en")
    common.print_error(BidSealError("口令错误。", "Wrong PIN."))
    err = capsys.readouterr().err
    assert err.index("Wrong PIN") < err.index("口令错误")


def test_pin_stdin_reads_one_line(monkeypatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("123456\nnext\n"))
    pin = common.read_pin(True)
    assert pin == bytearray(b"123456")
    common.wipe(pin)
    assert pin == bytearray(6)


def test_pin_without_terminal_is_a_clear_error(monkeypatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(common.PinInputError) as exc:
        common.read_pin(False)
    assert "--pin-stdin" in exc.value.zh

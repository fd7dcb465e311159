"""Clear errors everywhere: each case asserts the exit code, the bilingual message (as
JSON on stdout with --json) and that no output was left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import KEYWORD, REPO, USER_PIN, Keys, bidseal, files_in, make_bid, retries


def _error(res: subprocess.CompletedProcess[str]) -> dict[str, object]:
    data = json.loads(res.stdout)
    assert data["ok"] is False
    err = data["error"]
    assert err["zh"] and err["en"] and err["zh"] != err["en"]
    return err


@pytest.fixture()
def demo(tmp_path: Path) -> Path:
    out = tmp_path / "pki"
    assert bidseal("pki", "demo", "--out", out).returncode == 0
    return out


def test_missing_soft_key_and_cert_files(tmp_path: Path, demo: Path) -> None:
    bid = make_bid(tmp_path / "bid.pdf")
    res = bidseal("sign", bid, "-o", tmp_path / "out.pdf", "--keyword", KEYWORD, "--soft-key", tmp_path / "no.pem",
                  "--cert", demo / "sign-cert.pem", "--json")
    assert res.returncode == 2 and _error(res)["code"] == "ERR_IO"
    assert "no.pem" in res.stdout
    res = bidseal("decrypt", bid, "-o", tmp_path / "out.pdf", "--soft-key", demo / "enc-key.pem", "--cert",
                  tmp_path / "missing-cert.pem")
    assert res.returncode == 2 and "ERR_ENVELOPE_FORMAT" in res.stderr  # the input is checked first
    env = tmp_path / "bid.bse"
    assert bidseal("encrypt", bid, "-o", env, "--to", demo / "enc-cert.pem", "--yes").returncode == 0
    res = bidseal("decrypt", env, "-o", tmp_path / "out.pdf", "--soft-key", demo / "enc-key.pem", "--cert",
                  tmp_path / "missing-cert.pem", "--json")
    assert res.returncode == 2 and _error(res)["code"] == "ERR_IO" and "missing-cert.pem" in res.stdout
    assert sorted(files_in(tmp_path)) == ["bid.bse", "bid.pdf", "pki"]


def test_batch_output_that_is_a_file(tmp_path: Path, demo: Path) -> None:
    (tmp_path / "in").mkdir()
    make_bid(tmp_path / "in" / "a.pdf")
    target = tmp_path / "out.pdf"
    target.write_bytes(b"not a folder")
    res = bidseal("sign", "--batch", tmp_path / "in", "-o", target, "--keyword", KEYWORD,
                  "--soft-key", demo / "sign-key.pem", "--cert", demo / "sign-cert.pem", "--seal-image",
                  REPO / "resources" / "samples" / "bid-sample.pdf", "--json")
    assert res.returncode == 2
    err = _error(res)
    assert err["code"] == "ERR_IO" and "不是文件夹" in str(err["zh"]) and "not a folder" in str(err["en"])
    assert target.read_bytes() == b"not a folder"


def test_bad_project_is_a_wrong_argument(tmp_path: Path, demo: Path) -> None:
    bid = make_bid(tmp_path / "bid.pdf")
    for project in ("P-1\nP-2", "x" * 2000, "  "):
        res = bidseal("encrypt", bid, "-o", tmp_path / "bid.bse", "--to", demo / "enc-cert.pem", "--project",
                      project, "--json")
        assert res.returncode == 2
        err = _error(res)
        assert err["code"] == "ERR_USAGE" and "--project" in str(err["zh"]) and "damaged" not in str(err["en"])
    assert not (tmp_path / "bid.bse").exists()


def test_file_names_not_utf8_or_too_long(tmp_path: Path, demo: Path) -> None:
    bid = make_bid(tmp_path / "bid.pdf")
    cert = demo / "enc-cert.pem"
    bad = os.fsdecode(bytes(tmp_path) + b"/\xb1\xea\xca\xe9.bse")  # "标书" in GBK: not UTF-8
    res = bidseal("encrypt", bid, "-o", bad, "--to", cert, "--yes", "--json")
    assert res.returncode == 2 and _error(res)["code"] == "ERR_FILE_NAME"
    assert "\\xb1" in res.stdout  # shown as escapes, not mangled
    long = tmp_path / ("标" * 100 + ".bse")  # 300 bytes
    res = bidseal("encrypt", bid, "-o", long, "--to", cert, "--yes")
    assert res.returncode == 2 and "ERR_FILE_NAME" in res.stderr and "过长" in res.stderr and "too long" in res.stderr
    assert sorted(files_in(tmp_path)) == ["bid.pdf", "pki"]
    # an input with a GBK name (a zip from Windows) is still encrypted; its name shown escaped
    gbk = Path(os.fsdecode(bytes(tmp_path) + b"/\xb1\xea\xca\xe9.pdf"))
    gbk.write_bytes(bid.read_bytes())
    res = bidseal("encrypt", gbk, "-o", tmp_path / "ok.bse", "--to", cert, "--yes")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(("stdin", "zh", "en"), [
    (b"\xff\xfe12345678\n", "不是有效的 UTF-8", "not valid UTF-8"),
    (b"\n", "口令为空", "PIN is empty"),
    (b"", "标准输入中没有口令", "No PIN on standard input"),
    (b"1" * 100 + b"\n", "口令过长", "PIN is too long"),
])
def test_bad_pin_on_stdin(keys: Keys, tmp_path: Path, stdin: bytes, zh: str, en: str) -> None:
    bid = make_bid(tmp_path / "bid.pdf")
    before = retries("KEY-A")
    res = bidseal("sign", bid, "-o", tmp_path / "out.pdf", "--keyword", KEYWORD, "--key", "KEY-A", "--pin-stdin",
                  stdin=stdin)
    assert res.returncode == 2 and "ERR_PIN_INPUT" in res.stderr
    assert zh in res.stderr and en in res.stderr and "Traceback" not in res.stderr
    assert files_in(tmp_path) == ["bid.pdf"] and retries("KEY-A") == before


def test_no_terminal_for_the_pin(keys: Keys, tmp_path: Path) -> None:
    bid = make_bid(tmp_path / "bid.pdf")
    res = bidseal("sign", bid, "-o", tmp_path / "out.pdf", "--keyword", KEYWORD, "--key", "KEY-A", "--json",
                  stdin=f"{USER_PIN}\n".encode())
    assert res.returncode == 2 and _error(res)["code"] == "ERR_PIN_INPUT" and "--pin-stdin" in res.stdout
    assert files_in(tmp_path) == ["bid.pdf"]


def test_output_piped_into_a_closed_reader(keys: Keys) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "token", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away (like `| head -0`) before bidseal has printed anything
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_argument_mistakes_are_bilingual_and_json(tmp_path: Path) -> None:
    res = bidseal("encrypt", tmp_path / "x", "--json")
    assert res.returncode == 2
    err = _error(res)
    assert err["code"] == "ERR_USAGE" and "命令参数有误" in str(err["zh"]) and "-o/--output" in str(err["en"])
    res = bidseal("sign", "--rect", "nonsense")
    assert res.returncode == 2 and "命令参数有误" in res.stderr and "Bad command arguments" in res.stderr
    assert "Traceback" not in res.stderr


def test_every_command_takes_json_and_help_has_no_rest_markup() -> None:
    import argparse

    from app.cli.main import build_parser

    others = {"gui", "helper", "hub"}  # a window or a server: no result to print

    def leaves(p: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.ArgumentParser]]:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [(path, p)]
        out = []
        for name, child in subs[0].choices.items():
            out += leaves(child, f"{path} {name}")
        return out

    found = leaves(build_parser(), "bidseal")
    assert len(found) > 15
    for path, parser in found:
        text = parser.format_help()
        assert "``" not in text and ":class:" not in text and ":func:" not in text, path
        assert not any(line.strip() == "::" or line.rstrip().endswith("::") for line in text.splitlines()), path
        if path.split()[1] not in others:
            assert "--json" in text, path


def test_json_error_of_a_settings_command(tmp_path: Path) -> None:
    res = bidseal("settings", "add-library", tmp_path / "missing.so", "--json",
                  env={"BIDSEAL_HOME": str(tmp_path / "home")})
    err = _error(res)
    assert res.returncode == 2 and err["code"] == "ERR_LIBRARY_MISSING"
    assert "missing.so" in str(err["zh"]) and res.stderr == ""

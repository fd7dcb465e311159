"""``bidseal pki demo`` and ``bidseal pki show``."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.commands.pki import FILES
from app.cli.main import main
from app.demo.pki import DEMO_UNIT_CODE
from app.gm import sm2
from app.gm.names import make_uscc
from app.gm.x509 import Certificate, verify_chain


def test_demo_writes_files_that_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pki"
    assert main(["pki", "demo", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no temp files left behind
    root = Certificate.load((out / "root.pem").read_bytes())
    pairs = {"sign": "sign", "enc": "enc", "emergency": "enc", "tsa": "sign"}
    for stem, kind in pairs.items():
        cert = Certificate.load((out / f"{stem}-cert.pem").read_bytes())
        key = sm2.PrivateKey.from_pem((out / f"{stem}-key.pem").read_bytes())
        assert cert.public_key == key.public_key
        assert verify_chain(cert, [root]).trusted
        assert kind in cert.kind
        assert stat.S_IMODE((out / f"{stem}-key.pem").stat().st_mode) == 0o600
    sign = Certificate.load((out / "sign-cert.pem").read_bytes())
    assert sign.unit_code == DEMO_UNIT_CODE and sign.unit_name == "辽宁示例建设工程有限公司"
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "仅供演示" in readme and "ONLY" in readme and DEMO_UNIT_CODE in readme
    assert "sign-key.pem" in capsys.readouterr().out


def test_demo_custom_unit_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = make_uscc("91210106MA10ABCD1")
    assert main(["pki", "demo", "--out", str(tmp_path), "--unit-name", "沈阳某某建筑有限公司",
                 "--unit-code", code.lower(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unit_code"] == code and len(data["files"]) == len(FILES)
    assert data["sign_cert"]["unit_name"] == "沈阳某某建筑有限公司"
    cert = Certificate.load((tmp_path / "enc-cert.pem").read_bytes())
    assert cert.unit_code == code and cert.unit_name == "沈阳某某建筑有限公司"


def test_bad_unit_code_is_refused_and_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pki"
    bad = DEMO_UNIT_CODE[:-1] + ("0" if DEMO_UNIT_CODE[-1] != "0" else "1")
    assert main(["pki", "demo", "--out", str(out), "--unit-code", bad]) == 2
    err = capsys.readouterr().err
    assert "统一社会信用代码" in err and "unified social credit code" in err and "ERR_INVALID_UNIT_CODE" in err
    assert not out.exists()
    assert main(["pki", "demo", "--out", str(out), "--unit-code", "123"]) == 2


def test_existing_files_need_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "demo", "--out", str(tmp_path)]) == 0
    before = (tmp_path / "root.pem").read_bytes()
    assert main(["pki", "demo", "--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "root.pem").read_bytes() == before
    assert main(["pki", "demo", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "root.pem").read_bytes() != before


def test_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "demo", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["pki", "show", str(tmp_path / "sign-cert.pem"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unit_code"] == DEMO_UNIT_CODE and data["kind"] == "sign"
    assert data["issuer_common_name"] == "BidSeal Demo Root CA"
    der = Certificate.load((tmp_path / "enc-cert.pem").read_bytes()).der
    (tmp_path / "enc.der").write_bytes(der)
    assert main(["pki", "show", str(tmp_path / "enc.der")]) == 0
    text = capsys.readouterr().out
    assert DEMO_UNIT_CODE in text and "enc" in text and "辽宁示例建设工程有限公司" in text


def test_show_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.pem").write_bytes(b"not a certificate")
    assert main(["pki", "show", str(tmp_path / "junk.pem")]) == 2
    assert "ERR_CERT_FORMAT" in capsys.readouterr().err
    assert main(["pki", "show", str(tmp_path / "missing.pem")]) == 2
    assert "ERR_IO" in capsys.readouterr().err


def test_subprocess_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli.main", "pki", "demo", "--out", str(tmp_path),
                           "--unit-code", "X"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "统一社会信用代码" in proc.stderr

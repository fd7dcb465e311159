"""``bidseal token ...`` and ``bidseal softkey ...`` end to end (in-process main())."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.token.identity import Identity

from .conftest import USER_PIN


def test_softkey_init_plug_unplug(tmp_path: Path, pki_dir: Path, softskf_lib: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    rc = main(["softkey", "init", "--store", str(store), "--label", "CLI-KEY", "--user-pin", "13572468",
               "--admin-pin", "admin-2468", "--pki", str(pki_dir), "--unit-name", "沈阳测试建材有限公司",
               "--legal-name", "李四", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["label"] == "CLI-KEY" and out["sign_certificate"]["unit_name"] == "沈阳测试建材有限公司"
    assert out["seals"] == ["seal_company.png", "seal_legal.png"]
    assert (store / "CLI-KEY" / "present").exists()

    assert main(["softkey", "unplug", "--store", str(store), "--label", "CLI-KEY"]) == 0
    assert not (store / "CLI-KEY" / "present").exists()
    assert main(["softkey", "plug", "--store", str(store), "--label", "CLI-KEY"]) == 0
    assert (store / "CLI-KEY" / "present").exists()

    rc = main(["softkey", "init", "--store", str(store), "--label", "CLI-KEY", "--pki", str(pki_dir)])
    err = capsys.readouterr().err
    assert rc == 2 and "ERR_SOFTKEY_EXISTS" in err and "--force" in err


def test_token_list_json(identity: Identity, softskf_lib: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    lib = data["libraries"][0]
    assert lib["status"] == "ok" and lib["path"] == softskf_lib and "BIDSEAL_SKF_LIB" in lib["reason"]
    dev = next(d for d in lib["devices"] if d["name"] == identity.device)
    assert dev["info"]["manufacturer"] == "BidSeal SoftSKF"
    ident = dev["identities"][0]
    assert ident["container"] == "BIDSEAL-SM2"
    sign = ident["sign_certificate"]
    assert sign["unit_name"] == "辽宁示例建设工程有限公司" and sign["unit_code"] == "91210100MA0Y8B6K24"
    assert sign["serial_hex"] and sign["not_after"] and "digital_signature" in sign["key_usage"]
    assert ident["enc_certificate"]["kind"] == "enc"
    assert set(ident["seals"]) == {"company", "legal"}


def test_token_list_text_and_bad_library(identity: Identity, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "list"]) == 0
    out = capsys.readouterr().out
    assert identity.device in out and "seal_company.png" in out
    assert main(["token", "list", "--lib", str(tmp_path / "missing.so")]) == 2
    out = capsys.readouterr().out
    assert "[ERR]" in out and "missing.so" in out


def test_pin_info_and_change_pin_via_stdin(fresh_identity: Identity, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    sel = ["--device", fresh_identity.device]
    assert main(["token", "pin-info", *sel, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["remaining"] == info["max_retries"] == 6

    monkeypatch.setattr(sys, "stdin", io.StringIO("wrong-pin\n24681357\n"))
    assert main(["token", "change-pin", *sel, "--pin-stdin"]) == 2
    err = capsys.readouterr().err
    assert "ERR_PIN_INCORRECT" in err and "5" in err and "wrong-pin" not in err

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{USER_PIN}\n24681357\n"))
    assert main(["token", "change-pin", *sel, "--pin-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin-9876\n11112222\n"))
    assert main(["token", "unblock", *sel, "--pin-stdin"]) == 0
    capsys.readouterr()
    assert main(["token", "pin-info", *sel]) == 0
    assert "6" in capsys.readouterr().out


def test_unknown_device_is_a_clear_error(identity: Identity, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "pin-info", "--device", "NO-SUCH-KEY"]) == 2
    err = capsys.readouterr().err
    assert "ERR_TOKEN_NOT_FOUND" in err and "NO-SUCH-KEY" in err

"""``bidseal encrypt / decrypt / envelope ...``: behaviour and exit codes (0 ok, 1 integrity, 2 error)."""

from __future__ import annotations

import io
import json

import pytest

from app.cli.main import main

from .conftest import flip, layout, leftovers


@pytest.fixture()
def files(pki, tmp_path, make_file):
    (tmp_path / "enc.pem").write_bytes(pki.enc_cert.pem)
    (tmp_path / "centre.pem").write_bytes(pki.emergency_cert.pem)
    (tmp_path / "sign.pem").write_bytes(pki.sign_cert.pem)
    (tmp_path / "enc-key.pem").write_bytes(pki.enc_key.to_pem())
    (tmp_path / "centre-key.pem").write_bytes(pki.emergency_key.to_pem())
    return make_file(5000)


def _soft(tmp_path, who="enc"):
    key = "enc-key.pem" if who == "enc" else "centre-key.pem"
    cert = "enc.pem" if who == "enc" else "centre.pem"
    return ["--soft-key", str(tmp_path / key), "--cert", str(tmp_path / cert)]


def test_encrypt_info_decrypt(files, tmp_path, capsys):
    env, out = tmp_path / "bid.bse", tmp_path / "bid.out"
    assert main(["encrypt", str(files), "-o", str(env), "--to", str(tmp_path / "enc.pem"),
                 "--to", str(tmp_path / "centre.pem"), "--project", "P-9", "--unit-code",
                 "91210100MA0Y8B6K24", "--chunk-size", "1024"]) == 0
    assert "P-9" in capsys.readouterr().out
    assert main(["envelope", "info", str(env), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["project_id"] == "P-9" and len(info["recipients"]) == 2
    assert info["authenticated"] is False
    assert main(["decrypt", str(env), "-o", str(out), *_soft(tmp_path, "centre"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["authenticated"] and d["opened_by"] == 1
    assert out.read_bytes() == files.read_bytes()


def test_tampered_envelope_exits_1_and_writes_nothing(files, tmp_path, capsys):
    env, out = tmp_path / "bid.bse", tmp_path / "bid.out"
    main(["encrypt", str(files), "-o", str(env), "--to", str(tmp_path / "enc.pem"),
          "--chunk-size", "1024"])
    off, _n = layout(env).record(2)
    flip(env, off + 5)
    capsys.readouterr()
    assert main(["decrypt", str(env), "-o", str(out), *_soft(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "ERR_INTEGRITY" in err and "完整性" in err
    assert not out.exists()


def test_truncated_envelope_exits_1_before_any_key(files, tmp_path, capsys):
    env = tmp_path / "bid.bse"
    main(["encrypt", str(files), "-o", str(env), "--to", str(tmp_path / "enc.pem")])
    env.write_bytes(env.read_bytes()[:-10])
    assert main(["envelope", "info", str(env)]) == 1
    assert "truncated" in capsys.readouterr().err


def test_signing_certificate_refused_exit_2(files, tmp_path, capsys):
    assert main(["encrypt", str(files), "-o", str(tmp_path / "x"), "--to",
                 str(tmp_path / "sign.pem")]) == 2
    err = capsys.readouterr().err
    assert "ERR_RECIPIENT_CERT" in err and "签名证书" in err
    assert leftovers(tmp_path, {"bid.bin", "enc.pem", "centre.pem", "sign.pem", "enc-key.pem",
                                "centre-key.pem"}) == []


def test_not_a_recipient_exit_2_names_certificates(files, tmp_path, pki, capsys):
    env = tmp_path / "bid.bse"
    main(["encrypt", str(files), "-o", str(env), "--to", str(tmp_path / "centre.pem")])
    capsys.readouterr()
    assert main(["decrypt", str(env), "-o", str(tmp_path / "o"), *_soft(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ERR_NOT_RECIPIENT" in err and pki.emergency_cert.serial_hex in err
    assert pki.enc_cert.serial_hex in err


def test_mismatched_soft_key_and_cert(files, tmp_path, capsys):
    env = tmp_path / "bid.bse"
    main(["encrypt", str(files), "-o", str(env), "--to", str(tmp_path / "enc.pem")])
    assert main(["decrypt", str(env), "-o", str(tmp_path / "o"), "--soft-key",
                 str(tmp_path / "centre-key.pem"), "--cert", str(tmp_path / "enc.pem")]) == 2
    assert "ERR_KEY_MISMATCH" in capsys.readouterr().err


def test_cms_export_and_decrypt_autodetects(files, tmp_path, capsys):
    p7 = tmp_path / "bid.p7"
    assert main(["envelope", "export-cms", str(files), "-o", str(p7), "--to",
                 str(tmp_path / "enc.pem")]) == 0
    assert main(["decrypt", str(p7), "-o", str(tmp_path / "a"), *_soft(tmp_path)]) == 0
    assert main(["envelope", "import-cms", str(p7), "-o", str(tmp_path / "b"), *_soft(tmp_path)]) == 0
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == files.read_bytes()
    assert main(["encrypt", str(files), "-o", str(tmp_path / "c.p7"), "--format", "cms", "--to",
                 str(tmp_path / "enc.pem")]) == 0
    assert "GM/T 0010" in capsys.readouterr().out


def test_not_an_envelope_exit_2(tmp_path, files, capsys):
    assert main(["envelope", "info", str(files)]) == 2
    assert "ERR_ENVELOPE_FORMAT" in capsys.readouterr().err


def test_missing_input_exit_2(tmp_path, capsys):
    assert main(["envelope", "info", str(tmp_path / "nope")]) == 2
    assert "ERR_IO" in capsys.readouterr().err


def test_decrypt_with_virtual_ukey_reads_pin_once(files, tmp_path, monkeypatch, capsys, request):
    """The UKey path of the CLI: one session, PIN from stdin."""
    ukey = request.getfixturevalue("ukey")
    softskf_lib = request.getfixturevalue("softskf_lib")
    env = tmp_path / "bid.bse"
    (tmp_path / "ukey.pem").write_bytes(ukey.enc_certificate.pem)
    assert main(["encrypt", str(files), "-o", str(env), "--to", str(tmp_path / "ukey.pem")]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("11223344\n"))
    assert main(["decrypt", str(env), "-o", str(tmp_path / "o"), "--pin-stdin", "--lib",
                 softskf_lib, "--device", ukey.device]) == 0
    assert (tmp_path / "o").read_bytes() == files.read_bytes()
    monkeypatch.setattr("sys.stdin", io.StringIO("00000000\n"))
    capsys.readouterr()
    assert main(["decrypt", str(env), "-o", str(tmp_path / "o2"), "--pin-stdin", "--lib",
                 softskf_lib, "--device", ukey.device]) == 2
    assert "PIN" in capsys.readouterr().err and not (tmp_path / "o2").exists()

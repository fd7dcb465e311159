"""Several keys inserted: the right key for decrypt, an explicit signer for sign, own
certificates (export-cert, list --json PEM, encrypt --to-key). Two virtual keys of two
companies, through the real SKF library and token host."""

from __future__ import annotations

import json
from pathlib import Path

from app.gm.x509 import Certificate

from .conftest import CODE_B, KEYWORD, USER_PIN, WRONG_PIN, Keys, bidseal, files_in, retries


def _pin(pin: str = USER_PIN) -> bytes:
    return f"{pin}\n".encode()


def test_export_cert_pem_der_and_json(keys: Keys, tmp_path: Path) -> None:
    res = bidseal("token", "export-cert", "--key", "KEY-B")
    assert res.returncode == 0, res.stderr
    assert Certificate.load(res.stdout.encode()) == keys.b.enc_certificate
    res = bidseal("token", "export-cert", "--sign", "--unit-code", CODE_B, "-o", tmp_path / "b-sign.der", "--der")
    assert res.returncode == 0, res.stderr
    assert Certificate.load((tmp_path / "b-sign.der").read_bytes()) == keys.b.sign_certificate
    assert "KEY-B" in res.stderr and "签名证书" in res.stderr and "signing certificate" in res.stderr
    # an existing output is not replaced without --force
    res = bidseal("token", "export-cert", "--key", "KEY-A", "-o", tmp_path / "b-sign.der", "--json")
    assert res.returncode == 2 and json.loads(res.stdout)["error"]["code"] == "ERR_OUTPUT_EXISTS"
    assert Certificate.load((tmp_path / "b-sign.der").read_bytes()) == keys.b.sign_certificate
    res = bidseal("token", "export-cert", "--key", "KEY-A", "-o", tmp_path / "b-sign.der", "--force", "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["key"]["device"] == "KEY-A"
    assert Certificate.load(data["pem"].encode()) == keys.a.enc_certificate
    # with two keys and no terminal, which one is asked, not guessed
    res = bidseal("token", "export-cert")
    assert res.returncode == 2 and "ERR_KEY_AMBIGUOUS" in res.stderr
    assert "KEY-A" in res.stderr and "KEY-B" in res.stderr and "--unit-code" in res.stderr


def test_token_list_json_carries_pem_and_exit_codes(keys: Keys, tmp_path: Path) -> None:
    res = bidseal("token", "list", "--json")
    assert res.returncode == 0
    data = json.loads(res.stdout)
    devices = {d["name"]: d for lib in data["libraries"] for d in lib["devices"]}
    ident = devices["KEY-B"]["identities"][0]
    assert Certificate.load(ident["enc_certificate"]["pem"].encode()) == keys.b.enc_certificate
    assert Certificate.load(ident["sign_certificate"]["pem"].encode()) == keys.b.sign_certificate
    assert data["keys_found"] == 2 and data["failures"] == []
    empty = tmp_path / "empty-store"
    empty.mkdir()
    res = bidseal("token", "list", env={"SOFTSKF_STORE": str(empty)})
    assert res.returncode == 1
    assert "没有检测到 UKey" in res.stderr and "No UKey detected" in res.stderr


def test_decrypt_uses_the_key_the_envelope_names(keys: Keys, tmp_path: Path, bid: Path) -> None:
    (tmp_path / "b.pem").write_bytes(keys.b.enc_certificate.pem)
    env_file, out = tmp_path / "bid.bse", tmp_path / "opened.pdf"
    res = bidseal("encrypt", bid, "-o", env_file, "--to", tmp_path / "b.pem", "--yes")
    assert res.returncode == 0, res.stderr
    before = retries("KEY-A"), retries("KEY-B")
    res = bidseal("decrypt", env_file, "-o", out, "--pin-stdin", "--json", stdin=_pin())
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["key"]["device"] == "KEY-B" and data["key"]["unit_code"] == CODE_B
    assert out.read_bytes() == bid.read_bytes()
    assert (retries("KEY-A"), retries("KEY-B")) == before
    # text output names the key used
    res = bidseal("decrypt", env_file, "-o", tmp_path / "again.pdf", "--pin-stdin", stdin=_pin())
    assert res.returncode == 0 and "KEY-B" in res.stdout and "大连第二投标有限公司" in res.stdout


def test_decrypt_without_a_recipient_key_stops_before_the_pin(keys: Keys, tmp_path: Path, bid: Path) -> None:
    from app.demo.pki import demo_pki

    other = demo_pki(unit_name="营口其他公司", root_name="Other CA")
    (tmp_path / "other.pem").write_bytes(other.enc_cert.pem)
    env_file, out = tmp_path / "bid.bse", tmp_path / "opened.pdf"
    assert bidseal("encrypt", bid, "-o", env_file, "--to", tmp_path / "other.pem", "--yes").returncode == 0
    before = retries("KEY-A"), retries("KEY-B")
    res = bidseal("decrypt", env_file, "-o", out, "--pin-stdin", stdin=_pin(WRONG_PIN))
    assert res.returncode == 2 and "ERR_NO_RECIPIENT_KEY" in res.stderr
    assert "营口其他公司" in res.stderr and "KEY-A" in res.stderr and "KEY-B" in res.stderr
    assert "请插入正确的 UKey" in res.stderr and "Insert the right key" in res.stderr
    assert not out.exists() and (retries("KEY-A"), retries("KEY-B")) == before


def test_sign_asks_which_key_and_names_the_signer(keys: Keys, tmp_path: Path, bid: Path) -> None:
    out = tmp_path / "sealed.pdf"
    before = retries("KEY-A"), retries("KEY-B")
    res = bidseal("sign", bid, "-o", out, "--keyword", KEYWORD, "--pin-stdin", stdin=_pin(WRONG_PIN))
    assert res.returncode == 2 and "ERR_KEY_AMBIGUOUS" in res.stderr
    assert "辽宁示例建设工程有限公司" in res.stderr and "大连第二投标有限公司" in res.stderr
    assert not out.exists() and (retries("KEY-A"), retries("KEY-B")) == before

    res = bidseal("sign", bid, "-o", out, "--keyword", KEYWORD, "--unit-code", CODE_B, "--pin-stdin", stdin=_pin())
    assert res.returncode == 0, res.stderr
    serial = keys.b.sign_certificate.serial_hex
    assert "签章人：大连第二投标有限公司" in res.stdout and "Signer: 大连第二投标有限公司" in res.stdout
    assert serial in res.stdout and "KEY-B" in res.stdout
    assert "签章人证书" in res.stdout and ("trusted root" in res.stdout or "root trusted here" in res.stdout)

    out2 = tmp_path / "sealed-a.pdf"
    res = bidseal("sign", bid, "-o", out2, "--keyword", KEYWORD, "--serial", keys.a.sign_certificate.serial_hex.lower(),
                  "--pin-stdin", "--json", stdin=_pin())
    assert res.returncode == 0, res.stderr
    signer = json.loads(res.stdout)["signer"]
    assert signer["serial_hex"] == keys.a.sign_certificate.serial_hex and signer["key"]["device"] == "KEY-A"
    assert isinstance(signer["trusted"], bool) and signer["chain"]


def test_sign_reports_whether_the_signer_chains_to_a_trusted_root(keys: Keys, tmp_path: Path, bid: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_bytes(keys.a.root_certificate.pem)
    res = bidseal("sign", bid, "-o", tmp_path / "trusted.pdf", "--keyword", KEYWORD, "--key", "KEY-A", "--trust", root,
                  "--pin-stdin", "--json", stdin=_pin())
    assert res.returncode == 0, res.stderr
    signer = json.loads(res.stdout)["signer"]
    assert signer["trusted"] is True and signer["demo"] is True  # the virtual key's CA is a demo root
    res = bidseal("sign", bid, "-o", tmp_path / "trusted2.pdf", "--keyword", KEYWORD, "--key", "KEY-A", "--trust",
                  root, "--pin-stdin", stdin=_pin())
    assert "演示根证书" in res.stdout and "demo root" in res.stdout
    res = bidseal("sign", bid, "-o", tmp_path / "x.pdf", "--keyword", KEYWORD, "--key", "KEY-C", "--pin-stdin",
                  stdin=_pin())
    assert res.returncode == 2 and "ERR_TOKEN_NOT_FOUND" in res.stderr and "--key KEY-C" in res.stderr


def test_encrypt_to_key_and_file(keys: Keys, tmp_path: Path, bid: Path) -> None:
    from app.demo.pki import demo_pki

    centre = demo_pki().emergency_cert
    (tmp_path / "centre.pem").write_bytes(centre.pem)
    env_file = tmp_path / "bid.bse"
    res = bidseal("encrypt", bid, "-o", env_file, "--to-key", "--key", "KEY-B", "--to", tmp_path / "centre.pem",
                  "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["to_key"]["device"] == "KEY-B" and data["unit_code"] == CODE_B
    assert {r["serial"] for r in data["recipients"]} == {keys.b.enc_certificate.serial_hex, centre.serial_hex}
    assert data["warnings"] == ["NOT_SEALED"]
    res = bidseal("decrypt", env_file, "-o", tmp_path / "out.pdf", "--pin-stdin", stdin=_pin())
    assert res.returncode == 0 and "KEY-B" in res.stdout
    assert files_in(tmp_path) == ["bid.bse", "bid.pdf", "centre.pem", "out.pdf"]

"""The release tool's output is accepted by the checker and the downloader, and a
manifest signed with the OpenSSL 3 command line (the documented alternative) is too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.gm.sm2 import PrivateKey
from app.gm.sm3 import sm3
from app.update import check_for_update, download_package, shipped_keys_dir
from tests.support.update_server import PLATFORM, Channel

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "installer" / "release" / "sign_update_manifest.py"


def test_release_tool_output_is_accepted(channel: Channel, tmp_path: Path) -> None:
    key_pem = tmp_path / "release.key.pem"
    key_pem.write_bytes(channel.key.to_pem())
    installer = tmp_path / "bidseal_9.1.0_amd64.deb"
    installer.write_bytes(b"deb" * 10000)
    url = channel.server.put("/pkg/bidseal_9.1.0_amd64.deb", installer.read_bytes())
    out = tmp_path / "stable.json"
    r = subprocess.run([sys.executable, str(TOOL), "--key", str(key_pem), "--version", "9.1.0",
                        "--package", f"{PLATFORM}={installer}={url}", "--notes-zh", "修复", "--notes-en", "Fixes",
                        "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "not among the keys" in r.stderr  # a test key: the tool says clients would refuse it
    channel.publish(out.read_bytes(), (tmp_path / "stable.json.sig").read_bytes())
    result = check_for_update(channel.url, keys=[channel.key.public_key], timeout=2)
    assert result.offered and result.package.sm3 == sm3(installer.read_bytes()).hex()
    (tmp_path / "dl").mkdir()
    got = download_package(result.package, tmp_path / "dl", timeout=2)
    assert got.read_bytes() == installer.read_bytes()


def test_release_tool_refuses_a_bad_package_url(tmp_path: Path) -> None:
    key_pem = tmp_path / "k.pem"
    key_pem.write_bytes(PrivateKey.generate().to_pem())
    f = tmp_path / "a.deb"
    f.write_bytes(b"x")
    r = subprocess.run([sys.executable, str(TOOL), "--key", str(key_pem), "--version", "9.1.0",
                        "--package", f"{PLATFORM}={f}=http://mirror.example.cn/a.deb", "--notes-zh", "z",
                        "--notes-en", "e", "--out", str(tmp_path / "m.json")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "https" in r.stderr and not (tmp_path / "m.json").exists()


@pytest.mark.interop
def test_openssl_signed_manifest_is_accepted(channel: Channel, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "openssl missing"
    key_pem = tmp_path / "release.key.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "SM2", "-out", str(key_pem)], check=True)
    manifest = tmp_path / "stable.json"
    manifest.write_bytes(channel.manifest())
    subprocess.run([openssl, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
                    "-inkey", str(key_pem), "-in", str(manifest), "-out", str(tmp_path / "stable.json.sig")],
                   check=True)
    key = PrivateKey.from_pem(key_pem.read_bytes())
    channel.publish(manifest.read_bytes(), (tmp_path / "stable.json.sig").read_bytes())
    assert check_for_update(channel.url, keys=[key.public_key], timeout=2).offered


def test_shipped_keys_are_public_keys_only() -> None:
    from app.update import shipped_keys

    pems = sorted(shipped_keys_dir().glob("*"))
    assert pems and len(shipped_keys()) == len([p for p in pems if p.suffix == ".pem"])
    for p in pems:
        text = p.read_text()
        assert "PRIVATE" not in text and text.startswith("-----BEGIN PUBLIC KEY-----"), p

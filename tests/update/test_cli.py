"""``bidseal update check`` / ``download``: exit codes, --json, bilingual sentences, and
that a key given with --trust-key is needed (and used) only for that command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app import settings
from app.cli.main import main
from app.gm.sm2 import PrivateKey
from app.update import sign_manifest
from tests.support.update_server import Channel


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))


@pytest.fixture
def test_key(channel: Channel, tmp_path: Path) -> str:
    path = tmp_path / "test-release.pem"
    path.write_bytes(channel.key.public_key.to_pem())
    return str(path)


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["update", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_check_offered_with_the_url_from_the_settings(channel: Channel, test_key: str, capsys) -> None:
    channel.publish(channel.manifest())
    assert main(["settings", "set", "update-url", channel.url]) == 0
    capsys.readouterr()
    code, out = run(capsys, "check", "--trust-key", test_key)
    assert code == 0 and out["ok"] and out["status"] == "offered" and out["manifest"]["version"] == "9.0.0"
    assert main(["update", "check", "--trust-key", test_key]) == 0
    text = capsys.readouterr().out
    assert "有新版本 BidSeal 9.0.0" in text and "BidSeal 9.0.0 is available" in text


def test_test_key_is_not_trusted_without_the_flag(channel: Channel, capsys) -> None:
    channel.publish(channel.manifest())
    code, out = run(capsys, "check", "--url", channel.url)
    assert code == 1 and not out["ok"] and (out["status"], out["reason"]) == ("rejected", "signature")


def test_check_refusals_and_exit_codes(channel: Channel, test_key: str, capsys) -> None:
    data = channel.manifest()
    channel.publish(data, sign_manifest(PrivateKey.generate(), data))
    assert main(["update", "check", "--url", channel.url, "--trust-key", test_key]) == 1
    err = capsys.readouterr()
    assert "签名无效" in err.out and "signature is invalid" in err.out and "Traceback" not in err.err
    channel.publish(channel.manifest(version="0.0.1"))
    code, out = run(capsys, "check", "--url", channel.url, "--trust-key", test_key)
    assert code == 0 and out["status"] == "up-to-date"
    code, out = run(capsys, "check", "--url", channel.server.url("/missing.json"), "--trust-key", test_key)
    assert code == 2 and out["status"] == "unreachable"


def test_no_url_is_a_usage_error(capsys) -> None:
    code, out = run(capsys, "check")
    assert code == 2 and out["error"]["code"] == "ERR_UPDATE_NO_URL" and "update-url" in out["error"]["zh"]


def test_settings_refuse_a_plain_http_remote_url(capsys) -> None:
    assert main(["settings", "set", "update-url", "http://updates.example.cn/stable.json"]) == 2
    assert "ERR_SETTINGS_INVALID" in capsys.readouterr().err and settings.load().update_url is None
    assert main(["settings", "set", "update-check", "off"]) == 0
    assert settings.load().update_enabled is False


def test_update_settings_live_in_their_own_section(channel: Channel) -> None:
    settings.update(update_url=channel.url, update_enabled=False)
    data = json.loads(settings.settings_file().read_text(encoding="utf-8"))
    assert data["update"] == {"url": channel.url, "enabled": False}
    settings.update(update_enabled=True)  # a switch at its default is not written
    assert json.loads(settings.settings_file().read_text(encoding="utf-8"))["update"] == {"url": channel.url}


def test_bad_trust_key_file(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    code, out = run(capsys, "check", "--url", "https://127.0.0.1:1/x.json", "--trust-key", str(bad))
    assert code == 2 and out["error"]["code"] == "ERR_USAGE"


def test_download_verified(channel: Channel, test_key: str, tmp_path: Path, capsys) -> None:
    pkg = channel.package(b"the installer" * 1000)
    channel.publish(channel.manifest(packages=[pkg]))
    out_dir = tmp_path / "dl"
    out_dir.mkdir()
    code, out = run(capsys, "download", "--url", channel.url, "--trust-key", test_key, "--out", str(out_dir))
    assert code == 0 and out["ok"] and Path(out["path"]).read_bytes() == b"the installer" * 1000


def test_download_altered_package_exit_1_and_nothing_left(channel: Channel, test_key: str, tmp_path: Path,
                                                          capsys) -> None:
    pkg = channel.package(b"the installer" * 1000)
    channel.publish(channel.manifest(packages=[pkg]))
    channel.server.routes[f"/pkg/{pkg.name}"].body = b"the installer" * 999 + b"the_install3r"
    out_dir = tmp_path / "dl"
    out_dir.mkdir()
    code, out = run(capsys, "download", "--url", channel.url, "--trust-key", test_key, "--out", str(out_dir))
    assert code == 1 and out["error"]["code"] == "ERR_INTEGRITY"
    assert os.listdir(out_dir) == []


def test_download_when_up_to_date_fetches_nothing(channel: Channel, test_key: str, tmp_path: Path, capsys) -> None:
    channel.publish(channel.manifest(version="0.0.1"))
    code, out = run(capsys, "download", "--url", channel.url, "--trust-key", test_key, "--out", str(tmp_path))
    assert code == 0 and out["path"] is None and out["status"] == "up-to-date"
    assert not any(h.startswith("/pkg/") for h in channel.server.hits)

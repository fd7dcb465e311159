"""app/settings.py: one settings file shared with the token layer, secrets only in the keyring."""

from __future__ import annotations

import ast
import json
import os
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from app import settings
from app.settings import Settings, SettingsError
from app.token import registry


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "config" / "config.json"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend kept in memory (the system keyring is not touched in tests)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture()
def memory_keyring():
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    try:
        yield kr
    finally:
        keyring.set_keyring(previous)


def test_defaults_without_a_file(config):
    s = settings.load()
    assert s == Settings() and s.problems == () and not config.exists()
    assert settings.settings_file() == config


def test_round_trip_and_private_file(config):
    s = Settings(language="en", skf_libraries=("/opt/ca/libskf.so",), tsa_url="https://tsa.example.cn/tsa",
                 time_server="ntp.ntsc.ac.cn", output_folder="/tmp/bids")
    settings.save(s)
    assert settings.load() == s
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    data = json.loads(config.read_text(encoding="utf-8"))
    assert data["token"]["libraries"] == ["/opt/ca/libskf.so"]
    assert data["ui"]["language"] == "en" and data["timestamp"]["url"] == "https://tsa.example.cn/tsa"


def test_token_layer_reads_the_libraries_settings_write(config, monkeypatch):
    """One mechanism: the SKF registry reads what settings wrote (no second config file)."""
    assert registry.config_path() == settings.settings_file()
    lib = str(config.parent / "vendor" / "libskf.so")
    settings.update(skf_libraries=(lib,))
    monkeypatch.delenv("BIDSEAL_SKF_LIB", raising=False)
    cands = registry.candidates(include_softskf=False, vendor_dirs=[])
    assert [c.path for c in cands] == [lib] and cands[0].source == "config"


def test_unknown_sections_and_keys_survive_a_save(config):
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"token": {"softskf": True, "timeout": 45, "libraries": ["/a.so"]},
                                  "helper": {"origins": ["https://ggzy.ln.gov.cn"]}, "future": 1}))
    settings.update(language="en", skf_libraries=())
    data = json.loads(config.read_text())
    assert data["token"] == {"softskf": True, "timeout": 45, "libraries": []}
    assert data["helper"] == {"origins": ["https://ggzy.ln.gov.cn"]} and data["future"] == 1


def test_damaged_file_loads_defaults_and_is_never_overwritten(config):
    config.parent.mkdir(parents=True)
    config.write_text("{ not json")
    s = settings.load()
    assert s.language == "zh_CN" and s.problems
    with pytest.raises(SettingsError) as info:
        settings.save(Settings(language="en"))
    assert info.value.code == "ERR_SETTINGS_FILE"
    assert config.read_text() == "{ not json"


def test_invalid_values_in_the_file_fall_back_one_by_one(config):
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"ui": {"language": "fr", "sealed_name": "{stem}-signed{suffix}"},
                                  "timestamp": {"url": "ftp://x"}, "token": {"libraries": "notalist"}}))
    s = settings.load()
    assert s.language == "zh_CN" and s.tsa_url is None and s.skf_libraries == ()
    assert s.sealed_name == "{stem}-signed{suffix}"
    assert len(s.problems) == 3


@pytest.mark.parametrize("change", [
    {"language": "de"}, {"tsa_url": "tsa.example.cn"}, {"tsa_url": "javascript:alert(1)"},
    {"time_server": "ntp server"}, {"sealed_name": "signed.pdf"}, {"envelope_name": "../{name}.bse"},
    {"sealed_name": "{stem}{oops}"}, {"skf_libraries": ("",)},
])
def test_invalid_values_are_refused_with_the_field_named(change, config):
    with pytest.raises(SettingsError) as info:
        settings.update(**change)
    assert info.value.details["setting"] == next(iter(change))
    assert not config.exists()


def test_output_naming(tmp_path):
    s = Settings()
    assert s.output_path("sealed", "/bids/投标文件.pdf") == Path("/bids/投标文件-已签章.pdf")
    assert s.output_path("envelope", "/bids/投标文件.pdf") == Path("/bids/投标文件.pdf.bse")
    assert s.output_path("decrypted", "/in/投标文件.pdf.bse") == Path("/in/投标文件.pdf")
    s2 = Settings(output_folder=str(tmp_path), sealed_name="{stem}_sealed{suffix}")
    assert s2.output_path("sealed", "/bids/a.pdf") == tmp_path / "a_sealed.pdf"


def test_secrets_go_to_the_keyring_never_the_file(config, memory_keyring):
    settings.update(tsa_url="https://tsa.example.cn", tsa_username="bidder")
    settings.set_secret("tsa_password", "s3cret-Password")
    assert settings.get_secret("tsa_password") == "s3cret-Password"
    assert memory_keyring.store[("BidSeal", "tsa_password")] == "s3cret-Password"
    assert "s3cret" not in config.read_text()
    settings.delete_secret("tsa_password")
    settings.delete_secret("tsa_password")  # deleting twice is fine
    assert settings.get_secret("tsa_password") is None
    with pytest.raises(ValueError):
        settings.set_secret("pin", "123456")


def test_no_keyring_is_a_clear_sentence(memory_keyring):
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())
    with pytest.raises(SettingsError) as info:
        settings.set_secret("tsa_password", "x")
    assert info.value.code == "ERR_KEYRING" and "钥匙串" in info.value.zh
    assert settings.get_secret("tsa_password") is None


def test_settings_is_a_shared_base_module():
    """Any layer may import app.settings, so it imports only the other base modules."""
    tree = ast.parse(Path(settings.__file__).read_text(encoding="utf-8"))
    used = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    app_modules = {m for m in used if m == "app" or m.startswith("app.")}
    assert app_modules <= {"app", "app.paths", "app.atomic", "app.errors"}

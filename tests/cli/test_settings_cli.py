"""``bidseal settings``: the same file and validation as the settings dialog."""

from __future__ import annotations

import json

import pytest

from app import settings
from app.cli.main import main
from tests.support import softkey as virtual_ukey

softskf_lib = virtual_ukey.softskf_lib


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))


def test_set_show_unset(capsys):
    assert main(["settings", "set", "language", "en"]) == 0
    assert main(["settings", "set", "tsa-url", "https://tsa.example.cn/tsp"]) == 0
    assert main(["settings", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["settings"]
    assert shown["language"] == "en" and shown["tsa-url"] == "https://tsa.example.cn/tsp"
    assert main(["settings", "unset", "language"]) == 0
    assert settings.load().language == "zh_CN"


def test_invalid_value_is_refused(capsys):
    assert main(["settings", "set", "tsa-url", "not a url"]) == 2
    assert "ERR_SETTINGS_INVALID" in capsys.readouterr().err
    assert settings.load().tsa_url is None


def test_add_library_checks_it_first(softskf_lib, tmp_path, capsys):
    assert main(["settings", "add-library", softskf_lib]) == 0
    assert main(["settings", "add-library", softskf_lib]) == 0  # no duplicate
    assert settings.load().skf_libraries == (softskf_lib,)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["settings", "add-library", str(text)]) == 2
    assert "ERR_NOT_SKF_LIBRARY" in capsys.readouterr().err
    assert main(["settings", "remove-library", softskf_lib]) == 0
    assert settings.load().skf_libraries == ()
    assert main(["settings", "remove-library", softskf_lib]) == 2


def test_helper_switch(capsys):
    # the window's "run the web helper" switch, from a terminal (e.g. a server without a desktop)
    assert main(["settings", "set", "helper", "off"]) == 0
    assert settings.load().helper_enabled is False
    assert main(["settings"]) == 0
    assert "helper: off" in capsys.readouterr().out
    assert main(["settings", "set", "helper", "maybe"]) == 2
    assert "on 或 off" in capsys.readouterr().err and settings.load().helper_enabled is False
    assert main(["settings", "unset", "helper"]) == 0
    assert settings.load().helper_enabled is True

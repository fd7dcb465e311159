"""The settings dialog: values saved where they live (settings file, window settings,
keyring), a vendor library checked before it is added, bad values refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import Qt

from app import settings
from app.token import registry
from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.i18n import language


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIDSEAL_CONFIG", raising=False)
    return tmp_path / "home"


@pytest.fixture()
def memory_keyring():
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def open_dialog(qtbot: Any, window: Any) -> SettingsDialog:
    dialog = SettingsDialog(window, window.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_save_everything_where_it_lives(qtbot: Any, window: Any, softskf_lib: str, tmp_path: Path,
                                        memory_keyring: MemoryKeyring, home: Path) -> None:
    dialog = open_dialog(qtbot, window)
    dialog.add_library(softskf_lib)
    qtbot.waitUntil(lambda: dialog.lib_list.count() == 1, timeout=20000)
    assert "64" in dialog.lib_note.text()
    dialog.tsa_url.setText("https://tsa.example.cn/tsp")
    dialog.tsa_user.setText("bidder")
    dialog.tsa_password.setText("tsa-secret-1")
    dialog.time_server.setText("ntp.ntsc.ac.cn")
    dialog.output_folder.setText(str(tmp_path))
    dialog.sealed_name.setText("{stem}-signed{suffix}")
    dialog.language.setCurrentIndex(1)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.saved, dialog.error
    saved = settings.load()
    assert saved.skf_libraries == (str(Path(softskf_lib).resolve()),)
    assert saved.tsa_url == "https://tsa.example.cn/tsp" and saved.time_server == "ntp.ntsc.ac.cn"
    assert registry.load_config()["libraries"] == [str(Path(softskf_lib).resolve())]
    assert memory_keyring.store[("BidSeal", "tsa_password")] == "tsa-secret-1"
    assert "tsa-secret-1" not in (home / "config" / "config.json").read_text()
    assert saved.language == "en" and saved.sealed_name == "{stem}-signed{suffix}" and language() == "en"
    assert window.settings.sealed_name == "{stem}-signed{suffix}" and window.settings.language == "en"
    window.set_language("zh")


def test_bad_library_and_bad_values_are_refused(qtbot: Any, window: Any, tmp_path: Path, home: Path) -> None:
    dialog = open_dialog(qtbot, window)
    fake = tmp_path / "skf.dll"
    fake.write_text("not a library")
    dialog.add_library(str(fake))
    qtbot.waitUntil(lambda: dialog.error is not None, timeout=20000)
    assert dialog.lib_list.count() == 0 and "不是动态链接库" in dialog.lib_note.text()
    dialog.tsa_url.setText("tsa.example.cn")
    assert dialog.save() is False and dialog.error.details["setting"] == "tsa_url"
    dialog.tsa_url.setText("")
    dialog.sealed_name.setText("a/{stem}.pdf")
    assert dialog.save() is False and dialog.error.details["setting"] == "sealed_name"
    assert not (home / "config" / "config.json").exists()


def test_origins_and_trust_are_shown_from_their_owners(qtbot: Any, window: Any, home: Path) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "helper.json").write_text(json.dumps(
        {"hubs": [{"origin": "https://ggzy.ln.gov.cn", "name": "辽宁省公共资源交易平台"}]}), encoding="utf-8")
    dialog = open_dialog(qtbot, window)
    assert "https://ggzy.ln.gov.cn" in dialog.origins.text() and "helper.json" in dialog.origins.text()


def test_trust_roots_import_and_refusal(qtbot: Any, window: Any, tmp_path: Path, ukey: Any) -> None:
    from app.trust.store import TrustStore

    dialog = open_dialog(qtbot, window)
    before = dialog.roots.count()
    (tmp_path / "root.pem").write_bytes(ukey.root_certificate.pem)
    (tmp_path / "leaf.pem").write_bytes(ukey.sign_certificate.pem)
    dialog.import_root(str(tmp_path / "leaf.pem"))
    qtbot.waitUntil(lambda: dialog.error is not None, timeout=20000)
    assert dialog.roots.count() == before
    dialog.import_root(str(tmp_path / "root.pem"))
    qtbot.waitUntil(lambda: "已导入 1 个" in dialog.roots_note.text(), timeout=20000)
    assert dialog.roots.count() == before + 1
    assert ukey.root_certificate in TrustStore().roots()
    dialog.roots.setCurrentRow(next(i for i, e in enumerate(dialog.trust_entries)
                                    if e.certificate == ukey.root_certificate))
    dialog.remove_root()
    assert ukey.root_certificate not in TrustStore().roots()

"""The window as a whole: Chinese by default and every string in English after the menu
switch, certificate details and export, one window per user (a second launch hands its
file over), the ``bidseal gui`` command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QTextBrowser,
    QWidget,
)

from app.gm.x509 import Certificate
from app.ui.i18n import set_language
from tests.ui.conftest import make_bid, open_doc

CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
REPO = Path(__file__).resolve().parents[2]


def visible_texts(root: QWidget) -> list[str]:
    """Every text a user can read in ``root``: labels, buttons, fields, lists, menus, titles, tips."""
    out = [root.windowTitle()]
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QLabel | QAbstractButton):
            out.append(w.text())
        elif isinstance(w, QLineEdit):
            out.append(w.placeholderText())
        elif isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QListWidget):
            out += [w.item(i).text() for i in range(w.count())]
        elif isinstance(w, QTextBrowser):
            out.append(w.toPlainText())
        out.append(w.toolTip())
    for menu_action in root.menuBar().actions():
        out.append(menu_action.text())
        menu = menu_action.menu()
        if menu is not None:
            out += [a.text() for a in menu.actions()]
    return out


def test_english_everywhere_after_the_switch(qtbot: Any, window: Any, tmp_path: Path) -> None:
    pdf = make_bid(tmp_path / "bid.pdf", pages=2)
    open_doc(qtbot, window, pdf)
    window._place_in_middle(window.seal_choices()[0])
    assert any(CJK.search(t) for t in visible_texts(window)), "Chinese by default"
    data = {window.key_panel.current.unit_name, window.key_panel.current.legal_name, "BidSeal 演示 CA"}
    try:
        window.act_en.trigger()
        assert window.settings.language == "en"
        from app.settings import load

        qtbot.waitUntil(lambda: load().language == "en")  # remembered in the shared settings file
        leftovers = []
        for text in visible_texts(window):
            for d in data:
                text = text.replace(d, "")
            if CJK.search(text) and text not in ("中文", "Language / 语言"):
                leftovers.append(text)
        assert not leftovers, leftovers
        assert "Sign (1 seal)" in window.act_sign.text()
        assert "Demo key" in window.key_panel.demo.text()
    finally:
        window.act_zh.trigger()
        set_language("zh")
    assert window.act_sign.text() == "签章（1 个印章）"


def test_certificate_details_and_export(qtbot: Any, window: Any, tmp_path: Path, ukey: Any) -> None:
    dialog = window.key_actions.certificate("enc")
    assert "加密证书" in dialog.windowTitle()
    text = dialog.text.toPlainText()
    assert ukey.enc_certificate.serial_hex in text and "91210100MA0Y8B6K24" in text
    pem = dialog.export(tmp_path / "enc.pem", "pem")
    der = dialog.export(tmp_path / "enc.cer", "der")
    assert Certificate.load(pem.read_bytes()) == ukey.enc_certificate
    assert Certificate.load(der.read_bytes()) == ukey.enc_certificate
    assert der.read_bytes()[:1] == b"\x30" and pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert "已导出" in dialog.status.text()
    assert dialog.export("/proc/enc.pem", "pem") is None and "无法写入" in dialog.status.text()
    dialog.reject()
    sign = window.key_actions.certificate("sign")
    assert ukey.sign_certificate.serial_hex in sign.text.toPlainText()
    sign.reject()


def test_second_launch_hands_its_file_to_the_running_window(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from app.ui.single_instance import InstanceServer

    server = InstanceServer()
    assert server.listen()
    server.files_received.connect(lambda files: window.open_file(files[0]))
    pdf = make_bid(tmp_path / "handed.pdf", pages=2)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "gui", str(pdf)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)
        assert proc.returncode == 0, proc.stderr.read().decode()
        qtbot.waitUntil(lambda: window.doc is not None and Path(window.doc.path) == pdf, timeout=30000)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()


def test_stale_socket_is_replaced(qtbot: Any, tmp_path: Path) -> None:
    from app.ui.single_instance import InstanceServer, send_to_running

    name = str(tmp_path / "gui.sock")
    Path(name).write_bytes(b"")  # left by a crashed window
    assert not send_to_running([], name, timeout_ms=300)
    server = InstanceServer(name)
    assert server.listen()
    got: list[list[str]] = []
    server.files_received.connect(got.append)
    other = InstanceServer(name)
    assert not other.listen(), "a live window's socket is never taken over"
    server.close()


def test_gui_command_is_registered() -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli.main", "gui", "--help"], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 0 and "FILE.pdf" in proc.stdout and "--lang" in proc.stdout


def test_dialogs_in_english(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from app.errors import BidSealError
    from app.ui.dialogs.change_pin_dialog import ChangePinDialog
    from app.ui.dialogs.crosspage_dialog import CrossPageDialog
    from app.ui.dialogs.error_dialog import ErrorDialog
    from app.ui.dialogs.keyword_dialog import KeywordDialog
    from app.ui.dialogs.pin_dialog import LockedDialog, PinDialog
    from app.ui.dialogs.progress_dialog import ProgressDialog
    from app.ui.dialogs.unblock_dialog import UnblockDialog
    from app.ui.models.keys import PinView

    choices = window.seal_choices()
    set_language("en")
    try:
        dialogs = [
            PinDialog("Unit (KEY)", "Seal bid.pdf", PinView(6, 2, False), window, demo=True),
            LockedDialog("Unit (KEY)", window),
            ChangePinDialog("Unit (KEY)", window),
            UnblockDialog("Unit (KEY)", window),
            KeywordDialog(choices, window, keyword="Bidder (seal)"),
            CrossPageDialog(choices, 5, window),
            ProgressDialog("Sealing", window),
            ErrorDialog(BidSealError("中文句子。", "An English sentence.", code="ERR_X"), window),
        ]
        for d in dialogs:
            d.show()
            widgets = d.findChildren(QLabel) + d.findChildren(QAbstractButton)
            texts = [d.windowTitle()] + [w.text() for w in widgets if w.isVisible()]
            texts += [w.placeholderText() for w in d.findChildren(QLineEdit)]
            bad = [t for t in texts if CJK.search(t) and t != "中文句子。"]
            assert not bad, (type(d).__name__, bad)
            d.close()
    finally:
        set_language("zh")

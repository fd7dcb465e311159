"""The pending-envelopes page: states, lifecycle warnings, marking opened, the renewal check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime

from app.demo.pki import demo_pki
from app.envelope import encrypt_file
from app.envelope.records import RENEWAL_ZH, EnvelopeRecords
from app.gm.names import make_uscc
from app.ui.dialogs.envelopes_dialog import EnvelopesDialog
from tests.ui.envelope_support import write_bid


def test_page_lists_warns_and_maintains(qtbot: Any, window: Any, tmp_path: Path) -> None:
    store = EnvelopeRecords(tmp_path / "records.sqlite3")
    short = demo_pki(days=5)
    long = demo_pki(days=400, unit_name="另一家公司", unit_code=make_uscc("91210200MA0Y8B6K3"))
    for name, pki, opening, project in (("a.pdf", short, 20, "LN-A"), ("b.pdf", long, 3, "LN-B")):
        bid = write_bid(tmp_path / name, 1000)
        info = encrypt_file(bid, tmp_path / (name + ".bse"), [pki.enc_cert], project_id=project)
        store.add(tmp_path / (name + ".bse"), info, [pki.enc_cert], opening=datetime.now(UTC) + timedelta(days=opening))
    dialog = EnvelopesDialog(window, window.runner, store=store,
                             present_certificates=lambda: [long.enc_cert],
                             selected_certificate=lambda: long.enc_cert)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=20000)
    assert dialog.table.rowCount() == 2
    rows = {dialog.table.item(r, 1).text(): r for r in range(2)}
    assert "早于开标时间" in dialog.table.item(rows["LN-A"], 4).text()
    assert dialog.table.item(rows["LN-B"], 4).text() in ("无", "none")
    assert "1 条提醒" in dialog.summary.text()
    # the renewal check for the selected key's certificate names the bid that depends on it
    dialog.renewal_check()
    qtbot.waitUntil(lambda: dialog.renewal is not None, timeout=20000)
    assert len(dialog.renewal) == 1 and RENEWAL_ZH[:10] in dialog.renewal_label.text()
    # set the opening date of LN-A before the certificate expires: the warning goes away
    dialog.table.selectRow(rows["LN-A"])
    soon = QDateTime.fromSecsSinceEpoch(int((datetime.now(UTC) + timedelta(days=2)).timestamp()))
    dialog.opening.setDateTime(soon)
    dialog.set_opening()
    qtbot.waitUntil(lambda: dialog.loaded and "条提醒" not in dialog.summary.text(), timeout=20000)
    # mark LN-B opened: it leaves the pending list
    rows = {dialog.table.item(r, 1).text(): r for r in range(dialog.table.rowCount())}
    dialog.table.selectRow(rows["LN-B"])
    dialog.mark_opened()
    qtbot.waitUntil(lambda: dialog.loaded and dialog.table.rowCount() == 1, timeout=20000)
    dialog.show_all.setChecked(True)
    qtbot.waitUntil(lambda: dialog.loaded and dialog.table.rowCount() == 2, timeout=20000)


def test_changed_certificate_on_the_key_is_shown(qtbot: Any, window: Any, tmp_path: Path) -> None:
    store = EnvelopeRecords(tmp_path / "records.sqlite3")
    pki = demo_pki(days=400)
    bid = write_bid(tmp_path / "c.pdf", 1000)
    info = encrypt_file(bid, tmp_path / "c.bse", [pki.enc_cert])
    store.add(tmp_path / "c.bse", info, [pki.enc_cert])
    renewed = pki.root.issue(pki.enc_key.public_key, pki.subject, "enc", days=400)
    dialog = EnvelopesDialog(window, window.runner, store=store, present_certificates=lambda: [renewed])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=20000)
    assert "更新证书会重新签发加密密钥" in dialog.table.item(0, 4).text()


def test_nothing_selected_is_explained(qtbot: Any, window: Any, tmp_path: Path) -> None:
    dialog = EnvelopesDialog(window, window.runner, store=EnvelopeRecords(tmp_path / "r.sqlite3"))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=20000)
    assert dialog.mark_opened() is None
    assert "没有待开标" in dialog.summary.text()

"""Screenshots of the part-2 dialogs (envelopes, recovery key, pending envelopes, batch,
diagnostics, settings), taken by ``make.py`` with the real window under Xvfb.

``shoot(app, window, tmp, out, shoot_window)`` drives each dialog the way a bidder would
(encrypting a bid to the key's certificate plus the trading centre's emergency
certificate and a recovery key, opening that envelope, sealing a small batch with one
PIN, running the diagnosis) and captures the screen with the dialog over the window.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHOTS = ("06-encrypt.png", "07-decrypt.png", "08-recovery.png", "09-envelopes.png", "10-batch.png",
         "11-diagnostics.png", "12-settings.png")


def _wait(app: Any, cond: Callable[[], bool], timeout: float = 120.0) -> None:
    from tests.support.qt_wait import wait_until  # not processEvents() loops: see that module

    wait_until(cond, timeout)


def _place(dialog: Any) -> None:
    """Centre the dialog over the 1280x800 screen area the screenshots cover."""
    dialog.adjustSize()
    w, h = min(dialog.width(), 1200), min(dialog.height(), 760)
    dialog.resize(w, h)
    dialog.move((1280 - w) // 2, max((800 - h) // 2, 10))


def shoot(app: Any, window: Any, tmp: Path, out: Path, shoot_window: Callable[[Path], None]) -> list[str]:
    """Capture every part-2 screenshot into ``out``; returns problems (empty when all went well)."""
    from datetime import UTC, datetime, timedelta

    from PySide6.QtCore import QDateTime
    from PySide6.QtTest import QTest

    from app.demo.pki import demo_pki
    from app.recovery import new_recovery_key, save

    problems: list[str] = []
    bids = tmp / "bids"
    bid = next(bids.glob("*.pdf"))
    centre = demo_pki(root_name="辽宁省公共资源交易中心 CA")
    (tmp / "交易中心应急证书.pem").write_bytes(centre.emergency_cert.pem)
    recovery = new_recovery_key("开标应急口令 recovery 2026", unit_name="辽宁示例建设工程有限公司")
    save(recovery, tmp / "辽宁示例建设工程有限公司-恢复密钥.bsrk")

    actions = window.bid_actions
    # -- encrypt --------------------------------------------------------------------------------
    enc = actions.encrypt(bid)
    enc.add_certificate_files([str(tmp / "交易中心应急证书.pem")])
    _wait(app, lambda: enc.list.count() == 1)
    enc.set_recovery(str(tmp / "辽宁示例建设工程有限公司-恢复密钥.bsrk"))
    _wait(app, lambda: enc.recovery is not None)
    enc.project.setText("LNGG-2026-0315 第 2 标段")
    enc.has_opening.setChecked(True)
    enc.opening.setDateTime(QDateTime.fromSecsSinceEpoch(int((datetime.now(UTC) + timedelta(days=12)).timestamp())))
    enc.encrypt()
    _wait(app, lambda: enc.envelope is not None or enc.error is not None)
    if enc.error is not None:
        problems.append(f"encryption failed: {enc.error}")
    _place(enc)
    shoot_window(out / SHOTS[0])
    envelope = Path(enc.output.text())
    enc.close()

    # -- decrypt --------------------------------------------------------------------------------
    dec = actions.decrypt(envelope)
    _wait(app, lambda: dec.plan is not None or dec.error is not None)
    _place(dec)
    shoot_window(out / SHOTS[1])
    dec.close()

    # -- recovery key ---------------------------------------------------------------------------
    rec = actions.recovery()
    QTest.keyClicks(rec.pass1, "a long passphrase")
    QTest.keyClicks(rec.pass2, "a long passphrase")
    _place(rec)
    shoot_window(out / SHOTS[2])
    rec.close()

    # -- pending envelopes ---------------------------------------------------------------------
    page = actions.envelopes()
    _wait(app, lambda: page.loaded)
    _place(page)
    page.resize(1100, 420)
    page.move(90, 190)
    shoot_window(out / SHOTS[3])
    page.close()

    # -- batch ------------------------------------------------------------------------------------
    batch_in = tmp / "batch"
    batch_in.mkdir()
    for name in ("第1标段-投标文件.pdf", "第2标段-投标文件.pdf"):
        shutil.copyfile(bid, batch_in / name)
    (batch_in / "扫描件（损坏）.pdf").write_bytes(b"not a PDF, as a broken download would be")
    batch_out = tmp / "batch-out"
    batch_out.mkdir()
    batch = actions.batch()
    batch.add_paths([str(batch_in)])
    batch.out_folder.setText(str(batch_out))
    flow = batch.start()
    if flow is None:
        problems.append(f"batch refused: {batch.error}")
    else:
        _wait(app, lambda: flow.done or (flow.pin_dialog is not None and flow.pin_dialog.isVisible()))
        if flow.pin_dialog is not None:
            QTest.keyClicks(flow.pin_dialog.edit, "12345678")
            flow.pin_dialog.ok.click()
        _wait(app, lambda: batch.finished_batch, 300)
    _place(batch)
    batch.resize(1000, 640)
    batch.move(140, 80)
    shoot_window(out / SHOTS[4])
    batch.close()

    # -- diagnostics ---------------------------------------------------------------------------
    diag = actions.diagnostics()
    _wait(app, lambda: diag.report is not None or diag.error is not None)
    diag.resize(1100, 700)
    diag.move(90, 50)
    shoot_window(out / SHOTS[5])
    diag.close()

    # -- settings --------------------------------------------------------------------------------
    settings = actions.settings()
    _place(settings)
    shoot_window(out / SHOTS[6])
    settings.close()
    return problems

"""Batch sealing through the dialog: one PIN, a results table with one bad file, fixed
placement, CSV export, cancel leaving finished files and no partial one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.pdfsign.verify import verify_pdf
from app.ui.dialogs.batch_dialog import BatchDialog
from tests.ui.conftest import PIN, make_bid, trusted_roots


def make_dialog(qtbot: Any, window: Any) -> BatchDialog:
    dialog = BatchDialog(window, window.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def type_pin(qtbot: Any, dialog: BatchDialog) -> None:
    qtbot.waitUntil(lambda: dialog.flow is not None and (dialog.flow.done or (
        dialog.flow.pin_dialog is not None and dialog.flow.pin_dialog.isVisible())), timeout=30000)
    assert not dialog.flow.done, dialog.flow.error
    QTest.keyClicks(dialog.flow.pin_dialog.edit, PIN)
    qtbot.mouseClick(dialog.flow.pin_dialog.ok, Qt.MouseButton.LeftButton)


def test_batch_with_one_bad_file_and_csv(qtbot: Any, window: Any, root_der: bytes, tmp_path: Path) -> None:
    src = tmp_path / "bids"
    src.mkdir()
    for n in range(3):
        make_bid(src / f"标段{n + 1}.pdf", pages=2)
    (src / "损坏.pdf").write_bytes(b"this is not a PDF")
    out = tmp_path / "sealed"
    out.mkdir()
    dialog = make_dialog(qtbot, window)
    dialog.add_paths([str(src)])
    assert dialog.table.rowCount() == 4
    dialog.out_folder.setText(str(out))
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    type_pin(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.finished_batch, timeout=180000)
    states = {r.job.input.name: r.state for r in dialog.results}
    assert states == {"损坏.pdf": "refused", "标段1.pdf": "sealed", "标段2.pdf": "sealed", "标段3.pdf": "sealed"}
    bad = next(r for r in dialog.results if r.state == "refused")
    assert bad.error is not None and bad.error.code.startswith("ERR_PDF")
    assert "已签章 3 个，未签章 1 个" in dialog.summary.text()
    report = verify_pdf(out / "标段1-已签章.pdf", trust_roots=trusted_roots(root_der))
    assert report.status == "valid", report.to_text()
    assert len(report.signatures) == 1
    assert sorted(p.name for p in out.iterdir()) == ["标段1-已签章.pdf", "标段2-已签章.pdf", "标段3-已签章.pdf"]
    dialog.export_csv(tmp_path / "results.csv")
    qtbot.waitUntil(lambda: dialog.csv_path is not None, timeout=20000)
    rows = list(csv.reader((tmp_path / "results.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "输入文件" and len(rows) == 5
    assert [r[2] for r in rows[1:]].count("已签章") == 3


def test_fixed_position_on_the_last_page(qtbot: Any, window: Any, root_der: bytes, tmp_path: Path) -> None:
    make_bid(tmp_path / "a.pdf", pages=3, keyword_pages=())
    out = tmp_path / "out"
    out.mkdir()
    dialog = make_dialog(qtbot, window)
    dialog.add_paths([str(tmp_path / "a.pdf")])
    dialog.out_folder.setText(str(out))
    dialog.fixed.setChecked(True)
    dialog.position.setCurrentIndex(0)  # bottom right
    dialog.start()
    type_pin(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.finished_batch, timeout=120000)
    assert dialog.results[0].state == "sealed", dialog.results[0].error
    report = verify_pdf(out / "a-已签章.pdf", trust_roots=trusted_roots(root_der))
    assert report.status == "valid", report.to_text()
    assert report.signatures[0].pages == [3]
    import pymupdf

    with pymupdf.open(out / "a-已签章.pdf") as doc:
        found = [(page.number, w.rect, page.rect) for page in doc for w in page.widgets()
                 if w.field_type == pymupdf.PDF_WIDGET_TYPE_SIGNATURE]
    [(number, rect, page_rect)] = found
    assert number == 2 and rect.x1 > page_rect.width * 0.6 and rect.y1 > page_rect.height * 0.6


def test_keyword_missing_is_refused_with_reason(qtbot: Any, window: Any, tmp_path: Path) -> None:
    make_bid(tmp_path / "nokw.pdf", pages=1, keyword_pages=())
    out = tmp_path / "out"
    out.mkdir()
    dialog = make_dialog(qtbot, window)
    dialog.add_paths([str(tmp_path / "nokw.pdf")])
    dialog.out_folder.setText(str(out))
    dialog.start()
    type_pin(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.finished_batch, timeout=120000)
    assert dialog.results[0].state == "refused" and list(out.iterdir()) == []
    assert dialog.table.item(0, 2).text()


def test_cancel_keeps_finished_files_and_no_partial_one(qtbot: Any, window: Any, tmp_path: Path) -> None:
    src = tmp_path / "many"
    src.mkdir()
    for n in range(6):
        make_bid(src / f"f{n}.pdf", pages=2)
    out = tmp_path / "out"
    out.mkdir()
    dialog = make_dialog(qtbot, window)
    dialog.add_paths([str(src)])
    dialog.out_folder.setText(str(out))
    dialog.start()
    type_pin(qtbot, dialog)
    qtbot.waitUntil(lambda: any(r.state == "sealed" for r in dialog.results), timeout=120000)
    dialog.flow.cancel()
    qtbot.waitUntil(lambda: dialog.finished_batch, timeout=120000)
    sealed = [r for r in dialog.results if r.state == "sealed"]
    skipped = [r for r in dialog.results if r.state == "skipped"]
    assert sealed and skipped and len(sealed) + len(skipped) == 6
    assert sorted(p.name for p in out.iterdir()) == sorted(r.job.output.name for r in sealed)


def test_output_over_the_originals_is_refused(qtbot: Any, window: Any, tmp_path: Path, monkeypatch: Any) -> None:
    make_bid(tmp_path / "x.pdf", pages=1)
    dialog = make_dialog(qtbot, window)
    dialog.add_paths([str(tmp_path / "x.pdf")])
    dialog.out_folder.setText(str(tmp_path))
    from dataclasses import replace

    monkeypatch.setattr(window, "settings", replace(window.settings, sealed_name="{name}"))
    assert dialog.start() is None and dialog.error.code == "ERR_BATCH_PLAN"
    assert "覆盖原文件" in dialog.error.zh

"""Batch results exported as CSV: one row per file, readable by a spreadsheet, no formula
injection through file names."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from app.pdfsign.batch import BatchItem, BatchOutcome, BatchSummary
from app.pdfsign.batch_csv import to_csv, write_csv
from app.pdfsign.errors import PdfOpenError, SealCancelledError


def _summary(tmp_path: Path) -> BatchSummary:
    bad = BatchItem(Path('=HYPERLINK("evil.example")'), tmp_path / "out" / "x.pdf")
    broken = BatchItem(tmp_path / "损坏的文件.pdf", tmp_path / "out" / "损坏的文件-已签章.pdf")
    later = BatchItem(tmp_path / "c.pdf", tmp_path / "out" / "c.pdf")
    return BatchSummary((
        BatchOutcome(broken, error=PdfOpenError("文件不是 PDF。", "The file is not a PDF.")),
        BatchOutcome(bad, error=PdfOpenError("文件不是 PDF。", "The file is not a PDF.")),
        BatchOutcome(later, error=SealCancelledError(), skipped=True),
    ))


def test_rows_and_languages(tmp_path):
    rows = list(csv.reader(io.StringIO(to_csv(_summary(tmp_path), "zh"))))
    assert rows[0] == ["输入文件", "输出文件", "结果", "印章数", "错误代码", "原因"]
    assert rows[1][2] == "未签章" and rows[1][4] == "ERR_PDF_OPEN" and rows[1][5] == "文件不是 PDF。"
    assert rows[3][2] == "未处理"
    en = list(csv.reader(io.StringIO(to_csv(_summary(tmp_path), "en"))))
    assert en[0][0] == "input" and en[1][5] == "The file is not a PDF." and en[3][2] == "not done"


def test_formula_cells_are_neutralised(tmp_path):
    rows = list(csv.reader(io.StringIO(to_csv(_summary(tmp_path)))))
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert rows[2][0] == "'=HYPERLINK(\"evil.example\")"


def test_file_has_bom_and_is_whole(tmp_path):
    out = tmp_path / "results.csv"
    write_csv(out, _summary(tmp_path))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "损坏的文件.pdf".encode() in data
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bidseal")] == []

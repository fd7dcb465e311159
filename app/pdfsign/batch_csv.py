"""Batch results as CSV: one row per file, for the bidder's records or an e-mail.

Columns: input, output, result (``sealed`` / ``refused`` / ``not done``), seals placed,
error code, reason (in the chosen language). Written whole or not at all, UTF-8 with a
byte-order mark so spreadsheet programs on Chinese Windows show the names correctly.

Attacker's view: file names and reasons come from outside (a folder of PDFs someone
sent), so a cell that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or CR) is prefixed with an apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass

from app.atomic import write_atomic
from app.pdfsign.batch import BatchOutcome, BatchSummary
from app.pdfsign.errors import OutputWriteError

HEADER = {
    "zh": ("输入文件", "输出文件", "结果", "印章数", "错误代码", "原因"),
    "en": ("input", "output", "result", "seals", "error code", "reason"),
}
RESULT = {
    "zh": {"sealed": "已签章", "refused": "未签章", "skipped": "未处理"},
    "en": {"sealed": "sealed", "refused": "refused", "skipped": "not done"},
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class BatchRow:
    """One file's outcome, as the CSV shows it (built from a :class:`BatchOutcome`, or by a
    front end that sealed the files one by one)."""

    input: str
    output: str
    result: str  # "sealed", "refused" or "skipped"
    seals: int = 0
    code: str = ""
    zh: str = ""
    en: str = ""

    @classmethod
    def from_outcome(cls, outcome: BatchOutcome) -> BatchRow:
        err = outcome.error
        return cls(str(outcome.item.input_path), str(outcome.item.output_path) if outcome.ok else "",
                   "sealed" if outcome.ok else "skipped" if outcome.skipped else "refused",
                   len(outcome.result.seals) if outcome.result else 0,
                   err.code if err else "", err.zh if err else "", err.en if err else "")

    def cells(self, lang: str = "zh") -> tuple[str, ...]:
        lang = "en" if lang.lower().startswith("en") else "zh"
        return tuple(_cell(v) for v in (self.input, self.output, RESULT[lang][self.result], self.seals,
                                        self.code, self.en if lang == "en" else self.zh))


Rows = BatchSummary | Iterable[BatchOutcome | BatchRow]


def _rows(outcomes: Rows) -> list[BatchRow]:
    items = outcomes.outcomes if isinstance(outcomes, BatchSummary) else outcomes
    return [o if isinstance(o, BatchRow) else BatchRow.from_outcome(o) for o in items]


def to_csv(outcomes: Rows, lang: str = "zh") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER["en" if lang.lower().startswith("en") else "zh"])
    for row in _rows(outcomes):
        writer.writerow(row.cells(lang))
    return buf.getvalue()


def write_csv(path: str | os.PathLike[str], outcomes: Rows, lang: str = "zh") -> None:
    """Write the results to ``path`` (UTF-8 with BOM, CRLF), whole or not at all."""
    try:
        write_atomic(path, b"\xef\xbb\xbf" + to_csv(outcomes, lang).encode("utf-8"))
    except OSError as exc:
        raise OutputWriteError(f"无法写入 {os.fspath(path)}：{exc.strerror or exc}。",
                               f"Cannot write {os.fspath(path)}: {exc.strerror or exc}.",
                               path=os.fspath(path)) from exc

"""What the batch dialog decides without widgets: the files and their outputs, where the
seal goes on each file, and the per-file result rows (Qt-free, testable alone).

Placement is either by keyword (every hit, or the n-th) or fixed: a page (first, last
or a number) and a corner or the centre, a margin from the edges, the seal's size in
millimetres. The fixed rectangle is computed per file from that file's page size (as
displayed), so one batch works across A4, A3 and landscape pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.atomic import same_file
from app.errors import BidSealError
from app.pdfsign.batch import FATAL_CODE_PREFIXES
from app.pdfsign.batch_csv import BatchRow

MM = 72 / 25.4
MARGIN_MM = 15.0
POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left", "center")


class BatchPlanError(BidSealError):
    code = "ERR_BATCH_PLAN"


@dataclass(frozen=True)
class Placement:
    mode: str = "keyword"          # "keyword" or "fixed"
    keyword: str = "投标人（盖章）"
    occurrence: int | None = None  # None: every hit
    page: str | int = "last"       # "first", "last" or a 1-based page number
    position: str = "bottom-right"
    size_mm: float = 42.0
    cross_page: bool = False
    cross_size_mm: float = 40.0


@dataclass(frozen=True)
class BatchJob:
    input: Path
    output: Path


@dataclass
class BatchResult:
    """A file's state in the table: waiting, sealing, sealed, refused or skipped."""

    job: BatchJob
    state: str = "waiting"
    seals: int = 0
    error: BidSealError | None = field(default=None, repr=False)

    def row(self) -> BatchRow:
        done = self.state == "sealed"
        result = "sealed" if done else "refused" if self.state == "refused" else "skipped"
        err = self.error
        return BatchRow(str(self.job.input), str(self.job.output) if done else "", result, self.seals,
                        err.code if err else "", err.zh if err else "", err.en if err else "")


def collect_pdfs(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and the ``*.pdf`` of any folder (sorted, not recursive), without repeats."""
    out: list[Path] = []
    for p in map(Path, paths):
        found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() == ".pdf") if p.is_dir() else [p]
        for f in found:
            if f not in out:
                out.append(f)
    return out


def plan_jobs(files: Sequence[Path], out_folder: str | os.PathLike[str],
              name_pattern: str = "{stem}-已签章{suffix}") -> list[BatchJob]:
    """One job per file: ``<out>/<name_pattern>`` (the settings' sealed-file naming); an
    output that would be an input, or two inputs with the same output name, are refused
    before anything starts."""
    folder = Path(out_folder)
    if not str(out_folder).strip():
        raise BatchPlanError("请选择输出文件夹。", "Choose the output folder.")
    if not folder.is_dir():
        raise BatchPlanError("输出文件夹不存在。", "The output folder does not exist.", details={"folder": str(folder)})
    jobs, seen = [], set()
    for f in files:
        dst = folder / name_pattern.format(stem=f.stem, name=f.name, suffix=f.suffix or ".pdf")
        if same_file(f, dst) or any(same_file(other, dst) for other in files):
            raise BatchPlanError(
                "输出文件会覆盖原文件：输出到原文件夹时，签章文件名必须与原文件名不同（设置 → 签章文件名）。",
                "An output would overwrite an original: in the originals' folder the sealed file name must "
                "differ from the original's (Settings → sealed file name).", details={"file": str(f)})
        if dst in seen:
            raise BatchPlanError(f"有两个文件的输出文件名相同：{dst.name}。", f"Two files would get the same output "
                                 f"name: {dst.name}.", details={"file": str(dst)})
        seen.add(dst)
        jobs.append(BatchJob(f, dst))
    if not jobs:
        raise BatchPlanError("没有要签章的 PDF 文件。", "There is no PDF file to seal.")
    return jobs


def page_index(page: str | int, page_count: int) -> int:
    if page == "first":
        return 0
    if page == "last":
        return page_count - 1
    n = int(page)
    if not 1 <= n <= page_count:
        raise BatchPlanError(f"该文件只有 {page_count} 页，没有第 {n} 页。", f"The file has {page_count} pages, not "
                             f"page {n}.", details={"page": n, "pages": page_count})
    return n - 1


def fixed_rect(width: float, height: float, position: str, size_mm: float, aspect: float) -> tuple[float, ...]:
    """The seal's box on a ``width`` x ``height`` page (points, as displayed, y down)."""
    long_side = size_mm * MM
    w, h = (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)
    m = MARGIN_MM * MM
    x = {"left": m, "right": width - m - w}
    y = {"top": m, "bottom": height - m - h}
    if position == "center":
        x0, y0 = (width - w) / 2, (height - h) / 2
    else:
        vertical, horizontal = position.split("-")
        x0, y0 = x[horizontal], y[vertical]
    return (x0, y0, x0 + w, y0 + h)


def specs_for(placement: Placement, image: bytes, aspect: float, page_size: tuple[int, float, float] | None
              ) -> list[dict[str, Any]]:
    """The engine's seal specs for one file; ``page_size`` is (page index, width, height) for
    a fixed placement."""
    if placement.mode == "keyword":
        specs: list[dict[str, Any]] = [{"kind": "keyword", "keyword": placement.keyword,
                                        "occurrence": placement.occurrence, "size_mm": placement.size_mm,
                                        "image": image}]
    else:
        assert page_size is not None
        index, width, height = page_size
        specs = [{"kind": "rect", "page": index, "image": image,
                  "rect": fixed_rect(width, height, placement.position, placement.size_mm, aspect)}]
    if placement.cross_page:
        specs.append({"kind": "cross", "pages": None, "size_mm": placement.cross_size_mm, "center_y": 0.5,
                      "pages_per_seal": None, "image": image})
    return specs


def is_fatal(exc: BidSealError) -> bool:
    """After these (key removed, PIN locked, cancelled) the rest of the batch is not tried."""
    return exc.code.startswith(FATAL_CODE_PREFIXES)

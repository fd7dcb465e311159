"""Sealing many files with one signer: one PIN entry, one token session.

The caller opens the session once (``with open_session(identity, pin) as s``) and
passes ``s.signer``; :func:`seal_batch` runs :func:`~app.pdfsign.signer.seal_pdf`
per file and records each outcome. A failure in one file (damaged, keyword
missing…) leaves the files already done in place and carries on with the rest;
only cancellation or a fatal device error (the key was unplugged or locked)
stops the batch, and the remaining files are reported as not done.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.cancel import Cancel, is_cancelled
from app.errors import BidSealError
from app.gm.keyops import DigestSigner
from app.pdfsign.errors import OutputIsInputError, OutputWriteError, PdfOpenError, PdfSignError
from app.pdfsign.placement import Seal
from app.pdfsign.signer import SealOptions, SealResult, seal_pdf
from app.progress import Progress, Stage, report_fraction

__all__ = ["FATAL_CODE_PREFIXES", "BatchItem", "BatchOutcome", "BatchSummary", "plan_batch", "seal_batch"]

#: Error codes after which trying further files is pointless (device gone, PIN locked…).
FATAL_CODE_PREFIXES = ("ERR_TOKEN", "ERR_SKF", "ERR_DEVICE_", "ERR_PIN_", "ERR_NOT_LOGGED_IN", "ERR_KEY_NOT_FOUND",
                       "ERR_LIBRARY_", "ERR_NOT_SKF", "ERR_CANCELLED")


@dataclass(frozen=True)
class BatchItem:
    input_path: Path
    output_path: Path


@dataclass(frozen=True)
class BatchOutcome:
    item: BatchItem
    result: SealResult | None = None
    error: BidSealError | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.result is not None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"input": str(self.item.input_path), "output": str(self.item.output_path),
                             "ok": self.ok, "skipped": self.skipped}
        if self.result:
            d["seals"] = [s.summary() for s in self.result.seals]
        if self.error:
            d["error"] = self.error.to_dict()
        return d


@dataclass(frozen=True)
class BatchSummary:
    outcomes: tuple[BatchOutcome, ...] = field(default_factory=tuple)

    @property
    def succeeded(self) -> list[BatchOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[BatchOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def all_ok(self) -> bool:
        return bool(self.outcomes) and not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"total": len(self.outcomes), "succeeded": len(self.succeeded), "failed": len(self.failed),
                "files": [o.to_dict() for o in self.outcomes]}


def plan_batch(input_dir: str | os.PathLike[str], output_dir: str | os.PathLike[str],
               suffix: str = "", recursive: bool = False) -> list[BatchItem]:
    """One item per ``*.pdf`` of ``input_dir`` (sorted), written under ``output_dir`` with the
    same relative name plus ``suffix`` before the extension (e.g. ``-signed``)."""
    src, dst = Path(input_dir), Path(output_dir)
    if not src.is_dir():
        raise PdfOpenError("输入文件夹不存在。", "The input folder does not exist.", folder=str(src))
    if src.resolve() == dst.resolve() and not suffix:
        raise OutputIsInputError(
            "输出文件夹与输入文件夹相同时必须指定文件名后缀，否则会覆盖原文件。",
            "When the output folder is the input folder a file-name suffix is required, "
            "or the originals would be overwritten.",
            folder=str(src),
        )
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in src.glob(pattern) if p.is_file() and p.suffix.lower() == ".pdf")
    items = []
    for f in files:
        rel = f.relative_to(src)
        items.append(BatchItem(f, dst / rel.with_name(rel.stem + suffix + rel.suffix)))
    return items


def _fatal(exc: BidSealError) -> bool:
    return exc.code.startswith(FATAL_CODE_PREFIXES)


def seal_batch(
    items: Sequence[BatchItem],
    signer: DigestSigner,
    seals: Sequence[Seal],
    *,
    options: SealOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    on_file: Callable[[BatchOutcome], None] | None = None,
) -> BatchSummary:
    """Seal every item with the same ``signer`` and ``seals``; never raises for one bad file.

    ``progress(done, total, stage)`` reports per-mille over the whole batch with the
    current file's :class:`~app.progress.Stage`; ``on_file`` is called after each file.
    """
    outcomes: list[BatchOutcome] = []
    total = len(items)
    stop: BidSealError | None = None
    for i, item in enumerate(items):
        if stop is not None or is_cancelled(cancel):
            outcome = BatchOutcome(item, error=stop or _cancelled(), skipped=True)
        else:
            def sub(done: int, whole: int, stage: Stage, i: int = i) -> None:
                report_fraction(progress, (i + done / whole) / total, stage)

            try:
                item.output_path.parent.mkdir(parents=True, exist_ok=True)
                result = seal_pdf(item.input_path, item.output_path, signer, seals,
                                  options=options, progress=sub, cancel=cancel)
                outcome = BatchOutcome(item, result=result)
            except BidSealError as exc:
                outcome = BatchOutcome(item, error=exc)
                if _fatal(exc):
                    stop = exc
            except OSError as exc:
                outcome = BatchOutcome(item, error=OutputWriteError(
                    "无法创建输出文件夹。", "The output folder cannot be created.", reason=str(exc)))
        outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    report_fraction(progress, 1.0, Stage.DONE)
    return BatchSummary(tuple(outcomes))


def _cancelled() -> PdfSignError:
    from app.pdfsign.errors import SealCancelledError

    return SealCancelledError()

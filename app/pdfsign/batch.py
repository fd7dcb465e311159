"""Sealing many files with one signer: one PIN entry, one token session.

:func:`scan_batch` decides what a folder holds for sealing (:class:`BatchPlan`):
``*.pdf`` files in name order, with subfolders either walked (``recursive``) or
reported as skipped, hidden files and macOS AppleDouble companions (``._x.pdf``)
ignored, and a re-run made harmless: a file whose name already carries the output
suffix, or that already holds a seal made with the signer's certificate, is
skipped and reported, never sealed again, and so is a file whose output exists and
already carries that certificate's seal. :func:`plan_batch` is the same without
the report.

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
from app.gm.x509 import Certificate
from app.pdfsign.errors import OutputIsInputError, OutputWriteError, PdfOpenError, PdfSignError
from app.pdfsign.placement import Seal
from app.pdfsign.signer import SealOptions, SealResult, seal_pdf
from app.progress import Progress, Stage, report_fraction

__all__ = [
    "FATAL_CODE_PREFIXES",
    "BatchItem",
    "BatchOutcome",
    "BatchPlan",
    "BatchSummary",
    "SkippedFile",
    "plan_batch",
    "scan_batch",
    "seal_batch",
    "sealed_by",
]

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


@dataclass(frozen=True)
class SkippedFile:
    """A folder entry that will not be sealed, and why (``reason`` is a stable code:
    ``hidden``, ``folder``, ``has_suffix``, ``already_sealed``, ``done`` (its output exists and
    is sealed with this certificate already))."""

    path: Path
    reason: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "reason": self.reason, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class BatchPlan:
    items: tuple[BatchItem, ...]
    skipped: tuple[SkippedFile, ...]

    def reported(self) -> list[SkippedFile]:
        """Skipped entries worth telling the user about (hidden files are ignored silently)."""
        return [s for s in self.skipped if s.reason != "hidden"]


def _hidden(name: str) -> bool:
    return name.startswith(".")  # also AppleDouble "._x.pdf" and ".bidseal-*.part" temp files


def sealed_by(path: str | os.PathLike[str], cert: Certificate) -> bool:
    """True when the PDF holds a signature whose signer certificate is ``cert``.

    Reads the signature fields through the sealing engine's exact reader (no full
    verification); an unreadable file is "not sealed" (sealing it will say why).
    """
    from app.pdfsign.incremental import SourcePdf
    from app.pdfsign.prepare import signature_contents

    try:
        with SourcePdf(path) as base:
            blobs = signature_contents(base)
    except (BidSealError, OSError, ValueError):
        return False
    der = cert.der
    return any(der in blob for blob in blobs)


def scan_batch(input_dir: str | os.PathLike[str], output_dir: str | os.PathLike[str], suffix: str = "",
               recursive: bool = False, already_sealed_by: Certificate | None = None) -> BatchPlan:
    """The files of ``input_dir`` to seal (sorted), each written under ``output_dir`` with the
    same relative name plus ``suffix`` before the extension (e.g. ``-signed``), and what was
    skipped; see the module docstring."""
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
    out_root = dst.resolve()
    items: list[BatchItem] = []
    skipped: list[SkippedFile] = []
    todo = [src]
    while todo:
        folder = todo.pop(0)
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
        subfolders = []
        for p in entries:
            if _hidden(p.name):
                skipped.append(SkippedFile(p, "hidden", "隐藏文件，已忽略。", "Hidden file, ignored."))
            elif p.is_dir():
                if p.resolve() == out_root:
                    continue  # the output folder inside the input folder: earlier outputs live there
                if recursive:
                    subfolders.append(p)
                else:
                    skipped.append(SkippedFile(p, "folder", "子文件夹未处理（加 --recursive 可处理子文件夹）。",
                                               "Subfolder not processed (add --recursive to include subfolders)."))
            elif p.is_file() and p.suffix.lower() == ".pdf":
                if suffix and p.stem.endswith(suffix):
                    skipped.append(SkippedFile(p, "has_suffix", f"文件名已带后缀“{suffix}”，视为之前的签章结果，已跳过。",
                                               f"The name already ends with '{suffix}': an earlier output, skipped."))
                    continue
                if already_sealed_by is not None and sealed_by(p, already_sealed_by):
                    skipped.append(SkippedFile(p, "already_sealed", "该文件已有本证书的签章，已跳过。",
                                               "Already sealed with this certificate, skipped."))
                    continue
                rel = p.relative_to(src)
                target = dst / rel.with_name(rel.stem + suffix + rel.suffix)
                if already_sealed_by is not None and target.is_file() and sealed_by(target, already_sealed_by):
                    skipped.append(SkippedFile(p, "done", f"输出文件 {target.name} 已存在且已有本证书的签章，已跳过。",
                                               f"The output {target.name} exists and is sealed with this "
                                               "certificate already, skipped."))
                    continue
                items.append(BatchItem(p, target))
        todo[:0] = subfolders
    return BatchPlan(tuple(items), tuple(skipped))


def plan_batch(input_dir: str | os.PathLike[str], output_dir: str | os.PathLike[str],
               suffix: str = "", recursive: bool = False) -> list[BatchItem]:
    """The items of :func:`scan_batch` (without the skipped-file report)."""
    return list(scan_batch(input_dir, output_dir, suffix, recursive).items)


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

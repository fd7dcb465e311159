"""Review-and-sign requests from a web page (the localhost helper's ``sign-pdf``), Qt-free part.

The helper hands the window a PDF the hub's page sent; the window shows it in the
sealing workspace with a banner naming the web site, the bidder reviews it, places
seals (the page's hints - a keyword, a page - only pre-fill the workspace) and
signs, or declines. What is signed is exactly what was shown: the window works on a
private copy (a folder only this user can read, under the runtime folder), checks
that copy's SHA-256 again before asking for the PIN, and signs that copy.

The window side is :meth:`app.ui.window.MainWindow.open_for_review`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import paths
from app.errors import BidSealError
from app.ui.models.document import SIGNED_SUFFIX

#: ``on_done(signed_path, None)`` once signed (``ReviewedPlacements`` for review-only requests);
#: ``on_done(None, error)`` when declined or failed.
DoneCallback = Callable[[Any, BidSealError | None], None]

#: Review folders older than this are removed when the window starts.
STALE_SECONDS = 24 * 3600


class ReviewDeclined(BidSealError):
    code = "ERR_CANCELLED"

    def __init__(self, why: str = "declined") -> None:
        super().__init__("投标人没有签章（已拒绝或已关闭文件）。", "The bidder did not sign (declined or closed the file).",
                         details={"why": why})


class ReviewInputChanged(BidSealError):
    code = "ERR_REVIEW_CHANGED"

    def __init__(self) -> None:
        super().__init__("待签文件在显示后被改动，已拒绝签章。请让网页重新发送文件。",
                         "The file changed after it was shown, so it was not signed. Ask the web page to send it again.")


@dataclass(frozen=True)
class ReviewHints:
    """Placement hints from the web page: they pre-fill the workspace, nothing more."""

    keyword: str | None = None
    page: int | None = None  # 1-based
    occurrence: int | None = None  # None: every hit

    @classmethod
    def from_mapping(cls, hints: Mapping[str, Any] | ReviewHints | None) -> ReviewHints:
        if isinstance(hints, ReviewHints):
            return hints
        hints = hints or {}
        keyword = hints.get("keyword")
        page = hints.get("page")
        occurrence = hints.get("occurrence")
        return cls(
            keyword=str(keyword)[:200] if isinstance(keyword, str) and keyword.strip() else None,
            page=int(page) if isinstance(page, int) and not isinstance(page, bool) and page >= 1 else None,
            occurrence=int(occurrence) if isinstance(occurrence, int) and not isinstance(occurrence, bool)
            and occurrence >= 1 else None,
        )


def review_root() -> Path:
    return paths.runtime_dir() / "review"


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class ReviewedPlacements:
    """What a review-only request hands back: the file it was about (and the SHA-256 of what
    was shown) and the confirmed placements as plain specs (:meth:`SealingPlan.to_specs`:
    ``{"kind": "rect", "page", "rect", "image"}`` in displayed page coordinates, or
    ``{"kind": "cross", "pages", "size_mm", "center_y", "pages_per_seal", "image"}``)."""

    source: Path
    sha256: str
    specs: tuple[dict[str, Any], ...]


@dataclass
class ReviewSession:
    """One request: the private copy that is shown and signed, and where the result goes."""

    origin: str
    source: Path
    hints: ReviewHints
    on_done: DoneCallback | None
    folder: Path = field(default_factory=Path)
    copy: Path = field(default_factory=Path)
    output: Path = field(default_factory=Path)
    digest: str = ""
    finished: bool = False
    #: False: review only (the caller seals); True: the window signs.
    sign: bool = True

    @classmethod
    def prepare(cls, source: str | os.PathLike[str], origin: str, hints: Mapping[str, Any] | ReviewHints | None,
                on_done: DoneCallback | None, *, sign: bool = True) -> ReviewSession:
        """Copy ``source`` into a new private folder (runs on a worker thread)."""
        src = Path(source)
        root = paths.ensure(review_root())
        folder = root / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        name = src.name if src.suffix.lower() == ".pdf" else f"{src.name}.pdf"
        copy = folder / name
        shutil.copyfile(src, copy)
        os.chmod(copy, 0o400)
        output = folder / f"{copy.stem}{SIGNED_SUFFIX}.pdf"
        return cls(origin=origin, source=src, hints=ReviewHints.from_mapping(hints), on_done=on_done,
                   folder=folder, copy=copy, output=output, digest=sha256_file(copy), sign=sign)

    def check_unchanged(self) -> None:
        """Refuse to sign when the shown copy is no longer what was shown."""
        if sha256_file(self.copy) != self.digest:
            raise ReviewInputChanged()

    def finish(self, signed: Any, error: BidSealError | None) -> None:
        """Call ``on_done`` exactly once."""
        if self.finished:
            return
        self.finished = True
        if self.on_done is not None:
            self.on_done(signed, error)


def remove_stale_reviews(now: float | None = None) -> int:
    """Delete review folders left by earlier runs (older than :data:`STALE_SECONDS`)."""
    root = review_root()
    if not root.is_dir():
        return 0
    now = now or time.time()
    removed = 0
    for folder in root.iterdir():
        with contextlib.suppress(OSError):
            if folder.is_dir() and now - folder.stat().st_mtime > STALE_SECONDS:
                for f in folder.iterdir():
                    with contextlib.suppress(OSError):
                        os.chmod(f, 0o600)
                shutil.rmtree(folder)
                removed += 1
    return removed

"""The open document and the seals placed on it (Qt-free).

Coordinates are those of :mod:`app.pdfsign.placement`: points, origin at the top-left
of the page *as displayed* (rotation and CropBox applied), y downwards. The viewer
draws a page in exactly that space, so a seal's rectangle on screen is the
``RectPlacement`` the engine receives, with nothing converted in between.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.ui.i18n import Text

Box = tuple[float, float, float, float]

#: One millimetre in points (as :data:`app.pdfsign.placement.MM`).
MM = 72.0 / 25.4
#: Default seal size (longer side): a common company seal is 42 mm.
DEFAULT_SEAL_MM = 42.0
#: Smallest seal the workspace lets a bidder resize to.
MIN_SEAL_MM = 8.0
#: Output name: ``<stem>-已签章.pdf`` beside the original.
SIGNED_SUFFIX = "-已签章"


@dataclass(frozen=True)
class PageInfo:
    """One page as displayed: its size in points and its /Rotate."""

    index: int
    width: float
    height: float
    rotation: int = 0


@dataclass(frozen=True)
class DocInfo:
    """What the engine found when it opened the file.

    ``refusal`` is set when the file can be shown but not sealed (encrypted with an
    owner password only, damaged and repaired, certified "no changes"): the error
    in wire form (:func:`app.ui.wire.error_to_wire`)."""

    path: str
    size: int
    page_count: int
    pages: tuple[PageInfo, ...]
    refusal: dict[str, Any] | None = None
    has_signatures: bool = False

    @property
    def sealable(self) -> bool:
        return self.refusal is None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass(frozen=True)
class SealChoice:
    """A seal picture the bidder can place: from the key (``kind`` company/legal/...)
    or from an image file."""

    key: str
    label: Text
    png: bytes = field(repr=False)
    width: int = 1
    height: int = 1
    source: str = "key"  # "key" or "file"

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.width > 0 and self.height > 0 else 1.0


SEAL_LABELS: dict[str, Text] = {
    "company": ("单位公章（投标专用章）", "Company seal"),
    "legal": ("法定代表人章", "Legal rep. seal"),
}


def seal_label(kind: str) -> Text:
    return SEAL_LABELS.get(kind, (f"印章 {kind}", f"Seal {kind}"))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (from IHDR) or (1, 1) when it is not one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big") or 1, int.from_bytes(data[20:24], "big") or 1
    return 1, 1


def seal_size(size_mm: float, aspect: float) -> tuple[float, float]:
    """(width, height) in points of a seal whose longer side is ``size_mm``."""
    side = size_mm * MM
    return (side, side / aspect) if aspect >= 1 else (side * aspect, side)


_uids = itertools.count(1)


@dataclass(frozen=True)
class PlacedSeal:
    """One seal on one page, at ``rect`` (displayed page coordinates, points)."""

    seal: SealChoice
    page: int
    rect: Box
    origin: str = "manual"  # "manual" (dragged) or "keyword" (found and confirmed)
    uid: int = field(default_factory=lambda: next(_uids))

    def moved(self, page: int, rect: Box) -> PlacedSeal:
        return replace(self, page=page, rect=rect)


@dataclass(frozen=True)
class CrossPageSeal:
    """A cross-page seal (骑缝章) over ``pages`` (0-based; None = all), as
    :class:`app.pdfsign.placement.CrossPagePlacement` takes it."""

    seal: SealChoice
    pages: tuple[int, ...] | None = None
    size_mm: float = 40.0
    center_y: float = 0.5
    pages_per_seal: int | None = None


def clamp_rect(rect: Box, page: PageInfo) -> tuple[Box, bool]:
    """``rect`` moved (and shrunk if it is bigger than the page) to lie within ``page``;
    the flag says whether it had to change."""
    x0, y0, x1, y1 = min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3])
    w, h = x1 - x0, y1 - y0
    scale = min(1.0, page.width / w if w > 0 else 1.0, page.height / h if h > 0 else 1.0)
    w, h = w * scale, h * scale
    nx0 = min(max(x0, 0.0), page.width - w)
    ny0 = min(max(y0, 0.0), page.height - h)
    out = (nx0, ny0, nx0 + w, ny0 + h)
    changed = any(abs(a - b) > 0.01 for a, b in zip(out, (x0, y0, x1, y1), strict=True))
    return out, changed


def centred_rect(cx: float, cy: float, choice: SealChoice, size_mm: float = DEFAULT_SEAL_MM) -> Box:
    w, h = seal_size(size_mm, choice.aspect)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


@dataclass
class SealingPlan:
    """Everything that will be signed in one operation (one PIN entry)."""

    seals: list[PlacedSeal] = field(default_factory=list)
    cross_page: CrossPageSeal | None = None

    @property
    def empty(self) -> bool:
        return not self.seals and self.cross_page is None

    @property
    def count(self) -> int:
        return len(self.seals) + (1 if self.cross_page is not None else 0)

    def add(self, seal: PlacedSeal) -> None:
        self.seals.append(seal)

    def replace(self, seal: PlacedSeal) -> None:
        self.seals = [seal if s.uid == seal.uid else s for s in self.seals]

    def remove(self, uid: int) -> None:
        self.seals = [s for s in self.seals if s.uid != uid]

    def clear(self) -> None:
        self.seals.clear()
        self.cross_page = None

    def to_specs(self) -> list[dict[str, Any]]:
        """Plain descriptions the engine process turns into :class:`app.pdfsign.Seal` objects."""
        specs: list[dict[str, Any]] = [
            {"kind": "rect", "page": s.page, "rect": tuple(s.rect), "image": s.seal.png} for s in self.seals
        ]
        cp = self.cross_page
        if cp is not None:
            specs.append({"kind": "cross", "pages": cp.pages, "size_mm": cp.size_mm, "center_y": cp.center_y,
                          "pages_per_seal": cp.pages_per_seal, "image": cp.seal.png})
        return specs


def default_output_path(src: str | os.PathLike[str], wanted: str | os.PathLike[str] | None = None,
                        exists: Callable[[Path], bool] = Path.exists) -> Path:
    """Where the sealed copy of ``src`` goes: ``wanted`` (the name the settings give, by default
    ``<stem>-已签章.pdf`` beside the original), with ``(2)``, ``(3)``... added when that file
    exists already. Never the original itself."""
    src_p = Path(src)
    first = Path(wanted) if wanted is not None else src_p.with_name(f"{src_p.stem}{SIGNED_SUFFIX}.pdf")
    stem, suffix = first.stem, first.suffix or ".pdf"
    for n in itertools.count(1):
        candidate = first if n == 1 else first.with_name(f"{stem}({n}){suffix}")
        if candidate != src_p and not exists(candidate):
            return candidate
    raise AssertionError("unreachable")


def folder_writable(folder: Path) -> bool:
    """True when a new file can be created in ``folder`` (tried, not guessed)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".bidseal-probe-", delete=True):
            return True
    except OSError:
        return False


def page_list_text(pages: Sequence[int] | None) -> str:
    """1-based ranges ("1-3,5") of 0-based ``pages`` ("all pages" -> "")."""
    if pages is None:
        return ""
    nums = sorted({p + 1 for p in pages})
    out: list[str] = []
    start = prev = None
    for n in nums:
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else f"{start}")
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ",".join(out)


def parse_page_list(text: str, page_count: int) -> tuple[int, ...] | None:
    """"1-3,5" -> (0, 1, 2, 4); "" or "all"/"全部" -> None. Raises ValueError when malformed
    or out of range."""
    t = text.strip().replace("，", ",").replace("－", "-")
    if t.lower() in ("", "all", "全部"):
        return None
    pages: list[int] = []
    for part in t.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a_text, b_text = part.split("-", 1)
            a, b = int(a_text), int(b_text)
            if a > b:
                a, b = b, a
            pages.extend(range(a, b + 1))
        else:
            pages.append(int(part))
    if not pages or min(pages) < 1 or max(pages) > page_count:
        raise ValueError(text)
    seen: list[int] = []
    for p in pages:
        if p - 1 not in seen:
            seen.append(p - 1)
    return tuple(seen)

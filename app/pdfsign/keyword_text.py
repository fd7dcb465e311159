"""Keyword search that tolerates how bid templates really spell a label.

A bidder types ``投标人（盖章）`` with full-width brackets; the template may say
``投标人(盖章)``, ``投标人 （盖章）`` or ``投 标 人（盖 章）``. Exact search
(``page.search_for``) misses all of them. Here the page's characters and the keyword
are both :func:`normalise`-d (NFKC: full-width forms to half-width; the bracket
families 【】〔〕［］ folded; every kind of white space removed), the keyword is
found in the page's normalised text, and the rectangles of the original characters
it covers are returned.

When nothing matches, :func:`near_matches` lists the closest spellings in the
document (``投标单位（盖章）`` for ``投标人（盖章）``) so the error can say what the
bidder probably meant.

Pure text functions plus two adapters that only call ``page.get_text("rawdict")``
/ ``page.get_text()`` on a PyMuPDF page; nothing else of MuPDF is needed.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

#: bracket families folded onto ASCII after NFKC (which already maps （）［］ to ()[])
_BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "(", "〕": ")", "〖": "[", "〗": "]",
                           "「": "[", "」": "]", "『": "[", "』": "]", "〈": "<", "〉": ">",
                           "《": "<", "》": ">"})

#: how many suggestions an error shows at most, and how alike they must be (0..1)
MAX_SUGGESTIONS = 3
MIN_SIMILARITY = 0.6
#: the suggestion search reads at most this much text (it runs only after a miss)
_MAX_SCAN_CHARS = 2_000_000


class Box(NamedTuple):
    """A rectangle in the page's unrotated space, like PyMuPDF's ``search_for`` results."""

    x0: float
    y0: float
    x1: float
    y1: float


def normalise(text: str) -> str:
    """The form in which a keyword and page text are compared (see the module docstring)."""
    return "".join(_fold(c) for c in text)


def _fold(c: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", c).translate(_BRACKETS) if not ch.isspace())


def find_spans(chars: Sequence[str], keyword: str) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges of ``chars`` (one entry per page character, in reading
    order) whose normalised text contains the normalised keyword exactly; non-overlapping,
    in order."""
    target = normalise(keyword)
    if not target:
        return []
    flat: list[str] = []
    owner: list[int] = []  # index in ``chars`` of each normalised character
    for i, c in enumerate(chars):
        for ch in _fold(c):
            flat.append(ch)
            owner.append(i)
    text = "".join(flat)
    spans: list[tuple[int, int]] = []
    pos = text.find(target)
    while pos >= 0:
        spans.append((owner[pos], owner[pos + len(target) - 1] + 1))
        pos = text.find(target, pos + len(target))
    return spans


def _page_chars(page: Any) -> tuple[list[str], list[Box | None]]:
    chars: list[str] = []
    boxes: list[Box | None] = []
    for block in page.get_text("rawdict").get("blocks", []):
        for line in block.get("lines", []):
            for span in line.get("spans", []):
                for ch in span.get("chars", []):
                    chars.append(ch["c"])
                    boxes.append(Box(*ch["bbox"]))
            chars.append("\n")  # a line break separates words like a space
            boxes.append(None)
    return chars, boxes


def find_on_page(page: Any, keyword: str) -> list[Box]:
    """Rectangles of ``keyword`` on a PyMuPDF ``page``, tolerant of width and space variants
    (each the union of the characters it covers)."""
    chars, boxes = _page_chars(page)
    out = []
    for start, end in find_spans(chars, keyword):
        covered = [b for b in boxes[start:end] if b is not None]
        if covered:
            out.append(Box(min(b.x0 for b in covered), min(b.y0 for b in covered),
                           max(b.x1 for b in covered), max(b.y1 for b in covered)))
    return out


def near_matches(keyword: str, texts: Iterable[tuple[int, str]], limit: int = MAX_SUGGESTIONS) -> list[tuple[str, int]]:
    """The spellings in ``texts`` ((page number, page text) pairs) most like ``keyword``:
    ``[(text, page number), ...]``, best first, at most ``limit``, each at least
    :data:`MIN_SIMILARITY` alike (difflib ratio of the normalised forms)."""
    target = normalise(keyword)
    if not target:
        return []
    n = len(target)
    wanted = set(target)
    best: dict[str, tuple[float, int]] = {}
    scanned = 0
    for page_no, text in texts:
        for line in text.splitlines():
            flat = normalise(line)
            scanned += len(flat)
            line_best: tuple[float, str] = (0.0, "")
            for size in {max(1, n - 2), n - 1, n, n + 1, n + 2} - {0}:
                for i in range(0, max(1, len(flat) - size + 1)):
                    window = flat[i:i + size]
                    if len(wanted & set(window)) * 2 < len(wanted):
                        continue
                    ratio = difflib.SequenceMatcher(None, target, window).ratio()
                    if ratio > line_best[0]:
                        line_best = (ratio, window)
            ratio, window = line_best  # one suggestion per line: its best window
            if ratio >= MIN_SIMILARITY and window != target and ratio > best.get(window, (0.0, 0))[0]:
                best[window] = (ratio, page_no)
        if scanned > _MAX_SCAN_CHARS:
            break
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))
    out: list[tuple[str, int]] = []
    for window, (_ratio, page_no) in ranked:
        if any(window in kept or kept in window for kept, _ in out):
            continue
        out.append((window, page_no))
        if len(out) >= limit:
            break
    return out


def not_found_hint(doc: Any, keyword: str, pages: Sequence[int] | None = None) -> tuple[str, str, list[dict[str, Any]]]:
    """(zh, en, suggestions) to append to a "keyword not found" error for ``doc``."""
    indexes = list(pages) if pages is not None else list(range(doc.page_count))
    texts = ((i + 1, doc.load_page(i).get_text()) for i in indexes if 0 <= i < doc.page_count)
    near = near_matches(keyword, texts)
    if not near:
        return "", "", []
    zh = "；".join(f"“{t}”（第 {p} 页）" for t, p in near)
    en = "; ".join(f'"{t}" (page {p})' for t, p in near)
    return (f"文档中相近的文字：{zh}。", f" Similar text in the document: {en}.",
            [{"text": t, "page": p} for t, p in near])

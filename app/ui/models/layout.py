"""Continuous-scroll layout of the pages (Qt-free): where each page sits, which are visible.

Pages are stacked top to bottom in scene units of points (1/72 in), centred on a
common axis, ``gap`` points apart; the viewer scales the whole scene for zoom. A
1000-page document is laid out at once with the first page's size and corrected
when the other pages' sizes arrive (:meth:`PageLayout.update_sizes`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.ui.models.document import PageInfo

GAP = 12.0


@dataclass(frozen=True)
class Slot:
    index: int
    x: float
    y: float
    width: float
    height: float

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.width and self.y <= y <= self.y + self.height


class PageLayout:
    def __init__(self, page_count: int, known: Sequence[PageInfo], gap: float = GAP) -> None:
        self.gap = gap
        first = known[0] if known else PageInfo(0, 595.0, 842.0)
        self._sizes = [(first.width, first.height)] * page_count
        for p in known:
            if 0 <= p.index < page_count:
                self._sizes[p.index] = (p.width, p.height)
        self._relayout()

    def _relayout(self) -> None:
        self.width = max((w for w, _ in self._sizes), default=0.0) + 2 * self.gap
        self._tops: list[float] = []
        y = self.gap
        for _, h in self._sizes:
            self._tops.append(y)
            y += h + self.gap
        self.height = y

    def update_sizes(self, pages: Iterable[PageInfo]) -> bool:
        """Record real page sizes; True when anything moved."""
        changed = False
        for p in pages:
            if 0 <= p.index < len(self._sizes) and self._sizes[p.index] != (p.width, p.height):
                self._sizes[p.index] = (p.width, p.height)
                changed = True
        if changed:
            self._relayout()
        return changed

    @property
    def page_count(self) -> int:
        return len(self._sizes)

    def slot(self, index: int) -> Slot:
        w, h = self._sizes[index]
        return Slot(index, (self.width - w) / 2, self._tops[index], w, h)

    def page_at(self, y: float) -> int:
        """The page at scene height ``y`` (the nearest one in a gap)."""
        if not self._tops:
            return 0
        i = bisect.bisect_right(self._tops, y) - 1
        return min(max(i, 0), len(self._tops) - 1)

    def pages_between(self, y0: float, y1: float, margin: int = 0) -> list[int]:
        """Pages intersecting [y0, y1], plus ``margin`` pages before and after."""
        if not self._tops:
            return []
        first = self.page_at(y0)
        if first < len(self._tops) - 1 and self._tops[first] + self._sizes[first][1] < y0:
            first += 1
        last = self.page_at(y1)
        first = max(first - margin, 0)
        last = min(last + margin, len(self._tops) - 1)
        return list(range(first, last + 1))

    def hit(self, x: float, y: float) -> tuple[int, float, float] | None:
        """(page, x, y in page coordinates) for a scene point on a page, else None."""
        i = self.page_at(y)
        s = self.slot(i)
        if s.contains(x, y):
            return i, x - s.x, y - s.y
        return None

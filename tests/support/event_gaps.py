"""How long the UI thread's event loop was blocked: a 5 ms QTimer on the UI thread; the
longest gap between its ticks is the longest the loop could not run (GUI benchmarks)."""

from __future__ import annotations

import time
from typing import Any


class EventGaps:
    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer: Any = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> EventGaps:
        self.reset()
        self.timer.start()
        return self

    def reset(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()

    def stop(self) -> None:
        self.timer.stop()

    @property
    def max_ms(self) -> float:
        return round(max(self.gaps) * 1000, 1) if self.gaps else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.gaps:
            return 0.0
        ordered = sorted(self.gaps)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000, 1)

    def share_over(self, ms: float) -> float:
        """Fraction of ticks that came later than ``ms`` after the previous one."""
        return round(sum(g * 1000 > ms for g in self.gaps) / len(self.gaps), 4) if self.gaps else 0.0

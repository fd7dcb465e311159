"""What a diagnostic says: a :class:`Check` per question, a :class:`DiagnosticReport` for all.

Every check answers one question a bidder or a support engineer asks ("is the driver
loaded?", "is the PIN locked?") with a status, a sentence saying what was found and,
when something is wrong, what to do, in Chinese and English. ``details`` keeps the
raw facts (paths, codes, counts) for the support report; it never holds secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    INFO = "info"          # a fact, nothing to do
    WARNING = "warning"    # works now, but act before bid day
    ERROR = "error"        # something will fail
    SKIPPED = "skipped"    # could not be checked here (not installed, not configured)

    @property
    def rank(self) -> int:
        return {"error": 4, "warning": 3, "skipped": 1, "info": 1, "ok": 0}[self.value]


@dataclass(frozen=True)
class Text:
    """A sentence in both languages."""

    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        return self.en if lang.lower().startswith("en") else self.zh


@dataclass(frozen=True)
class Check:
    id: str                       # stable: "skf_libraries", "pin", ...
    status: Status
    title: Text                   # the question: "UKey 驱动 / SKF libraries"
    summary: Text                 # what was found
    fix: Text | None = None       # what to do (None when nothing is to be done)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status.value,
                "title": {"zh": self.title.zh, "en": self.title.en},
                "summary": {"zh": self.summary.zh, "en": self.summary.en},
                "fix": {"zh": self.fix.zh, "en": self.fix.en} if self.fix else None,
                "details": self.details}


@dataclass(frozen=True)
class DiagnosticReport:
    checks: tuple[Check, ...]
    started: datetime
    seconds: float
    #: Public summaries of the certificates on the keys found (for the support report).
    certificates: tuple[dict[str, Any], ...] = ()

    @property
    def status(self) -> Status:
        """The worst status of any check (OK when everything is fine)."""
        worst = max(self.checks, key=lambda c: c.status.rank, default=None)
        if worst is None or worst.status.rank < Status.WARNING.rank:
            return Status.OK
        return worst.status

    def get(self, check_id: str) -> list[Check]:
        return [c for c in self.checks if c.id == check_id]

    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status in (Status.ERROR, Status.WARNING)]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "started": self.started.isoformat(),
                "seconds": round(self.seconds, 3), "checks": [c.to_dict() for c in self.checks],
                "certificates": list(self.certificates)}

    def text(self, lang: str = "zh") -> str:
        """A plain-text rendering (the CLI and the support report)."""
        marks = {Status.OK: "[OK]  ", Status.INFO: "[i]   ", Status.WARNING: "[!]   ",
                 Status.ERROR: "[X]   ", Status.SKIPPED: "[-]   "}
        lines = []
        for c in self.checks:
            lines.append(f"{marks[c.status]}{c.title.get(lang)}: {c.summary.get(lang)}")
            if c.fix is not None:
                lines.append("      -> " + c.fix.get(lang))
        return "\n".join(lines)

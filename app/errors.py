"""One error vocabulary for every layer and front end.

Every failure a bidder can meet is a :class:`BidSealError` with a stable code
(what the CLI prints, the GUI shows and the localhost helper returns), a sentence in
Chinese first and English second, and technical details kept apart from the
sentence so that a SKF return code or a parser offset never replaces advice.
Messages never contain secret material (PINs, keys, plaintext).
"""

from __future__ import annotations

from typing import Any


class BidSealError(Exception):
    """Base of all BidSeal errors.

    ``code`` is a stable machine-readable identifier (``ERR_...``); ``zh`` and
    ``en`` are complete sentences for a bidder; ``details`` carries raw facts
    (SKF return codes, offsets, file names) for diagnostics.
    """

    code: str = "ERR_UNKNOWN"

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(zh, en)
        self.zh = zh
        self.en = en
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def message(self, lang: str = "zh") -> str:
        """The sentence for a bidder in ``lang`` ("zh" or "en")."""
        return self.en if lang.lower().startswith("en") else self.zh

    def __str__(self) -> str:
        return f"{self.zh} ({self.en})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form used by the CLI's --json output and the helper."""
        return {"code": self.code, "zh": self.zh, "en": self.en, "details": self.details}

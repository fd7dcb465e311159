"""Why an update was not offered or a package not kept, in the project's error vocabulary.

The start-up check never lets these escape (it turns each into a log line and "no
update offered"); ``bidseal update`` shows them as bilingual sentences. ``reason`` is a
short stable word (``signature``, ``expired``, ``downgrade`` ...) that tests, logs and
``--json`` output use.
"""

from __future__ import annotations

from app.errors import BidSealError


class UpdateError(BidSealError):
    code = "ERR_UPDATE"

    def __init__(self, reason: str, zh: str, en: str, *, code: str | None = None, **details: object) -> None:
        super().__init__(zh, en, code=code, details={"reason": reason, **details})
        self.reason = reason


class UpdateRefused(UpdateError):
    """The manifest (or a package) was fetched but cannot be trusted or used."""

    code = "ERR_UPDATE_REFUSED"


class UpdateUnreachable(UpdateError):
    """The update server could not be reached or did not answer in time."""

    code = "ERR_UPDATE_UNREACHABLE"


class PackageMismatch(UpdateError):
    """A downloaded package is not the one the signed manifest describes (nothing kept)."""

    code = "ERR_INTEGRITY"

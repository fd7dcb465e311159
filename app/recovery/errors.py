"""Errors of the recovery key file: one base class, stable codes, bilingual sentences."""

from __future__ import annotations

from typing import Any

from app.errors import BidSealError


class RecoveryError(BidSealError):
    """A recovery key file cannot be made, read or opened."""

    code = "ERR_RECOVERY"

    def __init__(self, zh: str, en: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(zh, en, code=code, details=details)


class RecoveryFormatError(RecoveryError):
    """The file is not a BidSeal recovery key file, or it was damaged or altered."""

    code = "ERR_RECOVERY_FORMAT"


class WrongPassphrase(RecoveryError):
    """The passphrase does not open the file's private key."""

    code = "ERR_RECOVERY_PASSPHRASE"


class WeakPassphrase(RecoveryError):
    """A new recovery file was refused a passphrase that is too easy to guess offline."""

    code = "ERR_RECOVERY_WEAK_PASSPHRASE"

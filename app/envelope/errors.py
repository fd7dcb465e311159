"""Errors of the bid-file envelope, each a :class:`~app.errors.BidSealError` with a stable code.

The CLI maps :class:`EnvelopeIntegrityError` (the file was altered, truncated or
damaged) to exit code 1 and everything else to exit code 2. Token errors raised
by a UKey unwrapper (``DeviceRemoved``, ``PinIncorrect``...) are NOT wrapped: they
reach the caller with their own class and code after the engine has cleaned up.
"""

from __future__ import annotations

from typing import Any

from app.cancel import OperationCancelled
from app.errors import BidSealError


class EnvelopeError(BidSealError):
    """Base of every error this package raises."""

    code = "ERR_ENVELOPE"

    def __init__(self, zh: str, en: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(zh, en, code=code, details=details)


class EnvelopeFormatError(EnvelopeError):
    """Not a BidSeal envelope, an unsupported version, or a malformed header.

    The only error the header parser raises for any input (fuzzed)."""

    code = "ERR_ENVELOPE_FORMAT"


class EnvelopeArgumentError(EnvelopeError):
    """A caller-supplied value is unusable (a project id with control characters, too
    long...): a wrong argument, reported before anything is written."""

    code = "ERR_USAGE"


class EnvelopeIntegrityError(EnvelopeError):
    """The envelope was altered, truncated, extended or spliced: nothing is released."""

    code = "ERR_INTEGRITY"


class NotARecipientError(EnvelopeError):
    """None of the offered keys is a recipient of the envelope.

    ``details["needed"]`` lists the recipients of the file and ``details["offered"]``
    the certificates of the keys offered, each as ``{unit, common_name, serial,
    issuer}``.
    """

    code = "ERR_NOT_RECIPIENT"


class UnwrapError(EnvelopeError):
    """The key matches a recipient entry by certificate but cannot open it (the key
    does not belong to the certificate, or the entry was damaged)."""

    code = "ERR_ENVELOPE_UNWRAP"


class RecipientCertificateError(EnvelopeError):
    """A certificate cannot receive an envelope (signing-only, expired, not SM2...)."""

    code = "ERR_RECIPIENT_CERT"


class EnvelopeCancelled(OperationCancelled, EnvelopeError):
    """The caller cancelled the operation; no output was left behind
    (:class:`app.cancel.OperationCancelled`)."""


class EnvelopeIOError(EnvelopeError):
    """Reading the input or writing the output failed (missing file, disk full...)."""

    code = "ERR_IO"

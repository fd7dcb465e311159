"""Errors of the PDF sealing engine, each with a stable code and a zh+en sentence.

Every refusal a bidder can meet while sealing is one of these classes; the CLI
prints them, the GUI shows them and the helper returns :meth:`to_dict`. Codes are
part of the interface: never rename one, add new ones instead.
"""

from __future__ import annotations

from typing import Any

from app.cancel import OperationCancelled
from app.errors import BidSealError

__all__ = [
    "CertificateNotSigningError",
    "CertificateNotYetValidError",
    "CertificateExpiredError",
    "KeywordNotFoundError",
    "OutputIsInputError",
    "OutputWriteError",
    "PdfCertifiedLockedError",
    "PdfDamagedError",
    "PdfEncryptedError",
    "PdfOpenError",
    "PdfSignError",
    "PageOutOfRangeError",
    "PlaceholderError",
    "SealCancelledError",
    "SealImageError",
    "SealOutsidePageError",
    "SelfVerificationError",
    "SignatureTooLargeError",
    "TimestampError",
    "UnsupportedPdfError",
]


class DetailedError(BidSealError):
    """A :class:`BidSealError` whose keyword arguments are its ``details``: the constructor
    shared by the sealing errors below and the verifier's
    :class:`~app.pdfsign.pdfstructure.PdfStructureError`."""

    def __init__(self, zh: str, en: str, **details: Any) -> None:
        super().__init__(zh, en, details=details)


class PdfSignError(DetailedError):
    """Base class of every sealing failure (code ``ERR_PDF_SIGN``)."""

    code = "ERR_PDF_SIGN"


class PdfOpenError(PdfSignError):
    """The input is missing, unreadable or not a PDF at all."""

    code = "ERR_PDF_OPEN"


class PdfEncryptedError(PdfSignError):
    """Encrypted PDFs are refused: MuPDF would encrypt the /Contents placeholder."""

    code = "ERR_PDF_ENCRYPTED"


class PdfDamagedError(PdfSignError):
    """The PDF is damaged and MuPDF had to repair it, so no incremental update is possible."""

    code = "ERR_PDF_DAMAGED"


class PdfCertifiedLockedError(PdfSignError):
    """The PDF carries a certification signature (DocMDP P=1) that forbids any change."""

    code = "ERR_PDF_CERTIFIED_LOCKED"


class UnsupportedPdfError(PdfSignError):
    """A structure the engine cannot extend safely (e.g. an XFA-only form)."""

    code = "ERR_PDF_UNSUPPORTED"


class CertificateExpiredError(PdfSignError):
    code = "ERR_CERT_EXPIRED"


class CertificateNotYetValidError(PdfSignError):
    code = "ERR_CERT_NOT_YET_VALID"


class CertificateNotSigningError(PdfSignError):
    """The certificate has no digitalSignature/nonRepudiation key usage (e.g. an encryption cert)."""

    code = "ERR_CERT_NOT_SIGNING"


class SealOutsidePageError(PdfSignError):
    code = "ERR_SEAL_OUTSIDE_PAGE"


class PageOutOfRangeError(PdfSignError):
    code = "ERR_PAGE_OUT_OF_RANGE"


class KeywordNotFoundError(PdfSignError):
    code = "ERR_KEYWORD_NOT_FOUND"


class SealImageError(PdfSignError):
    """The seal image is not a usable PNG/JPEG picture."""

    code = "ERR_SEAL_IMAGE"


class OutputIsInputError(PdfSignError):
    code = "ERR_OUTPUT_IS_INPUT"


class OutputWriteError(PdfSignError):
    """The output folder is missing or not writable, or the disk is full."""

    code = "ERR_OUTPUT_WRITE"


class PlaceholderError(PdfSignError):
    """The signature placeholders could not be located unambiguously after saving."""

    code = "ERR_PDF_PLACEHOLDER"


class SignatureTooLargeError(PdfSignError):
    """The CMS signature did not fit the space reserved for it."""

    code = "ERR_SIGNATURE_TOO_LARGE"


class SelfVerificationError(PdfSignError):
    """The freshly sealed file failed verification; nothing was written."""

    code = "ERR_SELF_VERIFY"


class TimestampError(PdfSignError):
    """The time-stamp authority could not be reached or returned an unusable token."""

    code = "ERR_TIMESTAMP"


class SealCancelledError(OperationCancelled, PdfSignError):
    """Sealing was cancelled (:class:`app.cancel.OperationCancelled`)."""

    def __init__(self) -> None:
        super().__init__("用户已取消签章，未生成任何文件。", "Sealing was cancelled; no file was written.")

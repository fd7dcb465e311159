"""Errors of the byte-exact PDF reader: every parse failure is a :class:`PdfStructureError`
(a :class:`~app.errors.BidSealError` with a zh+en sentence and the offset)."""

from __future__ import annotations

from typing import Any

from app.pdfsign.errors import DetailedError


class PdfStructureError(DetailedError):
    """The file is not a PDF this verifier can read byte for byte."""

    code = "ERR_PDF_STRUCTURE"


class NotAPdfError(PdfStructureError):
    """Empty input, or no ``%PDF-`` header: not a PDF at all."""

    code = "ERR_NOT_PDF"


class PdfReadError(PdfStructureError):
    """The file could not be opened or read (missing, permissions, I/O error)."""

    code = "ERR_PDF_READ"


class PdfTruncatedError(PdfStructureError):
    """No complete revision could be found: the file is cut short."""

    code = "ERR_PDF_TRUNCATED"


class PdfUnsupportedError(PdfStructureError):
    """A feature this reader does not implement (e.g. an exotic stream filter)."""

    code = "ERR_PDF_UNSUPPORTED"


def _malformed(what: str, offset: int, **details: Any) -> PdfStructureError:
    """``what`` is "中文 / English"; each half goes into its own sentence."""
    zh, _, en = what.partition(" / ")
    return PdfStructureError(
        f"PDF 文件结构损坏（{zh}，位置 {offset}）。",
        f"The PDF structure is damaged ({en or zh} at offset {offset}).",
        offset=offset,
        **details,
    )

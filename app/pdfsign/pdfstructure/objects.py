"""PDF values as the parser returns them: references, names, strings, arrays,
dictionaries that remember where each value's text lies, and streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from app.pdfsign.pdfstructure.source import PdfSource


class Ref(NamedTuple):
    """An indirect reference ``num gen R``."""

    num: int
    gen: int

    def __str__(self) -> str:
        return f"{self.num} {self.gen} R"


class PdfName(str):
    """A PDF name, without the slash (``PdfName("Contents")``)."""

    __slots__ = ()


class PdfString(bytes):
    """A PDF string's bytes; ``hex`` tells whether it was written ``<…>``."""

    hex_form: bool = False

    def __new__(cls, value: bytes, hex_form: bool = False) -> PdfString:
        obj = super().__new__(cls, value)
        obj.hex_form = hex_form
        return obj

    def text(self) -> str:
        """Decode as a PDF text string (UTF-16 with BOM, UTF-8 with BOM, else PDFDoc≈latin-1)."""
        b = bytes(self)
        if b.startswith(b"\xfe\xff"):
            return b[2:].decode("utf-16-be", "replace")
        if b.startswith(b"\xff\xfe"):
            return b[2:].decode("utf-16-le", "replace")
        if b.startswith(b"\xef\xbb\xbf"):
            return b[3:].decode("utf-8", "replace")
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return b.decode("latin-1")


class PdfArray(list[Any]):
    """A PDF array."""


class PdfDict(dict[str, Any]):
    """A PDF dictionary; ``spans[key]`` is the ``(start, end)`` byte range of the
    value's source text (absolute file offsets when parsed from the file)."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: dict[str, tuple[int, int]] = {}
        self.start = 0
        self.end = 0


@dataclass
class PdfStream:
    """A stream object: its dictionary and where the raw (still encoded) data lies."""

    dict: PdfDict
    data_start: int
    data_end: int
    source: PdfSource | None = field(default=None, repr=False, compare=False)
    inline: bytes | None = field(default=None, repr=False)

    def raw(self) -> bytes:
        if self.inline is not None:
            return self.inline
        assert self.source is not None
        return self.source[self.data_start:self.data_end]

    def decoded(self) -> bytes:
        """The data with /FlateDecode (and PNG/TIFF-2 predictors) removed; other filters raise."""
        from app.pdfsign.pdfstructure.filters import decode_stream

        data = decode_stream(self.dict, self.raw())
        if self.source is not None:
            self.source.charge_decoded(len(data), self.dict.start)
        return data

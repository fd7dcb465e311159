"""Low-level, byte-exact reading of a PDF for signature verification.

A verifier must not trust a PDF library's repaired, merged view of a file: the
questions it asks are about bytes (where does this signature dictionary's
``/Contents`` string start and end, which revision ends at which ``%%EOF``,
which objects did each incremental update redefine). This package answers them
with a small, strict parser of its own:

* :class:`PdfSource` — the file as a read-only buffer (``mmap`` for files, so a
  100 MB bid document is never loaded into memory) with chunked reading;
* a tokenizer and object parser (:func:`parse_value`, :func:`parse_indirect`)
  that records the exact byte span of every dictionary value;
* cross-reference sections (classic tables, xref streams with PNG predictors,
  hybrid ``/XRefStm`` files) and object streams;
* :class:`PdfStructure` — revisions (one per ``startxref N %%EOF`` that the
  final xref chain reaches), per-revision object maps, object lookup in any
  revision, and a structural scan of each incremental update.

Nothing here decides whether a signature is valid; :mod:`app.pdfsign.verify`
and :mod:`app.pdfsign.diff` do that with what this package reports. Every parse
failure is a :class:`PdfStructureError` (a :class:`~app.errors.BidSealError`).

Modules: :mod:`.source` (the bytes), :mod:`.objects` (values), :mod:`.lexer`
(tokenizer and object parser), :mod:`.filters` (stream decoding), :mod:`.xref`
(cross-reference sections), :mod:`.revisions` (:class:`PdfStructure`).
"""

from app.pdfsign.pdfstructure.errors import (
    NotAPdfError,
    PdfReadError,
    PdfStructureError,
    PdfTruncatedError,
    PdfUnsupportedError,
)
from app.pdfsign.pdfstructure.filters import decode_stream
from app.pdfsign.pdfstructure.lexer import (
    DELIMITERS,
    MAX_DEPTH,
    WHITESPACE,
    IndirectObject,
    parse_indirect,
    parse_value,
    skip_ws,
    skip_ws_only,
)
from app.pdfsign.pdfstructure.objects import PdfArray, PdfDict, PdfName, PdfStream, PdfString, Ref
from app.pdfsign.pdfstructure.revisions import PdfStructure, Revision
from app.pdfsign.pdfstructure.source import CHUNK, PdfSource
from app.pdfsign.pdfstructure.xref import ObjLoc, XrefSection, parse_xref_section

__all__ = [
    "CHUNK",
    "DELIMITERS",
    "MAX_DEPTH",
    "WHITESPACE",
    "IndirectObject",
    "NotAPdfError",
    "ObjLoc",
    "PdfArray",
    "PdfDict",
    "PdfName",
    "PdfReadError",
    "PdfSource",
    "PdfStream",
    "PdfString",
    "PdfStructure",
    "PdfStructureError",
    "PdfTruncatedError",
    "PdfUnsupportedError",
    "Ref",
    "Revision",
    "XrefSection",
    "decode_stream",
    "parse_indirect",
    "parse_value",
    "parse_xref_section",
    "skip_ws",
    "skip_ws_only",
]

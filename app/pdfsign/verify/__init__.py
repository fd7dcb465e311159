"""Verify every signature in a PDF: the one entry point is :func:`verify_pdf`.

For each signature value (``/Sig`` dictionary, found once however it is
reached: a merged field/widget, a field with kid widgets on several pages (骑缝章),
``/Perms /DocMDP``, a document time-stamp) the checks are, in order:

1. **ByteRange** — four non-negative integers, ``[0] == 0``, ascending,
   non-overlapping, within the file; the gap must be *exactly* the byte span of
   this dictionary's ``/Contents`` hex string as found by parsing the object the
   final xref points to (defeats USF/shadow attacks that aim /ByteRange elsewhere
   or add a second /Contents).
2. **Coverage** — the range ends at the end of the file or at a revision's
   ``%%EOF`` (so that revision's xref and trailer are signed); anything else is
   invalid.
3. **CMS** — :func:`app.gm.cms.verify_detached` with the SM3 of the ranges,
   hashed in 1 MiB chunks from a memory map; one SignerInfo; SM2 over the signed
   attributes with the default ID, else the empty ID (reported).
4. **Certificate** — valid at signing time (time-stamp genTime, else the
   signingTime attribute, else the unprotected /M, else now), key usage for
   signing, chain to the configured roots (:func:`app.gm.x509.verify_chain`),
   CRLs when given.
5. **Later changes** — :func:`app.pdfsign.diff.analyse_changes`.

Plain functions: no printing, no global state. ``progress(done, total, Stage.VERIFY)``
(:mod:`app.progress`, bytes) is called while hashing; ``cancel()`` returning True aborts with
:class:`VerificationCancelled`.

Modules: :mod:`.document` (the entry point), :mod:`.discovery` (finding /Sig
values), :mod:`.signature` (the checks of one signature), :mod:`.cms_checks`
(CMS and certificate), :mod:`.timestamps` (RFC 3161), :mod:`.hashing`,
:mod:`.reasons` (the reason vocabulary), :mod:`.dates`, :mod:`.context`.
"""

from app.pdfsign.report import PdfVerificationReport, SignatureReport, Status
from app.pdfsign.verify.dates import parse_pdf_date
from app.pdfsign.verify.discovery import FoundSignature, find_signatures
from app.pdfsign.verify.document import _verify_pdf, verify_pdf
from app.pdfsign.verify.hashing import KnownDigests, VerificationCancelled
from app.pdfsign.verify.reasons import REASONS

__all__ = [
    "REASONS",
    "FoundSignature",
    "KnownDigests",
    "PdfVerificationReport",
    "SignatureReport",
    "Status",
    "VerificationCancelled",
    "_verify_pdf",
    "find_signatures",
    "parse_pdf_date",
    "verify_pdf",
]

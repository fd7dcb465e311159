"""The entry point: every signature of a file, in file order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from app.cancel import Cancel
from app.gm.x509 import Certificate, Crl
from app.pdfsign.pdfstructure import (
    PdfSource,
    PdfStructure,
    PdfStructureError,
)
from app.pdfsign.report import (
    PdfVerificationReport,
)
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.discovery import find_signatures
from app.pdfsign.verify.hashing import KnownDigests, _Hasher
from app.pdfsign.verify.reasons import _reason
from app.pdfsign.verify.signature import _verify_signature
from app.progress import Progress

# -- entry point -------------------------------------------------------------------------------------


def verify_pdf(
    source: str | Path | BinaryIO | bytes,
    *,
    trust_roots: Sequence[Certificate] = (),
    crls: Sequence[Crl] = (),
    at: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> PdfVerificationReport:
    """Verify every signature of a PDF and what changed after each one.

    :param source: a path, a binary file object or the bytes of the file.
    :param trust_roots: trusted root certificates; without them signatures are
        at best ``untrusted``.
    :param crls: revocation lists to consult for the signer chain.
    :param at: time for the chain and revocation check (default: each
        signature's signing time). The signer certificate must always have
        been valid at signing time.
    :param progress: ``progress(done_bytes, total_bytes, Stage.VERIFY)`` while hashing.
    :param cancel: polled while hashing; returning True raises
        :class:`VerificationCancelled`.
    :raises PdfStructureError: empty input, not a PDF, or no readable revision
        (subclasses: ``NotAPdfError``, ``PdfReadError``, ``PdfTruncatedError``).
    """
    return _verify_pdf(source, trust_roots=trust_roots, crls=crls, at=at, progress=progress, cancel=cancel)


def _verify_pdf(
    source: str | Path | BinaryIO | bytes,
    *,
    trust_roots: Sequence[Certificate] = (),
    crls: Sequence[Crl] = (),
    at: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    known_digests: KnownDigests | None = None,
) -> PdfVerificationReport:
    """:func:`verify_pdf`, for the sealing flow's self-check: ``known_digests``
    supplies the SM3 of byte ranges the signer has just re-read and hashed from
    disk itself (on a worker thread, while this parses). Every check is the same;
    only the hashing of those exact ranges is not repeated."""
    src = PdfSource.open(source)
    try:
        s = PdfStructure(src)
        report = PdfVerificationReport(file=src.name, size=s.size, revision_count=len(s.revisions))
        if s.trailing_garbage is not None:
            tail = src[s.trailing_garbage:s.size]
            extra = f"offset {s.trailing_garbage}"
            if b"/ByteRange" in tail:
                extra += ", contains an unreadable signature"
            report.reasons.append(_reason("FILE_INCOMPLETE", extra, offset=s.trailing_garbage))
        found = find_signatures(s)
        known = {fs.sig_num for fs in found}
        for rev in reversed(s.revisions[:-1]):
            try:
                older = find_signatures(s, rev)
            except PdfStructureError:
                continue
            for fs in older:
                if fs.sig_num not in known:
                    known.add(fs.sig_num)
                    found.append(fs)
        sig_offsets: dict[int, int] = {}
        total = 0
        for fs in found:
            loc = s.locate(fs.sig_num, fs.found_in)
            sig_offsets[fs.sig_num] = loc.offset if loc is not None and loc.kind == "n" else s.size
            try:
                d = s.get(fs.sig_num, fs.found_in)
                br = d.get("ByteRange") if isinstance(d, dict) else None
                if isinstance(br, list) and len(br) == 4 and all(isinstance(x, int) for x in br):
                    total += max(0, br[1]) + max(0, min(br[3], s.size))
            except PdfStructureError:
                pass
        found.sort(key=lambda f: sig_offsets[f.sig_num])
        ctx = _Context(s, trust_roots, crls, at, _Hasher(src, total, progress, cancel, known_digests))
        for i, fs in enumerate(found, start=1):
            report.signatures.append(_verify_signature(ctx, fs, i))
        if not found:
            report.reasons.append(_reason("NO_SIGNATURES"))
        report.finish()
        return report
    finally:
        src.close()

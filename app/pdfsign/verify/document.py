"""The entry point: every signature of a file, in file order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from app.cancel import Cancel
from app.gm.x509 import Certificate, Crl
from app.pdfsign.diff import ModificationLevel
from app.pdfsign.diff.model import change
from app.pdfsign.pdfstructure import (
    PdfSource,
    PdfStructure,
    PdfStructureError,
)
from app.pdfsign.report import PdfVerificationReport, SignatureReport
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.discovery import find_signatures
from app.pdfsign.verify.hashing import KnownDigests, _Hasher
from app.pdfsign.verify.reasons import _reason
from app.pdfsign.verify.signature import _verify_signature, apply_changes
from app.progress import Progress


def _check_added_widgets(ctx: _Context, reports: list[SignatureReport]) -> None:
    """Every signature widget that appeared after a signature and draws on the page
    must belong to a signature of its own that is intact, covers the widget's final
    version and was not modified afterwards; otherwise it is a visible modification
    (an unsigned "seal" painted over a signed page). Latest signatures first, since
    an earlier signature's verdict depends on the later ones'."""
    by_sig = {r.object_number: r for r in reports}
    order = sorted(ctx.diffs.items(), key=lambda kv: kv[0][0], reverse=True)
    for key, ch in order:
        for w in ch.added_widgets:
            if not w.visible:
                continue
            own = by_sig.get(w.sig_num) if w.sig_num is not None else None
            ok = (own is not None and own.integrity and own.modification != "modified"
                  and own.signed_revision is not None and own.signed_revision - 1 >= w.revision)
            if not ok:
                ch.add(change("unsigned_widget_added", ModificationLevel.MODIFIED, w.num,
                              kind="Widget", page=w.page, rect=list(w.rect) if w.rect else None))
        for rep in reports:
            if ctx.diff_of.get(rep.index) == key:
                apply_changes(rep, ch)
                rep.finish()


# -- entry point -------------------------------------------------------------------------------------


def verify_pdf(
    source: str | Path | BinaryIO | bytes,
    *,
    trust_roots: Sequence[Certificate] = (),
    crls: Sequence[Crl] = (),
    at: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    accept_sm2_without_z: bool = False,
) -> PdfVerificationReport:
    """Verify every signature of a PDF and what changed after each one.

    :param source: a path, a binary file object or the bytes of the file.
    :param trust_roots: trusted root certificates (:func:`app.trust.trusted_roots` for
        the user's trust store); without them signatures are at best ``untrusted``.
    :param crls: revocation lists to consult for the signer chain.
    :param at: time for the certificate validity, chain and revocation check.
        Default: the time of a trusted time-stamp in the signature, else now. The
        signer's claimed signingTime or /M never moves it.
    :param progress: ``progress(done_bytes, total_bytes, Stage.VERIFY)`` while hashing.
    :param cancel: polled while hashing; returning True raises
        :class:`VerificationCancelled`.
    :param accept_sm2_without_z: compatibility switch (off by default): accept SM2
        signatures over a bare digest without Z, with a warning in the report.
    :raises PdfStructureError: empty input, not a PDF, or no readable revision
        (subclasses: ``NotAPdfError``, ``PdfReadError``, ``PdfTruncatedError``).
    """
    return _verify_pdf(source, trust_roots=trust_roots, crls=crls, at=at, progress=progress, cancel=cancel,
                       accept_sm2_without_z=accept_sm2_without_z)


def _verify_pdf(
    source: str | Path | BinaryIO | bytes,
    *,
    trust_roots: Sequence[Certificate] = (),
    crls: Sequence[Crl] = (),
    at: datetime | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    known_digests: KnownDigests | None = None,
    accept_sm2_without_z: bool = False,
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
        final_unreadable = False
        try:
            found = find_signatures(s)
        except PdfStructureError as exc:
            # The document as a reader opens it cannot be read (a damaged or hostile
            # update, a decompression bomb): every signature is judged from its own
            # revision, and none can be valid, since what follows it is unknown.
            found, final_unreadable = [], True
            report.reasons.append(_reason("FINAL_REVISION_UNREADABLE", exc.en))
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
        ctx = _Context(s, trust_roots, crls, at, _Hasher(src, total, progress, cancel, known_digests),
                       accept_sm2_without_z=accept_sm2_without_z, final_unreadable=final_unreadable)
        for i, fs in enumerate(found, start=1):
            report.signatures.append(_verify_signature(ctx, fs, i))
        _check_added_widgets(ctx, report.signatures)
        if not found:
            report.reasons.append(_reason("NO_SIGNATURES"))
        report.finish()
        return report
    finally:
        src.close()

"""The sealing flow: one entry point, :func:`seal_pdf`, used by the CLI, GUI and helper.

For each seal the flow is a short chain of named stages (style.md), each checked
for cancellation before it starts::

    check      certificate usable now? input a sane, unencrypted, unrepaired PDF?
               placements resolved on a read-only MuPDF view of the input
    copy       input -> temporary file in the output folder (app.atomic.AtomicFile),
               in ONE read: a worker thread writes each chunk and feeds the same
               chunk to SM3 (hashlib's SM3 releases the GIL), in parallel with the
               placement search. The input is never opened for writing
    prepare    our own incremental writer (:mod:`.incremental`) appends the seal's
               objects and the few changed ones, edited on their exact source text
               (:mod:`.prepare`, :mod:`.splice`); the copy's xref chain is read
               with the verifier's strict parser, so a file it cannot read is
               refused here, before anything is signed
    digest     locate the placeholders after the previous end of file, patch
               /ByteRange, and *continue* the input's SM3 state over the new
               revision's bytes only (:mod:`.byterange`): the original is hashed once
    sign       signed attributes -> e = SM3(Z || attrs) -> exactly ONE
               ``signer.sign_digest(e)`` -> CMS (:mod:`app.gm.cms`)
    timestamp  optional RFC 3161 token over the signature value (:mod:`.timestamp`)
    patch      hex CMS into /Contents in place
    verify     from disk, before success: once the last revision is written, a
               worker re-reads the output's original part and the input and
               compares them byte for byte (memory speed, not a second SM3 pass:
               the bytes hashed were exactly the bytes written, so equality on
               disk proves the signed prefix is the input); each new signature's
               ranges are re-hashed from that state with the new revision's bytes
               re-read from disk and must give the digest that was signed; its
               CMS is parsed back and verified; the input must be unchanged. With
               ``SealOptions.verify`` (the default) the full verifier
               (:func:`app.pdfsign.verify.verify_pdf`) then checks the whole file,
               taking those digests instead of hashing the same ranges again
    finish     fsync (on a worker, overlapping the verification) and rename onto
               the output name (``AtomicFile.commit``)

Any failure discards the temporary file, so either a verified output exists or no
output at all. Several seals in one call give several revisions in one output
file, each signature covering everything before it.

Nothing here prints, holds global state or touches Qt; it can run on a worker
thread. ``progress(done, total, stage)`` (:mod:`app.progress`, per-mille steps) is
called from the calling thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.atomic import AtomicFile, same_file
from app.cancel import Cancel, is_cancelled
from app.errors import BidSealError
from app.gm import cms, sm2
from app.gm.keyops import DigestSigner
from app.gm.ses import SESeal, SESSignature, build_signature
from app.gm.ses.signature import der_prefix
from app.gm.x509 import Certificate
from app.pdfsign import byterange
from app.pdfsign.appearance import ImageObjects, SealImage, image_objects
from app.pdfsign.errors import (
    CertificateExpiredError,
    CertificateNotSigningError,
    CertificateNotYetValidError,
    OutputIsInputError,
    OutputWriteError,
    PdfOpenError,
    PdfSignError,
    PlaceholderError,
    SealCancelledError,
    SelfVerificationError,
)
from app.pdfsign.incremental import SourcePdf
from app.pdfsign.placement import Seal, SignatureSpots, resolve
from app.pdfsign.prepare import (
    SignatureInfo,
    check_document,
    check_form,
    check_page_tree,
    mupdf_failure,
    mupdf_trouble,
    open_pdf,
    prepare_revision,
    problem_error,
    repaired_error,
    reset_mupdf_warnings,
)
from app.pdfsign.timestamp import OID_TIMESTAMP_TOKEN, request_timestamp
from app.progress import Progress, Stage, report_fraction

__all__ = [
    "DEFAULT_CONTENTS_MARGIN",
    "TIMESTAMP_RESERVE",
    "ProgressFn",
    "SealOptions",
    "SealResult",
    "SignedSeal",
    "check_certificate",
    "preflight",
    "seal_pdf",
]

ProgressFn = Progress  # kept as an alias: app.progress.Progress is the one convention

#: Extra bytes reserved in /Contents above the estimated CMS size.
DEFAULT_CONTENTS_MARGIN = 1024
#: Extra bytes reserved when a time-stamp token will be added.
TIMESTAMP_RESERVE = 8192


def _check_cancel(cancel: Cancel | None) -> None:
    if is_cancelled(cancel):
        raise SealCancelledError()


@dataclass(frozen=True)
class SealOptions:
    """How to seal. Everything has a safe default.

    ``timestamp_url`` turns on RFC 3161 time-stamping (off by default);
    ``trust_roots`` are passed to the verifier; ``verify=False`` skips only the
    full verifier, never the built-in prefix and CMS checks.
    """

    signing_time: datetime | None = None
    chain: tuple[Certificate, ...] = ()
    timestamp_url: str | None = None
    timestamp_timeout: float = 15.0
    contents_size: int | None = None
    verify: bool = True
    trust_roots: tuple[Certificate, ...] = ()
    field_base: str = "BidSeal"
    #: seal in GB/T 38540 format: /SubFilter /GM.sm2seal with an SES_Signature made with
    #: this SESeal in /Contents (``--format gbt38540``); None = adbe.pkcs7.detached CMS
    ses_seal: SESeal | None = None


@dataclass(frozen=True)
class SignedSeal:
    """One signature written: its field, pages (1-based) and byte range."""

    field_name: str
    kind: str
    pages: tuple[int, ...]
    byte_range: tuple[int, int, int, int]
    signature_size: int
    reserved_size: int
    signing_time: datetime
    timestamped: bool
    message_digest: str

    def summary(self) -> str:
        pages = ",".join(str(p) for p in self.pages)
        ts = " +TSA" if self.timestamped else ""
        return (f"{self.field_name}: {self.kind} page(s) {pages}, SM2/SM3 {self.signature_size} B{ts}, "
                f"ByteRange {list(self.byte_range)}")


@dataclass(frozen=True)
class SealResult:
    input_path: Path
    output_path: Path
    seals: tuple[SignedSeal, ...]
    signer: dict[str, Any]
    output_size: int
    verification: Any = field(default=None, repr=False, compare=False)


# -- checks -----------------------------------------------------------------------------
def check_certificate(cert: Certificate, at: datetime) -> None:
    """Refuse a certificate that is not valid at ``at`` or cannot sign."""
    if at < cert.not_before:
        raise CertificateNotYetValidError(
            f"签名证书尚未生效（生效时间 {cert.not_before:%Y-%m-%d %H:%M}），请检查电脑时间或更换证书。",
            f"The signing certificate is not valid yet (valid from {cert.not_before:%Y-%m-%d %H:%M}); "
            "check the computer clock or use another certificate.",
            not_before=cert.not_before.isoformat(), serial=cert.serial_hex,
        )
    if at > cert.not_after:
        raise CertificateExpiredError(
            f"签名证书已于 {cert.not_after:%Y-%m-%d} 过期，请联系 CA 办理证书更新后再签章。",
            f"The signing certificate expired on {cert.not_after:%Y-%m-%d}; renew it with your CA first.",
            not_after=cert.not_after.isoformat(), serial=cert.serial_hex,
        )
    if not cert.is_signing_cert:
        raise CertificateNotSigningError(
            "该证书不是签名证书（没有数字签名用途，可能是加密证书），不能用于签章。",
            "This certificate has no signing key usage (it may be the encryption certificate) "
            "and cannot seal documents.",
            key_usage=sorted(cert.key_usage), serial=cert.serial_hex,
        )


def _write_error(dst: Path, exc: OSError) -> OutputWriteError:
    return OutputWriteError(
        "无法写入输出文件夹（磁盘已满或没有写权限）。",
        "Cannot write to the output folder (disk full or no permission).",
        folder=str(dst.parent), reason=str(exc),
    )


def _check_paths(src: Path, dst: Path) -> None:
    if not src.is_file():
        raise PdfOpenError("找不到要签章的 PDF 文件。", "The PDF to seal was not found.", file=str(src))
    if same_file(src, dst):
        raise OutputIsInputError(
            "输出文件不能与原文件相同：原文件必须保持不变，请另选输出文件名。",
            "The output file must differ from the input: the original is never modified. "
            "Choose another output name.",
            file=str(src),
        )
    if dst.is_dir():
        raise OutputWriteError("输出路径是一个文件夹。", "The output path is a folder.", file=str(dst))
    if not dst.parent.is_dir():
        raise OutputWriteError(
            "输出文件夹不存在。", "The output folder does not exist.", folder=str(dst.parent),
        )


def _input_changed() -> SelfVerificationError:
    return SelfVerificationError(
        "签章后自检失败：原文件内容没有完整保留（或原文件在签章过程中被改动）。",
        "Self-check failed: the original bytes are not an exact prefix of the output "
        "(or the input changed while sealing).",
    )


def _unchanged(path: Path, before: os.stat_result) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    return (now.st_size, now.st_mtime_ns, now.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


# -- the flow -----------------------------------------------------------------------------
@dataclass
class _Plan:
    seal: Seal
    image: SealImage
    spots: SignatureSpots


class _Progress:
    def __init__(self, fn: ProgressFn | None, cancel: Cancel | None, steps: float) -> None:
        self.fn, self.cancel, self.steps, self.done = fn, cancel, max(steps, 1), 0.0

    def stage(self, name: Stage, weight: float = 0.0) -> None:
        if self.cancel:
            _check_cancel(self.cancel)
        if self.fn:
            report_fraction(self.fn, self.done / self.steps, name)
        self.done += weight

    def hashing(self, total: int, weight: float, stage: Stage = Stage.DIGEST) -> Callable[[int], None]:
        seen = [0]
        start = self.done
        every = max(total // 50, 1)
        next_report = [every]

        def tick(n: int) -> None:
            seen[0] += n
            if self.cancel:
                _check_cancel(self.cancel)
            if self.fn and seen[0] >= next_report[0]:
                next_report[0] += every
                report_fraction(self.fn, (start + weight * seen[0] / max(total, 1)) / self.steps, stage)

        self.done += weight
        return tick


def _plans(src: Path, seals: Sequence[Seal]) -> list[_Plan]:
    reset_mupdf_warnings()
    doc = open_pdf(src)
    try:
        check_document(doc, src)
        check_page_tree(doc, src.name)
        plans = []
        images: dict[bytes, SealImage] = {}
        for seal in seals:
            if seal.image not in images:
                images[seal.image] = SealImage.load(seal.image)
            image = images[seal.image]
            for spots in resolve(doc, seal.placement, (image.width, image.height)):
                plans.append(_Plan(seal, image, spots))
        if getattr(doc, "is_repaired", False):  # MuPDF repaired the file while walking its pages
            raise repaired_error(src.name)
        # MuPDF reports some damage (a page-tree cycle, a bad object) only as a message
        # and carries on; a file it had to work around is refused like a repaired one.
        problem = mupdf_trouble()
        if problem is not None:
            raise problem_error(problem, src.name)
        return plans
    except BidSealError:
        raise
    except Exception as exc:  # MuPDF errors while loading pages (page tree, filters…)
        raise mupdf_failure(exc, src.name) from exc
    finally:
        doc.close()


def preflight(input_path: str | os.PathLike[str], seals: Sequence[Seal]) -> None:
    """Every check :func:`seal_pdf` makes before it signs, on the input, read-only: the file
    is a PDF it can extend and seal again (structure, page tree, encryption, certification,
    form appearances), and every placement resolves (page, keyword, seal picture).

    Front ends call it before asking for the PIN, so a seal that cannot succeed never
    spends a PIN retry; :func:`seal_pdf` repeats the same checks on its copy.
    """
    src = Path(input_path)
    if not src.is_file():
        raise PdfOpenError("找不到要签章的 PDF 文件。", "The PDF to seal was not found.", file=str(src))
    _plans(src, seals)
    with SourcePdf(src) as base:
        base.check_xref()
        check_form(base)


def _contents_size(cert: Certificate, options: SealOptions) -> int:
    if options.contents_size:
        return options.contents_size
    if options.ses_seal is not None:  # TBS_Sign = the seal + time + hash + name; + cert, alg, signature
        return len(options.ses_seal.der) + len(cert.der) + DEFAULT_CONTENTS_MARGIN
    size = cms.estimate_size(cert, chain=options.chain) + DEFAULT_CONTENTS_MARGIN
    if options.timestamp_url:
        size += TIMESTAMP_RESERVE
    return size


def _sign_one(
    base: SourcePdf,
    plan: _Plan,
    image: ImageObjects,
    signer: DigestSigner,
    cert: Certificate,
    when: datetime,
    options: SealOptions,
    prog: _Progress,
    running: byterange.RunningHash,
    after_prepare: Callable[[], None] | None = None,
) -> tuple[SignedSeal, byterange.Placeholders, bytes]:
    tmp = Path(base.path)
    seal = plan.seal
    info = SignatureInfo(
        signing_time=when,
        contents_size=_contents_size(cert, options),
        name=seal.name or cert.unit_name or cert.common_name,
        reason=seal.reason,
        location=seal.location,
        contact=seal.contact,
        sub_filter="GM.sm2seal" if options.ses_seal is not None else "adbe.pkcs7.detached",
    )
    prog.stage(Stage.PREPARE, 1.0)
    rev = prepare_revision(base, plan.spots.spots, image, info, options.field_base)
    if after_prepare is not None:
        after_prepare()
    prog.stage(Stage.DIGEST)
    ph = byterange.locate_placeholders(tmp, rev.prev_len, rev.sig_xref, rev.contents_size)
    if min(ph.byterange_start, ph.contents_start) < rev.prev_len:  # never write into earlier bytes
        raise PlaceholderError("签名占位区定位失败，未生成签章文件。",
                                         "The signature placeholders lie before the new revision.")
    br = byterange.patch_byterange(tmp, ph)
    digest = byterange.hash_ranges(tmp, br, prog.hashing(br[1] + br[3] - running.offset, 0.5), prefix=running)

    prog.stage(Stage.SIGN, 1.0)
    if options.ses_seal is not None:
        der = _ses_signature(options.ses_seal, digest, signer, cert, when, rev.field_name)
        prog.stage(Stage.PATCH, 0.5)
        byterange.patch_contents(tmp, ph, der)
        return SignedSeal(
            field_name=rev.field_name, kind=plan.spots.kind, pages=tuple(s.page + 1 for s in plan.spots.spots),
            byte_range=br, signature_size=len(der), reserved_size=rev.contents_size, signing_time=when,
            timestamped=False, message_digest=digest.hex(),
        ), ph, digest
    prepared = cms.prepare_signed_attributes(digest, cert, chain=options.chain, signing_time=when)
    signature = signer.sign_digest(prepared.e)  # the one device operation for this seal
    if not sm2.verify_digest(cert.public_key, prepared.e, signature):
        raise SelfVerificationError(
            "UKey 返回的签名与签名证书不匹配，可能用错了容器或证书。",
            "The UKey's signature does not match the signing certificate; "
            "it may have used the wrong container.",
            field=rev.field_name,
        )
    unsigned: list[cms.Attribute] = []
    if options.timestamp_url:
        prog.stage(Stage.TIMESTAMP)
        token = request_timestamp(options.timestamp_url, signature, timeout=options.timestamp_timeout)
        unsigned.append((OID_TIMESTAMP_TOKEN, [token]))
    der = cms.assemble(prepared, signature, unsigned_attrs=unsigned)

    prog.stage(Stage.PATCH, 0.5)
    byterange.patch_contents(tmp, ph, der)
    pages = tuple(s.page + 1 for s in plan.spots.spots)
    signed = SignedSeal(
        field_name=rev.field_name, kind=plan.spots.kind, pages=pages, byte_range=br,
        signature_size=len(der), reserved_size=rev.contents_size, signing_time=when,
        timestamped=bool(unsigned), message_digest=digest.hex(),
    )
    return signed, ph, digest


def _ses_signature(seal: SESeal, digest: bytes, signer: DigestSigner, cert: Certificate, when: datetime,
                   field_name: str) -> bytes:
    """A GB/T 38540 SES_Signature over the ranges' SM3: the device signs e = SM3(Z || TBS_Sign)."""

    def sign(tbs: bytes) -> bytes:
        e = sm2.compute_e(cert.public_key, tbs)
        signature = signer.sign_digest(e)
        if not sm2.verify_digest(cert.public_key, e, signature):
            raise SelfVerificationError(
                "UKey 返回的签名与签名证书不匹配，可能用错了容器或证书。",
                "The UKey's signature does not match the signing certificate; it may have used the wrong container.",
                field=field_name)
        return signature

    return build_signature(seal, None, cert.der, sign, property_info=field_name, signing_time=when,
                           data_hash=digest).der


def _verify_new_ses(raw: bytes, digest: bytes, cert: Certificate, field_name: str) -> None:
    try:
        sig = SESSignature.decode(der_prefix(raw))
        check = sig.verify()
        ok = check.signer == cert and sig.data_hash == digest
    except BidSealError as exc:
        raise SelfVerificationError(
            "签章后自检失败：电子签章无效。", "Self-check after sealing failed: the electronic seal signature is invalid.",
            field=field_name, reason=exc.en) from exc
    if not ok:
        raise SelfVerificationError("签章后自检失败：签名无效。",
                                    "Self-check after sealing failed: the signature is not valid.", field=field_name)


def _verify_new_signature(tmp: Path, ph: byterange.Placeholders, digest: bytes, cert: Certificate,
                          field_name: str, ses: bool = False) -> None:
    raw = byterange.read_contents(tmp, ph)
    if ses:
        _verify_new_ses(raw, digest, cert, field_name)
        return
    try:
        info = cms.verify_detached(raw, digest, require_single_signer=True)
    except BidSealError as exc:
        raise SelfVerificationError(
            "签章后自检失败：签名数据无法解析。", "Self-check after sealing failed: the signature cannot be parsed.",
            field=field_name, reason=exc.en,
        ) from exc
    if not info.valid or info.signer_certificate != cert:
        raise SelfVerificationError(
            "签章后自检失败：签名无效。", "Self-check after sealing failed: the signature is not valid.",
            field=field_name, problems=info.problems,
        )


def _run_verifier(tmp: Path, src: Path, new_fields: Sequence[str], options: SealOptions,
                  known_digests: Callable[[tuple[int, int, int, int]], bytes | None] | None = None) -> Any:
    from app.pdfsign.verify import _verify_pdf, verify_pdf

    report = _verify_pdf(tmp, trust_roots=options.trust_roots, known_digests=known_digests)
    by_name = {s.field_name: s for s in report.signatures}
    bad = []
    for name in new_fields:
        sig = by_name.get(name)
        if sig is None or sig.status == "invalid":
            bad.append((name, list(getattr(sig, "reasons", []) or ["missing"])))
        elif getattr(sig, "coverage", "entire_file") not in ("entire_file", "entire_revision"):
            bad.append((name, [f"coverage {sig.coverage}"]))
    earlier_invalid = [s.field_name or "" for s in report.signatures
                       if s.field_name not in new_fields and s.status == "invalid"]
    if earlier_invalid:
        before = {s.field_name: s.status for s in verify_pdf(src, trust_roots=options.trust_roots).signatures}
        for name in earlier_invalid:
            if before.get(name) != "invalid":
                bad.append((name, ["an earlier signature became invalid"]))
    if bad:
        raise SelfVerificationError(
            "签章后校验未通过，未生成签章文件。",
            "The sealed file failed verification; no output was written.",
            failures=[{"field": n, "reasons": [str(r) for r in rs]} for n, rs in bad],
        )
    return report


def seal_pdf(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    signer: DigestSigner,
    seals: Sequence[Seal],
    *,
    options: SealOptions | None = None,
    progress: ProgressFn | None = None,
    cancel: Cancel | None = None,
) -> SealResult:
    """Seal ``input_path`` into ``output_path`` with ``signer``; see the module docstring.

    Each entry of ``seals`` yields one signature, or several for a keyword found
    several times or a per-page cross-page seal. Raises a :class:`PdfSignError`
    subclass (or the signer's :class:`BidSealError`) and leaves no output on failure.
    """
    options = options or SealOptions()
    src, dst = Path(input_path), Path(output_path)
    if not seals:
        raise PdfSignError("没有指定要加盖的印章。", "No seal was requested.")
    _check_paths(src, dst)
    cert = signer.certificate
    when = (options.signing_time or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    check_certificate(cert, when)
    if options.ses_seal is not None:
        if options.timestamp_url:
            raise PdfSignError("GB/T 38540 格式签章暂不支持时间戳。",
                               "Time-stamping is not supported for GB/T 38540 format seals yet.")
        options.ses_seal.verify(signer=cert, at=when)  # maker signature, holder, validity: before any signing
    src_stat = src.stat()
    try:
        out = AtomicFile(dst)
    except OSError as exc:
        raise _write_error(dst, exc) from exc
    tmp = out.path
    jobs: list[byterange._Worker | byterange.FsyncJob] = []
    base: SourcePdf | None = None
    try:
        # One read of the input: the worker writes each chunk and hashes the same chunk,
        # in parallel with MuPDF's placement search on the main thread.
        copy = byterange.CopyHashJob(src, out.file.fileno(), cancel)
        jobs.append(copy)
        plans = _plans(src, seals)
        prog = _Progress(progress, cancel, steps=len(plans) * 3 + 3)
        prog.stage(Stage.CHECK, 0.0)
        prog.stage(Stage.COPY, 1.0)
        try:
            running = copy.running()
        except OSError as exc:
            raise _write_error(dst, exc) from exc
        prev_len = running.offset
        src_state = running.state.copy()
        if prev_len != src_stat.st_size:
            raise _input_changed()
        base = SourcePdf(tmp, name=src.name)
        base.check_xref()
        check_form(base)
        images: dict[int, ImageObjects] = {}
        compare_box: list[byterange.PrefixCompareJob] = []

        def start_compare() -> None:
            # After the last revision is appended nothing writes below prev_len any more
            # (placeholders are checked to lie after it), so the original part can be
            # re-read and compared now, while signing goes on.
            compare_box.append(byterange.PrefixCompareJob(src, tmp, prev_len, cancel))
            jobs.append(compare_box[0])

        done: list[SignedSeal] = []
        signed_digests: dict[tuple[int, int, int, int], bytes] = {}
        for i, plan in enumerate(plans):
            last = i == len(plans) - 1
            key = id(plan.image)
            if key not in images:
                images[key] = image_objects(plan.image)
            signed, ph, digest = _sign_one(base, plan, images[key], signer, cert, when, options, prog, running,
                                           start_compare if last else None)
            _verify_new_signature(tmp, ph, digest, cert, signed.field_name, options.ses_seal is not None)
            if not last:
                running.advance(tmp, ph.file_size)
            done.append(signed)
            signed_digests[signed.byte_range] = digest
        base.close()

        prog.stage(Stage.VERIFY, 1.0)
        # The file is complete: flush it to disk on a worker while it is verified.
        sync = byterange.FsyncJob(tmp)
        jobs.append(sync)
        from_disk: dict[tuple[int, int, int, int], bytes] = {}

        def disk_digest(br: tuple[int, int, int, int]) -> bytes | None:
            """SM3 of a new signature's ranges: the input's state continued over the
            new bytes re-read from disk (the prefix itself is compared byte for byte)."""
            if br not in signed_digests:
                return None
            if br not in from_disk:
                h = src_state.copy()
                byterange.update_from_file(h, tmp, prev_len, br[1])
                byterange.update_from_file(h, tmp, br[2], br[2] + br[3])
                from_disk[br] = h.digest()
            return from_disk[br]

        report = None
        if options.verify:
            report = _run_verifier(tmp, src, [s.field_name for s in done], options, disk_digest)
        if not compare_box[0].same() or not _unchanged(src, src_stat):
            raise _input_changed()
        for signed in done:
            if disk_digest(signed.byte_range) != signed_digests[signed.byte_range]:
                raise SelfVerificationError(
                    "签章后自检失败：文件内容与签名时不一致。",
                    "Self-check failed: the bytes on disk differ from the signed bytes.",
                    field=signed.field_name,
                )
        prog.stage(Stage.FINISH, 1.0)
        sync.wait()
        out.commit(fsync=False)
        if report is not None:
            with contextlib.suppress(AttributeError):
                report.file = str(dst)
        with contextlib.suppress(OSError):
            dir_fd = os.open(dst.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException as exc:
        for job in jobs:
            job.stop()
        if base is not None:
            base.close()
        out.discard()
        if isinstance(exc, BidSealError | KeyboardInterrupt):
            raise
        if isinstance(exc, OSError):
            raise OutputWriteError(
                "写入签章文件失败。", "Writing the sealed file failed.", reason=str(exc),
            ) from exc
        raise PdfSignError(
            "签章过程中发生内部错误，未生成任何文件。",
            "An internal error occurred while sealing; no file was written.",
            reason=f"{type(exc).__name__}: {exc}"[:300],
        ) from exc
    report_fraction(progress, 1.0, Stage.DONE)
    return SealResult(
        input_path=src, output_path=dst, seals=tuple(done),
        signer={"common_name": cert.common_name, "unit_name": cert.unit_name,
                "serial_hex": cert.serial_hex},
        output_size=dst.stat().st_size, verification=report,
    )

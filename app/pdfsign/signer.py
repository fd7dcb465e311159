"""The sealing flow: one entry point, :func:`seal_pdf`, used by the CLI, GUI and helper.

For each seal the flow is a short chain of named stages (style.md), each checked
for cancellation before it starts::

    check      certificate usable now? input a sane, unencrypted, unrepaired PDF?
               placements resolved on a read-only view of the input
    copy       input -> temporary file in the output folder (kernel copy where
               available; the input is never opened for writing). SM3 of the
               input runs on a worker thread from the start, in parallel with
               the placement search (hashlib's SM3 releases the GIL)
    prepare    PyMuPDF adds image, appearance, /Sig placeholders and field,
               incremental save (:mod:`.prepare`)
    digest     locate placeholders after the previous end of file, patch
               /ByteRange, finish SM3 over the two ranges: the input's SM3
               state is reused, so only the new revision's bytes are read
               (:mod:`.byterange`)
    sign       signed attributes -> e = SM3(Z || attrs) -> exactly ONE
               ``signer.sign_digest(e)`` -> CMS (:mod:`app.gm.cms`)
    timestamp  optional RFC 3161 token over the signature value (:mod:`.timestamp`)
    patch      hex CMS into /Contents in place
    verify     from disk, independently of the signing pass: once the last
               incremental save is written, a worker thread re-reads the output's
               original part and hashes it with a fresh SM3 (our later writes
               only touch bytes after it); after the last patch each new
               signature's ranges are finished from that state with the new
               revision's bytes read back from disk. The original is an exact
               prefix when that state's digest equals the input's SM3 (and the
               input is unchanged); each new signature's digest must equal the
               one signed and its CMS must verify; then the full verifier
               (:func:`app.pdfsign.verify.verify_pdf`) checks the whole file,
               taking those digests instead of hashing the same ranges again
               (it parses while the worker hashes)
    finish     ``os.replace`` onto the output name (the file was fsynced during
               verification), fsync the folder

Any failure removes the temporary file, so either a verified output exists or no
output at all. Several seals in one call give several revisions in one output
file, each signature covering everything before it.

Nothing here prints, holds global state or touches Qt; it can run on a worker
thread. ``progress(done, total, stage)`` (:mod:`app.progress`, per-mille steps) is
called from the calling thread.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.atomic import same_file
from app.cancel import Cancel, is_cancelled
from app.errors import BidSealError
from app.gm import cms, sm2
from app.gm.keyops import DigestSigner
from app.gm.x509 import Certificate
from app.pdfsign import byterange
from app.pdfsign.appearance import SealImage
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
from app.pdfsign.placement import Seal, SignatureSpots, resolve
from app.pdfsign.prepare import SignatureInfo, check_document, open_pdf, prepare_revision
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
    doc = open_pdf(src)
    try:
        check_document(doc, src)
        plans = []
        for seal in seals:
            image = SealImage.load(seal.image)
            for spots in resolve(doc, seal.placement, (image.width, image.height)):
                plans.append(_Plan(seal, image, spots))
        return plans
    finally:
        doc.close()


def _contents_size(cert: Certificate, options: SealOptions) -> int:
    if options.contents_size:
        return options.contents_size
    size = cms.estimate_size(cert, chain=options.chain) + DEFAULT_CONTENTS_MARGIN
    if options.timestamp_url:
        size += TIMESTAMP_RESERVE
    return size


def _sign_one(
    tmp: Path,
    plan: _Plan,
    signer: DigestSigner,
    cert: Certificate,
    when: datetime,
    options: SealOptions,
    prog: _Progress,
    running_fn: Callable[[], byterange.RunningHash],
    after_prepare: Callable[[], None] | None = None,
) -> tuple[SignedSeal, byterange.Placeholders, bytes]:
    seal = plan.seal
    info = SignatureInfo(
        signing_time=when,
        contents_size=_contents_size(cert, options),
        name=seal.name or cert.unit_name or cert.common_name,
        reason=seal.reason,
        location=seal.location,
        contact=seal.contact,
    )
    prog.stage(Stage.PREPARE, 1.0)
    rev = prepare_revision(tmp, plan.spots.spots, plan.image, info, options.field_base)
    if after_prepare is not None:
        after_prepare()
    prog.stage(Stage.DIGEST)
    ph = byterange.locate_placeholders(tmp, rev.prev_len, rev.sig_xref, rev.contents_size)
    if min(ph.byterange_start, ph.contents_start) < rev.prev_len:  # never write into earlier bytes
        raise PlaceholderError("签名占位区定位失败，未生成签章文件。",
                                         "The signature placeholders lie before the new revision.")
    br = byterange.patch_byterange(tmp, ph)
    running = running_fn()
    digest = byterange.hash_ranges(tmp, br, prog.hashing(br[1] + br[3] - running.offset, 0.5), prefix=running)

    prog.stage(Stage.SIGN, 1.0)
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


def _verify_new_signature(tmp: Path, ph: byterange.Placeholders, digest: bytes, cert: Certificate,
                          field_name: str) -> None:
    raw = byterange.read_contents(tmp, ph)
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
    try:
        from app.pdfsign.verify import _verify_pdf, verify_pdf
    except ImportError:  # the verifier is optional for the engine; built-in checks still ran
        return None
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
    src_stat = src.stat()
    # SM3 of the input on a worker thread, in parallel with the copy and the placement search
    src_hash = byterange.FileHashJob(src, 0, src_stat.st_size, cancel)
    jobs: list[byterange.FileHashJob | byterange.FsyncJob] = [src_hash]
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".bidseal-", suffix=".pdf.tmp", dir=dst.parent)
    except OSError as exc:
        src_hash.stop()
        raise _write_error(dst, exc) from exc
    except BaseException:
        src_hash.stop()
        raise
    tmp = Path(tmp_name)
    try:
        # The copy goes first: it is cheap (copy_file_range) and puts the search ahead of
        # nothing, so the incremental save, and with it the from-disk check, starts sooner.
        try:
            prev_len = byterange.copy_file(src, fd)
        except OSError as exc:
            raise _write_error(dst, exc) from exc
        finally:
            os.close(fd)
        if prev_len != src_stat.st_size:
            raise _input_changed()
        plans = _plans(src, seals)
        prog = _Progress(progress, cancel, steps=len(plans) * 3 + 3)
        prog.stage(Stage.CHECK, 0.0)
        prog.stage(Stage.COPY, 1.0)
        running_box: list[byterange.RunningHash] = []

        def running_fn() -> byterange.RunningHash:
            if not running_box:
                running = byterange.RunningHash()
                running.state, running.offset = src_hash.state(), prev_len
                running_box.append(running)
            return running_box[0]

        check_box: list[byterange.FileHashJob] = []

        def start_check() -> None:
            # After the last incremental save nothing writes below prev_len any more
            # (placeholders are checked to lie after it), so the original part can be
            # re-read from disk now, while signing goes on.
            check_box.append(byterange.FileHashJob(tmp, 0, prev_len, cancel))
            jobs.append(check_box[0])

        done: list[SignedSeal] = []
        signed_digests: dict[tuple[int, int, int, int], bytes] = {}
        for i, plan in enumerate(plans):
            last = i == len(plans) - 1
            signed, ph, digest = _sign_one(tmp, plan, signer, cert, when, options, prog, running_fn,
                                           start_check if last else None)
            _verify_new_signature(tmp, ph, digest, cert, signed.field_name)
            if not last:
                running_fn().advance(tmp, ph.file_size)
            done.append(signed)
            signed_digests[signed.byte_range] = digest

        prog.stage(Stage.VERIFY, 1.0)
        # The file is complete: flush it to disk on a worker while it is verified.
        sync = byterange.FsyncJob(tmp)
        jobs.append(sync)
        if not check_box:
            start_check()
        check = check_box[0]
        from_disk: dict[tuple[int, int, int, int], bytes] = {}

        def disk_digest(br: tuple[int, int, int, int]) -> bytes | None:
            """SM3 of a new signature's ranges, re-read from disk, from a fresh state."""
            if br not in signed_digests:
                return None
            if br not in from_disk:
                h = check.state()
                byterange.update_from_file(h, tmp, prev_len, br[1])
                byterange.update_from_file(h, tmp, br[2], br[2] + br[3])
                from_disk[br] = h.digest()
            return from_disk[br]

        report = None
        if options.verify:
            report = _run_verifier(tmp, src, [s.field_name for s in done], options, disk_digest)
        if check.state().digest() != src_hash.state().digest() or not _unchanged(src, src_stat):
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
        os.replace(tmp, dst)
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
        with contextlib.suppress(OSError):
            tmp.unlink()
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

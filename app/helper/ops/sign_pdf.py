"""``sign-pdf``: seal exactly the PDF the page sent, after the bidder saw it.

The guard has streamed the upload (≤ 50 MiB) into a private spool file and hashed it.
Here: the file must open as a PDF (page count, hint page in range); consent shows the
file name, size, pages, SM3 and the placement hints; the bidder reviews the document and
places the seals (:class:`~app.helper.review.SignReview`: the GUI's sealing workspace, or
the terminal prompt headless); the spool file's SM3 is checked again (a file swapped
after the review is refused); the PIN is asked; :func:`app.pdfsign.seal_pdf` computes the
ByteRange digest itself and verifies its output; and the output must begin with exactly
the reviewed bytes (incremental update) before it is returned. The page never supplies
a digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import shutil
import tempfile
from pathlib import Path

from app.gm.sm3 import SM3
from app.helper.consent import Fact
from app.helper.errors import HelperError
from app.helper.guard import Caller
from app.helper.keys import KeyIdentity, KeySession
from app.helper.review import ReviewRequest, ReviewResult, SignHints
from app.helper.service import HelperServices, KeyOperation, Reply, key_operation, with_user_timeout
from app.pdfsign import Seal, seal_pdf
from app.pdfsign.verify import verify_pdf
from app.spool import spool_dir


def _page_count(path: Path) -> int:
    import pymupdf

    try:
        with pymupdf.open(path, filetype="pdf") as doc:
            if doc.needs_pass:
                raise HelperError("ERR_INVALID_DATA", reason="encrypted PDF")
            return int(doc.page_count)
    except HelperError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure means "not a usable PDF"
        raise HelperError("ERR_INVALID_DATA", reason="not a readable PDF") from exc


def _sm3_prefix(path: Path, length: int) -> bytes:
    h = SM3()
    with open(path, "rb") as f:
        left = length
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h.digest()


def _check_front_end_signer(path: Path, original_size: int, identity: KeyIdentity) -> None:
    """A file the window sealed must carry only intact signatures made with the
    certificate the bidder consented to for this page: the window signs with the key
    selected in its own key panel, which need not be the one named in the consent."""
    cert = identity.sign_certificate
    report = verify_pdf(path)
    new = [s for s in report.signatures if s.kind != "timestamp" and s.byte_range
           and s.byte_range[2] + s.byte_range[3] > original_size]
    if cert is None or not new or any(not s.integrity or s.certificate_serial != cert.serial_hex
                                      or s.issuer != cert.issuer.rfc4514() for s in new):
        raise HelperError("ERR_INVALID_DATA", zh="签章所用证书不是您在确认窗口中同意的证书，已拒绝返回。",
                          en="The document was not sealed with the certificate you approved for this page; "
                             "it was not returned.")


async def handle(services: HelperServices, caller: Caller) -> Reply:
    spool = caller.spool
    assert spool is not None
    params = caller.params
    hints = SignHints(keyword=params.get("keyword"), page=params.get("page"), seal=params.get("seal", "company"))
    pages = await asyncio.to_thread(_page_count, spool.path)
    if hints.page is not None and hints.page > pages:
        raise HelperError("ERR_BAD_REQUEST", reason=f"page {hints.page} of a {pages}-page document")
    file_name = params.get("fileName", "document.pdf")
    where_zh, where_en = hints.describe()
    facts = [Fact("文件", "Document", f"{file_name} · {pages} 页/pages · {spool.size} B"),
             Fact("文件 SM3", "Document SM3", spool.sm3.hex()),
             Fact("建议盖章位置", "Suggested seal position", f"{where_zh} / {where_en}")]
    fd, out_name = tempfile.mkstemp(prefix="signed-", suffix=".pdf", dir=spool_dir())
    os.close(fd)
    out = Path(out_name)
    reviewed: list[ReviewResult] = []
    images: list[bytes] = []

    async def review(state: KeyOperation) -> bool:
        assert state.identity is not None
        request = ReviewRequest(origin=caller.origin, pdf_path=spool.path, sm3_hex=spool.sm3.hex(),
                                size=spool.size, page_count=pages, hints=hints,
                                certificate_label=state.identity.label, file_name=file_name)
        result = await with_user_timeout(services, services.review.review(request))
        if not result.approved or not (result.placements or result.signed_pdf):
            services.throttle.cancelled(caller.origin)
            raise HelperError("ERR_USER_CANCELLED")
        if result.signed_pdf is not None:  # sealed in the window's own session
            await asyncio.to_thread(shutil.move, str(result.signed_pdf), str(out))
            await asyncio.to_thread(_check_front_end_signer, out, spool.size, state.identity)
            return True
        if result.seal not in state.identity.seals:
            raise HelperError("ERR_CERT_NOT_FOUND", zh=f"UKey 中没有「{result.seal}」印章图片。",
                              en=f"The UKey holds no '{result.seal}' seal image.")
        now = await asyncio.to_thread(_sm3_prefix, spool.path, spool.size + 1)
        if not hmac.compare_digest(now, spool.sm3) or spool.path.stat().st_size != spool.size:
            raise HelperError("ERR_INVALID_DATA", zh="文件在您查看之后被改动，已拒绝签章。",
                              en="The document changed after you reviewed it; it was not sealed.")
        reviewed.append(result)
        images.append(state.identity.seals[result.seal])
        return False


    def work(session: KeySession) -> None:
        seal_pdf(spool.path, out, session.signer, [Seal(p, images[0]) for p in reviewed[0].placements])

    try:
        _, state = await key_operation(services, caller, "sign-pdf", "sign", facts, work,
                                       before_pin=review)
        signed_prefix = await asyncio.to_thread(_sm3_prefix, out, spool.size)
        if not hmac.compare_digest(signed_prefix, spool.sm3) or out.stat().st_size <= spool.size:
            raise HelperError("ERR_INVALID_DATA", zh="签章结果不是对您查看过的文件的增量签章，已拒绝返回。",
                              en="The sealed file is not an incremental update of the document you reviewed; "
                                 "it was not returned.")
    except BaseException:
        with contextlib.suppress(OSError):
            out.unlink()
        raise
    return Reply(file=out, serial=state.serial)

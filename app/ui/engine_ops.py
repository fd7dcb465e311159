"""The operations an engine process runs for the window (see :mod:`.engine_host`).

Each is a thin wrapper over an engine entry point - :func:`app.pdfsign.seal_pdf`,
:func:`app.pdfsign.verify.verify_pdf`, :func:`app.pdfsign.placement.resolve`,
:func:`app.pdfsign.prepare.check_document` - plus PyMuPDF page rendering and text
search, returning the plain view models of :mod:`app.ui.models`. No sealing or
verification logic lives here. Qt-free; runs only in the engine process.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pymupdf
from pymupdf import mupdf

from app.errors import BidSealError
from app.gm.x509 import Certificate
from app.pdfsign.errors import PdfEncryptedError, PdfOpenError, PdfSignError
from app.pdfsign.placement import PageGeometry, page_geometry
from app.pdfsign.prepare import check_document, open_pdf
from app.progress import Stage
from app.ui.models.document import DocInfo, PageInfo
from app.ui.models.signatures import Box, VerificationView, report_view
from app.ui.wire import error_to_wire

#: Page infos sent with the open reply; the rest follow in chunks.
FIRST_PAGES = 4
GEOMETRY_CHUNK = 100
#: MuPDF's resource store (up to 256 MB) is emptied every this many renders: a bid's pages
#: rarely share images, and the store would otherwise keep every scrolled page's pictures.
STORE_FLUSH_RENDERS = 12
_SEARCH_FLUSH_PAGES = 32


# -- documents kept open between calls -------------------------------------------------
class _Docs:
    """A few open documents, reopened when the file changes on disk."""

    def __init__(self, keep: int = 3) -> None:
        self.keep = keep
        self._docs: OrderedDict[str, tuple[tuple[int, int, int], Any]] = OrderedDict()

    @staticmethod
    def _key(path: str) -> tuple[int, int, int]:
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns, st.st_ino

    def get(self, path: str) -> Any:
        key = self._key(path)
        hit = self._docs.get(path)
        if hit is not None and hit[0] == key:
            self._docs.move_to_end(path)
            return hit[1]
        if hit is not None:
            hit[1].close()
        doc = open_pdf(path)
        self._docs[path] = (key, doc)
        while len(self._docs) > self.keep:
            _, (_, old) = self._docs.popitem(last=False)
            old.close()
        return doc

    def forget(self, path: str) -> None:
        hit = self._docs.pop(path, None)
        if hit is not None:
            hit[1].close()


DOCS = _Docs()


_renders = [0]


def _trim_store() -> None:
    _renders[0] += 1
    if _renders[0] % STORE_FLUSH_RENDERS == 0:
        mupdf.fz_empty_store()


def _page_info(geo: PageGeometry) -> PageInfo:
    w, h = geo.visible_size
    return PageInfo(geo.index, float(w), float(h), geo.rotation)


# -- trust --------------------------------------------------------------------------------
def trust_roots(extra_der: Sequence[bytes] = ()) -> list[Certificate]:
    """The roots every verdict in the window uses: the trust store the CLI's ``verify`` uses
    (:func:`app.trust.trusted_roots`: shipped, user and demo roots) plus ``extra_der``.

    The one place that decides trust for the window."""
    from app.trust import trusted_roots

    return trusted_roots([Certificate.load(bytes(der)) for der in extra_der])


# -- operations ---------------------------------------------------------------------------
def op_ping(ctx: Any) -> int:
    return os.getpid()


def op_open(ctx: Any, path: str) -> DocInfo:
    """Open ``path`` for viewing; refuse what cannot be shown, note what cannot be sealed."""
    p = Path(path)
    name = p.name
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise PdfOpenError("找不到该文件，或没有读取权限。", "The file was not found or cannot be read.",
                           file=name, reason=str(exc)) from exc
    if not p.is_file():
        raise PdfOpenError("这不是一个文件。", "This is not a file.", file=name)
    if size == 0:
        raise PdfOpenError("文件是空的（0 字节），不是有效的 PDF。", "The file is empty (0 bytes); it is not a PDF.",
                           file=name)
    DOCS.forget(str(p))
    doc = DOCS.get(str(p))
    if doc.needs_pass:
        DOCS.forget(str(p))
        raise PdfEncryptedError(
            "该 PDF 设有打开密码，BidSeal 无法打开。请在编辑软件中取消密码后另存为 PDF 再签章。",
            "The PDF is protected by an open password, so BidSeal cannot open it. Remove the password in "
            "the editing software, save it again, then seal it.", file=name)
    refusal = None
    try:
        check_document(doc, p)
    except PdfEncryptedError as exc:
        refusal = error_to_wire(exc)
    except PdfOpenError:
        DOCS.forget(str(p))
        raise
    except PdfSignError as exc:
        refusal = error_to_wire(exc)
    if doc.page_count < 1:
        DOCS.forget(str(p))
        raise PdfOpenError("该 PDF 没有页面。", "The PDF has no pages.", file=name)
    try:
        pages = _geometry(doc, 0, min(FIRST_PAGES, doc.page_count))
    except PdfOpenError:
        DOCS.forget(str(p))
        raise
    return DocInfo(path=str(p), size=size, page_count=doc.page_count, pages=pages, refusal=refusal)


def op_geometry(ctx: Any, path: str, start: int = 0, count: int = GEOMETRY_CHUNK) -> tuple[PageInfo, ...]:
    """The sizes of pages ``start`` .. ``start + count - 1`` (asked in chunks, so page
    renders in the same process get their turn in between)."""
    doc = DOCS.get(path)
    return _geometry(doc, start, min(start + count, doc.page_count))


def _geometry(doc: Any, start: int, stop: int) -> tuple[PageInfo, ...]:
    """Page sizes; a page tree MuPDF cannot follow (a truncated or damaged file whose
    repaired cross-reference points nowhere) is a damaged PDF, not an internal error."""
    try:
        return tuple(_page_info(page_geometry(doc, i)) for i in range(start, stop))
    except (ValueError, RuntimeError) as exc:  # pymupdf: "bad xref", "cannot find object"
        raise PdfOpenError(
            "该 PDF 已损坏或不完整（可能被截断），无法显示。请向文件来源重新索取或重新导出 PDF。",
            "The PDF is damaged or incomplete (it may have been truncated) and cannot be shown. "
            "Get the file again from its source, or export it again.", reason=str(exc)) from exc


def op_render(ctx: Any, path: str, page: int, scale: float) -> tuple[int, int, int, bytes]:
    """Page ``page`` at ``scale`` pixels per point, RGB: (width, height, bytes per line, pixels).

    Rows are padded to 4 bytes, the layout of a ``QImage`` in RGB888, so the window copies
    them in one move."""
    doc = DOCS.get(path)
    pix = doc.load_page(page).get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False, annots=True)
    w, h, stride = int(pix.width), int(pix.height), int(pix.stride)
    samples = pix.samples_mv
    line = (w * 3 + 3) // 4 * 4
    if line == stride:
        data = bytes(samples)
    else:
        pad = bytes(line - w * 3)
        data = b"".join(bytes(samples[y * stride:y * stride + w * 3]) + pad for y in range(h))
    del pix, samples
    _trim_store()
    return w, h, line, data


def op_search(ctx: Any, path: str, text: str, pages: Sequence[int] | None = None) -> int:
    """Every hit of ``text``: partial results ``(page, [rect, ...])`` in displayed coordinates."""
    doc = DOCS.get(path)
    order = list(pages) if pages is not None else list(range(doc.page_count))
    total = 0
    for n, index in enumerate(order, 1):
        if ctx.cancel.is_set():
            break
        rects = doc.load_page(index).search_for(text)
        if rects:
            geo = page_geometry(doc, index)
            boxes = [geo.unrotated_to_visible((r.x0, r.y0, r.x1, r.y1)) for r in rects]
            total += len(boxes)
            ctx.partial((index, boxes))
        if n % _SEARCH_FLUSH_PAGES == 0:
            mupdf.fz_empty_store()
            ctx.progress(n, len(order), Stage.CHECK)
    return total


def _placement(spec: dict[str, Any]) -> Any:
    from app.pdfsign.placement import CrossPagePlacement, KeywordPlacement, RectPlacement

    kind = spec["kind"]
    if kind == "rect":
        return RectPlacement(int(spec["page"]), tuple(spec["rect"]), keep_aspect=True)
    if kind == "keyword":
        return KeywordPlacement(str(spec["keyword"]), occurrence=spec.get("occurrence"),
                                size_mm=float(spec.get("size_mm", 42.0)))
    if kind == "cross":
        pages = spec.get("pages")
        return CrossPagePlacement(pages=tuple(pages) if pages is not None else None,
                                  size_mm=float(spec.get("size_mm", 40.0)),
                                  center_y=float(spec.get("center_y", 0.5)),
                                  pages_per_seal=spec.get("pages_per_seal"))
    raise ValueError(f"unknown placement kind {kind!r}")


def op_preview(ctx: Any, path: str, spec: dict[str, Any],
               image_size: tuple[int, int]) -> list[list[tuple[int, Box, tuple[int, int]]]]:
    """Where the engine would put a placement: per signature, its (page, rect, strip) spots.

    The same :func:`app.pdfsign.placement.resolve` the sealing uses, so what the bidder
    confirms is what gets signed."""
    from app.pdfsign.placement import resolve

    doc = DOCS.get(path)
    return [[(s.page, s.visible_rect, s.strip) for s in sig.spots]
            for sig in resolve(doc, _placement(spec), image_size)]


def _ref_num(value: str) -> int | None:
    parts = value.split()
    return int(parts[0]) if len(parts) == 3 and parts[2] == "R" and parts[0].isdigit() else None


def _value_ref(doc: Any, xref: int) -> int | None:
    """The object number of the /V of a widget or of the fields above it."""
    seen: set[int] = set()
    while xref and xref not in seen:
        seen.add(xref)
        kind, value = doc.xref_get_key(xref, "V")
        if kind == "xref":
            return _ref_num(value)
        pkind, pval = doc.xref_get_key(xref, "Parent")
        xref = (_ref_num(pval) or 0) if pkind == "xref" else 0
    return None


def signature_spots(doc: Any, pages_by_sig: dict[int, Sequence[int]]) -> dict[int, tuple[tuple[int, Box], ...]]:
    """For each signature object number, its widgets as (0-based page, displayed rect)."""
    out: dict[int, list[tuple[int, Box]]] = {}
    wanted = set(pages_by_sig)
    pages = sorted({p - 1 for ps in pages_by_sig.values() for p in ps if 1 <= p <= doc.page_count})
    for index in pages:
        geo = page_geometry(doc, index)
        kind, value = doc.xref_get_key(geo.xref, "Annots")
        if kind == "xref":
            value = doc.xref_object(_ref_num(value) or 0, compressed=True)
        elif kind != "array":
            continue
        for m in re.finditer(r"(\d+)\s+\d+\s+R", value):
            annot = int(m.group(1))
            sig = _value_ref(doc, annot)
            if sig not in wanted:
                continue
            rkind, rval = doc.xref_get_key(annot, "Rect")
            if rkind != "array":
                continue
            nums = [float(v) for v in rval.strip("[] ").split()[:4]]
            if len(nums) == 4:
                out.setdefault(sig, []).append((index, geo.pdf_to_visible(tuple(nums))))  # type: ignore[arg-type]
    return {k: tuple(v) for k, v in out.items()}


def _verification_view(path: str, report: Any, roots: int) -> VerificationView:
    pages_by_sig = {s.object_number: s.pages for s in report.signatures if s.object_number is not None}
    spots: dict[int, tuple[tuple[int, Box], ...]] = {}
    if pages_by_sig:
        try:
            spots = signature_spots(DOCS.get(path), pages_by_sig)
        except (BidSealError, RuntimeError, ValueError):  # a file MuPDF cannot read: verdicts only
            spots = {}
    return report_view(report, spots, roots)


def op_verify(ctx: Any, path: str, extra_roots: Sequence[bytes] = ()) -> VerificationView:
    from app.pdfsign.verify import verify_pdf

    roots = trust_roots(extra_roots)
    report = verify_pdf(path, trust_roots=roots, progress=ctx.progress, cancel=ctx.cancel)
    return _verification_view(path, report, len(roots))


class RemoteSigner:
    """A :class:`app.gm.keyops.DigestSigner` whose key stays in the window's process:
    ``sign_digest`` asks the window (which holds the UKey session) over the pipe."""

    def __init__(self, certificate: Certificate, ask: Callable[..., Any]) -> None:
        self.certificate = certificate
        self._ask = ask

    def sign_digest(self, e: bytes) -> bytes:
        return bytes(self._ask("sign_digest", bytes(e)))


def op_seal(ctx: Any, input_path: str, output_path: str, specs: Sequence[dict[str, Any]],
            certificate: bytes, extra_roots: Sequence[bytes] = (), reason: str | None = None) -> dict[str, Any]:
    """:func:`app.pdfsign.seal_pdf` with the placements the bidder confirmed; returns the
    output, the seals written and the from-disk verification of the output."""
    from app.pdfsign import Seal, SealOptions, seal_pdf

    seals = []
    for spec in specs:
        placement = _placement(spec)
        why = "骑缝章" if spec["kind"] == "cross" else reason
        seals.append(Seal(placement, bytes(spec["image"]), reason=why))
    roots = trust_roots(extra_roots)
    signer = RemoteSigner(Certificate.load(bytes(certificate)), ctx.call_parent)
    result = seal_pdf(input_path, output_path, signer, seals, options=SealOptions(trust_roots=tuple(roots)),
                      progress=ctx.progress, cancel=ctx.cancel)
    view = _verification_view(str(result.output_path), result.verification, len(roots)) \
        if result.verification is not None else None
    return {"output": str(result.output_path), "size": result.output_size,
            "seals": [s.summary() for s in result.seals], "fields": [s.field_name for s in result.seals],
            "signer": dict(result.signer), "verification": view}


OPS: dict[str, Callable[..., Any]] = {
    "ping": op_ping,
    "open": op_open,
    "geometry": op_geometry,
    "render": op_render,
    "search": op_search,
    "preview": op_preview,
    "verify": op_verify,
    "seal": op_seal,
}

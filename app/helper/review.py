"""Reviewing a document before sealing it: the Qt-free :class:`SignReview` interface.

``sign-pdf`` never signs what a page describes; it signs the PDF it received, after the
bidder saw it. The helper spools the upload into a private file, computes its SM3, and
awaits :meth:`SignReview.review`:

* the desktop app opens the file in the GUI's sealing workspace
  (``MainWindow.open_for_review(pdf_path, hints, on_done, origin=...)``; the lead wires an
  adapter), where the bidder checks the pages, places the seals and signs with the
  window's own PIN dialog: the result then carries ``signed_pdf`` and the helper does not
  sign again - it only checks that the signed file begins with exactly the reviewed bytes;
* ``bidseal helper serve`` uses :class:`~app.helper.terminal.TerminalSignReview`: the
  placement hints are printed and must be confirmed;
* tests use :class:`ScriptedReview`.

Otherwise the result lists the placements; the helper re-checks the file's SM3 (what was
shown is what is signed), asks the PIN, then seals with :func:`app.pdfsign.seal_pdf`,
which computes the ByteRange digest itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app.pdfsign import KeywordPlacement, Placement, RectPlacement
from app.pdfsign.placement import MM


@dataclass(frozen=True)
class SignHints:
    """Placement hints a page may send (all optional). ``page`` is 1-based."""

    keyword: str | None = None
    page: int | None = None
    seal: str = "company"          # which seal image of the key: "company" or "legal"

    def describe(self) -> tuple[str, str]:
        if self.keyword and self.page:
            return (f"第 {self.page} 页关键字「{self.keyword}」处", f"at '{self.keyword}' on page {self.page}")
        if self.keyword:
            return f"关键字「{self.keyword}」处", f"at the keyword '{self.keyword}'"
        if self.page:
            return f"第 {self.page} 页右下角", f"bottom right of page {self.page}"
        return "最后一页右下角", "bottom right of the last page"


def placement_from_hints(hints: SignHints, page_count: int, page_size: tuple[float, float]) -> Placement:
    """The placement a headless review confirms: the keyword (on the hinted page), or a
    42 mm seal in the bottom-right corner of the hinted (or last) page."""
    if hints.keyword:
        pages = (hints.page - 1,) if hints.page else None
        return KeywordPlacement(hints.keyword, occurrence=1, pages=pages)
    page = (hints.page or page_count) - 1
    w, h = page_size
    size = 42 * MM
    margin = 20 * MM
    return RectPlacement(page, (w - margin - size, h - margin - size, w - margin, h - margin))


@dataclass(frozen=True)
class ReviewRequest:
    origin: str
    pdf_path: Path
    sm3_hex: str
    size: int
    page_count: int
    hints: SignHints
    certificate_label: str
    file_name: str = "document.pdf"


@dataclass(frozen=True)
class ReviewResult:
    """``approved`` with ``placements`` (the helper seals), or with ``signed_pdf`` (the front
    end already sealed the reviewed file in its own logged-in session)."""

    approved: bool
    placements: tuple[Placement, ...] = field(default=())
    seal: str = "company"
    signed_pdf: Path | None = None


class SignReview(Protocol):
    async def review(self, request: ReviewRequest) -> ReviewResult: ...


class ScriptedReview:
    """Tests: approve with the hint placement (or refuse); records the requests. ``tamper``
    (a callable on the spooled path) simulates a file swapped during the review."""

    def __init__(self, approve: bool = True, tamper=None) -> None:  # type: ignore[no-untyped-def]
        self.approve = approve
        self.tamper = tamper
        self.requests: list[ReviewRequest] = []

    async def review(self, request: ReviewRequest) -> ReviewResult:
        self.requests.append(request)
        if self.tamper is not None:
            self.tamper(request.pdf_path)
        if not self.approve:
            return ReviewResult(False)
        return ReviewResult(True, (placement_for(request),), request.hints.seal)


def placement_for(request: ReviewRequest) -> Placement:
    import pymupdf

    with pymupdf.open(request.pdf_path) as doc:
        page = doc[(request.hints.page or doc.page_count) - 1]
        size = (page.rect.width, page.rect.height)
        return placement_from_hints(request.hints, doc.page_count, size)

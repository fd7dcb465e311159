"""Cross-page seals (骑缝章): one seal picture cut into vertical strips along the
right edge of several pages, so that the pages can't be swapped unnoticed.

Layout: the seal is ``size_mm`` on its longer side; with N pages each page gets a
strip ``width / N`` wide at the right edge of the *visible* page (rotation and
CropBox respected), centred at ``center_y``; the first page shows the leftmost
strip, as when a fanned paper stack is stamped. Every widget draws the same image
XObject, shifted and clipped, so the file grows by one picture, not N.
``pages_per_seal`` restarts the seal every k pages for long documents (strips of a
400-page bid would be a fraction of a millimetre wide).

Two ways to record it (:class:`CrossPageMode`):

``SINGLE_SIGNATURE`` (the default)
    One signature field whose ``/V`` sits on a parent field with N kid widgets
    (``/Parent``, one per page). One signature, one device operation, one
    revision and one SM3 pass over the file.

``PER_PAGE``
    N ordinary single-widget signatures, one per page: N device operations
    (same session, so still one PIN entry), N revisions, and N passes of SM3
    over an ever-growing file - O(N x file size), e.g. about 100 x slower for
    a 100-page, 100 MB bid, and N UKey operations of ~0.1-0.5 s each.

Why SINGLE_SIGNATURE is the default:

* **pyHanko** validates it: signature lookup follows the field's ``/V`` and
  accepts kid widgets; tests (``tests/pdfsign/test_crosspage.py``) show INTACT,
  ENTIRE_FILE coverage, and FORM_FILLING (accepted) for later seals added on
  top. pyHanko's one-widget limit (``get_single_field_annot``) applies only to
  *its own* appearance generation when it signs, which we don't use.
* **Our verifier** (:mod:`app.pdfsign.verify`) resolves inherited ``/V`` and
  reports the seal once with all its pages.
* **poppler/pdfsig** (Okular, Evince) lists every kid widget as a separate
  "signature form field is not signed"; in PER_PAGE mode it lists each
  signature. Poppler/NSS cannot check SM2/SM3 at all ("Unrecognized Hash ID"),
  so it gives no verdict on GM seals in either mode; only its listing differs.
* A real UKey may ask for a button press or PIN per operation, and
  per-signature cost multiplies with N (above).

Choose ``PER_PAGE`` only when a receiving platform's validator insists on one
widget per signature field.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from app.pdfsign.errors import PageOutOfRangeError, SealOutsidePageError
from app.pdfsign.pagegeometry import SignatureSpots, WidgetSpot, make_spot, page_geometry, seal_size

#: A PyMuPDF document (its API is untyped).
Document = Any

__all__ = ["CrossPageMode", "CrossPagePlacement", "page_groups", "resolve_cross_page"]


class CrossPageMode(enum.Enum):
    """How a cross-page seal is recorded; see :mod:`app.pdfsign.crosspage`."""

    #: One /Sig value on a parent field with one kid widget per page: one device
    #: operation, one revision, one hash of the file. The default.
    SINGLE_SIGNATURE = "single"
    #: One ordinary signature per page: N device operations and N revisions.
    PER_PAGE = "per-page"




@dataclass(frozen=True)
class CrossPagePlacement:
    """A cross-page seal (骑缝章) over ``pages`` (0-based; None = every page); see
    :mod:`app.pdfsign.crosspage` for the two recording modes and the default.

    The seal, ``size_mm`` on its longer side, is cut into one vertical strip per
    page; the first page gets the leftmost strip, each at the right edge of the
    visible page, centred at ``center_y`` (fraction of the page height).
    """

    pages: tuple[int, ...] | None = None
    size_mm: float = 40.0
    center_y: float = 0.5
    mode: CrossPageMode = CrossPageMode.SINGLE_SIGNATURE
    pages_per_seal: int | None = None


def page_groups(pages: tuple[int, ...], per_seal: int | None) -> list[tuple[int, ...]]:
    """Split ``pages`` into runs of ``per_seal``; a trailing single page joins the run before it."""
    if not per_seal or per_seal >= len(pages):
        return [pages]
    groups = [pages[i:i + per_seal] for i in range(0, len(pages), per_seal)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2] = groups[-2] + groups[-1]
        groups.pop()
    return groups


def _group_spots(doc: Document, pages: tuple[int, ...], pl: CrossPagePlacement,
                 aspect: float) -> list[WidgetSpot]:
    sw, sh = seal_size(pl.size_mm, aspect)
    n = len(pages)
    strip_w = sw / n
    spots = []
    for i, index in enumerate(pages):
        geo = page_geometry(doc, index)
        pw, ph = geo.visible_size
        top = min(max(pl.center_y * ph - sh / 2, 0.0), ph - sh)
        spots.append(make_spot(geo, (pw - strip_w, top, pw, top + sh), (i, n)))
    return spots


def resolve_cross_page(doc: Document, pl: CrossPagePlacement, aspect: float) -> list[SignatureSpots]:
    """The signatures (with their widget spots) that record ``pl`` on ``doc``."""
    pages = tuple(pl.pages) if pl.pages is not None else tuple(range(doc.page_count))
    if len(pages) < 2:
        raise PageOutOfRangeError(
            "骑缝章至少需要两页。", "A cross-page seal needs at least two pages.", pages=len(pages),
        )
    if len(set(pages)) != len(pages):
        raise PageOutOfRangeError(
            "骑缝章的页码有重复。", "The cross-page seal lists a page twice.", pages=[p + 1 for p in pages],
        )
    if not 0.0 <= pl.center_y <= 1.0:
        raise SealOutsidePageError(
            "骑缝章的垂直位置应在 0 到 1 之间。", "The cross-page seal's vertical position must be within 0..1.",
            center_y=pl.center_y,
        )
    if pl.pages_per_seal is not None and pl.pages_per_seal < 2:
        raise PageOutOfRangeError(
            "每个骑缝章至少要跨两页。", "Each cross-page seal must span at least two pages.",
            pages_per_seal=pl.pages_per_seal,
        )
    out: list[SignatureSpots] = []
    for group in page_groups(pages, pl.pages_per_seal):
        spots = _group_spots(doc, group, pl, aspect)
        if pl.mode is CrossPageMode.PER_PAGE:
            out.extend(SignatureSpots((s,), "cross-page") for s in spots)
        else:
            out.append(SignatureSpots(tuple(spots), "cross-page"))
    return out

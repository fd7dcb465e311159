"""PDF sealing (interface 11): SM2 seals as real PDF signatures, added as incremental updates.

Entry points: :func:`seal_pdf` (one file, any number of seals), :func:`seal_batch`
(many files, one signer session). Placements: :class:`RectPlacement`,
:class:`KeywordPlacement`, :class:`CrossPagePlacement`. Verification lives in
:mod:`app.pdfsign.verify` (``verify_pdf``).
"""

from app.cancel import CancelToken
from app.pdfsign.batch import (
    BatchItem,
    BatchOutcome,
    BatchPlan,
    BatchSummary,
    SkippedFile,
    plan_batch,
    scan_batch,
    seal_batch,
)
from app.pdfsign.placement import (
    MM,
    CrossPageMode,
    CrossPagePlacement,
    KeywordPlacement,
    Placement,
    RectPlacement,
    Seal,
)
from app.pdfsign.signer import SealOptions, SealResult, SignedSeal, seal_pdf

__all__ = [
    "MM",
    "BatchItem",
    "BatchOutcome",
    "BatchPlan",
    "BatchSummary",
    "CancelToken",
    "CrossPageMode",
    "CrossPagePlacement",
    "KeywordPlacement",
    "Placement",
    "RectPlacement",
    "Seal",
    "SkippedFile",
    "SealOptions",
    "SealResult",
    "SignedSeal",
    "plan_batch",
    "scan_batch",
    "seal_batch",
    "seal_pdf",
]

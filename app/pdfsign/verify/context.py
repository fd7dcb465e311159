"""What every signature check of one file shares: structure, roots, hasher, diff cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.gm.x509 import Certificate, Crl
from app.pdfsign.diff import ChangeReport, analyse_changes
from app.pdfsign.pdfstructure import (
    PdfStructure,
    Revision,
)
from app.pdfsign.verify.hashing import _Hasher

# -- the verification context ------------------------------------------------------------------


@dataclass
class _Context:
    s: PdfStructure
    roots: Sequence[Certificate]
    crls: Sequence[Crl]
    at: datetime | None
    hasher: _Hasher
    diffs: dict[tuple[int, int | None], ChangeReport] = field(default_factory=dict)

    def changes(self, rev: Revision, docmdp_p: int | None) -> ChangeReport:
        key = (rev.index, docmdp_p)
        if key not in self.diffs:
            self.diffs[key] = analyse_changes(self.s, rev, docmdp_p=docmdp_p)
        return self.diffs[key]

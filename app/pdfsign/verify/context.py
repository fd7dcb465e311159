"""What every signature check of one file shares: structure, roots, options, hasher,
and the change analyses (one per signed revision and restriction, shared by the
signatures that need the same one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.gm.x509 import Certificate, Crl
from app.pdfsign.diff import ChangeReport, FieldLock, analyse_changes
from app.pdfsign.pdfstructure import PdfStructure, Revision
from app.pdfsign.verify.hashing import _Hasher
from app.trust import is_demo_root

DiffKey = tuple[int, int | None, FieldLock | None]


@dataclass
class _Context:
    s: PdfStructure
    roots: Sequence[Certificate]
    crls: Sequence[Crl]
    at: datetime | None
    hasher: _Hasher
    #: the compatibility switch for SM2 signatures over a bare digest without Z
    accept_sm2_without_z: bool = False
    #: the final revision cannot be read; signatures were found in earlier ones
    final_unreadable: bool = False
    diffs: dict[DiffKey, ChangeReport] = field(default_factory=dict)
    #: signature index -> the key of the analysis its report was built from
    diff_of: dict[int, DiffKey] = field(default_factory=dict)
    _demo: dict[Certificate, bool] = field(default_factory=dict)

    def changes(self, rev: Revision, docmdp_p: int | None, lock: FieldLock | None = None) -> ChangeReport:
        key = (rev.index, docmdp_p, lock)
        if key not in self.diffs:
            self.diffs[key] = analyse_changes(self.s, rev, docmdp_p=docmdp_p, lock=lock)
        return self.diffs[key]

    def is_demo_root(self, cert: Certificate) -> bool:
        """Whether a chain anchored at ``cert`` is a demo chain (:func:`app.trust.is_demo_root`;
        the store is read once per certificate and file)."""
        if cert not in self._demo:
            self._demo[cert] = is_demo_root(cert)
        return self._demo[cert]

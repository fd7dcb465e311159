"""Trusted root certificates for signature verification (Qt-free; any layer above
:mod:`app.gm` may use it).

``trusted_roots()`` is what a verification should trust by default: the roots
shipped in ``resources/trust/`` (the platform's approved CAs), the user's roots
(``bidseal trust add``) and the virtual UKey's demo root (``bidseal softkey init``).
``is_demo_root()`` tells whether a chain ended at a demo root, so every report can
say that a signature is only a demo. See :mod:`app.trust.store`.
"""

from app.trust.store import (
    DEMO_ROOT_NAMES,
    StoreProblem,
    TrustEntry,
    TrustStore,
    TrustStoreError,
    is_demo_root,
    read_certificate_file,
    shipped_dir,
    trusted_roots,
)

__all__ = [
    "DEMO_ROOT_NAMES",
    "StoreProblem",
    "TrustEntry",
    "TrustStore",
    "TrustStoreError",
    "is_demo_root",
    "read_certificate_file",
    "shipped_dir",
    "trusted_roots",
]

"""Electronic seals and sealings in the national formats (pure: bytes in, checks out).

- :class:`SESeal` (GM/T 0031 V1, GB/T 38540 V4): decode, maker signature, validity,
  certificate binding; :func:`build_seal` makes one with a maker's signing function.
- :class:`SESSignature`: decode and verify a sealing; :func:`build_signature` makes one.

Field layouts: docs/standards.md §4. Errors are :mod:`.errors` (``ERR_SES_*``).
"""

from app.gm.ses.errors import (
    SESBindingError,
    SESDataHashError,
    SESFormatError,
    SESMakerSignatureError,
    SESSignatureError,
    SESValidityError,
)
from app.gm.ses.seal import MakerCheck, SealContent, SESeal, build_seal
from app.gm.ses.signature import SESSignature, SignatureCheck, build_signature

__all__ = [
    "MakerCheck", "SESBindingError", "SESDataHashError", "SESFormatError", "SESMakerSignatureError", "SESSignature",
    "SESSignatureError", "SESValidityError", "SESeal", "SealContent", "SignatureCheck", "build_seal",
    "build_signature",
]

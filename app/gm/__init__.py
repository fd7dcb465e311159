"""National cryptographic algorithms and encodings (SM2, SM3, SM4, X.509, CMS).

Pure functions only: no files, devices, network or Qt. Bulk SM3/SM4 run on OpenSSL
through ``cryptography``; SM2 sits behind :mod:`app.gm.sm2`'s small backend
interface (OpenSSL libcrypto for speed, gmssl arithmetic as the reference).
Importing the package registers the GM OIDs with asn1crypto once.
"""

from app.gm import oids as _oids
from app.gm.errors import GMError

_oids.register()

__all__ = ["GMError"]

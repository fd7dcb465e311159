"""Which certificates can open an envelope, from its header alone (no key, no PIN).

Front ends use it before asking for a PIN or a passphrase: the decrypt dialog shows
which inserted key is a recipient (or which certificate the file needs), and
``bidseal decrypt --recovery`` refuses a recovery file that is not a recipient before
the passphrase prompt. The decision mirrors :func:`app.envelope.recipients.matches`
(issuer + serial, or equal subject key identifiers) on the header's display form; the
decryption itself still matches on the exact DER.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from app.envelope.info import EnvelopeInfo, RecipientInfo
from app.gm.errors import GMError
from app.gm.x509 import Certificate

T = TypeVar("T")


def is_recipient(recipient: RecipientInfo, cert: Certificate) -> bool:
    """True when the header entry ``recipient`` names ``cert``."""
    try:
        if recipient.serial_hex == cert.serial_hex and recipient.issuer == cert.issuer.rfc4514():
            return True
    except GMError:
        return False
    ski = cert.ski
    return bool(recipient.ski_hex and ski and recipient.ski_hex == ski.hex())


def recipients_among(info: EnvelopeInfo, holders: Iterable[T],
                     cert_of: Callable[[T], Certificate | None] | None = None
                     ) -> list[tuple[RecipientInfo, T]]:
    """(recipient entry, holder) pairs for every holder whose certificate the envelope
    names, in header order. Holders are certificates, or anything ``cert_of(holder)``
    maps to one (e.g. a UKey identity to its encryption certificate; None skips it)."""
    get = cert_of or (lambda h: cast(Certificate, h))
    items = list(holders)
    out: list[tuple[RecipientInfo, T]] = []
    for recipient in info.recipients:
        for holder in items:
            cert = get(holder)
            if cert is not None and is_recipient(recipient, cert):
                out.append((recipient, holder))
    return out

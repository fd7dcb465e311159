"""The demo seal maker: SESeal (GB/T 38540 V4 or GM/T 0031 V1) signed by the demo CA.

A real seal is made by an accredited seal-making system whose certificate chains to
a seal-making CA; here the demo root CA plays that part so the whole path (a key
holding an SESeal, sealing in GB/T 38540 format, verifying) is testable without one.
The picture is passed in (the PNG drawing lives in app/token/seal_images, above this
layer).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from app.demo.pki import CertificateAuthority
from app.gm.ses import SealContent, SESeal, build_seal
from app.gm.ses.common import default_sign_fn
from app.gm.x509 import Certificate

DEMO_VID = "BidSeal-Demo"


def make_demo_seal(maker: CertificateAuthority, holders: list[Certificate], picture_png: bytes, *,
                   name: str = "投标专用章", version: int = 4, days: int = 730, seal_type: int = 1,
                   digest_list: bool = False, valid_start: datetime | None = None,
                   width_mm: int = 40, height_mm: int = 40) -> SESeal:
    """An SESeal for ``holders`` (their certificates may use it), signed by ``maker``'s key."""
    start = valid_start or datetime.now(UTC) - timedelta(minutes=5)
    content = SealContent(
        es_id=secrets.token_hex(16), name=name, holders=tuple(c.der for c in holders),
        valid_start=start, valid_end=start + timedelta(days=days), picture=picture_png,
        width_mm=width_mm, height_mm=height_mm, seal_type=seal_type, vid=DEMO_VID, digest_list=digest_list)
    return build_seal(content, maker.certificate.der, default_sign_fn(maker.key), version=version)

"""``certificates``: the identities on the inserted keys, without consent (allowlisted
origins only; other origins never reach this). No PIN, no key operation."""

from __future__ import annotations

from app.errors import BidSealError
from app.helper.errors import from_exception
from app.helper.guard import Caller
from app.helper.service import HelperServices, Reply, cert_info


async def handle(services: HelperServices, caller: Caller) -> Reply:
    try:
        found = await services.keys.identities()
    except BidSealError as exc:
        raise from_exception(exc) from exc
    out = []
    for i in found:
        cert = i.sign_certificate or i.enc_certificate
        out.append({"id": i.id, "device": i.device,
                    "unitName": cert.unit_name if cert else None, "unitCode": cert.unit_code if cert else None,
                    "commonName": cert.common_name if cert else None,
                    "signCertificate": cert_info(i.sign_certificate), "encCertificate": cert_info(i.enc_certificate),
                    "seals": sorted(i.seals), "demo": i.is_demo})
    return Reply({"certificates": out})

"""``login``: sign the origin-bound challenge (app.authtoken) after consent and PIN.

The origin is the one the guard took from the ``Origin`` header; the page supplies only
the hub's nonce. The key signs e = SM3(Z || "BIDSEAL-AUTH-v1\\0" || SM3(origin) || SM3(nonce))
with the **signing** certificate's key; no caller-chosen bytes are ever signed.
"""

from __future__ import annotations

from typing import Any

from app.authtoken import create_token
from app.helper.consent import Fact
from app.helper.guard import Caller
from app.helper.keys import KeySession
from app.helper.service import HelperServices, Reply, key_operation


async def handle(services: HelperServices, caller: Caller) -> Reply:
    nonce: str = caller.params["nonce"]
    allow_http = services.config.allow_http

    def sign(session: KeySession) -> dict[str, Any]:
        return create_token(session.signer, caller.origin, nonce, allow_http=allow_http).to_dict()

    facts = [Fact("网站", "Site", caller.origin)]
    token, state = await key_operation(services, caller, "login", "sign", facts, sign)
    return Reply(token, serial=state.serial)

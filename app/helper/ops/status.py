"""``status``: version and protocol only (allowlisted origins only, like every operation)."""

from __future__ import annotations

from app import __version__
from app.helper.guard import Caller
from app.helper.schemas import PROTOCOL
from app.helper.service import HelperServices, Reply


async def handle(services: HelperServices, caller: Caller) -> Reply:
    return Reply({"version": __version__, "protocol": PROTOCOL})

"""The hub's result codes and its error type.

Every response of the eleven interfaces carries ``code`` (200 = success; anything
else: show ``msg`` to the user), ``msg`` and ``errData``. BidSeal's hub and client
use the small closed set below (resources/docs/platform-api.md, "Error codes"):
``code`` says what kind of failure it is, ``errData`` names the precise reason with
a stable ``ERR_HUB_...`` string (and the offending field, when there is one), and
``msg`` is the sentence for a person, Chinese first, then English.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from app.errors import BidSealError


class HubCode(IntEnum):
    OK = 200
    BAD_REQUEST = 400  # not a JSON object, missing/extra field, wrong type or value
    BAD_SIGN = 401  # sign missing, malformed, wrong, or its timestamp outside the window
    FORBIDDEN = 403  # unknown caUnitId/orgcode, or this caller may not use it
    NOT_FOUND = 404  # unknown taskId or user (or path)
    METHOD_NOT_ALLOWED = 405  # an interface was called with another method than POST
    CONFLICT = 409  # replayed request (nonce seen), taskId reused, task in the wrong state
    EXPIRED = 410  # the task's time ran out
    TOO_LARGE = 413  # body or a field over its limit
    INVALID_DATA = 422  # well-formed but wrong: certificate does not parse/verify/match
    INTERNAL = 500
    UPSTREAM = 502  # a callback or the CA service failed


class HubError(BidSealError):
    """A refused platform request: ``status`` is the response ``code``; ``code`` the
    stable ``ERR_HUB_...`` reason that goes into ``errData``."""

    code = "ERR_HUB"

    def __init__(self, status: HubCode, reason: str, zh: str, en: str, **details: Any) -> None:
        super().__init__(zh, en, code=reason, details=details)
        self.status = HubCode(status)

    @property
    def msg(self) -> str:
        return f"{self.zh} / {self.en}"

    @property
    def err_data(self) -> str:
        field = self.details.get("field")
        return f"{self.code}: {field}" if field else self.code

    def response(self) -> dict[str, Any]:
        """The JSON body a hub answers with."""
        return {"code": int(self.status), "msg": self.msg, "errData": self.err_data, "data": None}


def bad_request(field: str, zh: str, en: str, reason: str = "ERR_HUB_BAD_REQUEST") -> HubError:
    return HubError(HubCode.BAD_REQUEST, reason, zh, en, field=field)

"""The eleven interfaces of the seed's chapter 2, as data: paths, fields, directions.

One table read by the client (what to send), the reference server (what to accept:
a request with a missing, extra or non-string field is refused before anything else
happens), the ``sign`` parameter (which fields are signed: all of them) and the
OpenAPI generator. Field names and paths are exactly the seed's, including its
spelling (``Loginurl``, ``startdecrypt``, ``encdata``) and interface 4's repeated
``signCertSn`` (one JSON member).

Every request field is a JSON string (the seed's type ``String``); ``standBy`` is the
only optional one and interfaces 4 and 10 do not have it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Caller(StrEnum):
    """Who calls the interface (see resources/docs/platform-api.md, "Parties")."""

    BUSINESS = "business"  # trading system (or BidSeal's client for 1-2) -> hub
    HUB = "hub"  # hub -> business system (4, 7, 9) or hub -> CA service (5)


_CERT_FIELDS = (
    "caUnitId", "userName", "idType", "idNumber", "unitName", "unitCode", "signCert", "encCert",
    "signCertSn", "encCertSn", "certEndTime", "legalName", "legalIdcard", "signature",
)


@dataclass(frozen=True)
class Interface:
    """One interface of the seed: number, path, request fields, response members."""

    number: int
    name: str
    path: str
    caller: Caller
    required: tuple[str, ...]
    optional: tuple[str, ...]
    #: members of a successful response besides code/msg/errData (the seed's table)
    response: tuple[str, ...]
    zh: str
    en: str
    #: True when repeating the same call leaves the same state (the client may retry it)
    idempotent: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional + ("sign",)

    @property
    def bare_response(self) -> bool:
        """Interfaces 5 and 7 answer with bare data in the seed (no code/msg)."""
        return self.number in (5, 7)


INTERFACES: tuple[Interface, ...] = (
    Interface(1, "userSynchro", "/api/ca/userSynchro", Caller.BUSINESS, _CERT_FIELDS, ("standBy",),
              ("data",), "数据同步", "user data synchronisation", idempotent=True),
    Interface(2, "changeCert", "/api/ca/changeCert", Caller.BUSINESS, _CERT_FIELDS + ("paType",),
              ("standBy",), ("data",), "证书续费、变更、注销", "certificate renewal, change, revocation"),
    Interface(3, "startCheck", "/api/ca/startCheck", Caller.BUSINESS, ("caUnitId", "taskId", "orgcode"),
              ("standBy",), ("Loginurl",), "发起登录鉴权", "start login authentication"),
    Interface(4, "feedbackResult", "/api/ca/feedbackResult", Caller.HUB,
              ("orgcode", "caUnitId", "taskId", "signCertSn", "idNumber", "signCert", "encCert",
               "encCertSn", "unitName", "unitCode"), (), ("data",),
              "登录鉴权结果", "login authentication result"),
    Interface(5, "encrypt", "/api/ca/encrypt", Caller.HUB,
              ("idNumber", "unitCode", "taskId", "decData", "encCertSn"), ("standBy",),
              ("encdata", "taskId"), "加密", "encryption (CA service)", idempotent=True),
    Interface(6, "startdecrypt", "/api/ca/startdecrypt", Caller.BUSINESS,
              ("caUnitId", "taskId", "orgcode", "encData"), ("standBy",), ("decrypturl",),
              "发起解密", "start decryption"),
    Interface(7, "decrypt", "/api/ca/decrypt", Caller.HUB, ("taskId", "decData", "encCert", "encCertSn"),
              ("standBy",), ("data", "taskId"), "解密结果", "decryption result"),
    Interface(8, "startSignature", "/api/ca/startSignature", Caller.BUSINESS,
              ("caUnitId", "orgcode", "taskId", "attFile"), ("standBy",), ("taskId", "signurl"),
              "发起在线签章", "start online signing"),
    Interface(9, "onSignature", "/api/ca/onSignature", Caller.HUB,
              ("caUnitId", "taskId", "orgcode", "attFile"), ("standBy",), ("data",),
              "签章文件返回", "signed file delivery"),
    Interface(10, "startiframesign", "/api/ca/startiframesign", Caller.BUSINESS,
              ("caUnitId", "taskId", "orgcode"), (), ("signurl",),
              "引入签章厂商签章在线服务", "embedded signing service page"),
)

#: BidSeal's additions, not in the seed: the business system's way to have the hub
#: encrypt for a registered bidder (the hub then calls the CA service, interface 5).
EXTENSIONS: tuple[Interface, ...] = (
    Interface(101, "encryptFor", "/api/bidseal/encrypt", Caller.BUSINESS,
              ("caUnitId", "orgcode", "taskId", "idNumber", "unitCode", "decData"), ("standBy",),
              ("encdata", "encCertSn", "taskId"), "为投标人加密（扩展）", "encrypt for a bidder (extension)"),
)

BY_NAME = {i.name: i for i in INTERFACES + EXTENSIONS}
BY_PATH = {i.path: i for i in INTERFACES + EXTENSIONS}
BY_NUMBER = {i.number: i for i in INTERFACES}

#: paType of interface 2
PA_TYPES = {"renew": "0", "change": "1", "revoke": "2"}


def interface(name_or_number: str | int) -> Interface:
    """Look an interface up by seed name (``"userSynchro"``) or number."""
    if isinstance(name_or_number, int):
        return BY_NUMBER[name_or_number]
    return BY_NAME[name_or_number]

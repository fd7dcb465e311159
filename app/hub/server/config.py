"""Who the reference hub knows: callers (caUnitId), platforms (orgcode), the CA service.

A real hub keeps this in its administration database; the reference hub takes it
from :class:`HubConfig` (built by :mod:`app.hub.server.demo_setup` for
``bidseal hub serve``, or by a test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.gm.sm2 import PrivateKey
from app.gm.x509 import Certificate

MiB = 1024 * 1024


@dataclass(frozen=True)
class CallerCredentials:
    """A party the hub assigned a caUnitId to, and how its requests are signed."""

    ca_unit_id: str
    name: str
    secret: str | None = field(default=None, repr=False)  # HMAC-SM3
    certificate: Certificate | None = None  # SM2 with its own key
    #: interfaces 1-2 may be signed by the bidder's key of the request's signCert (SM2-CERT)
    allow_cert_sign: bool = False
    #: platforms (orgcode) this caller may start tasks for; empty: none
    orgcodes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Platform:
    """A business (trading) system: where its callbacks 4, 7 and 9 go."""

    orgcode: str
    name: str
    callback_url: str  # base URL; the interface path is appended
    secret: str = field(repr=False)  # HMAC-SM3 key of the hub's calls to it


@dataclass(frozen=True)
class CaServiceLink:
    """The CA service of interface 5."""

    url: str
    secret: str = field(repr=False)


@dataclass
class HubConfig:
    public_url: str  # the hub's own origin as the bidder's browser sees it (pages, login challenge)
    data_dir: Path
    callers: dict[str, CallerCredentials]
    platforms: dict[str, Platform]
    trust_roots: list[Certificate]
    hub_enc_cert: Certificate  # envelopes' file keys are re-wrapped to it for hub-side decryption
    hub_enc_key: PrivateKey = field(repr=False)
    ca_service: CaServiceLink | None = None
    #: ports the pages probe for the helper (None: the JS SDK's defaults, 24821-24823)
    helper_ports: tuple[int, ...] | None = None
    task_ttl: int = 600
    max_body: int = 200 * MiB  # whole request body
    max_large_field: int = 150 * MiB  # encData / attFile (base64 characters)
    max_att_file: int = 64 * MiB  # attFile, base64 characters (~48 MiB of PDF)
    callback_timeout: float = 120.0

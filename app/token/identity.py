"""What a bidder sees of a key: devices, identities (certificates + seals), PIN state.

An :class:`Identity` is one SKF container: the signing certificate
(``SKF_ExportCertificate(bSignFlag=TRUE)``), the encryption certificate
(``bSignFlag=FALSE``) and the seal images stored in the container's application.

Seal files (our convention, written by :mod:`app.token.softkey` and readable from
any CA's key that follows it): application files named ``seal_<kind>.png``, with
``<kind>`` made of ``[A-Za-z0-9_-]`` and the whole name at most 32 bytes (the SKF
file-name limit). Standard kinds: ``company`` (the unit's round seal, 单位公章 /
投标专用章) and ``legal`` (the legal representative's square seal, 法定代表人章).
``Identity.seals`` maps kind -> PNG bytes; files that are not PNG are skipped with
a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from app.demo.pki import (
    is_demo_certificate as is_demo_certificate,  # re-exported: app.token.is_demo_certificate
)
from app.gm.ses import SESeal
from app.gm.x509 import Certificate
from app.token.registry import is_softkey_library

SEAL_PREFIX = "seal_"
SEAL_SUFFIX = ".png"
SEAL_COMPANY = "company"
SEAL_LEGAL = "legal"
_SEAL_RE = re.compile(r"^seal_([A-Za-z0-9_-]+)\.png$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_FILE_NAME = 32
#: DEVINFO.Manufacturer of the embedded virtual key (native/softskf).
SOFTKEY_MANUFACTURER = "BidSeal SoftSKF"


def seal_file_name(kind: str) -> str:
    name = f"{SEAL_PREFIX}{kind}{SEAL_SUFFIX}"
    if not _SEAL_RE.match(name) or len(name.encode()) > MAX_FILE_NAME:
        raise ValueError(f"invalid seal kind {kind!r}")
    return name


def seal_kind(file_name: str) -> str | None:
    """The kind of a seal file name, or None if the file is not a seal."""
    m = _SEAL_RE.match(file_name)
    return m.group(1) if m else None


# DEVINFO capability bits
_SYM_CAPS = {0x100: "SM1", 0x200: "SSF33", 0x400: "SM4"}
_ASYM_CAPS = {0x00010000: "RSA", 0x00020100: "SM2-sign", 0x00020200: "SM2-exchange", 0x00020400: "SM2-encrypt"}
_HASH_CAPS = {1: "SM3", 2: "SHA1", 4: "SHA256"}


@dataclass(frozen=True)
class DeviceInfo:
    """DEVINFO of one key (``SKF_GetDevInfo``)."""

    name: str
    manufacturer: str = ""
    issuer: str = ""
    label: str = ""
    serial: str = ""
    version: str = ""
    hw_version: str = ""
    firmware_version: str = ""
    alg_sym_cap: int = 0
    alg_asym_cap: int = 0
    alg_hash_cap: int = 0
    dev_auth_alg_id: int = 0
    total_space: int = 0
    free_space: int = 0
    max_ecc_buffer_size: int = 0
    max_buffer_size: int = 0

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> DeviceInfo:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "name"}
        return cls(name=name, **known)

    @property
    def capabilities(self) -> list[str]:
        caps = [v for k, v in _SYM_CAPS.items() if self.alg_sym_cap & k]
        caps += [v for k, v in _ASYM_CAPS.items() if self.alg_asym_cap & k == k]
        caps += [v for k, v in _HASH_CAPS.items() if self.alg_hash_cap & k]
        return caps

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["capabilities"] = self.capabilities
        return d


@dataclass(frozen=True)
class PinInfo:
    max_retries: int
    remaining: int
    is_default: bool

    @property
    def locked(self) -> bool:
        return self.remaining == 0

    def to_dict(self) -> dict[str, Any]:
        return {"max_retries": self.max_retries, "remaining": self.remaining, "is_default": self.is_default,
                "locked": self.locked}


@dataclass(frozen=True)
class Identity:
    """One container of one key: the unit's certificates and seals."""

    library: str
    device: str
    application: str
    container: str
    sign_certificate: Certificate | None
    enc_certificate: Certificate | None
    seals: Mapping[str, bytes] = field(default_factory=dict, compare=False, hash=False)
    device_info: DeviceInfo | None = field(default=None, compare=False, hash=False)
    warnings: tuple[str, ...] = field(default=(), compare=False, hash=False)
    #: National-format seals (SESeal files, see app/token/ses_seals): file name -> seal.
    ses_seals: Mapping[str, SESeal] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seals", MappingProxyType(dict(self.seals)))
        object.__setattr__(self, "ses_seals", MappingProxyType(dict(self.ses_seals)))

    @property
    def is_demo(self) -> bool:
        """A demo key that must never sign a bid: the embedded virtual key (its library or
        its DEVINFO), or certificates from BidSeal's demo CA. Listings, signature reports
        and PIN prompts show it."""
        if is_softkey_library(self.library):
            return True
        if self.device_info is not None and self.device_info.manufacturer == SOFTKEY_MANUFACTURER:
            return True
        return any(is_demo_certificate(c) for c in (self.sign_certificate, self.enc_certificate) if c is not None)

    @property
    def label(self) -> str:
        cert = self.sign_certificate or self.enc_certificate
        unit = (cert.unit_name or cert.common_name) if cert else None
        demo = "[演示密钥 DEMO KEY] " if self.is_demo else ""
        return f"{demo}{unit or self.container} ({self.device})"

    def summary(self) -> dict[str, Any]:
        from app.token.ses_seals import (
            seal_summary as ses_seal_summary,  # (ses_seals imports this module)
        )

        def cert(c: Certificate | None) -> dict[str, Any] | None:
            if c is None:
                return None
            s = c.summary()
            return {k: s.get(k) for k in ("common_name", "unit_name", "unit_code", "legal_name", "serial_hex",
                                          "not_before", "not_after", "valid_now", "key_usage", "kind",
                                          "issuer_common_name", "fingerprint_sm3")} | {
                "subject": c.subject.rfc4514()}

        return {
            "library": self.library,
            "device": self.device,
            "application": self.application,
            "container": self.container,
            "sign_certificate": cert(self.sign_certificate),
            "enc_certificate": cert(self.enc_certificate),
            "seals": {k: {"file": seal_file_name(k), "bytes": len(v)} for k, v in sorted(self.seals.items())},
            "ses_seals": {name: ses_seal_summary(seal) for name, seal in sorted(self.ses_seals.items())},
            "warnings": list(self.warnings),
            "demo": self.is_demo,
        }

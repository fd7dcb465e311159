"""What the UKey panel shows for a key and its identities (Qt-free).

:func:`identity_view` turns an :class:`app.token.Identity` into an
:class:`IdentityView`: the unit, its unified social credit code, the legal
representative, both certificates with an expiry level (warnings at 90, 30 and 7
days), the seal pictures and whether it is the demo (virtual) key.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.ui.i18n import Text
from app.ui.models.document import SealChoice, png_size, seal_label


class Expiry(enum.StrEnum):
    OK = "ok"
    WARN_90 = "warn90"
    WARN_30 = "warn30"
    WARN_7 = "warn7"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


#: Colours the widgets use for each level (also used in the legend).
EXPIRY_COLOURS = {
    Expiry.OK: "#1b7a3a",
    Expiry.WARN_90: "#8a6d00",
    Expiry.WARN_30: "#c25e00",
    Expiry.WARN_7: "#c0392b",
    Expiry.EXPIRED: "#a00000",
    Expiry.NOT_YET_VALID: "#a00000",
}


def expiry_level(not_before: datetime, not_after: datetime, now: datetime | None = None) -> tuple[Expiry, int]:
    """The warning level and the whole days left until ``not_after`` (negative when past)."""
    now = now or datetime.now(UTC)
    days = int((not_after - now).total_seconds() // 86400)
    if now < not_before:
        return Expiry.NOT_YET_VALID, days
    if now > not_after:
        return Expiry.EXPIRED, days
    if days <= 7:
        return Expiry.WARN_7, days
    if days <= 30:
        return Expiry.WARN_30, days
    if days <= 90:
        return Expiry.WARN_90, days
    return Expiry.OK, days


def expiry_text(level: Expiry, days: int, not_after: datetime) -> Text:
    date = f"{not_after:%Y-%m-%d}"
    if level is Expiry.EXPIRED:
        return (f"已于 {date} 过期，请联系 CA 更新证书", f"expired on {date}; renew it with your CA")
    if level is Expiry.NOT_YET_VALID:
        return ("尚未生效，请检查电脑时间", "not valid yet; check the computer clock")
    if level is Expiry.OK:
        return (f"有效期至 {date}", f"valid until {date}")
    return (f"还有 {days} 天过期（{date}），请及时更新", f"expires in {days} days ({date}); renew it soon")


@dataclass(frozen=True)
class CertView:
    kind: str  # "sign" or "enc"
    subject: str
    common_name: str
    serial: str
    issuer: str
    not_before: datetime
    not_after: datetime
    expiry: Expiry
    days_left: int
    key_usage: tuple[str, ...]
    fingerprint_sm3: str
    der: bytes = field(repr=False)
    pem: bytes = field(repr=False)

    @property
    def title(self) -> Text:
        return ("签名证书", "Signing certificate") if self.kind == "sign" else ("加密证书", "Encryption certificate")

    @property
    def expiry_text(self) -> Text:
        return expiry_text(self.expiry, self.days_left, self.not_after)

    @property
    def colour(self) -> str:
        return EXPIRY_COLOURS[self.expiry]


def cert_view(cert: Any, kind: str, now: datetime | None = None) -> CertView:
    level, days = expiry_level(cert.not_before, cert.not_after, now)
    issuer = cert.issuer
    issuer_text = getattr(issuer, "common_name", None) or issuer.rfc4514()
    return CertView(
        kind=kind, subject=cert.subject.rfc4514(), common_name=cert.common_name or "",
        serial=cert.serial_hex, issuer=str(issuer_text), not_before=cert.not_before, not_after=cert.not_after,
        expiry=level, days_left=days, key_usage=tuple(sorted(cert.key_usage)), fingerprint_sm3=cert.fingerprint_sm3,
        der=bytes(cert.der), pem=bytes(cert.pem),
    )


DEMO_MANUFACTURER = "BidSeal SoftSKF"
DEMO_LABEL: Text = ("演示 UKey（虚拟，仅供演示/测试）", "Demo key (virtual, for demos and tests only)")


@dataclass(frozen=True)
class IdentityView:
    """One identity (container) of one key, as the panel lists it."""

    key_id: str
    library: str
    device: str
    container: str
    is_demo: bool
    unit_name: str
    unit_code: str
    legal_name: str
    sign: CertView | None
    enc: CertView | None
    seals: tuple[SealChoice, ...]
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> Text:
        demo = ("【演示】", "[DEMO] ")
        unit = self.unit_name or self.container
        return (f"{demo[0] if self.is_demo else ''}{unit}（{self.device}）",
                f"{demo[1] if self.is_demo else ''}{unit} ({self.device})")

    @property
    def can_sign(self) -> bool:
        return self.sign is not None and self.sign.expiry not in (Expiry.EXPIRED, Expiry.NOT_YET_VALID)

    @property
    def worst_expiry(self) -> Expiry:
        order = list(Expiry)
        levels = [c.expiry for c in (self.sign, self.enc) if c is not None]
        return max(levels, key=order.index) if levels else Expiry.OK


def identity_key(identity: Any) -> str:
    """A stable id for an identity across rescans (library, device, application, container)."""
    return "|".join((identity.library, identity.device, identity.application, identity.container))


def is_demo_identity(identity: Any) -> bool:
    """The virtual key (libsoftskf). Uses ``Identity.is_demo`` when the token layer provides it."""
    flag = getattr(identity, "is_demo", None)
    if flag is not None:
        return bool(flag)
    info = getattr(identity, "device_info", None)
    if info is not None and getattr(info, "manufacturer", "") == DEMO_MANUFACTURER:
        return True
    return "softskf" in str(getattr(identity, "library", "")).lower()


def identity_view(identity: Any, now: datetime | None = None) -> IdentityView:
    sign = identity.sign_certificate
    enc = identity.enc_certificate
    cert = sign or enc
    seals = []
    for kind, png in sorted(identity.seals.items(), key=lambda kv: (kv[0] != "company", kv[0] != "legal", kv[0])):
        w, h = png_size(png)
        seals.append(SealChoice(key=f"key:{kind}", label=seal_label(kind), png=bytes(png), width=w, height=h))
    return IdentityView(
        key_id=identity_key(identity), library=identity.library, device=identity.device,
        container=identity.container, is_demo=is_demo_identity(identity),
        unit_name=(cert.unit_name or cert.common_name or "") if cert else "",
        unit_code=(cert.unit_code or "") if cert else "",
        legal_name=(cert.legal_name or "") if cert else "",
        sign=cert_view(sign, "sign", now) if sign is not None else None,
        enc=cert_view(enc, "enc", now) if enc is not None else None,
        seals=tuple(seals), warnings=tuple(identity.warnings),
    )


@dataclass(frozen=True)
class PinView:
    """The PIN state line: retries left, warning at 3 or fewer, locked."""

    max_retries: int
    remaining: int
    is_default: bool

    @property
    def locked(self) -> bool:
        return self.remaining <= 0

    @property
    def low(self) -> bool:
        return 0 < self.remaining <= 3

    @property
    def text(self) -> Text:
        if self.locked:
            return ("口令已锁定", "PIN locked")
        base = (f"口令剩余尝试次数：{self.remaining}/{self.max_retries}",
                f"PIN tries left: {self.remaining} of {self.max_retries}")
        if self.is_default:
            base = (base[0] + "（仍为初始口令，建议修改）", base[1] + " (still the initial PIN; change it)")
        return base


LOCKED_HELP: Text = (
    "UKey 口令已被锁定（连续输错次数过多）。请用“解锁口令”输入管理员口令（SO PIN）并设置新口令；"
    "如不知道管理员口令，请携带 UKey 联系发证 CA 办理解锁。",
    "The UKey PIN is locked (too many wrong attempts). Use “Unblock PIN” with the administrator "
    "PIN (SO PIN) to set a new PIN; if you do not know it, take the key to the CA that issued it.",
)


def pin_view(info: Any) -> PinView:
    return PinView(int(info.max_retries), int(info.remaining), bool(info.is_default))


def pin_warning(remaining: int | None) -> Text | None:
    """The PIN dialog's warning for ``remaining`` tries (None: no warning)."""
    if remaining is None or remaining > 3:
        return None
    if remaining <= 0:
        return LOCKED_HELP
    return (f"注意：只剩 {remaining} 次尝试机会，再输错 {remaining} 次 UKey 将被锁定。",
            f"Careful: {remaining} {'try' if remaining == 1 else 'tries'} left; "
            f"{remaining} more wrong {'PIN' if remaining == 1 else 'PINs'} will lock the key.")


def views_of(identities: Sequence[Any], now: datetime | None = None) -> list[IdentityView]:
    return [identity_view(i, now) for i in identities]

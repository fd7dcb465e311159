"""Is a newer BidSeal offered? The check run at start, which never raises.

Order matters: the signature is checked over the exact bytes *before* the JSON is
parsed, so an unsigned document never reaches the parser; then the product, the
validity window, the version and the platform. Each refusal is one log line on the
``bidseal.update`` logger and an :class:`UpdateCheck` whose ``status`` says what
happened, never an exception:

* ``offered``: a newer version with a package for this platform;
* ``up-to-date``: validly signed, but not newer than this BidSeal (an older signed
  manifest replayed by an attacker lands here: never a downgrade offer);
* ``no-package``: newer, but nothing built for this platform;
* ``rejected``: not trustworthy (unsigned, another key, altered, expired, published in
  the future, other product, malformed, too large, insecure URL);
* ``unreachable``: the server did not answer (in time);
* ``disabled``: no manifest URL configured, or the switch is off.

Replay: a valid old manifest can be served again for ever to hide a newer release; the
``expires`` field bounds that (release engineering re-signs the manifest on a schedule,
see ``resources/docs/update-manifest.md``), and :data:`MAX_VALIDITY` keeps a release
tool from signing one that never expires.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app import __version__, settings
from app.gm.errors import GMError
from app.gm.sm2 import PublicKey
from app.update.errors import UpdateError, UpdateRefused
from app.update.fetch import fetch_bytes
from app.update.manifest import (
    PRODUCT,
    Manifest,
    Package,
    current_platform,
    parse_manifest,
    parse_version,
)
from app.update.signature import MAX_SIGNATURE, key_id, shipped_keys, signed_by
from app.update.urls import check_url, signature_url

log = logging.getLogger("bidseal.update")

#: Largest manifest read (a real one is about 1 KiB).
MAX_MANIFEST = 64 * 1024
#: Seconds per connect / read; the start-up check gives up after about three times this.
DEFAULT_TIMEOUT = 5.0
#: A manifest "published" this far in the future is refused (clock skew allowance).
CLOCK_TOLERANCE = timedelta(minutes=10)
#: The longest validity window accepted (published .. expires).
MAX_VALIDITY = timedelta(days=180)


@dataclass(frozen=True)
class UpdateCheck:
    """What the check found; ``reason`` is a stable word (``signature``, ``expired`` ...)."""

    status: str
    reason: str | None
    zh: str
    en: str
    manifest: Manifest | None = None
    package: Package | None = None
    key_id: str | None = None

    @property
    def offered(self) -> bool:
        return self.status == "offered"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "offered": self.offered, "reason": self.reason, "zh": self.zh,
                "en": self.en, "current": __version__,
                "manifest": self.manifest.to_dict() if self.manifest else None,
                "package": self.package.to_dict() if self.package else None, "key": self.key_id}


def _refused(reason: str, zh: str, en: str) -> UpdateRefused:
    return UpdateRefused(reason, zh, en)


def verify_manifest(data: bytes, signature: bytes | None, *, keys: Sequence[PublicKey],
                    current: str = __version__, platform: str | None = None,
                    now: datetime | None = None) -> UpdateCheck:
    """Check a fetched manifest and its signature; raises :class:`UpdateRefused` when it
    cannot be trusted, returns the verdict (offered / up-to-date / no-package) otherwise."""
    if len(data) > MAX_MANIFEST:
        raise _refused("too-large", "更新清单过大，已忽略。", "The update manifest is too large; ignored.")
    if not signature:
        raise _refused("unsigned", "更新清单没有签名，已忽略。", "The update manifest is not signed; ignored.")
    key = signed_by(data, signature, keys)
    if key is None:
        raise _refused("signature", "更新清单的签名无效或不是受信任的发布密钥所签，已忽略。",
                       "The update manifest's signature is invalid or not by a trusted release key; ignored.")
    manifest = parse_manifest(data)
    kid = key_id(key)
    if manifest.product != PRODUCT:
        raise _refused("product", f"更新清单属于其他产品（{manifest.product}），已忽略。",
                       f"The update manifest is for another product ({manifest.product}); ignored.")
    now = now or datetime.now(UTC)
    if now >= manifest.expires:
        raise _refused("expired", f"更新清单已于 {manifest.expires:%Y-%m-%d %H:%M} UTC 过期，已忽略。",
                       f"The update manifest expired on {manifest.expires:%Y-%m-%d %H:%M} UTC; ignored.")
    if manifest.published > now + CLOCK_TOLERANCE:
        raise _refused("future", "更新清单的发布时间晚于本机时间，已忽略（请检查电脑时钟）。",
                       "The update manifest is published in the future; ignored (check this computer's clock).")
    if not manifest.published < manifest.expires <= manifest.published + MAX_VALIDITY:
        raise _refused("validity", "更新清单的有效期无效，已忽略。",
                       "The update manifest's validity period is invalid; ignored.")
    if parse_version(manifest.version) <= parse_version(current):
        return UpdateCheck("up-to-date", "not-newer", f"当前已是最新版本（{current}）。",
                           f"BidSeal {current} is up to date.", manifest, None, kid)
    platform = platform if platform is not None else current_platform()
    package = manifest.package_for(platform)
    if package is None:
        return UpdateCheck("no-package", "platform", f"新版本 {manifest.version} 没有适用于本机（{platform}）的安装包。",
                           f"Version {manifest.version} has no package for this platform ({platform}).",
                           manifest, None, kid)
    return UpdateCheck("offered", None, f"有新版本 BidSeal {manifest.version} 可用。",
                       f"BidSeal {manifest.version} is available.", manifest, package, kid)


def _fetch_signature(url: str, timeout: float) -> bytes | None:
    try:
        return fetch_bytes(signature_url(url), limit=MAX_SIGNATURE, timeout=timeout)
    except UpdateError as exc:
        log.info("update check: no signature at %s (%s)", signature_url(url), exc.reason)
        return None


def check_for_update(url: str | None, *, keys: Sequence[PublicKey], current: str = __version__,
                     platform: str | None = None, now: datetime | None = None,
                     timeout: float = DEFAULT_TIMEOUT) -> UpdateCheck:
    """Fetch ``url`` and its signature and check them (see the module docstring). Never
    raises a :class:`~app.errors.BidSealError` or a network error; logs one line."""
    if not url:
        result = UpdateCheck("disabled", "no-url", "未设置更新清单地址，不检查更新。",
                             "No update manifest URL is set; updates are not checked.")
        log.debug("update check: %s", result.en)
        return result
    try:
        check_url(url)
        data = fetch_bytes(url, limit=MAX_MANIFEST, timeout=timeout)
        result = verify_manifest(data, _fetch_signature(url, timeout), keys=keys, current=current,
                                 platform=platform, now=now)
    except UpdateError as exc:
        status = "unreachable" if exc.code == "ERR_UPDATE_UNREACHABLE" else "rejected"
        result = UpdateCheck(status, exc.reason, exc.zh, exc.en)
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the application starting
        result = UpdateCheck("rejected", "internal", "检查更新时出错，已忽略。",
                             f"The update check failed ({type(exc).__name__}); ignored.")
    level = logging.INFO if result.status in ("offered", "up-to-date") else logging.WARNING
    log.log(level, "update check %s: %s [%s] %s", url, result.status, result.reason or "-", result.en)
    return result


def check_at_start(timeout: float = DEFAULT_TIMEOUT) -> UpdateCheck:
    """The start-up check: the URL and switch from the settings, the shipped release keys
    only (never a key a user or a web page added). Never raises."""
    s = settings.load()
    if not s.update_enabled:
        log.debug("update check: switched off in the settings")
        return UpdateCheck("disabled", "switched-off", "已关闭更新检查。", "Update checks are switched off.")
    try:
        keys = shipped_keys()
    except (OSError, GMError) as exc:  # a damaged installation: no key, nothing can verify
        log.warning("update check: the shipped release keys cannot be read (%s)", type(exc).__name__)
        keys = []
    return check_for_update(s.update_url, keys=keys, timeout=timeout)

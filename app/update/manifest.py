"""The update manifest: what a release says about itself, parsed strictly.

A manifest is a small JSON document (format :data:`FORMAT`, described for release
engineers in ``resources/docs/update-manifest.md``). It is only ever parsed *after*
its signature was checked over the exact bytes, so nothing here decides trust; it
decides whether a signed document is well formed and which package fits this
computer. Anything unexpected (a missing field, a wrong type, an http URL to a remote
host, a size that is not a positive integer, an SM3 that is not 64 hex digits) makes
the whole manifest invalid: a release tool that writes such a file has a bug, and
guessing what it meant would be the attacker's opening.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.update.errors import UpdateRefused
from app.update.urls import check_url

FORMAT = "bidseal-update-manifest/1"
PRODUCT = "bidseal"
#: A package larger than this is refused (a BidSeal installer is tens of MB).
MAX_PACKAGE_SIZE = 2 * 1024**3
_VERSION_RE = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")
_PLATFORM_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9_]+){1,3}$")
_SM3_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; dotted integers only (no pre-release tags), so two
    versions always compare one way; trailing zeros do not count (``1.2`` == ``1.2.0``)."""
    if not isinstance(text, str) or not _VERSION_RE.match(text):
        raise ValueError(f"not a dotted version: {text!r}")
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def current_platform() -> str | None:
    """The package platform id this BidSeal installs from, or None when none is built
    for it (then no update is offered)."""
    machine = platform.machine().lower()
    if sys.platform.startswith("linux"):
        return {"x86_64": "linux-amd64-deb", "amd64": "linux-amd64-deb",
                "aarch64": "linux-arm64-deb", "arm64": "linux-arm64-deb"}.get(machine)
    if sys.platform == "win32":
        return {"amd64": "windows-x64-nsis", "x86_64": "windows-x64-nsis"}.get(machine)
    return None


@dataclass(frozen=True)
class Package:
    """One installer of the release: where it is, how big, its SM3."""

    platform: str
    url: str
    size: int
    sm3: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "url": self.url, "size": self.size, "sm3": self.sm3,
                "name": self.name}


@dataclass(frozen=True)
class Manifest:
    product: str
    version: str
    published: datetime
    expires: datetime
    packages: tuple[Package, ...]
    notes_zh: str
    notes_en: str
    page: str | None

    def package_for(self, platform_id: str | None) -> Package | None:
        return next((p for p in self.packages if p.platform == platform_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {"product": self.product, "version": self.version, "published": format_time(self.published),
                "expires": format_time(self.expires), "packages": [p.to_dict() for p in self.packages],
                "notes": {"zh": self.notes_zh, "en": self.notes_en}, "page": self.page}


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad(what: str) -> UpdateRefused:
    return UpdateRefused("malformed", f"更新清单格式错误：{what}", f"The update manifest is malformed: {what}")


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _bad(f"“{key}” missing or of the wrong type")
    return value


def _time(obj: dict[str, Any], key: str) -> datetime:
    text = _field(obj, key, str)
    if not _TIME_RE.match(text):
        raise _bad(f"“{key}” must be UTC time like 2026-01-31T08:00:00Z")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _bad(f"“{key}” is not a valid time") from None


def _package(obj: Any) -> Package:
    if not isinstance(obj, dict):
        raise _bad("a package entry is not an object")
    plat = _field(obj, "platform", str)
    if not _PLATFORM_RE.match(plat):
        raise _bad(f"platform id {plat!r}")
    url = check_url(_field(obj, "url", str))
    size = _field(obj, "size", int)
    if not 0 < size <= MAX_PACKAGE_SIZE:
        raise _bad(f"package size {size}")
    digest = _field(obj, "sm3", str)
    if not _SM3_RE.match(digest):
        raise _bad("sm3 must be 64 lower-case hex digits")
    name = obj.get("name") or url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _bad(f"package file name {name!r}")
    return Package(plat, url, size, digest, name)


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in ``data`` (UTF-8 JSON), or :class:`UpdateRefused` (``malformed``)."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad("not UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise _bad("not a JSON object")
    if obj.get("format") != FORMAT:
        raise _bad(f"format is not {FORMAT}")
    version = _field(obj, "version", str)
    try:
        parse_version(version)
    except ValueError:
        raise _bad(f"version {version!r}") from None
    packages = tuple(_package(p) for p in _field(obj, "packages", list))
    if len({p.platform for p in packages}) != len(packages):
        raise _bad("two packages for one platform")
    notes = _field(obj, "notes", dict)
    page = obj.get("page")
    if page is not None:
        page = check_url(_field(obj, "page", str))
    return Manifest(
        product=_field(obj, "product", str), version=version, published=_time(obj, "published"),
        expires=_time(obj, "expires"), packages=packages, notes_zh=_field(notes, "zh", str),
        notes_en=_field(notes, "en", str), page=page)


def build_manifest(*, version: str, published: datetime, expires: datetime, packages: list[Package],
                   notes_zh: str, notes_en: str, page: str | None = None, product: str = PRODUCT) -> bytes:
    """The manifest bytes the release tool signs (parsed back, so it never writes one the
    checker would refuse as malformed)."""
    obj: dict[str, Any] = {
        "format": FORMAT, "product": product, "version": version, "published": format_time(published),
        "expires": format_time(expires), "packages": [p.to_dict() for p in packages],
        "notes": {"zh": notes_zh, "en": notes_en}}
    if page:
        obj["page"] = page
    data = (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    parse_manifest(data)
    return data

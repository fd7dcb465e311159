"""The update channel: is a newer BidSeal published, and fetch its installer intact.

A deployment publishes a signed manifest (:mod:`.manifest`, format in
``resources/docs/update-manifest.md``) at a URL it sets in the settings
(``update.url``; empty = never checked). :func:`check_for_update` fetches it with short
timeouts and size caps (:mod:`.fetch`), checks its SM2 signature against the release
keys shipped with the application (:mod:`.signature`) and its contents
(:mod:`.check`), and never raises: a refusal is a log line and "no update offered".
:func:`download_package` streams an offered installer and keeps it only when its size
and SM3 match (:mod:`.download`). Nothing is installed automatically.

Qt-free engine code: ``bidseal update`` and the window's start-up notice
(:mod:`app.ui.update_notice`) are thin front ends over these functions.
"""

from __future__ import annotations

from app.update.check import (
    DEFAULT_TIMEOUT,
    UpdateCheck,
    check_at_start,
    check_for_update,
    verify_manifest,
)
from app.update.download import download_package
from app.update.errors import PackageMismatch, UpdateError, UpdateRefused, UpdateUnreachable
from app.update.manifest import (
    FORMAT,
    PRODUCT,
    Manifest,
    Package,
    build_manifest,
    current_platform,
    parse_manifest,
)
from app.update.signature import (
    key_id,
    load_keys,
    shipped_keys,
    shipped_keys_dir,
    sign_manifest,
    signed_by,
)

__all__ = [
    "DEFAULT_TIMEOUT", "FORMAT", "PRODUCT", "Manifest", "Package", "PackageMismatch", "UpdateCheck", "UpdateError",
    "UpdateRefused", "UpdateUnreachable", "build_manifest", "check_at_start", "check_for_update",
    "current_platform", "download_package", "key_id", "load_keys", "parse_manifest", "shipped_keys",
    "shipped_keys_dir", "sign_manifest", "signed_by", "verify_manifest",
]

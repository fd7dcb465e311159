"""What the checks share: the settings, the time, and one token scan done once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import settings as app_settings
from app.errors import BidSealError
from app.token.device import TokenScan, scan
from app.token.host_client import HostPool
from app.token.identity import Identity

#: DEVINFO manufacturer of the virtual key (native/softskf).
VIRTUAL_MANUFACTURER = "BidSeal SoftSKF"


@dataclass
class Context:
    settings: app_settings.Settings
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    libraries: list[str] | None = None
    pool: HostPool | None = None
    time_server: str | None = None
    output_folder: Path | None = None
    _scan: TokenScan | None = None
    _scan_error: BidSealError | None = None

    @property
    def scan(self) -> TokenScan | None:
        """The token scan (None when the scan itself failed; see :attr:`scan_error`)."""
        if self._scan is None and self._scan_error is None:
            try:
                self._scan = scan(self.libraries, pool=self.pool)
            except BidSealError as exc:
                self._scan_error = exc
        return self._scan

    @property
    def scan_error(self) -> BidSealError | None:
        _ = self.scan
        return self._scan_error

    @property
    def identities(self) -> list[Identity]:
        return self.scan.identities if self.scan else []

    def bid_folder(self) -> Path:
        """Where bids are written: the configured output folder, else Documents, else home."""
        if self.output_folder is not None:
            return self.output_folder
        if self.settings.output_folder:
            return Path(self.settings.output_folder)
        home = Path.home()
        docs = home / "Documents"
        return docs if docs.is_dir() else home


def is_virtual(identity: Identity) -> bool:
    """The demo key (native/softskf or BidSeal's demo CA), labelled as such wherever it appears."""
    flag = getattr(identity, "is_demo", None)
    if flag is not None:
        return bool(flag)
    info = identity.device_info
    return bool(info and info.manufacturer == VIRTUAL_MANUFACTURER)


def identity_label(identity: Identity) -> str:
    """The token layer's label (it already marks a demo key), marked here when it does not."""
    label = identity.label
    if is_virtual(identity) and "DEMO" not in label.upper():
        label = f"[演示密钥 DEMO KEY] {label}"
    return label


def safe_details(exc: BidSealError) -> dict[str, Any]:
    """An error's code and details, without anything PIN-like."""
    return {"code": exc.code, **{k: v for k, v in exc.details.items() if "pin" not in k.lower()}}



"""Where BidSeal keeps its own files: configuration, data, logs, runtime locks.

One place decides, so the CLI, the GUI, the helper and the hub agree on the trust
store, the settings, the audit log and the lock files. The folders follow the
platform's conventions through platformdirs (``~/.config/BidSeal``,
``~/.local/share/BidSeal``, ``%APPDATA%\\BidSeal`` ...). ``BIDSEAL_HOME`` puts
everything under one folder instead: tests and portable installs use it, so a test
never reads or writes the user's real trust store.

The functions only compute paths; :func:`ensure` creates a folder (mode 0700, since
logs and records are private to the user) when a caller is about to write.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import platformdirs

APP_NAME = "BidSeal"


def _home() -> Path | None:
    value = os.environ.get("BIDSEAL_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """Settings the user or an operator edits (settings, trust list, hub origins)."""
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Data BidSeal keeps for the user (trust store, envelope records)."""
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """Log files (crash logs, token-host output, the helper's audit log)."""
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def runtime_dir() -> Path:
    """Lock files and sockets that live only while BidSeal runs (PIN locks, single instance)."""
    home = _home()
    if home:
        return home / "run"
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (a root shell, a service) platformdirs falls back to
        # /tmp/runtime-<uid> and warns; that folder is fine and the user cannot act on it.
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False))


def ensure(path: Path) -> Path:
    """Create ``path`` (and parents) private to the user if missing; return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path

"""Which hub origins may call the helper, and what the helper knows about each hub.

Sources, all under :func:`app.paths.config_dir`:

* ``helper.json`` - written by the user (the GUI's settings page, or by hand)::

      {"hubs": [{"origin": "https://hub.example.cn", "name": "辽宁省互认平台",
                 "projects": ["LNGG-*"], "encryptionCertificate": "<PEM or base64 DER>"}],
       "ports": [24821, 24822, 24823]}

* ``hubs.d/*.json`` - signed hub lists from a hub operator (:mod:`.hublist`), checked
  against ``hub-list-roots.pem``; refused lists add nothing and are reported.

Origins must be https; ``allow_http`` exists only as a runtime development flag
(``bidseal helper serve --dev-allow-http``), never in a file. ``projects`` are
``fnmatch`` patterns of the envelope project IDs this hub may open (envelope decrypt is
refused for a hub without them); ``encryptionCertificate`` is where re-wrapped file
keys go (never taken from a request).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import paths
from app.authtoken.origin import OriginError, normalize_origin
from app.gm.errors import GMError
from app.gm.x509 import Certificate
from app.helper.hublist import HubListError, verify_hub_list

DEFAULT_PORTS = (24821, 24822, 24823)
log = logging.getLogger("bidseal.helper")


@dataclass(frozen=True)
class HubConfig:
    origin: str
    name: str = ""
    projects: tuple[str, ...] = ()
    encryption_certificate: Certificate | None = field(default=None, repr=False)
    source: str = "helper.json"

    def allows_project(self, project_id: str | None) -> bool:
        return bool(project_id) and any(fnmatch.fnmatchcase(project_id or "", p) for p in self.projects)


@dataclass(frozen=True)
class HelperConfig:
    hubs: dict[str, HubConfig]
    ports: tuple[int, ...] = DEFAULT_PORTS
    allow_http: bool = False
    problems: tuple[str, ...] = ()

    def hub(self, origin: str) -> HubConfig | None:
        return self.hubs.get(origin)


def _certificate(value: object) -> Certificate | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("encryptionCertificate must be PEM or base64 DER text")
    data = value.encode("ascii") if "-----BEGIN" in value else base64.b64decode(value, validate=True)
    return Certificate.load(data)


def hub_from_dict(d: dict[str, Any], *, source: str, allow_http: bool = False) -> HubConfig:
    """One hub entry; ``ValueError`` with an English reason when it is unusable."""
    if not isinstance(d, dict):
        raise ValueError("a hub entry must be an object")
    try:
        origin = normalize_origin(str(d.get("origin", "")), allow_http=allow_http)
    except OriginError as exc:
        raise ValueError(f"origin {d.get('origin')!r}: {exc}") from exc
    projects = d.get("projects", [])
    if not isinstance(projects, list) or not all(isinstance(p, str) and p for p in projects):
        raise ValueError(f"{origin}: projects must be a list of patterns")
    try:
        cert = _certificate(d.get("encryptionCertificate"))
    except (ValueError, GMError) as exc:
        raise ValueError(f"{origin}: encryptionCertificate unreadable") from exc
    return HubConfig(origin=origin, name=str(d.get("name", ""))[:100], projects=tuple(projects),
                     encryption_certificate=cert, source=source)


def _load_roots(path: Path) -> list[Certificate]:
    try:
        return Certificate.load_all(path.read_bytes())
    except (OSError, GMError):
        return []


def load_config(folder: Path | None = None, *, allow_http: bool = False,
                extra_hubs: Iterable[HubConfig] = (), ports: Sequence[int] | None = None) -> HelperConfig:
    """Read ``helper.json`` and the signed lists; bad entries are skipped and reported in
    ``problems`` (the helper still starts, with the hubs that are fine)."""
    folder = folder or paths.config_dir()
    problems: list[str] = []
    hubs: dict[str, HubConfig] = {}
    file_ports: tuple[int, ...] = DEFAULT_PORTS
    user_file = folder / "helper.json"
    if user_file.exists():
        try:
            doc = json.loads(user_file.read_text(encoding="utf-8"))
            for entry in doc.get("hubs", []):
                try:
                    hub = hub_from_dict(entry, source=str(user_file), allow_http=allow_http)
                    hubs[hub.origin] = hub
                except ValueError as exc:
                    problems.append(f"{user_file}: {exc}")
            if "ports" in doc:
                file_ports = tuple(int(p) for p in doc["ports"])[:3] or DEFAULT_PORTS
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            problems.append(f"{user_file}: unreadable ({exc})")
    roots = _load_roots(folder / "hub-list-roots.pem")
    for signed in sorted((folder / "hubs.d").glob("*.json")) if (folder / "hubs.d").is_dir() else []:
        try:
            payload = verify_hub_list(signed.read_bytes(), roots)
            for entry in payload["hubs"]:
                hub = hub_from_dict(entry, source=str(signed))
                hubs.setdefault(hub.origin, hub)
        except (OSError, HubListError, ValueError) as exc:
            problems.append(f"{signed}: refused ({exc})")
    for hub in extra_hubs:
        hubs[hub.origin] = hub
    for p in problems:
        log.warning("hub configuration: %s", p)
    return HelperConfig(hubs=hubs, ports=tuple(ports) if ports else file_ports, allow_http=allow_http,
                        problems=tuple(problems))


def save_user_hubs(entries: Iterable[dict[str, Any]], folder: Path | None = None) -> Path:
    """Write the user's hub list to ``helper.json`` (the settings page's "allowed platform
    addresses"), keeping its other keys. Each entry is checked with :func:`hub_from_dict`
    first and stored with its canonical origin, so a bad address is refused with a reason
    (``ValueError``) instead of being saved."""
    from app.atomic import write_atomic

    folder = paths.ensure(folder or paths.config_dir())
    target = folder / "helper.json"
    try:
        doc = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
    except (OSError, ValueError):
        doc = {}
    hubs = []
    for entry in entries:
        hub = hub_from_dict(entry, source=str(target))
        hubs.append({**entry, "origin": hub.origin})
    doc = {**(doc if isinstance(doc, dict) else {}), "hubs": hubs}
    write_atomic(target, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), private=True)
    return target

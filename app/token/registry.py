"""Where SKF libraries are looked for, in order, each with the reason it is tried.

1. ``BIDSEAL_SKF_LIB`` (``os.pathsep``-separated paths): when set, only these.
2. User-configured paths: ``token.libraries`` in the settings file
   (:func:`app.settings.settings_file`: ``BIDSEAL_CONFIG`` or ``config.json`` in the
   config folder of :mod:`app.paths`).
3. Known vendor libraries (GM/T 0016 deployments, standards.md §1.8) that exist
   on this machine.
4. The embedded virtual key ``libsoftskf`` (``BIDSEAL_SOFTSKF_LIB`` or the
   repository build ``native/softskf/build/``) ONLY when it was enabled on purpose
   (:func:`softkey_enabled`): ``BIDSEAL_SOFTKEY=1``, ``BIDSEAL_SOFTSKF_LIB`` set, the
   config's ``"softskf": true``, or ``bidseal softkey init``/``plug`` (which leave a
   marker file, :func:`softkey_marker`). ``BIDSEAL_SOFTKEY=0`` disables it whatever
   else says. It is never added just because no vendor library was found: in a
   production install a leftover demo key must not sign a bid.

Config example::

    {"token": {"libraries": ["C:/Program Files/XXCA/skf.dll"], "softskf": false,
               "host_python": "C:/Python311-32/python.exe", "timeout": 30}}

Only reading happens here; :mod:`app.settings` writes the file.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REPO_ROOT = Path(__file__).resolve().parent.parent.parent

#: Vendor library file names per platform (standards.md §1.8).
VENDOR_LIBRARIES: dict[str, list[tuple[str, str]]] = {
    "win32": [
        ("mtoken_gm3000.dll", "龙脉 Longmai GM3000"),
        ("ShuttleCsp11_3000GM.dll", "飞天 Feitian ePass3000GM"),
        ("SKF_APP_HD.dll", "Epoint 列表 / Epoint list"),
        ("SKF_APP_HSIC.dll", "Epoint 列表 / Epoint list"),
        ("SKF_HT_NMG.dll", "Epoint 列表 / Epoint list"),
        ("SKF_LG_NMG.dll", "Epoint 列表 / Epoint list"),
        ("SNCA_3000GM_xd.dll", "Epoint 列表 / Epoint list"),
        ("SmartCTCAPI.dll", "Epoint 列表 / Epoint list"),
        ("EsSZCACspV2.dll", "Epoint 列表 / Epoint list"),
        ("ePass3K3GM_for_guocai.dll", "Epoint 列表 / Epoint list"),
        ("gm3k_for_bjca.dll", "Epoint 列表 / Epoint list"),
        ("USK2185_GM.dll", "Epoint 列表 / Epoint list"),
        ("SKFAPI30373.dll", "SKFAPI30373"),
        ("SKF_ukey_x86_64_1.7.22.0117.dll", "SKF_ukey"),
        ("SKF_ukey_i686_1.7.22.0117.dll", "SKF_ukey"),
        ("skf.dll", "通用 generic"),
    ],
    "linux": [
        ("libgm3000.1.0.so", "龙脉 Longmai GM3000"),
        ("libes_3000gm.so.1.0.0", "飞天 Feitian ePass3000GM"),
        ("libskf.so", "通用 generic"),
    ],
    "darwin": [
        ("libgm3000.1.0.dylib", "龙脉 Longmai GM3000"),
        ("libes_3000gm.dylib", "飞天 Feitian ePass3000GM"),
        ("libskf.dylib", "通用 generic"),
    ],
}


@dataclass(frozen=True)
class Candidate:
    path: str
    reason: str
    source: str  # "env", "config", "vendor", "embedded"

    @property
    def is_demo(self) -> bool:
        """The embedded virtual key: a demo key, never a real bidder's."""
        return self.source == "embedded" or is_softkey_library(self.path)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "source": self.source, "demo": self.is_demo}


def _platform() -> str:
    if sys.platform == "win32":
        return "win32"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


def config_path() -> Path:
    """The settings file (:func:`app.settings.settings_file`: ``BIDSEAL_CONFIG``, else
    ``config.json`` in :func:`app.paths.config_dir`); app.settings is what writes it."""
    from app.settings import settings_file

    return settings_file()


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The ``token`` section of the config file ({} when absent or unreadable)."""
    p = Path(path) if path is not None else config_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    section = data.get("token") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}


def search_dirs() -> list[Path]:
    plat = _platform()
    if plat == "win32":
        root = Path(os.environ.get("SYSTEMROOT", r"C:\Windows"))
        dirs = [root / "System32", root / "SysWOW64"]
        for env in ("ProgramFiles", "ProgramFiles(x86)"):
            if os.environ.get(env):
                dirs.append(Path(os.environ[env]))
        return dirs
    dirs = [Path(p) for p in ("/usr/lib", "/usr/local/lib", "/usr/lib64", "/lib", "/opt/lib")]
    if plat == "linux":
        dirs += [Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib/aarch64-linux-gnu"), Path("/usr/lib/loongarch64-linux-gnu")]
    else:
        dirs += [Path("/usr/local/lib"), Path("/Library/Frameworks")]
    return dirs


SOFTKEY_NAMES = ("libsoftskf.so", "libsoftskf.dylib", "softskf.dll")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def softkey_marker() -> Path:
    """The file whose presence means "the user enabled the virtual key" (written by
    ``bidseal softkey init``/``plug``, removed by :func:`disable_softkey`)."""
    from app import paths

    return paths.config_dir() / "softkey-enabled.json"


def softkey_enabled(config: dict[str, Any] | None = None) -> str | None:
    """Why the virtual key is enabled (a short reason), or None when it is not."""
    env = os.environ.get("BIDSEAL_SOFTKEY", "").strip().lower()
    if env in _FALSE:
        return None
    if env in _TRUE:
        return "BIDSEAL_SOFTKEY=1"
    if os.environ.get("BIDSEAL_SOFTSKF_LIB"):
        return "BIDSEAL_SOFTSKF_LIB"
    cfg = load_config() if config is None else config
    if cfg.get("softskf") is True:
        return "config token.softskf"
    if softkey_marker().is_file():
        return "bidseal softkey init/plug"
    return None


def enable_softkey(by: str, store: str | os.PathLike[str] | None = None) -> Path:
    """Record that the user enabled the virtual key (``by``: which command)."""
    from app import paths

    marker = softkey_marker()
    paths.ensure(marker.parent)
    marker.write_text(json.dumps({"enabled_by": by, "store": str(store) if store else None}), encoding="utf-8")
    return marker


def disable_softkey() -> None:
    """Forget :func:`enable_softkey` (env and config settings stay as they are)."""
    softkey_marker().unlink(missing_ok=True)


def is_softkey_library(path: str | os.PathLike[str]) -> bool:
    """True for the embedded virtual key's library (any of its file names)."""
    return os.path.basename(os.fspath(path)).lower() in SOFTKEY_NAMES


def softskf_path() -> Path:
    env = os.environ.get("BIDSEAL_SOFTSKF_LIB")
    if env:
        return Path(env)
    name = {"win32": "softskf.dll", "darwin": "libsoftskf.dylib"}.get(_platform(), "libsoftskf.so")
    shipped = Path(__file__).resolve().parent / "lib" / name
    built = _REPO_ROOT / "native" / "softskf" / "build" / name
    return shipped if shipped.exists() and not built.exists() else built


def vendor_candidates(dirs: list[Path] | None = None) -> list[Candidate]:
    out = []
    for name, vendor in VENDOR_LIBRARIES[_platform()]:
        for d in dirs if dirs is not None else search_dirs():
            p = d / name
            if p.is_file():
                out.append(Candidate(str(p), f"已知厂商驱动 known vendor library: {vendor}", "vendor"))
    return out


def candidates(*, config: str | os.PathLike[str] | None = None, include_softskf: bool | None = None,
               vendor_dirs: list[Path] | None = None) -> list[Candidate]:
    """Ordered libraries to try, each with why it is on the list."""
    env = os.environ.get("BIDSEAL_SKF_LIB")
    if env:
        return [Candidate(p, "环境变量 BIDSEAL_SKF_LIB", "env") for p in env.split(os.pathsep) if p]
    cfg = load_config(config)
    out: list[Candidate] = []
    for p in cfg.get("libraries") or []:
        out.append(Candidate(str(p), "用户配置 user configuration", "config"))
    out += vendor_candidates(vendor_dirs)
    seen: set[str] = set()
    unique = []
    for c in out:
        key = os.path.normcase(os.path.abspath(c.path))
        if key not in seen:
            seen.add(key)
            unique.append(c)
    why = "argument" if include_softskf else None if include_softskf is False else softkey_enabled(cfg)
    if why:
        unique.append(Candidate(str(softskf_path()),
                                f"内置虚拟 UKey（仅供演示）embedded virtual key, DEMO ONLY (softskf; enabled by {why})",
                                "embedded"))
    return unique

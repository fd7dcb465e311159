"""The layered design, checked on the source: imports point downwards only.

- nothing below ``app/ui`` imports Qt;
- ``app/token`` is the only package that loads SKF (cffi/ctypes on an SKF library);
- ``app/gm`` is pure: no files, sockets, subprocesses, devices or Qt.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

LAYER_ORDER = ["gm", "trust", "demo", "authtoken", "token", "pdfsign", "envelope", "helper", "hub", "cli", "ui"]
# What each package may import from app.* (besides itself and the shared base modules
# app.errors, app.cancel, app.atomic, app.progress, app.paths, app.sensitive, app.spool, app.settings
# and app.__init__).
SHARED_BASE = {"errors", "cancel", "atomic", "progress", "paths", "sensitive", "spool", "settings", "__init__"}
ALLOWED = {
    "gm": set(),
    "trust": {"gm"},  # trusted roots (app/trust): Qt-free, any layer above gm may read them
    "demo": {"gm", "trust"},  # the demo CA (app/demo/pki.py): above the pure algorithms, below everything else
    "authtoken": {"gm", "trust"},  # login tokens: the helper makes them, any hub verifies them
    "recovery": {"gm", "trust"},  # the offline recovery key: SM2 + scrypt, no device
    "update": {"gm"},  # the signed update manifest: SM2/SM3 + requests, no device, no Qt
    "token": {"gm", "trust", "demo"},  # softkey provisioning issues the virtual key's certificates from the demo CA
    "pdfsign": {"gm", "trust", "token"},
    "envelope": {"gm", "trust", "token"},
    "helper": {"gm", "trust", "authtoken", "token", "pdfsign", "envelope"},
    "hub": {"gm", "trust", "demo", "authtoken", "token", "pdfsign", "envelope"},
    "diagnostics": {"gm", "token", "pdfsign", "envelope", "helper", "trust"},  # checks every layer below
    "cli": {"gm", "trust", "demo", "authtoken", "token", "pdfsign", "envelope", "helper", "hub", "ui", "recovery",
            "diagnostics", "update"},  # bare `bidseal` opens the GUI
    "ui": {"gm", "trust", "demo", "authtoken", "token", "pdfsign", "envelope", "helper", "hub", "cli", "recovery",
           "diagnostics", "update"},
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _package_files(pkg: str) -> list[Path]:
    root = APP / pkg
    return sorted(root.rglob("*.py")) if root.is_dir() else []


def test_layers_exist() -> None:
    assert _package_files("gm"), "app/gm must exist"


def test_imports_point_downwards() -> None:
    problems = []
    for pkg, allowed in ALLOWED.items():
        for f in _package_files(pkg):
            for name in _imports(f):
                parts = name.split(".")
                if parts[0] != "app" or len(parts) < 2 or parts[1] in {pkg, *SHARED_BASE}:
                    continue
                if parts[1] not in allowed:
                    problems.append(f"{f.relative_to(APP)} imports {name}")
    assert not problems, "\n".join(problems)


def test_nothing_below_ui_imports_qt() -> None:
    bad = [
        f"{f.relative_to(APP)}: {name}"
        for f in APP.rglob("*.py")
        if "ui" not in f.relative_to(APP).parts[:1]
        for name in _imports(f)
        if name.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"}
    ]
    assert not bad, "\n".join(bad)


def test_only_token_knows_skf() -> None:
    bad = []
    for f in APP.rglob("*.py"):
        rel = f.relative_to(APP)
        if rel.parts[0] == "token":
            continue
        text = f.read_text(encoding="utf-8")
        if "skf.h" in text or "SKF_EnumDev" in text or "SKF_ConnectDev" in text:
            bad.append(str(rel))
    assert not bad, "SKF bindings outside app/token: " + ", ".join(bad)


def test_gm_does_no_io() -> None:
    forbidden_modules = {"socket", "subprocess", "requests", "urllib", "http", "shutil", "tempfile", "pathlib"}
    bad = []
    for f in _package_files("gm"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for name in _imports(f):
            if name.split(".")[0] in forbidden_modules:
                bad.append(f"{f.name} imports {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"open", "print"}:
                bad.append(f"{f.name}:{node.lineno} calls {node.func.id}()")
    assert not bad, "\n".join(bad)

"""Check a built one-folder bundle against the manifest before it is packaged.

    python3 installer/pyinstaller/check_bundle.py dist/bidseal [--platform linux|win32] [--no-softskf]

Exits 1 listing what is missing: an executable, a data file of ``manifest.datas``, the SKF
declarations, the virtual UKey library (unless ``--no-softskf``), a Qt plugin the window needs
(``manifest.QT_PLUGINS_LINUX`` on Linux) or a distribution's metadata. build.sh runs it after
PyInstaller; it reads files only (no Python of the bundle is started).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifest  # noqa: E402


def problems(dist: Path, platform: str, softskf: bool = True) -> list[str]:
    exe = ".exe" if platform == "win32" else ""
    data = dist / "_internal"
    out = []
    names = list(manifest.EXECUTABLES)
    if platform == "win32":
        names.append(manifest.WINDOWS_GUI_EXECUTABLE[0])
    out += [f"executable {n}{exe}" for n in names if not (dist / f"{n}{exe}").is_file()]
    out += [f"data file {rel}" for rel in sorted(manifest.bundle_relpaths()) if not (data / rel).is_file()]
    if softskf:
        lib = data / manifest.SOFTSKF_BUNDLE_DIR / manifest.SOFTSKF_NAMES[platform]
        if not lib.is_file():
            out.append(f"virtual UKey library {lib.relative_to(dist)}")
    if platform == "linux":
        plugins = data / "PySide6" / "Qt" / "plugins"
        out += [f"Qt plugin {p}" for p in manifest.QT_PLUGINS_LINUX if not (plugins / p).exists()]
    for dist_name in manifest.METADATA_DISTRIBUTIONS:
        norm = dist_name.replace("-", "_").lower()
        if not any(p.name.lower().startswith(norm + "-") for p in data.glob("*.dist-info")):
            out.append(f"metadata of {dist_name}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("dist", type=Path)
    p.add_argument("--platform", default="win32" if sys.platform == "win32" else "linux")
    p.add_argument("--no-softskf", action="store_true")
    args = p.parse_args(argv)
    missing = problems(args.dist, args.platform, softskf=not args.no_softskf)
    for m in missing:
        print(f"check_bundle: missing {m}", file=sys.stderr)
    if not missing:
        print(f"check_bundle: {args.dist} complete")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

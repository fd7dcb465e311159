"""What a frozen BidSeal must carry besides the code PyInstaller finds by itself.

One list, read by the PyInstaller spec (``bidseal.spec``), the Linux and Windows
packagers and ``tests/installer``: the data files the application opens at run time,
the modules it starts as ``<sys.executable> -m MODULE`` (the frozen ``bidseal``
executable answers those itself, see ``entry_bidseal.py``) and the distributions whose
metadata it reads. The test suite checks every list against what the code actually
loads, so a new resource that is not added here fails a test instead of a bidder's
installation.

Plain Python with no imports from ``app`` at module level: the spec runs it inside
PyInstaller, the tests inside pytest.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Resource files and folders shipped with the application, relative to the repository.
#: Inside the bundle they keep the same relative path under the data folder
#: (``sys._MEIPASS``), which is where ``Path(__file__).parents[...]`` of the modules
#: that read them points when frozen. Screenshots, test vectors and generator scripts
#: are documentation for developers and stay out.
RESOURCES: tuple[str, ...] = (
    "resources/trust",                   # shipped trust roots (app.trust.store.shipped_dir)
    "resources/web",                     # hub page templates (app.hub.server.pages), bidseal.js SDK
    "resources/api",                     # OpenAPI documents of the helper and the hub
    "resources/docs",                    # user and integrator documentation
    "resources/update",                  # trusted release keys (app.update.signature.shipped_keys_dir)
    "resources/samples/bid-sample.pdf",  # `bidseal demo` input (app.cli.commands.demo.SAMPLE)
)

#: Files excluded from the folders above (generators, caches).
EXCLUDE_SUFFIXES: tuple[str, ...] = (".py", ".pyc")

#: Package data inside ``app`` (mirrors ``[tool.setuptools.package-data]``).
PACKAGE_DATA_PATTERNS: tuple[str, ...] = ("*.png", "*.json", "*.txt", "*.pem", "skf_cdef.h")

#: Modules BidSeal starts as ``[sys.executable, "-m", MODULE]``. A frozen executable
#: is not a Python interpreter, so ``entry_bidseal.py`` runs exactly these itself.
CHILD_MODULES: tuple[str, ...] = (
    "app.ui.engine_host",   # the GUI's engine process (app.ui.engine_client)
    "app.token.host",       # the token host when no bidseal-token-host executable is found
)

#: The two executables of every build (plus ``bidseal-gui`` on Windows, windowed).
EXECUTABLES: dict[str, str] = {
    "bidseal": "entry_bidseal.py",
    "bidseal-token-host": "entry_token_host.py",
}
WINDOWS_GUI_EXECUTABLE = ("bidseal-gui", "entry_bidseal_gui.py")

#: What the token host never imports (its PyInstaller analysis excludes these modules), and
#: the distributions that bring them, which the 32-bit host's build venv leaves out: Qt has
#: no 32-bit Windows wheels. tests/installer/test_token_host_alone.py runs the host with
#: these modules unimportable.
TOKEN_HOST_EXCLUDED_MODULES: tuple[str, ...] = ("PySide6", "shiboken6", "pymupdf", "fitz", "sqlalchemy",
                                                 "uvicorn", "starlette")
TOKEN_HOST_SKIPPED_DISTRIBUTIONS: tuple[str, ...] = ("PySide6-Essentials", "pymupdf")

#: Where the virtual UKey library goes inside the bundle (app.token.registry.softskf_path's
#: "shipped" location). It is only ever used when enabled on purpose.
SOFTSKF_BUNDLE_DIR = "app/token/lib"
SOFTSKF_NAMES = {"linux": "libsoftskf.so", "win32": "softskf.dll", "darwin": "libsoftskf.dylib"}

#: Third-party packages that read data files of their own at run time and that
#: PyInstaller has no hook for (the helper's consent dialog reads the Public Suffix List).
THIRD_PARTY_DATA_PACKAGES: tuple[str, ...] = ("publicsuffixlist",)

#: Packages that import their parts by name at run time (uvicorn picks its event loop and
#: protocol modules from strings), so every submodule is bundled.
DYNAMIC_IMPORT_PACKAGES: tuple[str, ...] = ("uvicorn",)

#: Python distributions whose metadata the running app reads (the diagnostics' version
#: list reads ``importlib.metadata``); see tests/installer for the cross-check.
METADATA_DISTRIBUTIONS: tuple[str, ...] = (
    "cryptography", "asn1crypto", "gmssl", "pymupdf", "pyscard", "cffi", "PySide6-Essentials",
    "platformdirs", "keyring", "requests",
)

#: Qt plugin groups the desktop window needs on Linux (xcb on X11/Xwayland, wayland,
#: offscreen for headless runs; image formats; input methods for Chinese IMEs such as
#: fcitx/ibus) — PySide6's hook collects the plugins of the Qt modules in use;
#: check_bundle.py fails a build without them.
QT_PLUGINS_LINUX: tuple[str, ...] = (
    "platforms/libqxcb.so", "platforms/libqoffscreen.so", "xcbglintegrations",
    "imageformats", "platforminputcontexts",
)


def resource_files(root: Path = ROOT) -> list[Path]:
    """Every shipped resource file (absolute paths), sorted."""
    out: list[Path] = []
    for rel in RESOURCES:
        p = root / rel
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += [f for f in p.rglob("*") if f.is_file() and f.suffix not in EXCLUDE_SUFFIXES
                    and "__pycache__" not in f.parts]
        else:
            raise FileNotFoundError(f"manifest resource missing: {rel}")
    return sorted(out)


def package_data_files(root: Path = ROOT) -> list[Path]:
    """Non-Python files inside ``app`` that match the package-data patterns."""
    app = root / "app"
    found = {f for pat in PACKAGE_DATA_PATTERNS for f in app.rglob(pat) if f.is_file()}
    return sorted(f for f in found if "__pycache__" not in f.parts)


def datas(root: Path = ROOT) -> list[tuple[str, str]]:
    """PyInstaller ``datas``: ``(source file, destination folder inside the bundle)``."""
    files = resource_files(root) + package_data_files(root)
    return [(str(f), str(f.parent.relative_to(root))) for f in files]


def bundle_relpaths(root: Path = ROOT) -> set[str]:
    """Relative paths (posix) the data files get inside the bundle's data folder."""
    return {(Path(dest) / Path(src).name).as_posix() for src, dest in datas(root)}


def runtime_requirements(root: Path = ROOT, *, token_host_only: bool = False) -> list[str]:
    """The build venv's requirements: pyproject's runtime ``dependencies`` (never the dev
    extra), for the token host alone without :data:`TOKEN_HOST_SKIPPED_DISTRIBUTIONS`."""
    import re
    import tomllib

    deps = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    skip = {d.lower() for d in TOKEN_HOST_SKIPPED_DISTRIBUTIONS} if token_host_only else set()
    return [d for d in deps if re.split(r"[<>=!~;\s\[]", d, maxsplit=1)[0].lower() not in skip]


if __name__ == "__main__":  # build.sh / build.ps1: python manifest.py requirements [--token-host-only]
    import sys

    if sys.argv[1:2] != ["requirements"]:
        raise SystemExit("usage: manifest.py requirements [--token-host-only]")
    print("\n".join(runtime_requirements(token_host_only="--token-host-only" in sys.argv[2:])))

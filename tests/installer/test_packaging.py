"""Keeps the installers honest without building them (a few seconds; the full PyInstaller
build and a real .deb install are installer/linux/test-deb.sh, run by hand).

* The bundle manifest (installer/pyinstaller/manifest.py) covers every file the code opens
  relative to its own location: the app package and the manifest's data files are laid out
  in a temporary folder exactly as PyInstaller lays them out (``_internal/``, far from the
  repository), and ``bidseal demo`` runs there, from that copy alone.
* Every ``[sys.executable, "-m", MODULE]`` the code starts is one the frozen ``bidseal``
  answers; every module that locates files through ``__file__`` is one this test knows.
* The .desktop files pass desktop-file-validate; build-deb.sh turns a stub bundle into a
  .deb with the right metadata and layout; the NSIS script compiles (makensis) and refuses
  an incomplete bundle.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__

REPO = Path(__file__).resolve().parents[2]
PYI = REPO / "installer" / "pyinstaller"
LINUX = REPO / "installer" / "linux"
WINDOWS = REPO / "installer" / "windows"
sys.path.insert(0, str(PYI))
import manifest  # noqa: E402

#: Modules that find files relative to ``__file__``, and what they look for. A new one fails
#: test_file_lookups_are_known: add what it opens to manifest.py (and the simulated layout
#: below then proves it is found), then list the module here.
FILE_LOOKUPS = {
    "app.ui.engine_client": "cwd and PYTHONPATH of the engine process (the bundle's data folder)",
    "app.hub.server.pages": "resources/web/hub templates",
    "app.token.registry": "app/token/lib/ virtual UKey library (shipped), native/ build (source tree)",
    "app.token.skf_ffi": "app/token/skf_cdef.h (package data), native/skf.h (source tree)",
    "app.token.host_client": "PYTHONPATH for `python -m app.token.host` from a source tree",
    "app.cli.commands.demo": "resources/samples/bid-sample.pdf",
    "app.trust.store": "resources/trust (sys._MEIPASS when frozen)",
    "app.update.signature": "resources/update/keys (sys._MEIPASS when frozen)",
}


def _py_files() -> list[Path]:
    return [p for p in (REPO / "app").rglob("*.py") if "__pycache__" not in p.parts]


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


# -- the manifest against the code -------------------------------------------------------------
def test_file_lookups_are_known() -> None:
    found = set()
    for path in _py_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(tree)):
            found.add(_module_name(path))
    assert found == set(FILE_LOOKUPS), (
        "modules locating files via __file__ changed; make sure what they open is in "
        "installer/pyinstaller/manifest.py, then update FILE_LOOKUPS: "
        f"new {sorted(found - set(FILE_LOOKUPS))}, gone {sorted(set(FILE_LOOKUPS) - found)}")


def test_child_modules_are_answered_by_the_frozen_executable() -> None:
    started = set()
    for path in _py_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.List) and len(node.elts) >= 3:
                first, flag, mod = node.elts[:3]
                if (ast.unparse(first) == "sys.executable" and isinstance(flag, ast.Constant)
                        and flag.value == "-m" and isinstance(mod, ast.Constant)):
                    started.add(mod.value)
    assert started, "the scan found no child process at all: the pattern is broken"
    assert started <= set(manifest.CHILD_MODULES), started - set(manifest.CHILD_MODULES)
    entry = ast.parse((PYI / "entry_bidseal.py").read_text(encoding="utf-8"))
    consts = {n.targets[0].id: ast.literal_eval(n.value) for n in entry.body
              if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    assert tuple(consts["CHILD_MODULES"]) == manifest.CHILD_MODULES
    for mod in manifest.CHILD_MODULES:
        spec = importlib.util.find_spec(mod)
        assert spec is not None and spec.origin
        assert 'if __name__ == "__main__":' in Path(spec.origin).read_text(encoding="utf-8"), mod


def test_entry_script_dispatches_like_python_dash_m(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    run = [sys.executable, str(PYI / "entry_bidseal.py")]
    r = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"bidseal {__version__}", r.stderr
    r = subprocess.run([*run, "-m", "app.token.host", "--help"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and "bidseal-token-host" in r.stdout, r.stderr
    r = subprocess.run([*run, "-m", "http.server"], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 2 and "not a BidSeal child process" in r.stderr


def test_metadata_list_matches_diagnostics() -> None:
    from app.diagnostics.system_checks import PACKAGES

    assert set(manifest.METADATA_DISTRIBUTIONS) == set(PACKAGES)


def test_package_data_matches_pyproject() -> None:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    patterns = {p for pats in data.values() for p in pats}
    assert patterns == set(manifest.PACKAGE_DATA_PATTERNS)
    assert "app/token/skf_cdef.h" in manifest.bundle_relpaths()


def test_resources_shipped_and_developer_files_left_out() -> None:
    rel = manifest.bundle_relpaths()
    for must in ("resources/web/bidseal.js", "resources/web/hub/login.html", "resources/trust/README.md",
                 "resources/samples/bid-sample.pdf", "resources/docs/helper.md",
                 "resources/api/helper-openapi.json", "resources/update/keys/release-2026-1.pem",
                 "resources/docs/update-manifest.md"):
        assert must in rel, must
    assert not any(p.startswith(("resources/screenshots", "resources/testvectors")) or p.endswith(".py")
                   for p in rel), sorted(p for p in rel if p.endswith(".py"))


# -- the frozen layout, simulated ----------------------------------------------------------------
@pytest.fixture(scope="module")
def frozen_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<tmp>/bidseal/_internal`` laid out like PyInstaller's data folder: the code, the
    manifest's data files, the virtual UKey library; nothing else of the repository."""
    base = tmp_path_factory.mktemp("frozen") / "bidseal" / "_internal"
    shutil.copytree(REPO / "app", base / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.md"))
    for src, dest in manifest.datas(REPO):
        (base / dest).mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, base / dest)
    lib = REPO / "native" / "softskf" / "build" / manifest.SOFTSKF_NAMES["linux"]
    assert lib.is_file(), "build the virtual UKey first (make -C native/softskf; the bootstrap does)"
    (base / manifest.SOFTSKF_BUNDLE_DIR).mkdir(parents=True)
    shutil.copy2(lib, base / manifest.SOFTSKF_BUNDLE_DIR)
    return base


PROBE = r'''
import json, sys
sys._MEIPASS = sys.argv[1]
from app.trust.store import shipped_dir
from app.hub.server import pages
from app.cli.commands import demo
from app.token import registry, skf_ffi
from app.update import shipped_keys, shipped_keys_dir
assert shipped_keys(), "no release key in the bundle"
print(json.dumps({"trust": str(shipped_dir()), "update_keys": str(shipped_keys_dir()), "templates": str(pages.TEMPLATES), "sample": str(demo.SAMPLE),
                  "cdef": str(skf_ffi.header_path()), "softskf": str(registry.softskf_path()),
                  "app": __import__("app").__file__}))
'''


def _layout_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BIDSEAL_SKF", "BIDSEAL_SOFT"))}
    env["PYTHONPATH"] = str(base)
    return env


def test_frozen_layout_finds_every_resource_inside_the_bundle(frozen_layout: Path) -> None:
    import json

    r = subprocess.run([sys.executable, "-c", PROBE, str(frozen_layout)], capture_output=True, text=True,
                       env=_layout_env(frozen_layout), cwd=frozen_layout.parent, timeout=120)
    assert r.returncode == 0, r.stderr
    got = {k: Path(v) for k, v in json.loads(r.stdout).items()}
    for name, path in got.items():
        assert path.is_relative_to(frozen_layout), f"{name} points outside the bundle: {path}"
        assert path.exists(), f"{name}: {path} is not in the bundle"
    shipped = {p.name for p in (REPO / "resources" / "web" / "hub").iterdir()}
    assert shipped <= {p.name for p in got["templates"].iterdir()}


def test_demo_runs_from_the_frozen_layout_alone(frozen_layout: Path, tmp_path: Path) -> None:
    """The whole flow (virtual key, demo PKI, sample bid, seal, verify, envelope, decrypt) with
    only the bundle's files: the sample, the SKF declarations and libsoftskf from _internal."""
    env = _layout_env(frozen_layout)
    env["BIDSEAL_HOME"] = str(tmp_path / "home")
    env["SOFTSKF_STORE"] = str(tmp_path / "store")
    r = subprocess.run([sys.executable, "-m", "app.cli.main", "demo", "--workdir", str(tmp_path / "w"), "--json"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / "w" / "bid-sealed.pdf").is_file() and (tmp_path / "w" / "bid-opened.pdf").is_file()


# -- Linux: .desktop and .deb ------------------------------------------------------------------
def test_desktop_file_is_valid_and_bilingual() -> None:
    desktop = LINUX / "deb" / "bidseal.desktop"
    tool = shutil.which("desktop-file-validate")
    assert tool, "desktop-file-validate missing (desktop-file-utils, installer/linux/installer-deps.txt)"
    r = subprocess.run([tool, str(desktop)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    cp = configparser.RawConfigParser()
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(desktop, encoding="utf-8")
    entry = cp["Desktop Entry"]
    assert re.search(r"[\u4e00-\u9fff]", entry["Name[zh_CN]"]) and entry["Name"].isascii()
    # Started from a menu stdin is no terminal: plain `bidseal` would print its help there.
    assert entry["Exec"].split()[:2] == ["bidseal", "gui"]
    assert entry["Icon"] == "bidseal" and entry["Terminal"] == "false"


def _stub_bundle(where: Path, names: tuple[str, ...] = ("bidseal", "bidseal-token-host")) -> Path:
    dist = where / "bidseal"
    (dist / "_internal").mkdir(parents=True)
    for n in names:
        (dist / n).write_text("#!/bin/sh\necho stub\n")
        (dist / n).chmod(0o755)
    return dist


def test_build_deb_layout_and_control(tmp_path: Path) -> None:
    dist = _stub_bundle(tmp_path)
    # A real shared object as PyInstaller leaves it: executable bit, symbols, a build RUNPATH.
    so = dist / "_internal" / "app" / "token" / "lib" / "libsoftskf.so"
    so.parent.mkdir(parents=True)
    shutil.copy2(REPO / "native" / "softskf" / "build" / "libsoftskf.so", so)
    subprocess.run(["patchelf", "--set-rpath", "/home/builder/.pyenv/lib", str(so)], check=True)
    so.chmod(0o755)
    r = subprocess.run(["bash", str(LINUX / "build-deb.sh"), "--dist", str(dist), "--out", str(tmp_path / "out"),
                        "--no-auto-depends"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    deb = Path(r.stdout.strip().splitlines()[-1])
    assert deb.name == f"bidseal_{__version__}-1_{_dpkg_arch()}.deb"
    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", info, re.M))
    assert fields["Package"] == "bidseal" and fields["Version"] == f"{__version__}-1"
    depends = [d.strip() for d in fields["Depends"].split(",")]
    for pkg in ("libssl3", "libpcsclite1", "pcscd", "libxcb-cursor0", "libxkbcommon-x11-0"):
        assert pkg in depends, pkg
    assert any(d.startswith("fonts-wqy-microhei") for d in depends)
    assert not any(d.split()[0].startswith("python") for d in depends), depends
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^-rwxr-xr-x root/root .* \./opt/bidseal/bidseal-token-host$", listing, re.M)
    assert re.search(r"^lrwxrwxrwx root/root .* \./usr/bin/bidseal -> /opt/bidseal/bidseal$", listing, re.M)
    for path in ("./usr/share/applications/bidseal.desktop", "./usr/share/icons/hicolor/256x256/apps/bidseal.png",
                 "./usr/share/doc/bidseal/copyright"):
        assert re.search(rf"^-rw-r--r-- root/root .* {re.escape(path)}$", listing, re.M), path
    control = subprocess.run(["dpkg-deb", "-I", str(deb), "md5sums"], capture_output=True, text=True,
                             check=True).stdout
    assert "opt/bidseal/bidseal\n" in control
    for path in ("./usr/share/mime/packages/bidseal.xml", "./etc/xdg/autostart/bidseal-helper.desktop",
                 "./usr/share/lintian/overrides/bidseal", "./usr/share/doc/bidseal/changelog.Debian.gz"):
        assert re.search(rf"^-rw-r--r-- root/root .* {re.escape(path)}$", listing, re.M), path
    # /etc files are conffiles (so `apt purge` removes them); no maintainer scripts: triggers do the caches.
    conffiles = subprocess.run(["dpkg-deb", "-I", str(deb), "conffiles"], capture_output=True, text=True,
                               check=True).stdout
    assert conffiles.split() == ["/etc/xdg/autostart/bidseal-helper.desktop"]
    control_members = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True, check=True).stdout
    assert not re.search(r"\b(postinst|postrm|preinst|prerm)\b", control_members), control_members
    # Shared objects are packaged like dh_strip/dh_fixperms would: 0644, stripped, no foreign RUNPATH.
    assert re.search(r"^-rw-r--r-- root/root .* \./opt/bidseal/_internal/app/token/lib/libsoftskf\.so$", listing, re.M)
    unpacked = tmp_path / "unpacked"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    packaged = unpacked / "opt/bidseal/_internal/app/token/lib/libsoftskf.so"
    sections = subprocess.run(["readelf", "-S", str(packaged)], capture_output=True, text=True, check=True).stdout
    dynamic = subprocess.run(["readelf", "-d", str(packaged)], capture_output=True, text=True, check=True).stdout
    assert ".symtab" not in sections and "PATH" not in dynamic, dynamic
    assert "SKF_ConnectDev" in subprocess.run(["nm", "-D", str(packaged)], capture_output=True, text=True).stdout
    assert "stub" in (unpacked / "opt/bidseal/bidseal").read_text()  # the executables are not touched


def _stub_deb(tmp_path: Path) -> Path:
    r = subprocess.run(["bash", str(LINUX / "build-deb.sh"), "--dist", str(_stub_bundle(tmp_path)),
                        "--out", str(tmp_path / "out"), "--no-auto-depends"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return Path(r.stdout.strip().splitlines()[-1])


def test_lintian_finds_no_errors_in_the_package(tmp_path: Path) -> None:
    """The package's metadata and layout (the real bundle's files: README, checked by hand)."""
    tool = shutil.which("lintian")
    assert tool, "lintian missing (installer/linux/installer-deps.txt)"
    r = subprocess.run([tool, "--fail-on", "error", "--tag-display-limit", "0", str(_stub_deb(tmp_path))],
                       capture_output=True, text=True, timeout=300)
    tags = [line for line in r.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    assert r.returncode == 0 and not [t for t in tags if t.startswith("E:")], r.stdout + r.stderr
    # Known warnings (installer/README.md); a new one shows up here so it is looked at.
    known = {"no-manual-page", "initial-upload-closes-no-bugs"}
    assert {t.split()[2] for t in tags} <= known, tags


def test_bse_mime_type_and_desktop_association(tmp_path: Path) -> None:
    """update-mime-database (what dpkg's shared-mime-info trigger runs) maps *.bse to the type,
    and update-desktop-database offers bidseal.desktop for it and for PDFs."""
    xml = (LINUX / "deb" / "bidseal-mime.xml").read_bytes()
    mime = tmp_path / "mime"
    (mime / "packages").mkdir(parents=True)
    (mime / "packages" / "bidseal.xml").write_bytes(xml)
    r = subprocess.run(["update-mime-database", str(mime)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "XDG_DATA_DIRS": str(tmp_path)})
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    assert "application/x-bidseal-envelope:*.bse" in (mime / "globs2").read_text()
    assert "BidSeal 投标文件加密信封" in (mime / "application" / "x-bidseal-envelope.xml").read_text(encoding="utf-8")
    apps = tmp_path / "applications"
    apps.mkdir()
    shutil.copy2(LINUX / "deb" / "bidseal.desktop", apps)
    r = subprocess.run(["update-desktop-database", str(apps)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cache = (apps / "mimeinfo.cache").read_text()
    assert re.search(r"^application/x-bidseal-envelope=bidseal\.desktop;$", cache, re.M), cache
    assert re.search(r"^application/pdf=bidseal\.desktop;$", cache, re.M), cache


def test_autostart_entry_starts_the_helper_in_the_tray_and_can_be_turned_off() -> None:
    entry_path = LINUX / "deb" / "bidseal-helper.desktop"
    r = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    cp = configparser.RawConfigParser()
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(entry_path, encoding="utf-8")
    entry = cp["Desktop Entry"]
    # The helper lives in the window's process; --background keeps the window in the tray
    # (app/ui/tray_session.py) and does nothing when settings.helper_enabled is off.
    assert entry["Exec"].split() == ["bidseal", "gui", "--background"] and entry["TryExec"] == "bidseal"
    assert entry["X-GNOME-Autostart-enabled"] == "true" and "Hidden" not in entry
    assert re.search(r"[\u4e00-\u9fff]", entry["Name[zh_CN]"])
    readme = (REPO / "installer" / "README.md").read_text(encoding="utf-8")
    assert "Hidden=true" in readme and "bidseal settings set helper off" in readme
    assert "bidseal gui --background" in readme


def test_build_deb_refuses_an_incomplete_bundle(tmp_path: Path) -> None:
    dist = _stub_bundle(tmp_path, ("bidseal",))
    r = subprocess.run(["bash", str(LINUX / "build-deb.sh"), "--dist", str(dist), "--out", str(tmp_path / "out"),
                        "--no-auto-depends"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "bidseal-token-host missing" in r.stderr
    assert not list((tmp_path / "out").glob("*.deb"))


def test_deb_depends_maps_linked_libraries_to_packages(tmp_path: Path) -> None:
    """libsoftskf links libcrypto.so.3 (package libssl3) and the C library (libc6 >= build's)."""
    bundle = tmp_path / "b"
    bundle.mkdir()
    shutil.copy2(REPO / "native" / "softskf" / "build" / "libsoftskf.so", bundle)
    r = subprocess.run([sys.executable, str(LINUX / "deb_depends.py"), str(bundle)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    deps = [d.strip() for d in r.stdout.split(",")]
    assert "libssl3" in deps
    assert any(re.fullmatch(r"libc6 \(>= 2\.\d+\)", d) for d in deps), deps


def _dpkg_arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


# -- Windows: the NSIS script and the version resource -------------------------------------------
def _win_stub(tmp_path: Path, skip: str = "") -> Path:
    dist = tmp_path / "dist"
    (dist / "_internal" / "app" / "token").mkdir(parents=True)
    for name in ("bidseal.exe", "bidseal-gui.exe", "bidseal-token-host.exe", "_internal/app/token/skf_cdef.h"):
        if name != skip:
            (dist / name).write_bytes(b"stub")
    (tmp_path / "x86").mkdir()
    (tmp_path / "x86" / "bidseal-token-host.exe").write_bytes(b"stub")
    (tmp_path / "libcrypto-3-x64.dll").write_bytes(b"stub")
    return dist


def _makensis(tmp_path: Path, dist: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("makensis")
    assert tool, "makensis missing (Debian package nsis, installer/linux/installer-deps.txt)"
    return subprocess.run(
        [tool, "-V2", "-WX", f"-DDIST={dist}", f"-DLIBCRYPTO={tmp_path / 'libcrypto-3-x64.dll'}",
         f"-DX86HOST={tmp_path / 'x86'}", f"-DOUTFILE={tmp_path / 'BidSeal-test-installer.exe'}",
         str(WINDOWS / "bidseal.nsi")], capture_output=True, text=True, timeout=180, cwd=tmp_path)


def test_nsis_script_compiles(tmp_path: Path) -> None:
    r = _makensis(tmp_path, _win_stub(tmp_path))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    exe = (tmp_path / "BidSeal-test-installer.exe").read_bytes()
    assert exe[:2] == b"MZ" and b"Nullsoft" in exe


def test_nsis_refuses_a_bundle_without_the_token_host(tmp_path: Path) -> None:
    r = _makensis(tmp_path, _win_stub(tmp_path, skip="bidseal-token-host.exe"))
    assert r.returncode != 0 and "bidseal-token-host.exe missing" in r.stdout + r.stderr
    assert not (tmp_path / "BidSeal-test-installer.exe").exists()


def test_nsis_is_per_user_and_keeps_user_data() -> None:
    nsi = (WINDOWS / "bidseal.nsi").read_text(encoding="utf-8")
    assert "RequestExecutionLevel user" in nsi and "$LOCALAPPDATA\\Programs\\BidSeal" in nsi
    assert not re.search(r"HKLM|\$PROGRAMFILES|RMDir /r \"\$INSTDIR\"", nsi)
    assert re.search(rf'!define VERSION "{re.escape(__version__)}"', nsi)


def test_frozen_gui_entry_passes_its_arguments_to_bidseal_gui() -> None:
    """bidseal-gui.exe --background (the Run value) reaches "bidseal gui --background"."""
    entry = REPO / "installer" / "pyinstaller" / "entry_bidseal_gui.py"
    r = subprocess.run([sys.executable, str(entry), "--help"], capture_output=True, text=True, timeout=60,
                       cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert r.returncode == 0 and "--background" in r.stdout and "FILE.pdf" in r.stdout, r.stderr


def test_nsis_autostart_starts_the_helper_in_the_background() -> None:
    """The Run value starts the tray-only helper, not the window (like the Linux entry)."""
    nsi = (WINDOWS / "bidseal.nsi").read_text(encoding="utf-8")
    runs = re.findall(r'^\s*WriteRegStr HKCU "\$\{RUN_KEY\}" "BidSeal" \'(.*)\'$', nsi, re.M)
    assert runs == ['"$INSTDIR\\bidseal-gui.exe" --background'], runs


def _nsis_defines(nsi: str) -> dict[str, str]:
    return dict(re.findall(r'^!define (\w+) "([^"]*)"', nsi, re.M))


def test_nsis_uninstall_removes_every_registry_entry_it_writes() -> None:
    """Autostart (HKCU Run), the .bse type and the PDF "Open with" entry are written at install
    and each one is removed by the uninstaller (its key, or the value itself)."""
    nsi = (WINDOWS / "bidseal.nsi").read_text(encoding="utf-8")
    defines = _nsis_defines(nsi)

    def expand(text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: defines.get(m.group(1), m.group(0)), text)

    install, uninstall = nsi.split('Section "Uninstall"', 1)
    uninstall = uninstall.split("SectionEnd", 1)[0]
    written = {(expand(k), expand(v)) for k, v in
               re.findall(r'^\s*WriteReg\w+ HKCU "([^"]+)" "([^"]*)"', install, re.M)}
    deleted_keys = {expand(k) for k in re.findall(r'^\s*DeleteRegKey HKCU "([^"]+)"', uninstall, re.M)}
    deleted_values = {(expand(k), expand(v)) for k, v in
                      re.findall(r'^\s*DeleteRegValue HKCU "([^"]+)" "([^"]*)"', uninstall, re.M)}
    run_key = "Software\\Microsoft\\Windows\\CurrentVersion\\Run"
    assert (run_key, "BidSeal") in written and (run_key, "BidSeal") in deleted_values
    assert ("Software\\Classes\\.bse", "") in written
    assert ("Software\\Classes\\.pdf\\OpenWithProgids", "BidSeal.PDF") in written
    leftovers = [(k, v) for k, v in written if (k, v) not in deleted_values
                 and not any(k == d or k.startswith(d + "\\") for d in deleted_keys)]
    assert not leftovers, leftovers
    # Shared keys are never deleted whole: the user's own PDF program and other autostarts stay.
    assert not deleted_keys & {run_key, "Software\\Classes\\.pdf", "Software\\Classes\\.pdf\\OpenWithProgids",
                               "Environment"}, deleted_keys
    # .bse goes only while it still names BidSeal's type.
    assert re.search(r'StrCmp \$0 "\$\{PROGID_BSE\}" 0 \+2\s+DeleteRegKey HKCU "\$\{CLASSES\}\\\.bse"', uninstall)


def test_windows_version_resource_matches_app_version() -> None:
    text = (PYI / "windows-version.txt").read_text(encoding="utf-8")
    nums = tuple(int(x) for x in __version__.split("."))
    assert f"filevers=({', '.join(map(str, (*nums, 0)))})" in text
    assert f"prodvers=({', '.join(map(str, (*nums, 0)))})" in text
    assert f"StringStruct('ProductVersion', '{__version__}')" in text


def test_spec_and_entry_scripts_compile() -> None:
    for path in [PYI / "bidseal.spec", *PYI.glob("entry_*.py"), PYI / "manifest.py"]:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    for name, script in [*manifest.EXECUTABLES.items(), manifest.WINDOWS_GUI_EXECUTABLE]:
        assert (PYI / script).is_file(), name


def test_icons() -> None:
    png = (REPO / "installer" / "icons" / "bidseal.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (256, 256)
    ico = (REPO / "installer" / "icons" / "bidseal.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 4
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes


def test_check_bundle_sees_the_simulated_layout_complete_and_names_what_is_missing(frozen_layout: Path) -> None:
    import check_bundle

    got = check_bundle.problems(frozen_layout.parent, "linux")
    # The simulated layout has no executables, Qt or dist-info (PyInstaller adds those) ...
    assert {g.split()[0] for g in got} == {"executable", "Qt", "metadata"}, got
    assert "executable bidseal-token-host" in got
    # ... and every data file and the virtual UKey: removing one is reported by name.
    victim = frozen_layout / "resources" / "web" / "bidseal.js"
    data = victim.read_bytes()
    victim.unlink()
    try:
        assert "data file resources/web/bidseal.js" in check_bundle.problems(frozen_layout.parent, "linux")
    finally:
        victim.write_bytes(data)


def test_third_party_data_the_helper_reads_is_bundled() -> None:
    # A frozen build without these failed at `bidseal helper serve` (FileNotFoundError for
    # public_suffix_list.dat); uvicorn imports its loop and protocol modules by name.
    import publicsuffixlist

    data = Path(publicsuffixlist.__file__).parent / "public_suffix_list.dat"
    assert data.is_file() and "publicsuffixlist" in manifest.THIRD_PARTY_DATA_PACKAGES
    assert "uvicorn" in manifest.DYNAMIC_IMPORT_PACKAGES
    spec = (Path(manifest.__file__).parent / "bidseal.spec").read_text()
    assert "collect_data_files(package)" in spec and "manifest.THIRD_PARTY_DATA_PACKAGES" in spec
    assert "manifest.DYNAMIC_IMPORT_PACKAGES" in spec

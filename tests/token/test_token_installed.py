"""The token host as an installed application starts it: from a wheel, in a fresh venv,
outside the source tree.

The wheel is built from a copy of the project, installed into a new virtual
environment (with only what the token host and its client need: cffi, platformdirs),
and a script run there by that venv's Python, in a folder far from the repository,
with no PYTHONPATH, starts a host for libsoftskf through ``TokenHost``. It must find
the ``bidseal-token-host`` console script next to its interpreter, read the SKF
declarations packaged in the wheel (``app/token/skf_cdef.h``), and talk to the key.
A frozen application (``sys.frozen``) takes the executable next to itself the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from app.token.skf_ffi import NATIVE_HEADER, PACKAGED_CDEF, extract_cdef

REPO = Path(__file__).resolve().parents[2]

CLIENT = r'''
import json, os, sys
frozen = sys.argv[3] == "frozen"
if frozen:
    sys.frozen = True
import app
from app.token import host_client
from app.token.host_client import TokenHost, host_command
from app.token.skf_ffi import header_path
argv, env, same = host_command()
with TokenHost(sys.argv[1], env={"SOFTSKF_STORE": sys.argv[2]}) as h:
    hello = h.start()
    print(json.dumps({"app": app.__file__, "argv": argv, "extra_env": env, "header": str(header_path()),
                      "pong": h.call("ping"), "devices": h.call("enum_dev", True), "host_pid": hello["pid"],
                      "me": os.getpid()}))
'''


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "BIDSEAL_SKF"))}
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the BidSeal wheel installed; returns its python."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(REPO / "app", src / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "lib"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    dist = work / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
                           capture_output=True, text=True, timeout=600, cwd=work, env=_clean_env())
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("bidseal-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                          capture_output=True, text=True, timeout=600, cwd=work, env=_clean_env())
    assert inst.returncode == 0, inst.stdout + inst.stderr
    deps = subprocess.run([str(py), "-m", "pip", "install", "-q", "cffi>=1.16", "platformdirs>=4"],
                          capture_output=True, text=True, timeout=600, cwd=work, env=_clean_env())
    assert deps.returncode == 0, deps.stdout + deps.stderr
    shutil.rmtree(src)  # nothing of the source tree is left to fall back on
    return py


@pytest.mark.parametrize("mode", ["installed", "frozen"])
def test_installed_app_starts_its_token_host(installed: Path, softskf_lib: str, tmp_path: Path, mode: str) -> None:
    store = tmp_path / "store"
    (store / "WHEEL-KEY").mkdir(parents=True)
    (store / "WHEEL-KEY" / "present").touch()
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    env = _clean_env()
    env["BIDSEAL_HOME"] = str(tmp_path / "home")
    proc = subprocess.run([str(installed), "-c", CLIENT, softskf_lib, str(store), mode], capture_output=True,
                          text=True, timeout=120, cwd=run_dir, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    site = installed.parent.parent
    assert Path(out["app"]).is_relative_to(site) and not Path(out["app"]).is_relative_to(REPO)
    script = Path(out["argv"][0])
    assert out["argv"] == [out["argv"][0]] and script.name.startswith("bidseal-token-host")
    assert script.parent == installed.parent and out["extra_env"] == {}  # no PYTHONPATH games
    assert Path(out["header"]).name == "skf_cdef.h" and Path(out["header"]).is_relative_to(site)
    assert out["pong"] == "pong" and out["devices"] == ["WHEEL-KEY"]
    assert out["host_pid"] != out["me"]


def test_packaged_cdef_is_the_native_header() -> None:
    """The declarations shipped in the package are exactly native/skf.h's cdef blocks
    (regenerate: ``PACKAGED_CDEF.write_text(extract_cdef(NATIVE_HEADER.read_text()))``)."""
    assert PACKAGED_CDEF.read_text(encoding="utf-8") == extract_cdef(NATIVE_HEADER.read_text(encoding="utf-8"))

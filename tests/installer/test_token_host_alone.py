"""The 32-bit Windows token host is built in a venv without Qt and MuPDF (no 32-bit wheels
exist for Qt). That only works if the host never imports them: run the real host with those
modules made unimportable and use the virtual UKey through it."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.token.host_client import TokenHost
from app.token.registry import softskf_path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "installer" / "pyinstaller"))
import manifest  # noqa: E402


def test_token_host_requirements_leave_out_qt_and_mupdf_only() -> None:
    def names(reqs: list[str]) -> set[str]:
        return {re.split(r"[<>=!~;\s\[]", d, maxsplit=1)[0].lower() for d in reqs}

    full = manifest.runtime_requirements()
    alone = manifest.runtime_requirements(token_host_only=True)
    assert names(full) - names(alone) == {"pyside6-essentials", "pymupdf"} and set(alone) < set(full)
    assert {"cffi", "gmssl", "cryptography"} <= names(alone)


def test_the_token_host_runs_without_the_modules_its_build_leaves_out(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = manifest.TOKEN_HOST_EXCLUDED_MODULES
    code = ("import sys\n"
            f"for name in {blocked!r}: sys.modules[name] = None  # import raises ImportError\n"
            "import runpy\nrunpy.run_module('app.token.host', run_name='__main__', alter_sys=True)\n")
    (tmp_path / "host.py").write_text(code)
    host = tmp_path / "bidseal-token-host"
    host.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" "{tmp_path / "host.py"}" "$@"\n')
    host.chmod(host.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("BIDSEAL_TOKEN_HOST", str(host))
    monkeypatch.setenv("SOFTSKF_STORE", str(tmp_path / "store"))
    with TokenHost(softskf_path()) as h:
        hello = h.start()
        assert h.call("ping") and isinstance(h.call("enum_dev", True), list)
    assert hello["pid"] != 0
    # The stand-in really blocks them: the same script cannot import Qt.
    probe = tmp_path / "probe.py"
    probe.write_text(code.split("import runpy")[0] + "import PySide6\n")
    r = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and ("ImportError" in r.stderr or "ModuleNotFoundError" in r.stderr), r.stderr

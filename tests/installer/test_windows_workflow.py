"""The Windows CI workflow cannot run here (no Windows runner): this keeps it from rotting.

It must stay valid YAML for GitHub Actions, run on windows-latest with Python 3.11, build the
bundle and the installer with installer/windows/build.ps1, run the demo from the bundle,
install and uninstall the installer, and run the suite; every test it deselects must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "windows.yml"


def _job() -> dict:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key "on" as True.
    assert set(doc) >= {"name", "jobs"} and (True in doc or "on" in doc), doc.keys()
    (job,) = doc["jobs"].values()
    return job


def _step(job: dict, name: str) -> dict:
    steps = {s.get("name"): s for s in job["steps"]}
    assert name in steps, f"step {name!r} missing; steps: {list(steps)}"
    return steps[name]


def test_workflow_runs_on_windows_with_python_311() -> None:
    job = _job()
    assert job["runs-on"] == "windows-latest"
    setup = _step(job, "Set up Python 3.11")
    assert setup["uses"].startswith("actions/setup-python@") and setup["with"]["python-version"] == "3.11"
    assert _step(job, "Check out")["uses"].startswith("actions/checkout@")
    # The 32-bit interpreter for the x86 token host, set up before the 64-bit one (PATH order).
    names = [s.get("name") for s in job["steps"]]
    py32 = _step(job, "Set up 32-bit Python 3.11 for the x86 token host")
    assert py32["with"]["architecture"] == "x86" and py32["id"] == "py32"
    assert names.index(py32["name"]) < names.index("Set up Python 3.11") and setup["with"]["architecture"] == "x64"


def test_workflow_builds_the_bundle_and_the_installer_with_build_ps1() -> None:
    job = _job()
    assert "pip install -e \".[dev]\"" in _step(job, "Install the project")["run"]
    build = _step(job, "Build the PyInstaller bundle and the NSIS installer")["run"]
    assert "./installer/windows/build.ps1" in build and (REPO / "installer" / "windows" / "build.ps1").is_file()
    assert "-Libcrypto" in build and "libcrypto-3-x64.dll" in build
    assert "-Python32 \"${{ steps.py32.outputs.python-path }}\"" in build
    assert "-TokenHostOnly" in (REPO / "installer" / "windows" / "build.ps1").read_text(encoding="utf-8")
    demo = _step(job, "Run the demo from the bundle")["run"]
    assert re.search(r"dist\\bidseal\\bidseal\.exe demo ", demo)
    assert re.search(r"dist\\bidseal\\bidseal\.exe gui \S+bid-sealed\.pdf\" --self-test", demo)
    lifecycle = _step(job, "Install silently, use, uninstall, check nothing is left")["run"]
    for needle in ("/S", "uninstall.exe", r"CurrentVersion\Run", r"Classes\.bse", "left behind"):
        assert needle in lifecycle, needle


def test_workflow_runs_the_suite_and_deselects_only_existing_tests() -> None:
    run = _step(_job(), "Run the test suite")["run"]
    assert "python -m pytest" in run
    for path in re.findall(r"--ignore=(\S+)", run):
        assert (REPO / path).exists(), path
    for node in re.findall(r"--deselect (\S+)", run):
        path, name = node.split("::")
        source = (REPO / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(name)}\(", source, re.M), node
    # The .deb install test (root, apt, useradd) is Linux-only; it is the only marked one.
    assert '-m "not system"' in run
    # The suite itself is not left out wholesale.
    assert "--ignore=tests/installer" not in run and "--ignore=tests/envelope" not in run

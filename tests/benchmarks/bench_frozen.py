"""The frozen BidSeal (PyInstaller one-folder, installer/pyinstaller/build.sh) against the
source tree's venv, in the same run: bundle size, ``bidseal --version`` start-up, the token
host's start-up, and the time until the GUI's window is mapped on an X server.

    .venv/bin/python tests/benchmarks/bench_frozen.py [--dist dist/bidseal] [--runs 5] [--shots DIR]

Without a display it re-runs itself under ``xvfb-run``. The GUI is timed from exec to its
BidSeal window being viewable (xwininfo), with a fresh BIDSEAL_HOME per run; the frozen
window's screenshot is saved so it can be looked at. Not part of the test suite (it needs a
build that takes minutes); tests/installer checks the packaging cheaply.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "installer" / "linux"))
import gui_probe  # noqa: E402


def _env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "BIDSEAL_", "VIRTUAL_ENV")) and k != "QT_QPA_PLATFORM"}
    env["BIDSEAL_HOME"] = home
    return env


def _timed(cmd: list[str], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=_env(home), timeout=300)
            times.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)}


def _gui(cmd: list[str], runs: int, shot: Path) -> dict[str, float]:
    times = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = _env(home) | {k: os.environ[k] for k in ("DISPLAY", "XAUTHORITY") if k in os.environ}
            out = subprocess.run([sys.executable, gui_probe.__file__, "--settle", "3" if i == 0 else "0.2",
                                  "--shot", str(shot), "--", *cmd], check=True, capture_output=True,
                                 text=True, timeout=300, env=env)
            times.append(json.loads(out.stdout)["window_s"])
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)}


def _size(dist: Path) -> dict[str, int]:
    files = [p for p in dist.rglob("*") if p.is_file()]
    return {"bytes": sum(p.stat().st_size for p in files), "files": len(files)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dist", type=Path, default=REPO / "dist" / "bidseal")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--gui-runs", type=int, default=3)
    p.add_argument("--shots", type=Path, default=REPO / "build" / "bench-frozen")
    args = p.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if not xvfb:
            raise SystemExit("needs a display or xvfb-run")
        return subprocess.call([xvfb, "-a", "-s", "-screen 0 1280x800x24", sys.executable, __file__,
                                *(argv if argv is not None else sys.argv[1:])])
    frozen = args.dist / "bidseal"
    if not frozen.is_file():
        raise SystemExit(f"no frozen build at {args.dist}: bash installer/pyinstaller/build.sh")
    source = REPO / ".venv" / "bin" / "bidseal"
    venv_py = REPO / ".venv" / "bin" / "python"
    args.shots.mkdir(parents=True, exist_ok=True)
    # Source runs from compiled bytecode as an installed app does (the sandbox may disable writing it).
    subprocess.run([str(venv_py), "-m", "compileall", "-q", str(REPO / "app")], check=False)
    res = {
        "bundle": _size(args.dist),
        "version_frozen": _timed([str(frozen), "--version"], args.runs),
        "version_source": _timed([str(source), "--version"], args.runs),
        "token_host_frozen": _timed([str(args.dist / "bidseal-token-host"), "--help"], args.runs),
        "token_host_source": _timed([str(venv_py), "-m", "app.token.host", "--help"], args.runs),
        "gui_window_frozen": _gui([str(frozen), "gui"], args.gui_runs, args.shots / "gui-frozen.png"),
        "gui_window_source": _gui([str(source), "gui"], args.gui_runs, args.shots / "gui-source.png"),
    }
    b = res["bundle"]
    print(f"bundle: {b['bytes'] / 2**20:.0f} MiB in {b['files']} files ({args.dist})")
    for what in ("version", "token_host", "gui_window"):
        f, s = res[f"{what}_frozen"], res[f"{what}_source"]
        print(f"{what:11s} frozen {f['median_s']:.3f} s (min {f['min_s']:.3f})  "
              f"source {s['median_s']:.3f} s (min {s['min_s']:.3f})  ratio {f['median_s'] / s['median_s']:.2f}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())

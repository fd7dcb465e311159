"""Benchmark: the window decrypts a large envelope without blocking its event loop, about
as fast as the CLI. Not part of the suite::

    .venv/bin/python tests/benchmarks/bench_gui_envelope.py [--mb 1024] [--runs 3] [--keep DIR] [--json]

(starts itself under ``xvfb-run`` when there is no display). A ``--mb`` MB bid is
encrypted once to the virtual UKey's encryption certificate; then, each run in fresh
processes and on the same file:

* **CLI**: ``bidseal decrypt ENV -o OUT --pin-stdin`` (key discovery, one login, the
  stream), wall time of the process;
* **GUI**: the real window's decrypt dialog on the same envelope: click "解密", BidSeal's
  PIN dialog appears (checks and PIN state on a worker thread), the PIN is typed at once,
  OK, until the verified file is in place. Time = click-to-PIN-dialog + OK-to-done (the
  typing is the bidder's, not the program's). Meanwhile a 5 ms timer runs on the UI
  thread; the longest gap between its ticks is the longest the event loop was blocked.

Targets (issue 13): GUI time <= 1.2 x CLI time; longest gap <= 50 ms. The machine is
shared; the load average and an idle gap measurement (same timer, nothing running) are
printed with the numbers.
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
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PIN = "12345678"
TARGETS = {"ratio": 1.2, "max_gap_ms": 50.0}


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(BIDSEAL_HOME=str(tmp / "home"), SOFTSKF_STORE=str(tmp / "store"),
               BIDSEAL_CONFIG=str(tmp / "no-config.json"), PYTHONPATH=str(REPO),
               BIDSEAL_SKF_LIB=str(REPO / "native" / "softskf" / "build" / "libsoftskf.so"),
               QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _spin(app: Any, cond: Any, timeout: float = 600.0) -> None:
    from tests.support.qt_wait import wait_until  # not processEvents() loops: see that module

    wait_until(cond, timeout, 2)


# -- child: the window --------------------------------------------------------------------------
def child_gui(envelope: str, output: str) -> dict[str, Any]:
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.settings import Settings
    from app.ui.dialogs.decrypt_dialog import DecryptDialog
    from app.ui.engine_client import shutdown
    from app.ui.window import MainWindow
    from tests.support.event_gaps import EventGaps

    app = QApplication.instance() or QApplication([sys.argv[0]])
    window = MainWindow(Settings(), monitor_keys=False)
    window.show()
    _spin(app, lambda: window.key_panel.current is not None, 120)
    dialog = DecryptDialog(window, window.runner, window.keys, envelope=envelope)
    dialog.output.setText(output)
    dialog._output_touched = True
    dialog.show()
    _spin(app, lambda: dialog.plan is not None, 120)
    meter = EventGaps().start()
    idle_end = time.perf_counter() + 5.0
    _spin(app, lambda: time.perf_counter() > idle_end, 10)
    idle_gap = meter.max_ms
    idle_p99, idle_over = meter.percentile_ms(99), meter.share_over(50)
    meter.reset()
    t0 = time.perf_counter()
    dialog.go.click()
    _spin(app, lambda: dialog.flow is not None and (dialog.flow.done or (
        dialog.flow.pin_dialog is not None and dialog.flow.pin_dialog.isVisible())), 120)
    t_pin = time.perf_counter()
    before_pin = meter.max_ms
    flow = dialog.flow
    assert flow is not None and flow.pin_dialog is not None, flow and flow.error
    QTest.keyClicks(flow.pin_dialog.edit, PIN)
    meter.reset()
    t1 = time.perf_counter()
    flow.pin_dialog.ok.click()
    _spin(app, lambda: flow.done, 1800)
    t_done = time.perf_counter()
    meter.stop()
    out = {"error": str(flow.error) if flow.error else None,
           "gui_s": round((t_pin - t0) + (t_done - t1), 3), "to_pin_dialog_s": round(t_pin - t0, 3),
           "decrypt_s": round(t_done - t1, 3), "max_gap_ms": max(before_pin, meter.max_ms),
           "idle_max_gap_ms": idle_gap, "ticks": len(meter.gaps),
           "p99_gap_ms": meter.percentile_ms(99), "idle_p99_gap_ms": idle_p99,
           "share_over_50ms": meter.share_over(50), "idle_share_over_50ms": idle_over}
    dialog.close()
    window.shutdown()
    shutdown()
    return out


# -- parent ---------------------------------------------------------------------------------------
def prepare(folder: Path, mb: int) -> tuple[Path, Path, dict[str, str]]:
    """The virtual key, a ``mb`` MB plaintext and its envelope (made once, reused with --keep)."""
    env = _env(folder)
    os.environ.update({k: env[k] for k in ("BIDSEAL_HOME", "SOFTSKF_STORE", "BIDSEAL_CONFIG", "BIDSEAL_SKF_LIB")})
    envelope = folder / f"bid-{mb}mb.pdf.bse"
    if not envelope.exists():
        subprocess.run(["make", "-C", str(REPO / "native" / "softskf")], check=True, capture_output=True)
        from app.envelope import encrypt_file
        from app.token.softkey import init_softkey

        info = init_softkey(folder / "store", pki_dir=folder / "pki", force=True)
        plain = folder / f"bid-{mb}mb.pdf"
        block = os.urandom(1 << 20)
        with open(plain, "wb") as f:
            for _ in range(mb):
                f.write(block)
        t = time.perf_counter()
        encrypt_file(plain, envelope, [info.enc_certificate], project_id="BENCH")
        print(f"encrypted {mb} MB in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        plain.unlink()
    return folder, envelope, env


def run_cli(envelope: Path, out: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "app.cli.main", "decrypt", str(envelope), "-o", str(out),
                           "--pin-stdin", "--json", "--force"], input=PIN + "\n", capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=1800)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"CLI decryption failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def run_gui(envelope: Path, out: Path, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", "--envelope", str(envelope), "--output", str(out)],
                          capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"GUI child failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[:3000]}\n...\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result.get("error"):
        raise RuntimeError(f"GUI decryption failed: {result['error']}")
    return result


def run(mb: int, runs: int, keep: Path | None = None) -> dict[str, Any]:
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-gui-envelope-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        folder, envelope, env = prepare(folder, mb)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "app")], env=env, check=False)
        cli, gui, gaps, idle, details = [], [], [], [], []
        for i in range(runs):
            for name, fn in (("cli", run_cli), ("gui", run_gui)):
                out = folder / f"out-{name}.pdf"
                out.unlink(missing_ok=True)
                result = fn(envelope, out, env)
                if name == "cli":
                    cli.append(float(result))  # type: ignore[arg-type]
                else:
                    assert isinstance(result, dict)
                    gui.append(result["gui_s"])
                    details.append(result)
                    gaps.append(result["max_gap_ms"])
                    idle.append(result["idle_max_gap_ms"])
                if out.stat().st_size != mb << 20:
                    raise RuntimeError(f"{name}: output has the wrong size")
                out.unlink()
            d = details[-1]
            print(f"run {i + 1}: cli {cli[-1]:.2f} s, gui {gui[-1]:.2f} s (ratio {gui[-1] / cli[-1]:.2f}), "
                  f"max gap {gaps[-1]} ms, p99 {d['p99_gap_ms']} ms, >50 ms {d['share_over_50ms']:.2%} "
                  f"(idle: max {idle[-1]} ms, p99 {d['idle_p99_gap_ms']} ms, >50 ms {d['idle_share_over_50ms']:.2%}); "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)
        best_ratio = min(gui) / min(cli)
        return {
            "mb": mb, "runs": runs, "loadavg": os.getloadavg(), "cpus": os.cpu_count(),
            "cli_s": _stats(cli), "gui_s": _stats(gui), "ratio_best": round(best_ratio, 3),
            "ratio_median": round(statistics.median(gui) / statistics.median(cli), 3),
            "max_gap_ms": _stats(gaps), "idle_max_gap_ms": _stats(idle), "gui_runs": details, "targets": TARGETS,
            "meets": {"ratio": best_ratio <= TARGETS["ratio"], "max_gap_ms": min(gaps) <= TARGETS["max_gap_ms"]},
        }
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _stats(values: list[float]) -> dict[str, float]:
    return {"best": round(min(values), 3), "median": round(statistics.median(values), 3),
            "worst": round(max(values), 3)}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the key and the envelope in")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--envelope", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child_gui(args.envelope, args.output)))
        return 0
    from tests.ui.xvfb import needs_display, rerun_under_xvfb

    if needs_display():
        return rerun_under_xvfb(__file__, argv)
    report = run(args.mb, args.runs, args.keep)
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

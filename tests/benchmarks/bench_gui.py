"""Benchmark of the desktop application on a real X server (Xvfb). Not part of the suite::

    .venv/bin/python tests/benchmarks/bench_gui.py [--runs 3] [--pages 1000 --mb 100] [--keep DIR] [--json]

(starts itself under ``xvfb-run`` when there is no display). Measured, each in fresh
processes, best and median of ``--runs``:

* **cold start**: from launching the interpreter to the main window's first paint
  (target <= 1.5 s);
* **open + first page**: ``open_file`` of a ``--pages``-page, ``--mb`` MB PDF until page 1
  is painted from its rendering (target <= 0.3 s; the render process is already running,
  as it is a moment after start-up);
* **scroll**: every page scrolled into view, one viewport at a time, each painted before
  moving on; peak resident memory of the window's process, of the render process and of
  both together (target <= 400 MB);
* **sealing**: the whole signing flow on the large PDF with the virtual UKey (PIN dialog,
  login, seal in the engine process, from-disk verification) while a 5 ms timer runs on the
  UI thread; the longest gap between its ticks is the longest the event loop was blocked
  (target <= 50 ms).

The machine is shared: the load average is printed with the numbers.
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

TARGETS = {"cold_start_s": 1.5, "open_first_page_s": 0.3, "scroll_peak_total_mb": 400.0,
           "seal_max_gap_ms": 50.0}


# -- helpers for the children ------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _spin(app: Any, cond: Any, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.001)


def _env_for_key(tmp: Path) -> None:
    os.environ["BIDSEAL_HOME"] = str(tmp / "home")
    os.environ["SOFTSKF_STORE"] = str(tmp / "store")
    os.environ["BIDSEAL_CONFIG"] = str(tmp / "no-config.json")
    os.environ["BIDSEAL_SKF_LIB"] = str(REPO / "native" / "softskf" / "build" / "libsoftskf.so")


# -- child: cold start ------------------------------------------------------------------------------
def child_start(launched: float) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    from app.settings import Settings
    from app.ui.window import MainWindow

    painted: list[float] = []

    class FirstPaint(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and not painted:
                painted.append(time.time())
            return False

    window = MainWindow(Settings(), monitor_keys=False, scan_keys=False)
    spy = FirstPaint()
    window.installEventFilter(spy)
    window.show()
    _spin(app, lambda: bool(painted), 30)
    result = {"cold_start_s": painted[0] - launched}
    window.shutdown()
    from app.ui.engine_client import shutdown

    shutdown()
    return result


# -- child: open, scroll, seal --------------------------------------------------------------------------
def child_session(pdf: str, do_seal: bool) -> dict[str, Any]:
    import threading

    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    _env_for_key(tmp)
    # provisioned by the CLI in its own process, so this (the window's) process holds only
    # what the application itself loads
    subprocess.run([sys.executable, "-m", "app.cli.main", "softkey", "init", "--store", str(tmp / "store"),
                    "--pki", str(tmp / "pki")], check=True, capture_output=True, cwd=REPO)
    app = QApplication([sys.argv[0]])
    from app.settings import Settings
    from app.ui.window import MainWindow

    window = MainWindow(Settings(), monitor_keys=False)
    window.resize(1280, 800)
    window.show()
    _spin(app, lambda: window.key_panel.current is not None, 60)
    renderer, viewer = window.renderer, window.viewer
    _spin(app, lambda: renderer._engine is not None and renderer._engine.ready.is_set(), 60)
    time.sleep(0.5)
    out: dict[str, Any] = {}

    # open and paint the first page
    painted: list[float] = []
    t0 = time.perf_counter()
    window.open_file(pdf)
    _spin(app, lambda: window.doc is not None and renderer.image(0, viewer.render_scale) is not None, 60)
    viewer.viewport().repaint()
    painted.append(time.perf_counter())
    out["open_first_page_s"] = painted[0] - t0
    out["page_count"] = window.doc.page_count
    _spin(app, lambda: window.sig_panel.state in ("done", "error"), 300)

    # scroll through every page; sample memory of both processes
    render_pid = renderer._engine.pid
    peaks = {"ui": 0.0, "render": 0.0, "total": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            ui, rp = rss_mb(os.getpid()), rss_mb(render_pid)
            peaks["ui"], peaks["render"] = max(peaks["ui"], ui), max(peaks["render"], rp)
            peaks["total"] = max(peaks["total"], ui + rp)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    bar = viewer.verticalScrollBar()
    step = max(viewer.viewport().height() - 40, 100)
    t0 = time.perf_counter()
    bar.setValue(0)
    shown = set()
    while True:
        app.processEvents()
        pages = viewer.visible_pages()
        _spin(app, lambda ps=pages: all(renderer.image(p, viewer.render_scale) is not None for p in ps), 60)
        viewer.viewport().repaint()
        shown.update(pages)
        if bar.value() >= bar.maximum():
            break
        bar.setValue(bar.value() + step)
    out["scroll_s"] = time.perf_counter() - t0
    out["scroll_pages_shown"] = len(shown)
    stop.set()
    sampler.join()
    out["scroll_peak_ui_mb"] = round(peaks["ui"], 1)
    out["scroll_peak_render_mb"] = round(peaks["render"], 1)
    out["scroll_peak_total_mb"] = round(peaks["total"], 1)
    out["page_cache_mb"] = round(renderer.pages.bytes / 2**20, 1)

    if do_seal:
        info = window.viewer.page_info(window.doc.page_count - 1)
        choice = window.seal_choices()[0]
        window.viewer.place_seal(choice, info.index, (300, 600, 420, 720))
        gaps: list[float] = []
        ends: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            ends.append(now)
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        timer.start()
        # the same measurement with nothing running: what the (shared) machine's scheduler costs
        last[0] = time.perf_counter()
        idle_end = time.perf_counter() + 3.0
        _spin(app, lambda: time.perf_counter() > idle_end, 10)
        out["idle_max_gap_ms"] = round(max(gaps) * 1000, 1) if gaps else None
        gaps.clear()
        ends.clear()
        t0 = time.perf_counter()
        flow = window.sign()
        _spin(app, lambda: flow.pin_dialog is not None and flow.pin_dialog.isVisible(), 60)
        QTest.keyClicks(flow.pin_dialog.edit, "12345678")
        gaps.clear()
        ends.clear()
        last[0] = time.perf_counter()
        flow.pin_dialog.ok.click()
        t_sign = time.perf_counter()
        _spin(app, lambda: flow.done, 600)
        t_done = time.perf_counter()
        # include reopening the signed file (the verification comes with the result)
        _spin(app, lambda: window.doc is not None and window.doc.path.endswith("-已签章.pdf")
              and window.verification is not None, 120)
        timer.stop()
        out["seal_error"] = str(flow.error) if flow.error else None
        out["seal_s"] = round(t_done - t_sign, 3)
        out["seal_max_gap_ms"] = round(max(gaps) * 1000, 1) if gaps else None
        out["seal_ticks"] = len(gaps)
        if gaps:  # where the longest gap ended, relative to OK, sealed and reopened
            worst = max(range(len(gaps)), key=gaps.__getitem__)
            out["seal_gap_at_s"] = round(ends[worst] - t_sign, 3)
            out["seal_done_at_s"] = round(t_done - t_sign, 3)
        out["seal_total_s"] = round(time.perf_counter() - t0, 3)
        Path(flow.result["output"]).unlink(missing_ok=True) if flow.result else None
    window.shutdown()
    from app.ui.engine_client import shutdown

    shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    return out


# -- parent ---------------------------------------------------------------------------------------------
def _run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _stats(values: list[float]) -> dict[str, float]:
    return {"best": round(min(values), 3), "median": round(statistics.median(values), 3),
            "worst": round(max(values), 3)}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the generated PDF in")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["start", "session"], help=argparse.SUPPRESS)
    parser.add_argument("--pdf", help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--seal", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "start":
        print(json.dumps(child_start(args.launched)))
        return 0
    if args.child == "session":
        print(json.dumps(child_session(args.pdf, args.seal)))
        return 0

    from tests.ui.xvfb import needs_display, rerun_under_xvfb

    if needs_display():
        return rerun_under_xvfb(__file__, argv)

    from tests.benchmarks.bench_pdf_seal import generate

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-gui-pdf-"))
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"bid-{args.pages}p-{int(args.mb)}mb.pdf"
    if not pdf.exists():
        t = time.perf_counter()
        generate(pdf, args.pages, args.mb)
        print(f"generated {pdf} ({pdf.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb"), PYTHONPATH=str(REPO))
    # An installed application starts from compiled bytecode (pip compiles it); this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which would make every start compile every module again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "app")], env=env, check=False)
    home = tempfile.mkdtemp(prefix="bench-gui-home-")
    env["BIDSEAL_HOME"] = home

    starts, opens, peaks, gaps, seals = [], [], [], [], []
    sessions = []
    for i in range(args.runs):
        starts.append(_run_child(["--child", "start", "--launched", repr(time.time())], env)["cold_start_s"])
        s = _run_child(["--child", "session", "--pdf", str(pdf), "--seal"], env)
        sessions.append(s)
        opens.append(s["open_first_page_s"])
        peaks.append(s["scroll_peak_total_mb"])
        if s.get("seal_max_gap_ms") is not None:
            gaps.append(s["seal_max_gap_ms"])
            seals.append(s["seal_s"])
        print(f"run {i + 1}: start {starts[-1]:.3f} s, open {opens[-1]:.3f} s, scroll peak {peaks[-1]} MB "
              f"(ui {s['scroll_peak_ui_mb']}, render {s['scroll_peak_render_mb']}), "
              f"seal {s.get('seal_s')} s max gap {s.get('seal_max_gap_ms')} ms "
              f"(idle {s.get('idle_max_gap_ms')} ms)", file=sys.stderr)
    report = {
        "conditions": {"cpus": os.cpu_count(), "loadavg": [round(v, 1) for v in os.getloadavg()],
                       "pages": args.pages, "bytecode": "compiled",
                       "file_mb": round(pdf.stat().st_size / 2**20, 1), "runs": args.runs,
                       "platform": os.environ.get("QT_QPA_PLATFORM")},
        "cold_start_s": _stats(starts),
        "open_first_page_s": _stats(opens),
        "scroll_peak_total_mb": _stats(peaks),
        "scroll_s": _stats([s["scroll_s"] for s in sessions]),
        "seal_max_gap_ms": _stats(gaps) if gaps else None,
        "idle_max_gap_ms": _stats([s["idle_max_gap_ms"] for s in sessions if s.get("idle_max_gap_ms") is not None]),
        "seal_s": _stats(seals) if seals else None,
        "targets": TARGETS,
        "sessions": sessions,
    }
    shutil.rmtree(home, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for key in ("cold_start_s", "open_first_page_s", "scroll_peak_total_mb", "scroll_s", "seal_max_gap_ms",
                    "idle_max_gap_ms", "seal_s"):
            target = TARGETS.get(key)
            print(f"{key:24s} {report[key]}" + (f"  (target <= {target})" if target else ""))
        print(f"conditions: {report['conditions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

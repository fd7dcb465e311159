"""Start a GUI command on the current X display, time until its BidSeal window is mapped,
wait for it to paint, save a screenshot of the screen, then end the command.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python installer/linux/gui_probe.py \
        --shot out.png [--settle 4] -- /usr/bin/bidseal gui bid.pdf

Prints JSON: ``{"window_s": seconds from exec to the mapped window, "shot": path}``.
Window detection uses ``xwininfo`` (x11-utils) so the probed program is untouched (a frozen
build has no test hooks); the screenshot is taken with Qt from this interpreter (PySide6 of
the development venv), grabbing the root window.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

WINDOW = re.compile(r'^\s+0x[0-9a-f]+ "([^"]*BidSeal[^"]*)": \(', re.M)


def mapped_window(title_part: str) -> str | None:
    r = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=False,
                       errors="replace")
    for m in WINDOW.finditer(r.stdout):
        if title_part in m.group(1):
            wid = m.group(0).split()[0]
            info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, check=False,
                                  errors="replace").stdout
            if "IsViewable" in info:
                return m.group(1)
    return None


def screenshot(path: str) -> None:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(["gui_probe", "-platform", "xcb"])
    pix = app.primaryScreen().grabWindow(0)
    if not pix.save(path):
        raise SystemExit(f"cannot save {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--shot", required=True)
    p.add_argument("--settle", type=float, default=4.0, help="seconds to let the window paint")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--title", default="BidSeal", help="wait for a window title containing this too "
                   "(e.g. the opened file name)")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not os.environ.get("DISPLAY"):
        raise SystemExit("no DISPLAY: run under xvfb-run")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        title = None
        while time.perf_counter() - start < args.timeout:
            title = mapped_window(args.title)
            if title or proc.poll() is not None:
                break
            time.sleep(0.05)
        window_s = time.perf_counter() - start
        if not title:
            raise SystemExit(f"no BidSeal window (exit code {proc.poll()})")
        time.sleep(args.settle)
        screenshot(args.shot)
        print(json.dumps({"window_s": round(window_s, 3), "title": title, "shot": args.shot},
                         ensure_ascii=False))
        return 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())

"""bidseal gui [FILE.pdf]: open the desktop application (the sealing workspace).

A second "bidseal gui FILE.pdf" while the window is open hands the file to it.
"bidseal" with no arguments on a terminal does the same as "bidseal gui".
"bidseal gui --self-test [FILE.pdf] [--screenshot PNG]" opens a window of its own (no helper,
no hand-off), waits until the page is drawn and the signatures checked, prints JSON and quits:
the check that an installation's window works (also with QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("gui", help="打开桌面应用（签章工作台）/ open the desktop application",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", metavar="FILE.pdf", help="要打开的 PDF / a PDF to open")
    p.add_argument("--lang", choices=("zh", "en"), default=None, help="界面语言 / window language")
    p.add_argument("--self-test", action="store_true",
                   help="自检：打开文件、显示并验证后退出，输出 JSON / open, draw and verify FILE, print JSON, quit")
    p.add_argument("--screenshot", metavar="PNG", help="自检时保存窗口截图 / with --self-test: save the window")
    p.add_argument("--timeout", type=float, default=60.0, help="自检时限（秒）/ with --self-test: seconds")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    from app.cli.gui_launcher import launch_gui, self_test_gui

    if args.self_test:
        return self_test_gui(args.file, screenshot=args.screenshot, timeout=args.timeout, lang=args.lang)
    return launch_gui([args.file] if args.file else [], lang=args.lang)

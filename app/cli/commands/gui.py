"""bidseal gui [FILE.pdf]: open the desktop application (the sealing workspace).

A second "bidseal gui FILE.pdf" while the window is open hands the file to it.
"bidseal" with no arguments on a terminal does the same as "bidseal gui".
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("gui", help="打开桌面应用（签章工作台）/ open the desktop application",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", metavar="FILE.pdf", help="要打开的 PDF / a PDF to open")
    p.add_argument("--lang", choices=("zh", "en"), default=None, help="界面语言 / window language")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    from app.cli.gui_launcher import launch_gui

    return launch_gui([args.file] if args.file else [], lang=args.lang)

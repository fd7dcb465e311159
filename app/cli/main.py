"""``bidseal`` entry point: discovers command modules and maps errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from app import __version__
from app.cli import commands
from app.cli.common import EXIT_ERROR, print_error
from app.errors import BidSealError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bidseal",
        description="BidSeal 投标 UKey 签章与解密客户端 / UKey sealing and decryption client for e-bidding",
    )
    parser.add_argument("--version", action="version", version=f"bidseal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if args.command is None and sys.stdin.isatty() and argv is None:
            from app.cli.gui_launcher import launch_gui

            return launch_gui()
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.func(args) or 0)
    except BidSealError as exc:
        print_error(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("已取消 / Cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

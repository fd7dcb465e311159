"""``bidseal`` entry point: discovers command modules and maps errors to exit codes.

No traceback reaches a bidder: a :class:`BidSealError` is printed in both languages
(as JSON on stdout with ``--json``), argument mistakes are usage errors, Ctrl-C,
SIGTERM and SIGHUP cancel cleanly (temporary outputs removed), and a closed output
pipe ends quietly. At start, temporary files abandoned by a killed BidSeal process
are removed (:func:`app.atomic.sweep_journal`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys
import time
from collections.abc import Sequence

from app import __version__
from app.cli import commands
from app.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_CANCELLED,
    EXIT_ERROR,
    ArgumentParser,
    Terminated,
    print_json,
    printable_streams,
    quiet_stdout_after_broken_pipe,
    report_error,
    signals_as_cancel,
)
from app.errors import BidSealError


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="bidseal",
        description="BidSeal 投标 UKey 签章与解密客户端 / UKey sealing and decryption client for e-bidding",
    )
    parser.add_argument("--version", action="version", version=f"bidseal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    return int(args.func(args) or 0)


def _cancelled(exc: KeyboardInterrupt, as_json: bool) -> int:
    signum = exc.signum if isinstance(exc, Terminated) else None
    code = 128 + signum if signum is not None else EXIT_CANCELLED
    if as_json:
        print_json({"ok": False, "error": {"code": "ERR_CANCELLED", "zh": "已取消，未留下输出文件。",
                                           "en": "Cancelled; no output file was left.",
                                           "details": {"signal": signum} if signum else {}}})
    else:
        print("已取消，未留下输出文件 / Cancelled; no output file was left", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    printable_streams()
    words = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in words
    with signals_as_cancel():
        try:
            parser = build_parser()
            args = parser.parse_args(words)
            as_json = as_json or bool(getattr(args, "json", False))
            if not getattr(args, "func", None):
                if args.command is None and sys.stdin.isatty() and argv is None:
                    from app.cli.gui_launcher import launch_gui

                    return launch_gui()
                parser.print_help()
                return EXIT_ERROR
            from app.atomic import sweep_journal

            sweep_journal()
            return _run(args)
        except BidSealError as exc:
            return report_error(exc, as_json)
        except KeyboardInterrupt as exc:
            return _cancelled(exc, as_json)
        except BrokenPipeError:
            quiet_stdout_after_broken_pipe()
            return EXIT_BROKEN_PIPE
        except Exception as exc:  # a bug: a sentence and a crash log, not a traceback
            if os.environ.get("BIDSEAL_DEBUG"):
                raise
            return report_error(_internal_error(exc), as_json)


def _internal_error(exc: Exception) -> BidSealError:
    """Write the traceback to a crash log and say where it is."""
    import traceback

    from app import paths

    log = None
    with contextlib.suppress(OSError):
        folder = paths.ensure(paths.log_dir())
        log = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    where_zh = f"详细信息已写入 {log}。" if log else ""
    where_en = f" Details were written to {log}." if log else ""
    return BidSealError(
        f"BidSeal 内部错误（{type(exc).__name__}），操作未完成，未留下输出文件。请把此信息反馈给技术支持。{where_zh}",
        f"BidSeal internal error ({type(exc).__name__}); the operation did not complete and no output file was "
        f"left. Please report this to support.{where_en}",
        code="ERR_INTERNAL", details={"log": str(log) if log else None},
    )


if __name__ == "__main__":
    sys.exit(main())

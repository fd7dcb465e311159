"""Shared CLI plumbing: error printing, exit codes, PIN input, JSON output.

Exit codes: 0 success, 1 a checked result was negative (invalid signature,
integrity failure), 2 usage, input/output or device errors.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any, TextIO

from app.errors import BidSealError
from app.progress import Stage
from app.sensitive import wipe as wipe  # re-exported: the commands import it from here

EXIT_OK = 0
EXIT_NEGATIVE = 1
EXIT_ERROR = 2


def lang() -> str:
    """Message language: ``BIDSEAL_LANG=en`` for English, Chinese otherwise (Chinese first)."""
    return "en" if os.environ.get("BIDSEAL_LANG", "").lower().startswith("en") else "zh"


def tr(zh: str, en: str) -> str:
    """The message in the current :func:`lang`."""
    return en if lang() == "en" else zh


def help_when_bare(parser: argparse.ArgumentParser) -> None:
    """A command group run without an action prints its help and exits with EXIT_ERROR."""

    def _help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return EXIT_ERROR

    parser.set_defaults(func=_help)


def print_error(exc: BidSealError, stream: TextIO | None = None) -> None:
    """Chinese sentence first, English under it, then the code and details for support."""
    out = stream or sys.stderr
    first, second = (exc.en, exc.zh) if lang() == "en" else (exc.zh, exc.en)
    print(f"错误 / Error: {first}", file=out)
    print(f"  {second}", file=out)
    safe = {k: v for k, v in exc.details.items() if "pin" not in k.lower()}
    print(f"  [{exc.code}] {json.dumps(safe, ensure_ascii=False, default=str)}", file=out)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class PinInputError(BidSealError):
    code = "ERR_PIN_INPUT"


def read_pin(from_stdin: bool, prompt: str = "请输入 UKey 口令 / UKey PIN: ") -> bytearray:
    """Read a PIN without echo (or one line from stdin with --pin-stdin).

    Returned as a bytearray so the caller can wipe it after use; never logged.
    """
    if from_stdin:
        line = sys.stdin.readline()
        pin = line.rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise PinInputError(
                "没有终端可输入口令；自动化场景请使用 --pin-stdin 从标准输入提供口令。",
                "No terminal to type the PIN; use --pin-stdin to pass it on standard input.",
            )
        pin = getpass.getpass(prompt)
    if not pin:
        raise PinInputError("口令为空。", "The PIN is empty.")
    buf = bytearray(pin.encode("utf-8"))
    del pin
    return buf


class ProgressPrinter:
    """Progress callback for long operations (:mod:`app.progress`): one updating line
    on a terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._last = -1

    def __call__(self, done: int, total: int, stage: Stage | None = None) -> None:
        if not self.stream.isatty() or total <= 0:
            return
        pct = int(done * 100 / total)
        if pct != self._last:
            self._last = pct
            end = "\n" if done >= total else ""
            print(f"\r{self.label}: {pct:3d}%", end=end, file=self.stream, flush=True)

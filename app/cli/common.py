"""Shared CLI plumbing: bilingual text, error printing, exit codes, PIN input, JSON output.

Exit codes: 0 success, 1 a checked result was negative (invalid signature,
integrity failure), 2 usage, input/output or device errors, 130 cancelled (Ctrl-C),
128+N ended by signal N (SIGTERM 143, SIGHUP 129); output piped into a reader that
went away (``| head``) ends quietly with 141 (as SIGPIPE would).

Every sentence is printed in Chinese and English (Chinese first; ``BIDSEAL_LANG=en``
puts English first): :func:`tr` for one line, :func:`say` for a sentence and its
translation on two lines.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any, NoReturn, TextIO

from app.errors import BidSealError
from app.progress import Stage
from app.sensitive import wipe as wipe  # re-exported: the commands import it from here

EXIT_OK = 0
EXIT_NEGATIVE = 1
EXIT_ERROR = 2
EXIT_CANCELLED = 130
EXIT_BROKEN_PIPE = 141

#: error codes that mean "checked, and the answer is no" (exit 1) rather than "could not check"
NEGATIVE_CODES = frozenset({"ERR_INTEGRITY"})

#: longest PIN accepted from a terminal or stdin (SKF keys take 6-16; more is a pasted file)
MAX_PIN_BYTES = 64


# -- language ---------------------------------------------------------------------------------


def lang() -> str:
    """Which language goes first: ``BIDSEAL_LANG=en`` for English, Chinese otherwise."""
    return "en" if os.environ.get("BIDSEAL_LANG", "").lower().startswith("en") else "zh"


def tr(zh: str, en: str) -> str:
    """``"中文 / English"`` on one line (English first with ``BIDSEAL_LANG=en``)."""
    if zh == en:
        return zh
    return f"{en} / {zh}" if lang() == "en" else f"{zh} / {en}"


def say(zh: str, en: str, *, file: TextIO | None = None) -> None:
    """Print a sentence and, indented under it, its translation."""
    first, second = (en, zh) if lang() == "en" else (zh, en)
    out = file or sys.stdout
    print(first, file=out)
    if second != first:
        print(f"  {second}", file=out)


def shown(path: Any) -> str:
    """A file name as it can be printed: bytes that are not UTF-8 appear as \\xNN."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_RST = [
    (re.compile(r":[a-z]+:`~?([^`<]+?)(?:\s*<[^>]+>)?`"), r"\1"),  # :class:`X`, :func:`~a.b`
    (re.compile(r"``([^`]+)``"), r"\1"),  # ``literal``
    (re.compile(r"`([^`]+)`_"), r"\1"),  # `link`_
    (re.compile(r"(?m)^(\s*\S.*?)\s*::\s*$"), r"\1:"),  # "example::" -> "example:"
    (re.compile(r"(?m)^\s*::\s*$\n?"), ""),  # a lone "::" line
]


def plain(text: str | None) -> str | None:
    """Help text from a docstring: reST markup (``x``, :func:`y`, ``::``) removed."""
    if text is None:
        return None
    for pattern, repl in _RST:
        text = pattern.sub(repl, text)
    return text


# -- errors -----------------------------------------------------------------------------------


class UsageError(BidSealError):
    code = "ERR_USAGE"


def usage(zh: str, en: str, **details: Any) -> UsageError:
    return UsageError(zh, en, details=details)


def _safe_details(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if "pin" not in k.lower() or "retr" in k.lower()}


def print_error(exc: BidSealError, stream: TextIO | None = None) -> None:
    """Chinese sentence first, English under it, then the code and details for support."""
    out = stream or sys.stderr
    first, second = (exc.en, exc.zh) if lang() == "en" else (exc.zh, exc.en)
    print(f"错误 / Error: {first}", file=out)
    print(f"  {second}", file=out)
    print(f"  [{exc.code}] {json.dumps(_safe_details(exc.details), ensure_ascii=False, default=str)}", file=out)


def error_json(exc: BidSealError) -> dict[str, Any]:
    """``{"ok": false, "error": {code, zh, en, details}}`` (PIN-named details dropped)."""
    data = exc.to_dict()
    data["details"] = _safe_details(data.get("details") or {})
    return {"ok": False, "error": data}


def report_error(exc: BidSealError, as_json: bool) -> int:
    """Print ``exc`` (as JSON on stdout with ``--json``) and return its exit code."""
    if as_json:
        print_json(error_json(exc))
    else:
        print_error(exc)
    return EXIT_NEGATIVE if exc.code in NEGATIVE_CODES else EXIT_ERROR


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def help_when_bare(parser: argparse.ArgumentParser) -> None:
    """A command group run without an action prints its help and exits with EXIT_ERROR."""

    def _help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return EXIT_ERROR

    parser.set_defaults(func=_help)


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果和错误 / JSON output (results and errors)")


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose mistakes are :class:`UsageError` (bilingual, JSON with ``--json``),
    and whose descriptions lose their reST markup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("description"):
            kwargs["description"] = plain(kwargs["description"])
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(
            f"命令参数有误：{message}。用法见 {self.prog} --help。",
            f"Bad command arguments: {message}. See {self.prog} --help.",
            details={"command": self.prog},
        )


# -- PIN input --------------------------------------------------------------------------------


class PinInputError(BidSealError):
    code = "ERR_PIN_INPUT"


def _stdin_line() -> str:
    """One line of stdin, strictly UTF-8 (a PIN is never guessed from mangled bytes)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream (tests, embedding)
        line = sys.stdin.readline()
        if not line:
            raise _pin_eof()
        return line.rstrip("\r\n")
    raw = buffer.readline(4096)
    if not raw:
        raise _pin_eof()
    try:
        return bytes(raw).rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError:
        raise PinInputError("标准输入中的口令不是有效的 UTF-8 文本，未使用。",
                            "The PIN on standard input is not valid UTF-8 text; it was not used.") from None


def _pin_eof() -> PinInputError:
    return PinInputError("标准输入中没有口令（输入已结束），未做任何操作。",
                         "No PIN on standard input (end of input); nothing was done.")


def read_pin(from_stdin: bool, prompt: str = "请输入 UKey 口令 / UKey PIN: ") -> bytearray:
    """Read a PIN without echo (or one line from stdin with --pin-stdin).

    Returned as a bytearray so the caller can wipe it after use; never logged.
    """
    if from_stdin:
        pin = _stdin_line()
    else:
        if not sys.stdin.isatty():
            raise PinInputError(
                "没有终端可输入口令；自动化场景请使用 --pin-stdin 从标准输入提供口令。",
                "No terminal to type the PIN; use --pin-stdin to pass it on standard input.",
            )
        try:
            pin = getpass.getpass(prompt)
        except EOFError:
            raise PinInputError("没有输入口令（Ctrl-D），操作已取消，未做任何操作。",
                                "No PIN was entered (Ctrl-D); cancelled, nothing was done.") from None
        except UnicodeDecodeError:
            raise PinInputError("输入的口令含有无法识别的字符，未使用。",
                                "The PIN typed contains characters that cannot be read; it was not used.") from None
    if not pin:
        raise PinInputError("口令为空，未做任何操作。", "The PIN is empty; nothing was done.")
    buf = bytearray(pin.encode("utf-8"))
    del pin
    if len(buf) > MAX_PIN_BYTES:
        wipe(buf)
        raise PinInputError(f"口令过长（超过 {MAX_PIN_BYTES} 字节），未使用。",
                            f"The PIN is too long (over {MAX_PIN_BYTES} bytes); it was not used.")
    return buf


def ask_yes_no(question: str) -> bool:
    """A yes/no question on the terminal (False when there is none, or on Ctrl-D)."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    try:
        print(question, end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return answer.strip().lower() in ("y", "yes", "是", "好")


# -- signals and pipes ----------------------------------------------------------------------


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C (temporary files discarded, PIN wiped)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def signals_as_cancel() -> Iterator[None]:
    """SIGTERM/SIGHUP handled like Ctrl-C while the block runs (main thread only)."""
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    old: dict[int, Any] = {}
    try:
        for sig in wanted:
            with contextlib.suppress(ValueError, OSError):  # not the main thread
                old[sig] = signal.signal(sig, _terminate)
        yield
    finally:
        for sig, handler in old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, handler)


def quiet_stdout_after_broken_pipe() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is silent."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def printable_streams() -> None:
    """Never fail on printing: characters the terminal cannot show become escapes."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


# -- progress -----------------------------------------------------------------------------------


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

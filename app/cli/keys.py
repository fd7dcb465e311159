"""Choosing the UKey on the command line (:mod:`app.token.selection` with a terminal).

One set of options for every command that uses a key: ``--key`` (device name, device
serial or label; ``--device`` is the old name), ``--unit-code``, ``--serial``,
``--container``, ``--lib`` and ``--pin-stdin``. When several keys fit and nothing
says which, a terminal asks for a number; without a terminal the command stops
with the list of keys (:class:`app.token.selection.KeyAmbiguous`) before any PIN.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from app.cli.common import PinInputError, read_pin, tr, wipe
from app.token.identity import Identity
from app.token.selection import (
    Chooser,
    Discovery,
    KeyFilter,
    Need,
    discover_for,
    key_label,
    pin_prompt,
)


def add_key_options(p: argparse.ArgumentParser, *, unit_code: bool = True, pin: bool = True) -> None:
    """The key-selection options (``unit_code=False`` where ``--unit-code`` means something else)."""
    g = p.add_argument_group("UKey 选择 / key selection")
    g.add_argument("--key", "--device", dest="key", metavar="NAME",
                   help="UKey 设备名、设备序列号或标签（插入多把时）/ key: device name, serial or label")
    if unit_code:
        g.add_argument("--unit-code", metavar="CODE",
                       help="按证书中的统一社会信用代码选择 / select by the certificate's unit code")
    g.add_argument("--serial", metavar="HEX", help="按证书序列号选择 / select by certificate serial (hex)")
    g.add_argument("--container", metavar="NAME", help="容器名 / container name")
    g.add_argument("--lib", metavar="PATH", help="SKF 驱动库路径 / SKF library path (default: auto-detect)")
    if pin:
        g.add_argument("--pin-stdin", action="store_true",
                       help="从标准输入读取口令（一行，UTF-8）/ read the PIN from stdin (one UTF-8 line)")


def key_filter(args: argparse.Namespace, *, unit_code: str | None = None) -> KeyFilter:
    return KeyFilter(library=getattr(args, "lib", None), key=getattr(args, "key", None),
                     container=getattr(args, "container", None),
                     unit_code=unit_code if unit_code is not None else getattr(args, "unit_code", None),
                     serial=getattr(args, "serial", None))


def uses_key_options(args: argparse.Namespace) -> bool:
    return any(getattr(args, n, None) for n in ("key", "serial", "container", "lib"))


def terminal_chooser(args: argparse.Namespace, need: Need) -> Chooser | None:
    """A numbered list on the terminal (None without one, or when stdin carries the PIN)."""
    if getattr(args, "pin_stdin", False) or getattr(args, "json", False):
        return None
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None

    def choose(idents: Sequence[Identity]) -> Identity:
        print(tr("插入了多把可用的 UKey：", "Several keys are inserted:"), file=sys.stderr)
        for i, ident in enumerate(idents, 1):
            print(f"  [{i}] {key_label(ident, need)}", file=sys.stderr)
        while True:
            print(tr(f"请选择要使用的 UKey [1-{len(idents)}]：", f"Which key [1-{len(idents)}]? "),
                  end="", file=sys.stderr, flush=True)
            line = sys.stdin.readline()
            if not line:
                raise PinInputError("没有选择 UKey（输入已结束），已取消。", "No key was chosen (end of input); cancelled.")
            text = line.strip()
            if text.isdigit() and 1 <= int(text) <= len(idents):
                return idents[int(text) - 1]

    return choose


def print_warnings(disc: Discovery, ident: Identity | None = None) -> None:
    """Driver failures that did not stop the command, and the key's own warnings, on stderr."""
    for failure in disc.failures:
        zh, en = failure.where()
        print(tr(f"注意：{zh}", f"Note: {en}"), file=sys.stderr)
    if ident is not None:
        for w in ident.warnings:
            print(f"! {w}", file=sys.stderr)


@contextmanager
def pin_for(args: argparse.Namespace, ident: Identity, need: Need = "any", *, admin: bool = False) -> Iterator[bytearray]:
    """The PIN for ``ident`` (the prompt names the key and unit), wiped on exit."""
    pin = read_pin(bool(getattr(args, "pin_stdin", False)), pin_prompt(ident, admin=admin, need=need))
    try:
        yield pin
    finally:
        wipe(pin)


def open_for(args: argparse.Namespace, ident: Identity, need: Need) -> Any:
    """Read the PIN and log in to ``ident`` (the PIN is wiped once the key has it)."""
    from app.token import open_session

    with pin_for(args, ident, need) as pin:
        return open_session(ident, pin)


def discover_keys(args: argparse.Namespace, flt: KeyFilter | None = None) -> Discovery:
    return discover_for(flt or key_filter(args))

"""``bidseal settings``: show and change the settings the GUI's settings dialog edits.

The same file and rules as the dialog (app/settings.py): ``bidseal settings`` shows
them, ``set KEY VALUE`` / ``unset KEY`` change one, ``add-library PATH`` checks that a
vendor's SKF library can be loaded here (file, format, bitness) before adding it,
``remove-library PATH`` removes it, ``set-password`` stores the TSA password in the
system keyring (typed without echo, or ``--stdin``).
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import sys
from typing import Any

from app import settings
from app.cli.common import EXIT_OK, add_json, print_json, report_error, tr
from app.errors import BidSealError

#: CLI key -> Settings field (the list-valued SKF libraries have their own actions).
KEYS = {
    "language": "language", "tsa-url": "tsa_url", "tsa-username": "tsa_username",
    "output-folder": "output_folder", "sealed-name": "sealed_name", "envelope-name": "envelope_name",
    "decrypted-name": "decrypted_name", "recovery-file": "recovery_file", "time-server": "time_server",
    "helper": "helper_enabled", "update-url": "update_url", "update-check": "update_enabled",
}

#: On/off settings and the words that turn them on or off.
_SWITCHES = {"helper_enabled", "update_enabled"}
_ON, _OFF = {"on", "true", "yes", "1", "开"}, {"off", "false", "no", "0", "关"}


def _value(field: str, text: str) -> object:
    """The typed value of ``bidseal settings set KEY TEXT`` (switches take on/off)."""
    if field not in _SWITCHES:
        return text
    word = text.strip().lower()
    if word in _ON | _OFF:
        return word in _ON
    raise BidSealError(f"“{text}”不是开关值：请用 on 或 off。", f"'{text}' is not a switch value: use on or off.",
                       code="ERR_USAGE", details={"value": text})


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("settings", help="查看与修改设置 / show and change settings")
    p.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    p.set_defaults(func=cmd_show)
    sub = p.add_subparsers(dest="settings_command", metavar="ACTION")
    s = sub.add_parser("set", help="设置一项 / set one value")
    s.add_argument("key", choices=sorted(KEYS))
    s.add_argument("value")
    add_json(s)
    s.set_defaults(func=cmd_set)
    u = sub.add_parser("unset", help="恢复默认值 / back to the default")
    u.add_argument("key", choices=sorted(KEYS))
    add_json(u)
    u.set_defaults(func=cmd_unset)
    a = sub.add_parser("add-library", help="添加 CA 的 SKF 驱动库 / add a CA's SKF library")
    a.add_argument("path")
    add_json(a)
    a.set_defaults(func=cmd_add_library)
    r = sub.add_parser("remove-library", help="移除 SKF 驱动库 / remove an SKF library")
    r.add_argument("path")
    add_json(r)
    r.set_defaults(func=cmd_remove_library)
    pw = sub.add_parser("set-password", help="把时间戳服务密码存入系统钥匙串 / store the TSA password in the keyring")
    pw.add_argument("--stdin", action="store_true", help="从标准输入读取 / read it from stdin")
    add_json(pw)
    pw.set_defaults(func=cmd_set_password)


def _run(fn: Any, args: argparse.Namespace) -> int:
    """Run a change; with --json print the settings afterwards. Errors as sentences (or JSON)."""
    try:
        fn()
    except BidSealError as exc:
        return report_error(exc, bool(getattr(args, "json", False)))
    if getattr(args, "json", False):
        print_json({"ok": True, **_shown()})
    return EXIT_OK


def _shown() -> dict[str, Any]:
    s = settings.load()
    data = {k: getattr(s, f) for k, f in KEYS.items()} | {"skf-libraries": list(s.skf_libraries)}
    return {"file": str(settings.settings_file()), "settings": data, "problems": list(s.problems)}


def cmd_show(args: argparse.Namespace) -> int:
    shown = _shown()
    if args.json:
        print_json(shown)
        return EXIT_OK
    print(tr("设置文件", "Settings file") + f": {shown['file']}")
    for key, value in shown["settings"].items():
        value = ("on" if value else "off") if isinstance(value, bool) else value
        print(f"  {key}: {value if value not in (None, [], '') else '-'}")
    for problem in shown["problems"]:
        print("  ! " + problem)
    return EXIT_OK


def cmd_set(args: argparse.Namespace) -> int:
    field = KEYS[args.key]
    return _run(lambda: settings.update(**{field: _value(field, args.value)}), args)


def cmd_unset(args: argparse.Namespace) -> int:
    field = KEYS[args.key]
    default = next(f.default for f in dataclasses.fields(settings.Settings) if f.name == field)
    return _run(lambda: settings.update(**{field: default}), args)


def cmd_add_library(args: argparse.Namespace) -> int:
    def run() -> None:
        from app.token.skf_ffi import probe_library

        path = os.path.abspath(args.path)
        info = probe_library(path)  # missing file, not a library, wrong bitness: a clear sentence
        current = settings.load().skf_libraries
        if path not in current:
            settings.update(skf_libraries=(*current, path))
        if not args.json:
            print(tr(f"已添加 SKF 驱动库（{info.format}，{info.bits} 位）：{path}",
                     f"SKF library added ({info.format}, {info.bits}-bit): {path}"))

    return _run(run, args)


def cmd_remove_library(args: argparse.Namespace) -> int:
    def run() -> None:
        current = settings.load().skf_libraries
        keep = tuple(p for p in current if p not in (args.path, os.path.abspath(args.path)))
        if keep == current:
            raise BidSealError(f"设置中没有这个驱动库：{args.path}", f"No such library in the settings: {args.path}",
                               code="ERR_SETTINGS_INVALID")
        settings.update(skf_libraries=keep)

    return _run(run, args)


def cmd_set_password(args: argparse.Namespace) -> int:
    def run() -> None:
        if args.stdin:
            value = sys.stdin.readline().rstrip("\r\n")
        else:
            value = getpass.getpass(tr("时间戳服务密码: ", "TSA password: "))
        settings.set_secret("tsa_password", value)
        if not args.json:
            print(tr("密码已存入系统钥匙串。", "The password is stored in the system keyring."))

    return _run(run, args)

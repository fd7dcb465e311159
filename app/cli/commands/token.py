"""``bidseal token``: list keys and certificates, PIN status, change and unblock the PIN."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.cli.common import EXIT_ERROR, EXIT_OK, lang, print_json, read_pin, wipe
from app.errors import BidSealError


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lib", metavar="PATH", help="SKF 驱动库路径 / SKF library path (default: auto-detect)")
    p.add_argument("--device", metavar="NAME", help="设备名 / device name (default: the first key)")
    p.add_argument("--container", metavar="NAME", help="容器名 / container name (default: the first one)")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("token", help="UKey 与证书列表、口令管理 / list UKeys, manage the PIN")
    sub = p.add_subparsers(dest="token_command", metavar="ACTION")

    ls = sub.add_parser("list", help="列出驱动库、UKey、证书与印章 / list libraries, keys, certificates, seals")
    ls.add_argument("--lib", metavar="PATH", action="append",
                    help="只尝试这些 SKF 驱动库（可重复）/ try only these SKF libraries (repeatable)")
    ls.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    ls.set_defaults(func=cmd_list)

    info = sub.add_parser("pin-info", help="口令剩余重试次数 / PIN retry counters")
    _add_selection(info)
    info.add_argument("--admin", action="store_true", help="管理员口令 / the admin PIN")
    info.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    info.set_defaults(func=cmd_pin_info)

    ch = sub.add_parser("change-pin", help="修改用户口令 / change the user PIN")
    _add_selection(ch)
    ch.add_argument("--pin-stdin", action="store_true",
                    help="从标准输入读取：第一行旧口令，第二行新口令 / stdin: old PIN, then new PIN, one per line")
    ch.set_defaults(func=cmd_change_pin)

    ub = sub.add_parser("unblock", help="用管理员口令解锁并设置新用户口令 / unblock with the admin PIN")
    _add_selection(ub)
    ub.add_argument("--pin-stdin", action="store_true",
                    help="从标准输入读取：第一行管理员口令，第二行新用户口令 / stdin: admin PIN, then new user PIN")
    ub.set_defaults(func=cmd_unblock)

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return EXIT_ERROR

    p.set_defaults(func=_help)


def _pick(text_zh: str, text_en: str) -> str:
    return text_en if lang() == "en" else text_zh


def _cert_lines(title: str, c: dict[str, Any] | None) -> list[str]:
    if c is None:
        return [f"      {title}: -"]
    return [
        f"      {title}: {c['subject']}",
        f"        单位 unit: {c.get('unit_name') or '-'}   代码 code: {c.get('unit_code') or '-'}",
        f"        序列号 serial: {c['serial_hex']}   有效期 validity: {c['not_before'][:10]} .. {c['not_after'][:10]}"
        f"{'' if c.get('valid_now') else '  (已过期或未生效 / not valid now)'}",
        f"        用途 usage: {', '.join(c.get('key_usage') or []) or '-'}   颁发者 issuer: {c.get('issuer_common_name')}",
    ]


def cmd_list(args: argparse.Namespace) -> int:
    from app.token import scan

    result = scan(args.lib)
    ok = any(lib.status == "ok" for lib in result.libraries)
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK if ok else EXIT_ERROR
    if not result.libraries:
        print(_pick("没有找到 SKF 驱动库。", "No SKF library found."))
    for lib in result.libraries:
        mark = "OK " if lib.status == "ok" else "ERR"
        print(f"[{mark}] {lib.path}  ({lib.candidate.reason})")
        if lib.error is not None:
            print(f"      {lib.error.message(lang())}")
            continue
        if not lib.devices:
            print("      " + _pick("未插入 UKey。", "No key inserted."))
        for dev in lib.devices:
            info = dev.info
            desc = f"{info.manufacturer} / {info.label} / SN {info.serial} / {', '.join(info.capabilities)}" if info else ""
            print(f"  设备 device: {dev.name}  {desc}")
            if dev.error is not None:
                print(f"      {dev.error.message(lang())}")
            for ident in dev.identities:
                s = ident.summary()
                print(f"    容器 container: {ident.application}/{ident.container}")
                lines = _cert_lines("签名证书 signing cert", s["sign_certificate"])
                lines += _cert_lines("加密证书 encryption cert", s["enc_certificate"])
                for line in lines:
                    print(line)
                seals = ", ".join(f"{k} ({v['file']}, {v['bytes']} B)" for k, v in s["seals"].items()) or "-"
                print(f"      印章 seals: {seals}")
                for w in ident.warnings:
                    print(f"      ! {w}")
            for prob in dev.problems:
                print(f"    ! {prob.message(lang())}")
    return EXIT_OK if ok else EXIT_ERROR


def _identity(args: argparse.Namespace) -> Any:
    from app.token import find_identity

    return find_identity(args.lib, args.device, args.container)


def cmd_pin_info(args: argparse.Namespace) -> int:
    from app.token import pin_info

    ident = _identity(args)
    info = pin_info(ident, admin=args.admin)
    if args.json:
        print_json({"device": ident.device, "container": ident.container, "admin": args.admin, **info.to_dict()})
        return EXIT_OK
    who = _pick("管理员口令", "admin PIN") if args.admin else _pick("用户口令", "user PIN")
    print(f"{ident.device}/{ident.container}: {who}")
    print(_pick(f"  剩余重试次数 {info.remaining} / 最大 {info.max_retries}",
                f"  retries left {info.remaining} of {info.max_retries}"))
    if info.locked:
        print(_pick("  已锁定：请联系 CA，或用 bidseal token unblock 解锁。",
                    "  LOCKED: contact your CA, or unblock it with bidseal token unblock."))
    if info.is_default:
        print(_pick("  仍是默认口令，请尽快修改（bidseal token change-pin）。",
                    "  Still the default PIN: change it (bidseal token change-pin)."))
    return EXIT_OK


def _read_two(from_stdin: bool, first_prompt: str, second_prompt: str) -> tuple[bytearray, bytearray]:
    first = read_pin(from_stdin, first_prompt)
    try:
        second = read_pin(from_stdin, second_prompt)
        if not from_stdin:
            again = read_pin(False, "再次输入新口令 / repeat the new PIN: ")
            same = again == second
            wipe(again)
            if not same:
                wipe(second)
                raise BidSealError("两次输入的新口令不一致。", "The two new PINs differ.", code="ERR_PIN_INPUT")
    except BaseException:
        wipe(first)
        raise
    return first, second


def _with_two_pins(args: argparse.Namespace, action: Callable[[Any, bytearray, bytearray], None],
                   prompts: tuple[str, str], done: tuple[str, str]) -> int:
    """Select the identity, read two PINs, run ``action(identity, first, second)``, wipe
    both PINs whatever happens, and say ``done`` on stderr."""
    ident = _identity(args)
    first, second = _read_two(args.pin_stdin, *prompts)
    try:
        action(ident, first, second)
    finally:
        wipe(first)
        wipe(second)
    print(_pick(*done), file=sys.stderr)
    return EXIT_OK


def cmd_change_pin(args: argparse.Namespace) -> int:
    from app.token import change_pin

    return _with_two_pins(args, change_pin, ("旧口令 / old PIN: ", "新口令 / new PIN: "),
                          ("口令已修改。", "The PIN was changed."))


def cmd_unblock(args: argparse.Namespace) -> int:
    from app.token import unblock

    return _with_two_pins(args, unblock, ("管理员口令 / admin PIN: ", "新用户口令 / new user PIN: "),
                          ("用户口令已解锁并重设。", "The user PIN was unblocked and reset."))

"""``bidseal token``: list keys and certificates, export a certificate, PIN status, change
and unblock the PIN.

``token list`` exit codes: 0 at least one key with a certificate was found; 1 no key
is inserted (every driver answered); 2 a driver failed (the key may be behind it).
With several keys inserted, ``--key``/``--unit-code``/``--serial`` say which one the
other actions use (a terminal asks otherwise).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.atomic import write_atomic
from app.cli.common import (
    EXIT_ERROR,
    EXIT_NEGATIVE,
    EXIT_OK,
    PinInputError,
    add_json,
    help_when_bare,
    lang,
    print_json,
    read_pin,
    say,
    shown,
    tr,
    wipe,
)
from app.cli.files import check_output
from app.cli.keys import (
    add_key_options,
    discover_keys,
    key_filter,
    print_warnings,
    terminal_chooser,
)
from app.token.identity import Identity
from app.token.selection import Need, describe, key_label, pin_prompt, select_identity


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("token", help="UKey 与证书列表、口令管理 / list UKeys, manage the PIN",
                              description=__doc__)
    sub = p.add_subparsers(dest="token_command", metavar="ACTION")

    ls = sub.add_parser("list", help="列出驱动库、UKey、证书与印章 / list libraries, keys, certificates, seals",
                        description="退出码：0 找到 UKey；1 未插入 UKey；2 驱动出错。\n"
                                    "Exit codes: 0 a key was found; 1 no key inserted; 2 a driver failed.")
    ls.add_argument("--lib", metavar="PATH", action="append",
                    help="只尝试这些 SKF 驱动库（可重复）/ try only these SKF libraries (repeatable)")
    add_json(ls)
    ls.set_defaults(func=cmd_list)

    exp = sub.add_parser("export-cert", help="导出 UKey 中的证书（默认加密证书）/ export a certificate from the key",
                         description="把 UKey 中的加密证书（默认）或签名证书导出为 PEM（或 DER），"
                                     "例如交给交易平台用于加密投标文件。\n"
                                     "Export the key's encryption certificate (default) or signing certificate as "
                                     "PEM (or DER), e.g. to hand it to a trading platform.")
    which = exp.add_mutually_exclusive_group()
    which.add_argument("--enc", dest="which", action="store_const", const="enc",
                       help="加密证书（默认）/ the encryption certificate (default)")
    which.add_argument("--sign", dest="which", action="store_const", const="sign",
                       help="签名证书 / the signing certificate")
    exp.add_argument("-o", "--output", metavar="FILE", help="输出文件（默认标准输出）/ output file (default: stdout)")
    exp.add_argument("--der", action="store_true", help="DER 格式（默认 PEM）/ DER instead of PEM")
    exp.add_argument("--force", action="store_true", help="替换已存在的输出文件 / replace an existing output file")
    add_key_options(exp, pin=False)
    add_json(exp)
    exp.set_defaults(func=cmd_export_cert, which="enc")

    info = sub.add_parser("pin-info", help="口令剩余重试次数 / PIN retry counters")
    add_key_options(info, pin=False)
    info.add_argument("--admin", action="store_true", help="管理员口令 / the admin PIN")
    add_json(info)
    info.set_defaults(func=cmd_pin_info)

    ch = sub.add_parser("change-pin", help="修改用户口令 / change the user PIN")
    add_key_options(ch, pin=False)
    ch.add_argument("--pin-stdin", action="store_true",
                    help="从标准输入读取：第一行旧口令，第二行新口令 / stdin: old PIN, then new PIN, one per line")
    add_json(ch)
    ch.set_defaults(func=cmd_change_pin)

    ub = sub.add_parser("unblock", help="用管理员口令解锁并设置新用户口令 / unblock with the admin PIN")
    add_key_options(ub, pin=False)
    ub.add_argument("--pin-stdin", action="store_true",
                    help="从标准输入读取：第一行管理员口令，第二行新用户口令 / stdin: admin PIN, then new user PIN")
    add_json(ub)
    ub.set_defaults(func=cmd_unblock)

    help_when_bare(p)


# -- list ---------------------------------------------------------------------------------------


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


def _error_line(exc: Any) -> str:
    first, second = (exc.en, exc.zh) if lang() == "en" else (exc.zh, exc.en)
    fn = exc.details.get("function") or exc.details.get("op")
    code = exc.details.get("sar")
    extra = " ".join(str(v) for v in (fn, code, exc.details.get("sar_name")) if v)
    return f"{first} / {second}" + (f"  [{extra}]" if extra else "")


def _list_json(result: Any) -> dict[str, Any]:
    """``scan().to_dict()`` with each certificate's PEM added (``"pem"``)."""
    data: dict[str, Any] = result.to_dict()
    for lib, lib_d in zip(result.libraries, data["libraries"], strict=True):
        for dev, dev_d in zip(lib.devices, lib_d["devices"], strict=True):
            for ident, ident_d in zip(dev.identities, dev_d["identities"], strict=True):
                for key, cert in (("sign_certificate", ident.sign_certificate),
                                  ("enc_certificate", ident.enc_certificate)):
                    if cert is not None and ident_d.get(key) is not None:
                        ident_d[key]["pem"] = cert.pem.decode("ascii")
    return data


def cmd_list(args: argparse.Namespace) -> int:
    from app.token.selection import discover

    disc = discover(args.lib)
    result = disc.scan
    code = EXIT_OK if disc.identities else (EXIT_ERROR if disc.failures else EXIT_NEGATIVE)
    if args.json:
        data = _list_json(result)
        data["keys_found"] = len(disc.identities)
        data["failures"] = [f.to_dict() for f in disc.failures]
        print_json(data)
        return code
    if not result.libraries:
        print(tr("没有找到 SKF 驱动库。", "No SKF library found."))
    for lib in result.libraries:
        mark = "OK " if lib.status == "ok" else "ERR"
        print(f"[{mark}] {shown(lib.path)}  ({lib.candidate.reason})")
        if lib.error is not None:
            print(f"      {_error_line(lib.error)}")
            continue
        if not lib.devices:
            print("      " + tr("未插入 UKey。", "No key inserted."))
        for dev in lib.devices:
            dinfo = dev.info
            desc = (f"{dinfo.manufacturer} / {dinfo.label} / SN {dinfo.serial} / {', '.join(dinfo.capabilities)}"
                    if dinfo else "")
            print(f"  设备 device: {dev.name}  {desc}")
            if dev.error is not None:
                print(f"      {_error_line(dev.error)}")
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
                print(f"    ! {_error_line(prob)}")
    if code == EXIT_NEGATIVE:
        say("没有检测到 UKey：请插入 UKey，并确认已安装 CA 提供的驱动。",
            "No UKey detected: insert your key and check that its driver from the CA is installed.",
            file=sys.stderr)
    elif code == EXIT_ERROR:
        zh, en = disc.failure_error().zh, disc.failure_error().en
        say(zh, en, file=sys.stderr)
    return code


# -- selecting one identity ------------------------------------------------------------------------


def _identity(args: argparse.Namespace, need: Need = "any") -> Identity:
    disc = discover_keys(args)
    ident = select_identity(disc, key_filter(args), need, choose=terminal_chooser(args, need))
    print_warnings(disc, ident)
    return ident


# -- export-cert -------------------------------------------------------------------------------------


def cmd_export_cert(args: argparse.Namespace) -> int:
    need: Need = "sign" if args.which == "sign" else "enc"
    replace = False
    if args.output:
        replace = check_output(args.output, force=args.force, interactive=not args.json)
    ident = _identity(args, need)
    cert = ident.sign_certificate if need == "sign" else ident.enc_certificate
    assert cert is not None
    data = cert.der if args.der else cert.pem
    what_zh, what_en = ("签名证书", "signing certificate") if need == "sign" else ("加密证书", "encryption certificate")
    if args.output:
        write_atomic(args.output, data, replace=replace)
    elif args.der and sys.stdout.isatty():
        raise PinInputError("DER 是二进制格式，不能输出到终端；请用 -o 指定文件。",
                            "DER is binary and is not written to a terminal; give a file with -o.",
                            code="ERR_USAGE")
    elif not args.json:
        if args.der:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data.decode("ascii"))
    if args.json:
        print_json({"ok": True, "certificate": need, "format": "der" if args.der else "pem",
                    "output": shown(args.output) if args.output else None, "key": describe(ident),
                    "serial_hex": cert.serial_hex, "pem": cert.pem.decode("ascii")})
    elif args.output:
        say(f"已导出 {key_label(ident, need)} 的{what_zh}：{shown(args.output)}",
            f"Exported the {what_en} of {key_label(ident, need)}: {shown(args.output)}", file=sys.stderr)
    return EXIT_OK


# -- PIN management -----------------------------------------------------------------------------------


def cmd_pin_info(args: argparse.Namespace) -> int:
    from app.token import pin_info

    ident = _identity(args)
    info = pin_info(ident, admin=args.admin)
    if args.json:
        print_json({"ok": True, "device": ident.device, "container": ident.container, "admin": args.admin,
                    "key": describe(ident), **info.to_dict()})
        return EXIT_OK
    who_zh, who_en = ("管理员口令", "admin PIN") if args.admin else ("用户口令", "user PIN")
    print(f"{key_label(ident)}: {tr(who_zh, who_en)}")
    print("  " + tr(f"剩余重试次数 {info.remaining} / 最大 {info.max_retries}",
                    f"retries left {info.remaining} of {info.max_retries}"))
    if info.locked:
        say("  已锁定：请联系 CA，或用 bidseal token unblock 解锁。",
            "  LOCKED: contact your CA, or unblock it with bidseal token unblock.")
    if info.is_default:
        say("  仍是默认口令，请尽快修改（bidseal token change-pin）。",
            "  Still the default PIN: change it (bidseal token change-pin).")
    return EXIT_OK


def _read_two(args: argparse.Namespace, first_prompt: str, second_prompt: str) -> tuple[bytearray, bytearray]:
    from_stdin = args.pin_stdin
    first = read_pin(from_stdin, first_prompt)
    try:
        second = read_pin(from_stdin, second_prompt)
        if not from_stdin:
            again = read_pin(False, "再次输入新口令 / repeat the new PIN: ")
            same = again == second
            wipe(again)
            if not same:
                wipe(second)
                raise PinInputError("两次输入的新口令不一致，口令未修改。", "The two new PINs differ; nothing was changed.")
    except BaseException:
        wipe(first)
        raise
    return first, second


def _with_two_pins(args: argparse.Namespace, action: Callable[[Any, bytearray, bytearray], None],
                   admin: bool, done: tuple[str, str]) -> int:
    """Select the identity, read two PINs (prompts naming the key), run
    ``action(identity, first, second)``, wipe both PINs whatever happens, and say ``done``."""
    ident = _identity(args)
    first_prompt = pin_prompt(ident, admin=True) if admin else f"{key_label(ident)} 当前口令 / current PIN: "
    second_prompt = "新用户口令 / new user PIN: " if admin else "新口令 / new PIN: "
    first, second = _read_two(args, first_prompt, second_prompt)
    try:
        action(ident, first, second)
    finally:
        wipe(first)
        wipe(second)
    if args.json:
        print_json({"ok": True, "key": describe(ident), "done": done[1]})
    else:
        say(f"{key_label(ident)}：{done[0]}", f"{key_label(ident)}: {done[1]}", file=sys.stderr)
    return EXIT_OK


def cmd_change_pin(args: argparse.Namespace) -> int:
    from app.token import change_pin

    return _with_two_pins(args, change_pin, False, ("口令已修改。", "The PIN was changed."))


def cmd_unblock(args: argparse.Namespace) -> int:
    from app.token import unblock

    return _with_two_pins(args, unblock, True, ("用户口令已解锁并重设。", "The user PIN was unblocked and reset."))


__all__ = ["cmd_change_pin", "cmd_export_cert", "cmd_list", "cmd_pin_info", "cmd_unblock", "register"]

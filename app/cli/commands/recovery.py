"""``bidseal recovery new|info|check`` and the ``--recovery`` options of encrypt/decrypt.

The recovery key file (app/recovery, resources/docs/recovery-key-format.md) is the
bidder's offline way to open their own envelopes when the UKey cannot: ``encrypt
--recovery FILE`` adds its certificate as one more recipient (no passphrase needed),
``decrypt --recovery FILE`` opens the envelope with the passphrase (asked without echo,
or one line of standard input with ``--passphrase-stdin``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_OK, add_json, help_when_bare, print_json, report_error, tr
from app.envelope import NotARecipientError, is_envelope, read_info
from app.envelope.matching import recipients_among
from app.errors import BidSealError
from app.gm.keyops import SessionKeyUnwrapper
from app.gm.x509 import Certificate
from app.recovery import RecoveryKey, load, new_recovery_key, save
from app.recovery.errors import RecoveryError


class PassphraseInputError(RecoveryError):
    code = "ERR_PASSPHRASE_INPUT"


def read_passphrase(from_stdin: bool, *, confirm: bool = False) -> str:
    """The passphrase: typed without echo (twice when ``confirm``), or one stdin line."""
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise PassphraseInputError(
                "没有终端可输入口令；自动化场景请使用 --passphrase-stdin 从标准输入提供恢复密钥口令。",
                "No terminal to type the passphrase; use --passphrase-stdin to pass the recovery key "
                "passphrase on standard input.")
        text = getpass.getpass(tr("恢复密钥口令: ", "Recovery key passphrase: "))
        if confirm and getpass.getpass(tr("再次输入口令: ", "Repeat the passphrase: ")) != text:
            raise PassphraseInputError("两次输入的口令不一致。", "The two passphrases differ.")
    if not text:
        raise PassphraseInputError("口令为空。", "The passphrase is empty.")
    return text


# -- options of encrypt / decrypt (registered by app/cli/commands/envelope.py) ----------


def add_encrypt_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recovery", action="append", type=Path, default=[], metavar="FILE.bsrk",
                   help="同时加密给恢复密钥文件（UKey 丢失或损坏时用口令解密）"
                        " / also encrypt to a recovery key file (opens with its passphrase if the key is lost)")


def add_decrypt_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recovery", type=Path, metavar="FILE.bsrk",
                   help="用恢复密钥文件和口令解密，不用 UKey / decrypt with a recovery key file and its passphrase")
    p.add_argument("--passphrase-stdin", action="store_true",
                   help="从标准输入读取恢复密钥口令 / read the recovery key passphrase from stdin")


def certificates(args: argparse.Namespace) -> list[Certificate]:
    """The recovery certificates to add as recipients (``--recovery``, repeatable)."""
    return [load(path).certificate for path in getattr(args, "recovery", None) or []]


def wanted(args: argparse.Namespace) -> bool:
    """True when decryption should use a recovery file instead of a key."""
    return getattr(args, "recovery", None) is not None


def unwrapper(args: argparse.Namespace) -> SessionKeyUnwrapper:
    """Open ``args.recovery`` for decrypting ``args.input``: the file is checked and found
    among the envelope's recipients before the passphrase is asked."""
    key_options = ("soft_key", "cert", "lib", "key", "container", "serial")
    if any(getattr(args, name, None) for name in key_options):
        raise BidSealError("--recovery 不能与 UKey 或软件密钥选项同时使用。",
                           "--recovery cannot be combined with UKey or software-key options.",
                           code="ERR_USAGE")
    key = load(args.recovery)
    info = read_info(args.input) if is_envelope(args.input) else None  # a GM/T 0010 file has no header
    if info is not None and not recipients_among(info, [key.certificate]):
        raise NotARecipientError(
            f"该恢复密钥文件（序列号 {key.serial_hex}）不是此信封的接收者：加密时没有加入它。"
            "请改用 UKey 或交易中心的应急证书。",
            f"This recovery key file (serial {key.serial_hex}) is not a recipient of the envelope: "
            "it was not added when the file was encrypted. Use the UKey or the centre's emergency "
            "certificate instead.",
            recovery_serial=key.serial_hex,
            needed=[r.to_dict() for r in info.recipients],
        )
    return key.unlock(read_passphrase(args.passphrase_stdin))


# -- bidseal recovery ------------------------------------------------------------------


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("recovery", help="恢复密钥文件（应急解密）/ recovery key file (emergency decryption)")
    sub = p.add_subparsers(dest="recovery_command", metavar="ACTION")

    new = sub.add_parser("new", help="新建恢复密钥文件 / make a new recovery key file")
    new.add_argument("-o", "--output", type=Path, required=True, help="输出文件 / output file (.bsrk)")
    new.add_argument("--unit", metavar="NAME", help="投标单位名称 / the bidder's unit name")
    new.add_argument("--unit-code", metavar="CODE", help="统一社会信用代码 / unified social credit code")
    new.add_argument("--passphrase-stdin", action="store_true",
                     help="从标准输入读取口令（不再确认）/ read the passphrase from stdin (no confirmation)")
    new.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    new.set_defaults(func=cmd_new)

    info = sub.add_parser("info", help="显示恢复密钥文件的证书（无需口令）/ show the file's certificate (no passphrase)")
    info.add_argument("file", type=Path)
    info.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    info.set_defaults(func=cmd_info)

    check = sub.add_parser("check", help="演练：确认口令能打开恢复密钥文件 / drill: check that the passphrase opens the file")
    check.add_argument("file", type=Path)
    check.add_argument("--passphrase-stdin", action="store_true",
                       help="从标准输入读取口令 / read the passphrase from stdin")
    add_json(check)
    check.set_defaults(func=cmd_check)
    help_when_bare(p)


def _describe(key: RecoveryKey) -> dict[str, Any]:
    cert = key.certificate
    params = key.params
    return {"unit_name": cert.unit_name, "unit_code": cert.unit_code, "serial": cert.serial_hex,
            "fingerprint_sm3": key.fingerprint, "not_before": cert.not_before.isoformat(),
            "not_after": cert.not_after.isoformat(),
            "kdf": {"name": "scrypt", "n": params.n, "r": params.r, "p": params.p}}


def _print(key: RecoveryKey) -> None:
    d = _describe(key)
    print(f"  {tr('单位', 'unit')}: {d['unit_name'] or '-'}   {tr('代码', 'code')}: {d['unit_code'] or '-'}")
    print(f"  {tr('证书序列号', 'certificate serial')}: {d['serial']}")
    print(f"  {tr('SM3 指纹', 'SM3 fingerprint')}: {d['fingerprint_sm3']}")
    print(f"  {tr('口令派生', 'passphrase KDF')}: scrypt N={d['kdf']['n']} r={d['kdf']['r']} p={d['kdf']['p']}")


def _run(fn: Any, args: argparse.Namespace) -> int:
    """Errors as sentences (or as JSON with --json), exit code by the error."""
    try:
        return int(fn() or EXIT_OK)
    except BidSealError as exc:
        return report_error(exc, bool(getattr(args, "json", False)))


def cmd_new(args: argparse.Namespace) -> int:
    def run() -> int:
        if args.output.exists():  # refuse before the passphrase is typed
            raise BidSealError(f"文件 {args.output} 已存在，未覆盖。",
                               f"{args.output} already exists; not overwritten.",
                               code="ERR_OUTPUT_EXISTS", details={"path": str(args.output)})
        passphrase = read_passphrase(args.passphrase_stdin, confirm=True)
        key = new_recovery_key(passphrase, unit_name=args.unit, unit_code=args.unit_code)
        del passphrase
        save(key, args.output)
        if args.json:
            print_json({**_describe(key), "output": str(args.output)})
            return EXIT_OK
        print(tr(f"已生成恢复密钥文件：{args.output}", f"Recovery key file written: {args.output}"))
        _print(key)
        print(tr("请把该文件离线保存（U 盘、保险柜），口令另行保管；加密投标文件时用 --recovery 加入它。",
                 "Keep the file offline (USB stick, safe) and the passphrase elsewhere; add it with "
                 "--recovery when you encrypt a bid."))
        return EXIT_OK

    return _run(run, args)


def cmd_info(args: argparse.Namespace) -> int:
    def run() -> int:
        key = load(args.file)
        if args.json:
            print_json(_describe(key))
        else:
            print(tr("BidSeal 恢复密钥文件", "BidSeal recovery key file") + f": {args.file}")
            _print(key)
        return EXIT_OK

    return _run(run, args)


def cmd_check(args: argparse.Namespace) -> int:
    def run() -> int:
        key = load(args.file)
        key.unlock(read_passphrase(args.passphrase_stdin))
        if args.json:
            print_json({"ok": True, **_describe(key)})
        else:
            print(tr("口令正确，恢复密钥可以使用。", "The passphrase is right; the recovery key works."))
        return EXIT_OK

    return _run(run, args)

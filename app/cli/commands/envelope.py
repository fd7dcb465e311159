"""``bidseal encrypt`` / ``bidseal decrypt`` / ``bidseal envelope info|export-cms|import-cms``.

Bid-file digital envelope (resources/docs/envelope-format.md). Decryption uses the
inserted UKey that holds an encryption certificate the envelope names (the PIN
prompt names it; ``--key``/``--unit-code``/``--serial`` narrow the choice) or, for
tests and a trading centre's emergency key, a software key
(``--soft-key KEY.pem --cert CERT.pem``). Everything that can fail without the key
(input, output, envelope format, finding a recipient key) is checked before the PIN.

Exit codes: 0 success; 1 the envelope failed its integrity check (altered,
truncated, extended: nothing was written); 2 usage, input/output, certificate,
not-a-recipient, key and device errors.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from app.cli import envelope_records
from app.cli.bid_checks import Warning_, content_warnings, own_key_warning
from app.cli.commands import recovery as recovery_cli
from app.cli.common import (
    EXIT_OK,
    ProgressPrinter,
    add_json,
    ask_yes_no,
    help_when_bare,
    print_json,
    say,
    shown,
    tr,
)
from app.cli.files import check_input, check_output, read_input
from app.cli.keys import (
    add_key_options,
    discover_keys,
    key_filter,
    open_for,
    print_warnings,
    terminal_chooser,
)
from app.envelope import (
    DEFAULT_CHUNK_SIZE,
    EnvelopeInfo,
    check_metadata,
    cms_recipients,
    decrypt_file,
    encrypt_file,
    export_cms,
    import_cms,
    is_cms,
    is_envelope,
    read_cms_info,
    read_info,
    recipient_entries,
)
from app.envelope.cms_bridge import PROFILES, CmsInfo
from app.envelope.errors import EnvelopeFormatError
from app.envelope.recipients import matches
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.keyops import SessionKeyUnwrapper, SoftwareUnwrapper
from app.gm.sm2 import PrivateKey
from app.gm.x509 import Certificate


class EnvelopeCliError(BidSealError):
    code = "ERR_USAGE"


# -- registration ---------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    enc = _file_command(
        subparsers, "encrypt", cmd_encrypt,
        summary="把投标文件加密给证书（数字信封）/ encrypt a bid file to certificates",
        description="用 SM4-GCM 分块加密文件，会话密钥用 SM2 加密给每个接收者的加密证书。"
                    "\n / Encrypt a file (SM4-GCM chunks) to the encryption certificate of each recipient.",
        input_help="明文文件 / plaintext file", output_help="信封文件 / envelope file (.bse)")
    _add_recipients(enc)
    recovery_cli.add_encrypt_option(enc)
    envelope_records.add_encrypt_options(enc)
    enc.add_argument("--project", metavar="ID", help="项目/标段编号 / project or section identifier")
    enc.add_argument("--unit-code", metavar="CODE",
                     help="投标单位统一社会信用代码（记入信封；配合 --to-key 选择 UKey）"
                          " / bidder's unit code (recorded; with --to-key also selects the key)")
    enc.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="BYTES",
                     help=f"分块大小 / chunk size (default {DEFAULT_CHUNK_SIZE})")
    enc.add_argument("--format", choices=("bidseal", "cms"), default="bidseal",
                     help="bidseal（默认，带完整性）或 cms（GM/T 0010，无完整性）"
                          " / bidseal (default, authenticated) or cms (GM/T 0010, no integrity)")
    enc.add_argument("--yes", "-y", action="store_true",
                     help="有警告时不询问，直接加密 / do not ask when there are warnings")
    add_key_options(enc, unit_code=False, pin=False)

    dec = _file_command(
        subparsers, "decrypt", cmd_decrypt,
        summary="用 UKey 解密数字信封 / decrypt an envelope with the UKey",
        description="用持有接收者加密证书的 UKey（或软件密钥）解密 BidSeal 信封或 GM/T 0010 数字信封；"
                    "完整性校验通过后才输出明文。\n / Decrypt a BidSeal or GM/T 0010 envelope with the key that "
                    "holds a recipient's encryption certificate; plaintext appears only after it verified.",
        input_help="信封文件 / envelope file", output_help="明文输出文件 / plaintext output")
    _add_key_options(dec)
    recovery_cli.add_decrypt_options(dec)

    env = subparsers.add_parser("envelope", help="数字信封工具 / envelope tools")
    sub = env.add_subparsers(dest="envelope_command", metavar="ACTION")
    info = sub.add_parser("info", help="显示信封的元数据与接收者（无需密钥）/ metadata and recipients (no key)")
    info.add_argument("file", type=Path, help="信封文件（BidSeal 或 GM/T 0010）/ envelope file (BidSeal or GM/T 0010)")
    add_json(info)
    info.set_defaults(func=cmd_info)
    envelope_records.register_action(sub)

    exp = _file_command(
        sub, "export-cms", cmd_export_cms,
        summary="加密为 GM/T 0010 数字信封（无完整性保护）"
                " / encrypt to a GM/T 0010 EnvelopedData (no integrity)",
        description="profile standard：RecipientInfo 版本 0、密钥加密算法 1.2.156.10197.1.301.3（标准）；"
                    "profile gmssl：版本 1、算法 1.2.156.10197.1.301.2，GmSSL 3（gmssl cmsdecrypt）与 gmsm 可读。"
                    "\n / profile standard: RecipientInfo version 0, key encryption 1.2.156.10197.1.301.3 "
                    "(the standard); profile gmssl: version 1, 1.2.156.10197.1.301.2, as GmSSL 3 "
                    "(gmssl cmsdecrypt) and gmsm read it. import-cms and decrypt accept both.",
        input_help="明文文件 / plaintext file", output_help="DER 输出 / DER output (.p7)")
    _add_recipients(exp)
    exp.add_argument("--oids", choices=("gm", "pkcs7"), default="gm",
                     help="内容类型 OID 族 / content-type OID family (default gm)")
    exp.add_argument("--profile", choices=PROFILES, default="standard",
                     help="接收者编码：standard（默认）或 gmssl / recipient encoding: standard (default) or gmssl")
    exp.add_argument("--pem", action="store_true",
                     help="PEM 格式输出（-----BEGIN CMS-----，gmssl 命令行读取此格式）"
                          " / PEM output (-----BEGIN CMS-----, as the gmssl command line reads it)")
    add_key_options(exp, pin=False)

    imp = _file_command(
        sub, "import-cms", cmd_import_cms,
        summary="解密 GM/T 0010 数字信封 / decrypt a GM/T 0010 EnvelopedData",
        input_help="数字信封（DER 或 PEM）/ EnvelopedData (DER or PEM)", output_help="明文输出 / plaintext output")
    _add_key_options(imp)

    help_when_bare(env)


def _file_command(subparsers: Any, name: str, func: Callable[[argparse.Namespace], int], *,
                  summary: str, input_help: str, output_help: str,
                  description: str | None = None) -> argparse.ArgumentParser:
    """A sub-command ``name INPUT -o OUTPUT [--force] [--json]`` that runs ``func``."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=summary, description=description)
    p.add_argument("input", type=Path, help=input_help)
    p.add_argument("-o", "--output", type=Path, required=True, help=output_help)
    p.add_argument("--force", action="store_true", help="替换已存在的输出文件 / replace an existing output file")
    add_json(p)
    p.set_defaults(func=func)
    return p


def _add_recipients(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", dest="to", action="append", type=Path, default=[], metavar="CERT.pem",
                   help="接收者的加密证书（可重复，如交易中心应急证书）"
                        " / recipient encryption certificate (repeatable, e.g. the centre's)")
    p.add_argument("--to-key", action="store_true",
                   help="加密给本机插入的 UKey 的加密证书（可与 --to 同用）"
                        " / also encrypt to the encryption certificate on the inserted key")


def _add_key_options(p: argparse.ArgumentParser) -> None:
    add_key_options(p)
    soft = p.add_argument_group("软件密钥（测试或应急解密）/ software key (testing, emergency)")
    soft.add_argument("--soft-key", type=Path, metavar="KEY.pem",
                      help="软件加密私钥（测试或应急解密）/ software encryption key (testing, emergency)")
    soft.add_argument("--cert", type=Path, metavar="CERT.pem",
                      help="与 --soft-key 配对的加密证书 / the encryption certificate of --soft-key")


# -- recipients --------------------------------------------------------------------------------


def _load_certs(paths: list[Path]) -> list[Certificate]:
    certs: list[Certificate] = []
    for path in paths:
        try:
            found = Certificate.load_all(read_input(path))
        except GMError as exc:
            raise EnvelopeCliError(f"证书文件 {shown(path)} 无法解析：{exc.zh}",
                                   f"The certificate file {shown(path)} cannot be read: {exc.en}",
                                   code="ERR_CERT_FORMAT", details={"path": shown(path)}) from exc
        if not found:
            raise EnvelopeCliError(f"文件 {shown(path)} 中没有证书。", f"No certificate in {shown(path)}.",
                                   code="ERR_CERT_FORMAT", details={"path": shown(path)})
        certs.extend(found)
    return certs


def _recipients(args: argparse.Namespace) -> tuple[list[Certificate], list[Certificate], Any]:
    """(recipients, encryption certificates on the inserted keys, the --to-key identity)."""
    if not args.to and not args.to_key:
        raise EnvelopeCliError("请用 --to 指定接收者证书，或用 --to-key 加密给本机 UKey。",
                               "Name the recipients: --to CERT.pem, or --to-key for the inserted key.")
    certs = _load_certs(args.to)
    from app.token.selection import select_identity

    if args.to_key:
        disc = discover_keys(args, key_filter(args, unit_code=args.unit_code))
        ident = select_identity(disc, key_filter(args, unit_code=args.unit_code), "enc",
                                choose=terminal_chooser(args, "enc"))
        print_warnings(disc, ident)
        assert ident.enc_certificate is not None
        return [ident.enc_certificate, *certs], [ident.enc_certificate], ident
    try:
        disc = discover_keys(args)
        own = [i.enc_certificate for i in disc.identities if i.enc_certificate is not None]
    except BidSealError:  # only for a warning: a broken driver must not stop encryption
        own = []
    return certs, own, None


def _confirm(args: argparse.Namespace, warnings: list[Warning_]) -> None:
    """Print the warnings; on a terminal (without --yes/--json) ask whether to go on."""
    if not warnings or args.json:
        return
    for _code, zh, en in warnings:
        say(f"警告：{zh}", f"Warning: {en}", file=sys.stderr)
    if args.yes or not sys.stdin.isatty():
        return
    if not ask_yes_no(tr("仍要加密吗？[y/N] ", "Encrypt anyway? [y/N] ")):
        raise EnvelopeCliError("已取消加密，未生成文件。", "Encryption cancelled; no file was written.",
                               code="ERR_CANCELLED")


# -- printing -------------------------------------------------------------------------------------


def _print_info(info: EnvelopeInfo) -> None:
    print(tr("BidSeal 投标文件数字信封", "BidSeal bid-file envelope") + f" v{info.version}")
    print(f"  {tr('原文件名', 'file name')}: {info.file_name}")
    print(f"  {tr('明文大小', 'plaintext size')}: {info.plaintext_size} B   "
          f"{tr('分块', 'chunk')}: {info.chunk_size} B   {tr('算法', 'cipher')}: {info.payload_algorithm}")
    print(f"  {tr('项目/标段', 'project')}: {info.project_id or '-'}   "
          f"{tr('投标单位代码', 'unit code')}: {info.unit_code or '-'}")
    print(f"  {tr('创建时间', 'created')}: {info.created_at.isoformat()}")
    if info.plaintext_sm3:
        print(f"  SM3({tr('明文', 'plaintext')}): {info.plaintext_sm3}")
    print(f"  {tr('接收者', 'recipients')} ({len(info.recipients)}):")
    for r in info.recipients:
        mark = "  *" if info.opened_by == r.index else "   "
        print(f"  {mark}[{r.index}] {r.unit_name or r.common_name or '-'}  "
              f"{tr('代码', 'code')} {r.unit_code or '-'}  {tr('序列号', 'serial')} {r.serial_hex}")
        print(f"        {tr('颁发者', 'issuer')}: {r.issuer}")
    if not info.authenticated:
        print("  " + tr("（未验证：信息来自文件头，解密时才校验）",
                        "(not authenticated: read from the header; checked on decryption)"))


def _print_cms_info(info: CmsInfo) -> None:
    print(tr("GM/T 0010 数字信封（CMS EnvelopedData，无完整性保护）",
             "GM/T 0010 envelope (CMS EnvelopedData, no integrity protection)"))
    print(f"  {tr('大小', 'size')}: {info.size} B   {tr('内容类型 OID', 'content-type OIDs')}: {info.content_type_family}"
          f"   {tr('编码', 'profile')}: {info.profile}")
    print(f"  {tr('接收者', 'recipients')} ({len(info.recipients)}):")
    for i, r in enumerate(info.recipients):
        print(f"     [{i}] {r.label}  {tr('密钥加密算法', 'key encryption')} {r.key_encryption_oid}")


def _used_key(ident: Any) -> dict[str, Any] | None:
    if ident is None:
        return None
    from app.token.selection import describe

    return describe(ident)


def _say_key(ident: Any) -> None:
    if ident is not None:
        from app.token.selection import key_label

        say(f"所用 UKey：{key_label(ident, 'enc')}", f"Key used: {key_label(ident, 'enc')}")


# -- decryption keys ------------------------------------------------------------------------------


def _soft_unwrapper(args: argparse.Namespace) -> SoftwareUnwrapper:
    if args.soft_key is None or args.cert is None:
        raise EnvelopeCliError("--soft-key 与 --cert 必须同时给出。",
                               "--soft-key and --cert must be given together.")
    if args.lib or args.key or args.container or args.serial or args.unit_code:
        raise EnvelopeCliError("软件密钥与 UKey 选项不能同时使用。",
                               "A software key and UKey options cannot be combined.")
    try:
        key = PrivateKey.from_pem(read_input(args.soft_key))
    except GMError as exc:
        raise EnvelopeCliError(f"私钥文件 {shown(args.soft_key)} 无法解析：{exc.zh}",
                               f"The key file {shown(args.soft_key)} cannot be read: {exc.en}",
                               code="ERR_KEY_FORMAT") from exc
    cert = _load_certs([args.cert])[0]
    if cert.public_key != key.public_key:
        raise EnvelopeCliError("--soft-key 私钥与 --cert 证书不匹配。",
                               "The --soft-key key does not belong to the --cert certificate.",
                               code="ERR_KEY_MISMATCH")
    return SoftwareUnwrapper(cert, key)


@contextlib.contextmanager
def _unwrapper(args: argparse.Namespace, is_recipient: Callable[[Certificate], bool],
               needed: list[str]) -> Iterator[SessionKeyUnwrapper]:
    """A software unwrapper, a recovery key file (--recovery), or a session on the key that
    holds a recipient's certificate (found before the PIN is asked; the prompt names it)."""
    if recovery_cli.wanted(args):
        yield recovery_cli.unwrapper(args)
        return
    if args.soft_key is not None or args.cert is not None:
        yield _soft_unwrapper(args)
        return
    from app.token.selection import select_recipient

    disc = discover_keys(args)
    ident = select_recipient(disc, key_filter(args), is_recipient, needed)
    print_warnings(disc, ident)
    args.identity = ident
    with open_for(args, ident, "enc") as session:
        yield session.unwrapper


def _progress(args: argparse.Namespace, zh: str, en: str) -> ProgressPrinter | None:
    return None if args.json else ProgressPrinter(tr(zh, en))


# -- commands ---------------------------------------------------------------------------------------


def cmd_encrypt(args: argparse.Namespace) -> int:
    check_metadata(args.project, "项目/标段编号", "project identifier", "--project")
    check_metadata(args.unit_code, "投标单位代码", "unit code", "--unit-code")
    check_input(args.input)
    replace = check_output(args.output, force=args.force, source=args.input, interactive=not args.json)
    certs, own, ident = _recipients(args)
    recovery = recovery_cli.certificates(args)
    certs = certs + recovery
    warnings = content_warnings(args.input) + own_key_warning(certs, own)
    _confirm(args, warnings)
    codes = [w[0] for w in warnings]
    if args.format == "cms":
        size = export_cms(args.input, args.output, certs, replace=replace)
        if args.json:
            print_json({"ok": True, "format": "gmt0010", "output": shown(args.output), "size": size,
                        "warnings": codes, "to_key": _used_key(ident)})
        else:
            say(f"已加密为 GM/T 0010 数字信封（无完整性保护）：{shown(args.output)}",
                f"Encrypted to a GM/T 0010 EnvelopedData (no integrity): {shown(args.output)}")
        return EXIT_OK
    unit_code = args.unit_code
    if unit_code is None and ident is not None and ident.enc_certificate is not None:
        unit_code = ident.enc_certificate.unit_code
    info = encrypt_file(args.input, args.output, certs, project_id=args.project,
                        unit_code=unit_code, chunk_size=args.chunk_size, replace=replace,
                        progress=_progress(args, "加密", "Encrypting"))
    envelope_records.remember(args, info, certs, recovery)
    if args.json:
        print_json({"ok": True, **info.to_dict(), "output": shown(args.output), "warnings": codes,
                    "to_key": _used_key(ident)})
    else:
        say(f"已加密：{shown(args.output)}", f"Encrypted: {shown(args.output)}")
        _print_info(info)
    return EXIT_OK


_CMS_SUFFIXES = (".p7", ".p7m", ".p7e", ".cms", ".der", ".env")


def _envelope_kind(path: Path) -> str:
    """"bidseal" or "cms"; anything else is a format error (before any key or PIN)."""
    if is_envelope(path):
        return "bidseal"
    if is_cms(path):
        return "cms"
    if path.suffix.lower() in _CMS_SUFFIXES:
        cms_recipients(read_input(path))  # an empty or foreign .p7: the CMS format error
    raise EnvelopeFormatError(
        f"{shown(path)} 不是数字信封（既不是 BidSeal 信封，也不是 GM/T 0010 数字信封）。",
        f"{shown(path)} is not an envelope (neither a BidSeal envelope nor a GM/T 0010 EnvelopedData).",
        reason="unknown_format", path=shown(path),
    )


def cmd_decrypt(args: argparse.Namespace) -> int:
    check_input(args.input)
    if _envelope_kind(args.input) == "cms":
        return _import_cms(args)
    header = read_info(args.input)  # a damaged or foreign file is reported before the PIN
    replace = check_output(args.output, force=args.force, source=args.input, interactive=not args.json)
    entries = recipient_entries(args.input)

    def is_recipient(cert: Certificate) -> bool:
        return any(matches(e, cert) for e in entries)

    needed = [f"{r.unit_name or r.common_name or '?'}（序列号 / serial {r.serial_hex}）" for r in header.recipients]
    with _unwrapper(args, is_recipient, needed) as unwrapper:
        info = decrypt_file(args.input, args.output, unwrapper, replace=replace,
                            progress=_progress(args, "解密", "Decrypting"))
    ident = getattr(args, "identity", None)
    if args.json:
        print_json({"ok": True, **info.to_dict(), "output": shown(args.output), "key": _used_key(ident)})
    else:
        say(f"已解密并通过完整性校验：{shown(args.output)}", f"Decrypted and verified: {shown(args.output)}")
        _say_key(ident)
        _print_info(info)
    return EXIT_OK


def _import_cms(args: argparse.Namespace) -> int:
    ids = cms_recipients(read_input(args.input))
    replace = check_output(args.output, force=args.force, source=args.input, interactive=not args.json)
    needed = [f"{r.issuer.rfc4514() if r.issuer else 'SKI'}（序列号 / serial "
              f"{format(r.serial, 'X') if r.serial is not None else (r.ski or b'').hex()}）" for r in ids]

    def is_recipient(cert: Certificate) -> bool:
        return any(r.matches(cert) for r in ids)

    with _unwrapper(args, is_recipient, needed) as unwrapper:
        size = import_cms(args.input, args.output, unwrapper, replace=replace)
    ident = getattr(args, "identity", None)
    if args.json:
        print_json({"ok": True, "format": "gmt0010", "output": shown(args.output), "plaintext_size": size,
                    "authenticated": False, "key": _used_key(ident)})
    else:
        say(f"已解密 GM/T 0010 数字信封（该格式没有完整性保护）：{shown(args.output)}",
            f"Decrypted the GM/T 0010 envelope (this format has no integrity protection): {shown(args.output)}")
        _say_key(ident)
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    check_input(args.file)
    cms = _envelope_kind(args.file) == "cms"
    info: CmsInfo | EnvelopeInfo = read_cms_info(args.file) if cms else read_info(args.file)
    if args.json:
        print_json(info.to_dict())
    elif isinstance(info, CmsInfo):
        _print_cms_info(info)
    else:
        _print_info(info)
    return EXIT_OK


def cmd_export_cms(args: argparse.Namespace) -> int:
    check_input(args.input)
    replace = check_output(args.output, force=args.force, source=args.input, interactive=not args.json)
    certs, _own, ident = _recipients(args)
    size = export_cms(args.input, args.output, certs, content_type_oids=args.oids, profile=args.profile,
                      pem=args.pem, replace=replace)
    if args.json:
        print_json({"ok": True, "format": "gmt0010", "profile": args.profile, "output": shown(args.output),
                    "size": size, "to_key": _used_key(ident)})
    else:
        say(f"已写出 GM/T 0010 数字信封（{size} 字节，{args.profile}，无完整性保护）：{shown(args.output)}",
            f"Wrote a GM/T 0010 EnvelopedData ({size} bytes, {args.profile}, no integrity): {shown(args.output)}")
    return EXIT_OK


def cmd_import_cms(args: argparse.Namespace) -> int:
    check_input(args.input)
    if not is_cms(args.input):
        cms_recipients(b"")  # the CMS format error
    return _import_cms(args)

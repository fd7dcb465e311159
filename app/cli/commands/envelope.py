"""``bidseal encrypt`` / ``bidseal decrypt`` / ``bidseal envelope info|export-cms|import-cms``.

Bid-file digital envelope (resources/docs/envelope-format.md). Decryption uses the
UKey through app.token (one session, the PIN read once) or, for tests and a trading
centre's emergency key, a software key (``--soft-key KEY.pem --cert CERT.pem``).

Exit codes: 0 success; 1 the envelope failed its integrity check (altered,
truncated, extended: nothing was written); 2 usage, input/output, certificate,
not-a-recipient, key and device errors.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from app.cli import envelope_records
from app.cli.commands import recovery as recovery_cli
from app.cli.common import (
    EXIT_ERROR,
    EXIT_NEGATIVE,
    EXIT_OK,
    ProgressPrinter,
    help_when_bare,
    print_error,
    print_json,
    read_pin,
    tr,
    wipe,
)
from app.envelope import (
    DEFAULT_CHUNK_SIZE,
    EnvelopeInfo,
    EnvelopeIntegrityError,
    decrypt_file,
    encrypt_file,
    export_cms,
    import_cms,
    is_envelope,
    read_info,
)
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.keyops import SessionKeyUnwrapper, SoftwareUnwrapper
from app.gm.sm2 import PrivateKey
from app.gm.x509 import Certificate


def register(subparsers: Any) -> None:
    enc = _file_command(
        subparsers, "encrypt", cmd_encrypt,
        summary="把投标文件加密给证书（数字信封）/ encrypt a bid file to certificates",
        description="用 SM4-GCM 分块加密文件，会话密钥用 SM2 加密给每个接收者的加密证书。"
                    " / Encrypt a file (SM4-GCM chunks) to the encryption certificate of each recipient.",
        input_help="明文文件 / plaintext file", output_help="信封文件 / envelope file (.bse)")
    _add_recipients(enc)
    recovery_cli.add_encrypt_option(enc)
    envelope_records.add_encrypt_options(enc)
    enc.add_argument("--project", metavar="ID", help="项目/标段编号 / project or section identifier")
    enc.add_argument("--unit-code", metavar="CODE", help="投标单位统一社会信用代码 / bidder's unit code")
    enc.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="BYTES",
                     help=f"分块大小 / chunk size (default {DEFAULT_CHUNK_SIZE})")
    enc.add_argument("--format", choices=("bidseal", "cms"), default="bidseal",
                     help="bidseal（默认，带完整性）或 cms（GM/T 0010，无完整性）"
                          " / bidseal (default, authenticated) or cms (GM/T 0010, no integrity)")
    _add_json(enc)

    dec = _file_command(
        subparsers, "decrypt", cmd_decrypt,
        summary="用 UKey 解密数字信封 / decrypt an envelope with the UKey",
        description="用 UKey（或软件密钥）解密 BidSeal 信封或 GM/T 0010 数字信封；完整性校验通过后才输出明文。"
                    " / Decrypt a BidSeal or GM/T 0010 envelope; plaintext appears only after it verified.",
        input_help="信封文件 / envelope file", output_help="明文输出文件 / plaintext output")
    _add_key_options(dec)
    recovery_cli.add_decrypt_options(dec)
    _add_json(dec)

    env = subparsers.add_parser("envelope", help="数字信封工具 / envelope tools")
    sub = env.add_subparsers(dest="envelope_command", metavar="ACTION")
    info = sub.add_parser("info", help="显示信封的元数据与接收者（无需密钥）/ metadata and recipients (no key)")
    info.add_argument("file", type=Path, help="信封文件 / envelope file")
    _add_json(info)
    info.set_defaults(func=cmd_info)
    envelope_records.register_action(sub)

    exp = _file_command(
        sub, "export-cms", cmd_export_cms,
        summary="加密为 GM/T 0010 数字信封（无完整性保护）"
                " / encrypt to a GM/T 0010 EnvelopedData (no integrity)",
        input_help="明文文件 / plaintext file", output_help="DER 输出 / DER output (.p7)")
    _add_recipients(exp)
    exp.add_argument("--oids", choices=("gm", "pkcs7"), default="gm",
                     help="内容类型 OID 族 / content-type OID family (default gm)")

    imp = _file_command(
        sub, "import-cms", cmd_import_cms,
        summary="解密 GM/T 0010 数字信封 / decrypt a GM/T 0010 EnvelopedData",
        input_help="DER 数字信封 / DER EnvelopedData", output_help="明文输出 / plaintext output")
    _add_key_options(imp)

    help_when_bare(env)


def _file_command(subparsers: Any, name: str, func: Callable[[argparse.Namespace], int], *,
                  summary: str, input_help: str, output_help: str,
                  description: str | None = None) -> argparse.ArgumentParser:
    """A sub-command ``name INPUT -o OUTPUT`` that runs ``func``."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=summary, description=description)
    p.add_argument("input", type=Path, help=input_help)
    p.add_argument("-o", "--output", type=Path, required=True, help=output_help)
    p.set_defaults(func=func)
    return p


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")


def _add_recipients(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", dest="to", action="append", type=Path, required=True, metavar="CERT.pem",
                   help="接收者的加密证书（可重复，如投标人自己的和交易中心应急证书）"
                        " / recipient encryption certificate (repeatable: your own, the centre's)")


def _add_key_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pin-stdin", action="store_true", help="从标准输入读取口令 / read the PIN from stdin")
    p.add_argument("--lib", metavar="PATH", help="SKF 驱动库路径 / SKF library path (default: auto-detect)")
    p.add_argument("--device", metavar="NAME", help="设备名 / device name (default: the first key)")
    p.add_argument("--container", metavar="NAME", help="容器名 / container name (default: the first one)")
    p.add_argument("--soft-key", type=Path, metavar="KEY.pem",
                   help="软件加密私钥（测试或应急解密）/ software encryption key (testing, emergency)")
    p.add_argument("--cert", type=Path, metavar="CERT.pem",
                   help="与 --soft-key 配对的加密证书 / the encryption certificate of --soft-key")


class EnvelopeCliError(BidSealError):
    code = "ERR_USAGE"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BidSealError(f"无法读取文件 {path}：{exc.strerror or exc}。",
                           f"Cannot read file {path}: {exc.strerror or exc}.",
                           code="ERR_IO", details={"path": str(path)}) from exc


def _load_certs(paths: list[Path]) -> list[Certificate]:
    certs: list[Certificate] = []
    for path in paths:
        try:
            found = Certificate.load_all(_read(path))
        except GMError as exc:
            raise EnvelopeCliError(f"证书文件 {path} 无法解析：{exc.zh}",
                                   f"The certificate file {path} cannot be read: {exc.en}",
                                   code="ERR_CERT_FORMAT", details={"path": str(path)}) from exc
        if not found:
            raise EnvelopeCliError(f"文件 {path} 中没有证书。", f"No certificate in {path}.",
                                   code="ERR_CERT_FORMAT", details={"path": str(path)})
        certs.extend(found)
    return certs


@contextlib.contextmanager
def _unwrapper(args: argparse.Namespace) -> Iterator[SessionKeyUnwrapper]:
    """A software unwrapper (--soft-key/--cert), a recovery key file (--recovery) or a UKey
    session opened once with the PIN."""
    if recovery_cli.wanted(args):
        yield recovery_cli.unwrapper(args)
        return
    if args.soft_key is not None or args.cert is not None:
        if args.soft_key is None or args.cert is None:
            raise EnvelopeCliError("--soft-key 与 --cert 必须同时给出。",
                                   "--soft-key and --cert must be given together.")
        if args.lib or args.device or args.container:
            raise EnvelopeCliError("软件密钥与 UKey 选项不能同时使用。",
                                   "A software key and UKey options cannot be combined.")
        try:
            key = PrivateKey.from_pem(_read(args.soft_key))
        except GMError as exc:
            raise EnvelopeCliError(f"私钥文件 {args.soft_key} 无法解析：{exc.zh}",
                                   f"The key file {args.soft_key} cannot be read: {exc.en}",
                                   code="ERR_KEY_FORMAT") from exc
        cert = _load_certs([args.cert])[0]
        if cert.public_key != key.public_key:
            raise EnvelopeCliError("--soft-key 私钥与 --cert 证书不匹配。",
                                   "The --soft-key key does not belong to the --cert certificate.",
                                   code="ERR_KEY_MISMATCH")
        yield SoftwareUnwrapper(cert, key)
        return
    from app.token import find_identity, open_session

    identity = find_identity(args.lib, args.device, args.container)
    pin = read_pin(args.pin_stdin)
    try:
        session = open_session(identity, pin)
    finally:
        wipe(pin)
    with session as s:
        yield s.unwrapper


def _run(fn: Any) -> int:
    """Map integrity failures to exit 1 and other BidSeal errors to exit 2."""
    try:
        return int(fn() or EXIT_OK)
    except EnvelopeIntegrityError as exc:
        print_error(exc)
        return EXIT_NEGATIVE
    except BidSealError as exc:
        print_error(exc)
        return EXIT_ERROR


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


def cmd_encrypt(args: argparse.Namespace) -> int:
    def run() -> int:
        recovery = recovery_cli.certificates(args)
        certs = _load_certs(args.to) + recovery
        if args.format == "cms":
            size = export_cms(args.input, args.output, certs)
            if args.json:
                print_json({"format": "gmt0010", "output": str(args.output), "size": size})
            else:
                print(tr(f"已加密为 GM/T 0010 数字信封（无完整性保护）：{args.output}",
                         f"Encrypted to a GM/T 0010 EnvelopedData (no integrity): {args.output}"))
            return EXIT_OK
        info = encrypt_file(args.input, args.output, certs, project_id=args.project,
                            unit_code=args.unit_code, chunk_size=args.chunk_size,
                            progress=ProgressPrinter(tr("加密", "Encrypting")))
        envelope_records.remember(args, info, certs, recovery)
        if args.json:
            print_json({**info.to_dict(), "output": str(args.output)})
        else:
            print(tr(f"已加密：{args.output}", f"Encrypted: {args.output}"))
            _print_info(info)
        return EXIT_OK

    return _run(run)


def cmd_decrypt(args: argparse.Namespace) -> int:
    def run() -> int:
        if not is_envelope(args.input) and _looks_like_cms(args.input):
            return _import_cms(args)
        # read the header first: a damaged or foreign file is reported before the PIN
        read_info(args.input)
        with _unwrapper(args) as unwrapper:
            info = decrypt_file(args.input, args.output, unwrapper,
                                progress=ProgressPrinter(tr("解密", "Decrypting")))
        if args.json:
            print_json({**info.to_dict(), "output": str(args.output)})
        else:
            print(tr(f"已解密并通过完整性校验：{args.output}",
                     f"Decrypted and verified: {args.output}"))
            _print_info(info)
        return EXIT_OK

    return _run(run)


def _looks_like_cms(path: Path) -> bool:
    from app.envelope import is_cms

    return is_cms(path)


def _import_cms(args: argparse.Namespace) -> int:
    with _unwrapper(args) as unwrapper:
        size = import_cms(args.input, args.output, unwrapper)
    if getattr(args, "json", False):
        print_json({"format": "gmt0010", "output": str(args.output), "plaintext_size": size,
                    "authenticated": False})
    else:
        print(tr(f"已解密 GM/T 0010 数字信封（该格式没有完整性保护）：{args.output}",
                 f"Decrypted the GM/T 0010 envelope (this format has no integrity protection): "
                 f"{args.output}"))
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    def run() -> int:
        info = read_info(args.file)
        if args.json:
            print_json(info.to_dict())
        else:
            _print_info(info)
        return EXIT_OK

    return _run(run)


def cmd_export_cms(args: argparse.Namespace) -> int:
    def run() -> int:
        size = export_cms(args.input, args.output, _load_certs(args.to), content_type_oids=args.oids)
        print(tr(f"已写出 GM/T 0010 数字信封（{size} 字节，无完整性保护）：{args.output}",
                 f"Wrote a GM/T 0010 EnvelopedData ({size} bytes, no integrity): {args.output}"))
        return EXIT_OK

    return _run(run)


def cmd_import_cms(args: argparse.Namespace) -> int:
    return _run(lambda: _import_cms(args))


"""``bidseal sign``: seal a bid PDF (or a folder of them) with the UKey's SM2 key.

::

    bidseal sign bid.pdf -o bid-sealed.pdf --keyword 投标人（盖章） [--occurrence 1|all]
    bidseal sign bid.pdf -o out.pdf --page 3 --rect 300,600,420,720 --seal legal
    bidseal sign bid.pdf -o out.pdf --cross-page [1-3,5]
    bidseal sign --batch in/ -o out/ --keyword 投标人（盖章） --cross-page
    bidseal sign --batch in/ -o in/ --suffix -signed --recursive --keyword 投标人（盖章）

Coordinates are points (1/72 in) on the page as a viewer shows it (top-left
origin, rotation and crop applied); pages are numbered from 1. The PIN is read
once (no echo; ``--pin-stdin`` for automation) and one UKey session signs every
seal and every file. ``--soft-key``/``--cert`` use a software key instead of a
UKey: for tests and demos only.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    ProgressPrinter,
    add_json,
    print_error,
    print_json,
    say,
    shown,
    tr,
)
from app.cli.files import check_input, check_output, check_output_folder, read_input
from app.cli.keys import (
    add_key_options,
    discover_keys,
    key_filter,
    open_for,
    print_warnings,
    terminal_chooser,
)
from app.errors import BidSealError
from app.pdfsign.errors import PdfSignError

_DEFAULT_SEAL = "company"


class SignUsageError(BidSealError):
    code = "ERR_USAGE"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sign", help="PDF 签章（公章、法人章、骑缝章）/ seal a PDF (company, legal-rep, cross-page seals)",
        description=__doc__,
    )
    p.add_argument("input", nargs="?", metavar="IN.pdf", help="要签章的 PDF / the PDF to seal")
    p.add_argument("--batch", metavar="IN_DIR", help="批量签章该文件夹中的所有 PDF / seal every PDF of a folder")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="输出文件（批量时为输出文件夹）/ output file (a folder with --batch)")
    p.add_argument("--suffix", default="",
                   help="批量输出文件名后缀，如 -signed；已带该后缀的文件视为之前的结果，不再签章 / "
                        "file-name suffix for --batch outputs; files already carrying it are skipped")
    p.add_argument("--recursive", action="store_true",
                   help="批量时也处理子文件夹（否则子文件夹报告为已跳过）/ with --batch, include subfolders "
                        "(otherwise they are reported as skipped)")
    where = p.add_argument_group("位置 / placement")
    where.add_argument("--page", type=int, metavar="N", help="页码（从 1 开始）/ page number (from 1)")
    where.add_argument("--rect", metavar="X0,Y0,X1,Y1", help="印章矩形（pt，左上角为原点）/ seal rectangle (pt)")
    where.add_argument("--keyword", metavar="TEXT", help="按关键字定位，如 投标人（盖章）/ place on a keyword")
    where.add_argument("--occurrence", default="1", metavar="K|all",
                       help="第几处关键字（默认 1；all 为全部）/ which occurrence (default 1, or all)")
    where.add_argument("--size-mm", type=float, default=None,
                       help="印章尺寸（毫米，默认公章 42、骑缝章 40）/ seal size in mm")
    where.add_argument("--cross-page", nargs="?", const="all", metavar="PAGES",
                       help="加盖骑缝章（默认全部页，如 1-3,5）/ add a cross-page seal (default: all pages)")
    where.add_argument("--cross-page-mode", choices=["single", "per-page"], default="single",
                       help="骑缝章记录方式（默认 single：一个签名）/ one signature (default) or one per page")
    seal = p.add_argument_group("印章与签名信息 / seal and signature details")
    seal.add_argument("--seal", metavar="NAME", help="UKey 中的印章（company、legal…）/ seal image on the UKey")
    seal.add_argument("--seal-image", metavar="PNG", help="使用该图片作为印章 / use this PNG as the seal")
    seal.add_argument("--format", dest="sig_format", choices=["adbe.pkcs7.detached", "gbt38540"],
                      default="adbe.pkcs7.detached",
                      help="签名格式：adbe.pkcs7.detached（默认）或 gbt38540（GB/T 38540 电子签章，/SubFilter /GM.sm2seal）"
                           " / signature format: adbe.pkcs7.detached (default) or gbt38540 (GB/T 38540 seal)")
    seal.add_argument("--ses-seal", metavar="NAME|FILE.esl",
                      help="gbt38540 用的电子印章：UKey 中的印章文件名或 .esl 文件（UKey 中只有一个时可省略）"
                           " / the SESeal for gbt38540: a seal file on the UKey or an .esl file")
    seal.add_argument("--reason", help="签章原因 / reason")
    seal.add_argument("--location", help="签章地点 / location")
    seal.add_argument("--tsa", metavar="URL", help="RFC 3161 时间戳服务地址（默认不使用）/ time-stamp URL (off)")
    seal.add_argument("--trust-root", "--trust", dest="trust_root", action="append", default=[], metavar="PEM",
                      help="验证时信任的根证书（可重复）/ trusted root for the final check (repeatable)")
    add_key_options(p)
    soft = p.add_argument_group("软件密钥（仅供测试/演示）/ software key (testing/demo only)")
    soft.add_argument("--soft-key", metavar="KEY.pem",
                      help="仅供测试/演示：软件私钥 / TESTING/DEMO ONLY: software SM2 key instead of a UKey")
    soft.add_argument("--cert", metavar="CERT.pem", help="与 --soft-key 配套的签名证书 / certificate for --soft-key")
    p.add_argument("--force", action="store_true", help="替换已存在的输出文件 / replace an existing output file")
    add_json(p)
    p.set_defaults(func=cmd_sign)
    _accept_dash_values(p, ("--suffix", "--rect"))


def _accept_dash_values(parser: argparse.ArgumentParser, options: tuple[str, ...]) -> None:
    """Let ``--suffix -signed`` and ``--rect -10,20,30,40`` work as the help shows.

    argparse takes a value that starts with ``-`` (and is not a plain negative number)
    for an option and fails; joining it to its option (``--suffix=-signed``) before
    parsing is what a user would have to type otherwise.
    """
    original = parser.parse_known_args

    def parse_known_args(args: Any = None, namespace: Any = None) -> Any:
        if args is not None:
            joined: list[str] = []
            it = iter(args)
            for a in it:
                if a in options:
                    nxt = next(it, None)
                    if nxt is not None and nxt.startswith("-") and nxt != "--" and nxt not in _OPTION_NAMES:
                        joined.append(f"{a}={nxt}")
                        continue
                    joined.append(a)
                    if nxt is not None:
                        joined.append(nxt)
                    continue
                joined.append(a)
            args = joined
        return original(args, namespace)

    _OPTION_NAMES.update(s for action in parser._actions for s in action.option_strings)  # noqa: SLF001
    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


_OPTION_NAMES: set[str] = set()


# -- argument parsing -------------------------------------------------------------------
def _usage(zh: str, en: str, **details: Any) -> SignUsageError:
    return SignUsageError(zh, en, details=details)


def parse_rect(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise _usage("--rect 应为 X0,Y0,X1,Y1 四个数。", "--rect must be four numbers X0,Y0,X1,Y1.", rect=text)
    return parts[0], parts[1], parts[2], parts[3]


def parse_pages(text: str | None) -> tuple[int, ...] | None:
    """``"1-3,5"`` -> (0, 1, 2, 4); ``"all"``/None -> None (every page)."""
    if text is None or text.strip().lower() in ("", "all"):
        return None
    pages: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = (int(v) for v in part.split("-", 1))
                pages.extend(range(a, b + 1))
            else:
                pages.append(int(part))
    except ValueError:
        pages = []
    if not pages or min(pages) < 1:
        raise _usage("页码范围格式错误，例如 1-3,5。", "Bad page list; use e.g. 1-3,5.", pages=text)
    return tuple(p - 1 for p in pages)


def _seal_requests(args: argparse.Namespace, image: bytes) -> list[Any]:
    from app.pdfsign import CrossPageMode, CrossPagePlacement, KeywordPlacement, RectPlacement, Seal

    seals = []
    if args.rect is not None or args.page is not None:
        if args.rect is None or args.page is None:
            raise _usage("--page 与 --rect 需同时给出。", "--page and --rect go together.")
        if args.keyword:
            raise _usage("--rect 与 --keyword 只能选一个。", "Use either --rect or --keyword, not both.")
        seals.append(Seal(RectPlacement(args.page - 1, parse_rect(args.rect)), image,
                          reason=args.reason, location=args.location))
    elif args.keyword:
        occ = args.occurrence.strip().lower()
        if occ == "all":
            occurrence = None
        else:
            try:
                occurrence = int(occ)
            except ValueError:
                raise _usage("--occurrence 应为正整数或 all。", "--occurrence must be a number or all.") from None
        kw = KeywordPlacement(args.keyword, occurrence=occurrence,
                              **({"size_mm": args.size_mm} if args.size_mm else {}))
        seals.append(Seal(kw, image, reason=args.reason, location=args.location))
    if args.cross_page is not None:
        mode = CrossPageMode.PER_PAGE if args.cross_page_mode == "per-page" else CrossPageMode.SINGLE_SIGNATURE
        cp = CrossPagePlacement(pages=parse_pages(args.cross_page), mode=mode,
                                **({"size_mm": args.size_mm} if args.size_mm and not seals else {}))
        seals.append(Seal(cp, image, reason=args.reason or "骑缝章", location=args.location))
    if not seals:
        raise _usage("请指定印章位置：--page/--rect、--keyword 或 --cross-page。",
                     "Say where to seal: --page/--rect, --keyword or --cross-page.")
    return seals


# -- key selection ------------------------------------------------------------------------
def _soft_signer(args: argparse.Namespace) -> Any:
    """TESTING/DEMO: a software key and its certificate (both files checked first)."""
    if not (args.soft_key and args.cert):
        raise _usage("--soft-key 与 --cert 需同时给出。", "--soft-key and --cert go together.")
    from app.gm import sm2
    from app.gm.errors import GMError
    from app.gm.keyops import SoftwareSigner
    from app.gm.x509 import Certificate

    try:
        key = sm2.PrivateKey.from_pem(read_input(args.soft_key))
        cert = Certificate.load(read_input(args.cert))
    except GMError as exc:
        raise _usage(f"软件密钥或证书无法解析：{exc.zh}", f"The software key or certificate cannot be read: {exc.en}",
                     key=shown(args.soft_key), cert=shown(args.cert)) from exc
    if key.public_key != cert.public_key:
        raise _usage("软件私钥与证书不匹配。", "The software key does not match the certificate.")
    say("注意：正在使用软件密钥（仅供测试/演示）。", "NOTE: using a software key (testing/demo only).", file=sys.stderr)
    return SoftwareSigner(cert, key)


def _choose_signer(args: argparse.Namespace) -> Any:
    """The identity that will seal: the only signing key, the one selected, or the one chosen
    on the terminal; driver failures are reported as such."""
    from app.token.selection import select_signer

    disc = discover_keys(args)
    ident = select_signer(disc, key_filter(args), choose=terminal_chooser(args, "sign"))
    print_warnings(disc, ident)
    return ident


@contextlib.contextmanager
def _signer(args: argparse.Namespace) -> Iterator[tuple[Any, Mapping[str, bytes]]]:
    """Yield (signer, seal images) for the chosen key. Everything that can fail without the
    key (certificate validity, seal picture, placement) is checked before the PIN is read,
    which is read once; the prompt names the key and unit."""
    from app.pdfsign.signer import check_certificate

    if args.soft_key or args.cert:
        signer = _soft_signer(args)
        check_certificate(signer.certificate, datetime.now(UTC))
        _check_placement(args, {}, ())
        args.ses_seal_obj = _ses_seal(args, {}, signer.certificate)
        yield signer, {}
        return
    ident = _choose_signer(args)
    args.identity = ident
    assert ident.sign_certificate is not None
    check_certificate(ident.sign_certificate, datetime.now(UTC))
    _check_placement(args, ident.seals, ident.warnings)
    args.ses_seal_obj = _ses_seal(args, getattr(ident, "ses_seals", {}), ident.sign_certificate)
    with open_for(args, ident, "sign") as session:
        yield session.signer, ident.seals


def _ses_seal(args: argparse.Namespace, key_seals: Mapping[str, Any], cert: Any) -> Any:
    """The SESeal for ``--format gbt38540`` (None for CMS), checked before the PIN: the
    maker's signature, that ``cert`` is one of its holders, and that it is valid now."""
    if args.sig_format != "gbt38540":
        if args.ses_seal:
            raise _usage("--ses-seal 只用于 --format gbt38540。", "--ses-seal goes with --format gbt38540.")
        return None
    from app.gm.ses import SESeal

    if args.ses_seal and args.ses_seal in key_seals:
        seal = key_seals[args.ses_seal]
    elif args.ses_seal:
        seal = SESeal.decode(read_input(args.ses_seal))
    elif len(key_seals) == 1:
        seal = next(iter(key_seals.values()))
    else:
        names = ", ".join(sorted(key_seals)) or "无 / none"
        raise _usage(f"请用 --ses-seal 指定电子印章（UKey 中的印章文件：{names}）。",
                     f"Choose the electronic seal with --ses-seal (seal files on the UKey: {names}).")
    seal.verify(signer=cert, at=datetime.now(UTC))
    return seal


def _check_placement(args: argparse.Namespace, key_seals: Mapping[str, bytes], warnings: Sequence[str]) -> None:
    seals = _seal_requests(args, _seal_image(args, key_seals, warnings))
    if not args.batch:
        _preflight(Path(args.input), seals)


def _seal_image(args: argparse.Namespace, seals: Mapping[str, bytes], warnings: Sequence[str] = ()) -> bytes:
    if args.seal_image:
        return read_input(args.seal_image)
    name = args.seal or _DEFAULT_SEAL
    if name in seals:
        return seals[name]
    unreadable = [w for w in warnings if "seal" in w]
    if seals or args.seal or unreadable:
        more_zh = f"（{'；'.join(unreadable)}）" if unreadable else ""
        raise _usage(
            f"UKey 中没有名为“{name}”的印章（现有：{', '.join(sorted(seals)) or '无'}）{more_zh}。",
            f"The UKey has no seal named '{name}' (available: {', '.join(sorted(seals)) or 'none'})"
            f"{' (' + '; '.join(unreadable) + ')' if unreadable else ''}.",
            seal=name,
        )
    raise _usage("没有印章图片：请用 --seal-image 指定 PNG。", "No seal image: pass a PNG with --seal-image.")


# -- the command ----------------------------------------------------------------------------
def _progress(args: argparse.Namespace) -> Any:
    if args.json or not sys.stderr.isatty():
        return None
    return ProgressPrinter(tr("签章中", "Sealing"))


def _options(args: argparse.Namespace) -> Any:
    """Seal options; the final check trusts the trust store's roots (app.trust) plus --trust."""
    from app.gm.errors import GMError
    from app.gm.x509 import Certificate
    from app.pdfsign import SealOptions
    from app.trust import TrustStoreError, trusted_roots

    roots: list[Certificate] = []
    for path in args.trust_root:
        try:
            roots.extend(Certificate.load_all(read_input(path)))
        except GMError as exc:
            raise _usage(f"根证书文件 {shown(path)} 无法解析：{exc.zh}",
                         f"The root certificate file {shown(path)} cannot be read: {exc.en}", file=shown(path)) from exc
    try:
        roots = trusted_roots(roots)
    except TrustStoreError as exc:  # a damaged store must not stop sealing: say so, use --trust only
        say(f"注意：信任列表无法读取（{exc.zh}），只信任 --trust 给出的根证书。",
            f"Note: the trust store cannot be read ({exc.en}); only --trust roots are trusted.", file=sys.stderr)
    return SealOptions(timestamp_url=args.tsa, trust_roots=tuple(roots))


def _trust_facts(result: Any) -> dict[str, Any]:
    """Whether the new signatures' signer chains to a trusted root (from the final check)."""
    report = getattr(result, "verification", None)
    new = {s.field_name for s in result.seals}
    mine = [sig for sig in getattr(report, "signatures", []) if sig.field_name in new]
    if not mine:
        return {}
    return {"trusted": all(sig.trusted for sig in mine), "demo": any(sig.demo for sig in mine),
            "chain": list(mine[0].chain)}


def _print_trust(trust: dict[str, Any]) -> None:
    if not trust:
        return
    root = trust["chain"][-1] if trust["chain"] else "?"
    if trust["trusted"] and trust["demo"]:
        say("签章人证书链到演示根证书（虚拟 UKey 的 CA）：仅供演示，不是真实身份。",
            "The signer's certificate chains to a demo root (the virtual UKey's CA): a demo, not a real identity.")
    elif trust["trusted"]:
        say(f"签章人证书链到受信任的根证书：{root}", f"The signer's certificate chains to a trusted root: {root}")
    else:
        say("注意：签章人证书不能链到本机信任的根证书（可用 bidseal trust add 或 --trust 添加 CA 根证书）；"
            "平台验证时以平台的信任列表为准。",
            "Note: the signer's certificate does not chain to a root trusted here (add the CA's root with "
            "bidseal trust add or --trust); the platform judges with its own trust list.")


def _preflight(src: Path, seals: Sequence[Any]) -> None:
    """Open the PDF and resolve every placement as the engine will (keyword found, page in
    range, seal picture readable), so nothing of that fails after the PIN."""
    from app.pdfsign.signer import preflight

    preflight(src, seals)


def _signer_facts(cert: Any, ident: Any = None) -> dict[str, Any]:
    facts: dict[str, Any] = {"unit_name": cert.unit_name, "common_name": cert.common_name,
                             "unit_code": cert.unit_code, "serial_hex": cert.serial_hex}
    if ident is not None:
        from app.token.selection import describe

        facts["key"] = describe(ident)
    return facts


def _print_signer(facts: dict[str, Any]) -> None:
    who = facts.get("unit_name") or facts.get("common_name") or "?"
    key = facts.get("key")
    where = f"UKey {key['device']}" if key else tr("软件密钥", "software key")
    say(f"签章人：{who}（{where}，证书序列号 {facts['serial_hex']}）",
        f"Signer: {who} ({where}, certificate serial {facts['serial_hex']})")


def _seal_one(args: argparse.Namespace, signer: Any, seals: list[Any], options: Any) -> int:
    from app.pdfsign import seal_pdf

    result = seal_pdf(args.input, args.output, signer, seals, options=options, progress=_progress(args))
    facts = _signer_facts(signer.certificate, getattr(args, "identity", None))
    trust = _trust_facts(result)
    if args.json:
        print_json({"ok": True, "output": shown(result.output_path),
                    "seals": [s.summary() for s in result.seals], "signer": {**facts, **trust}})
    else:
        say(f"已签章并验证：{shown(result.output_path)}", f"Sealed and verified: {shown(result.output_path)}")
        _print_signer(facts)
        _print_trust(trust)
        for s in result.seals:
            print(f"  {s.summary()}")
    return EXIT_OK


def _check_paths(args: argparse.Namespace) -> None:
    """Input readable, output usable (asked/--force), batch output a folder: before the key."""
    if args.batch:
        check_output_folder(args.output)
        return
    check_input(args.input)
    check_output(args.output, force=args.force, source=args.input, interactive=not (args.json or args.pin_stdin))


def _batch_plan(args: argparse.Namespace, cert: Any | None) -> Any:
    from app.pdfsign import scan_batch

    return scan_batch(args.batch, args.output, suffix=args.suffix, recursive=args.recursive,
                      already_sealed_by=cert)


def _print_skipped(plan: Any) -> None:
    for s in plan.reported():
        print(tr(f"跳过 {s.path}：{s.zh}", f"SKIP {s.path}: {s.en}"))


def cmd_sign(args: argparse.Namespace) -> int:
    from app.pdfsign import seal_batch

    if bool(args.batch) == bool(args.input):
        raise _usage("请给出一个输入 PDF，或用 --batch 指定文件夹。", "Give one input PDF, or a folder with --batch.")
    if args.recursive and not args.batch:
        raise _usage("--recursive 只用于 --batch。", "--recursive goes with --batch.")
    _seal_requests(args, b"")  # argument mistakes first
    options = _options(args)
    _check_paths(args)
    plan = _batch_plan(args, None) if args.batch else None
    if plan is not None and not plan.items:
        if not args.json:
            _print_skipped(plan)
        raise _usage("输入文件夹中没有需要签章的 PDF。", "The input folder has no PDF files to seal.",
                     folder=args.batch, skipped=[s.to_dict() for s in plan.reported()])
    with _signer(args) as (signer, seal_images):
        if getattr(args, "ses_seal_obj", None) is not None:
            options = dataclasses.replace(options, ses_seal=args.ses_seal_obj)
        seals = _seal_requests(args, _seal_image(args, seal_images))
        if plan is None:
            return _seal_one(args, signer, seals, options)
        # Now that the signer's certificate is known, files it already sealed are skipped too.
        plan = _batch_plan(args, signer.certificate)
        Path(args.output).mkdir(parents=True, exist_ok=True)
        summary = seal_batch(list(plan.items), signer, seals, options=options, progress=_progress(args))
    if args.json:
        print_json({**summary.to_dict(), "skipped": [s.to_dict() for s in plan.reported()]})
    else:
        _print_skipped(plan)
        for o in summary.outcomes:
            if o.ok and o.result is not None:
                print(tr(f"成功 {o.item.input_path} -> {o.item.output_path}",
                         f"OK   {o.item.input_path} -> {o.item.output_path}"))
                for s in o.result.seals:
                    print(f"  {s.summary()}")
            elif o.error is not None:
                print(tr(f"失败 {o.item.input_path}", f"FAIL {o.item.input_path}"))
                print_error(o.error, sys.stdout)
        skipped = len(plan.reported())
        print(tr(f"共 {len(summary.outcomes)} 个文件：成功 {len(summary.succeeded)}，失败 {len(summary.failed)}，"
                 f"跳过 {skipped}。",
                 f"{len(summary.outcomes)} files: {len(summary.succeeded)} sealed, {len(summary.failed)} failed, "
                 f"{skipped} skipped."))
    return EXIT_OK if summary.all_ok or not summary.outcomes else EXIT_ERROR


__all__ = ["PdfSignError", "SignUsageError", "cmd_sign", "parse_pages", "parse_rect", "register"]

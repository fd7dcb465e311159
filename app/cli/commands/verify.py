"""``bidseal verify FILE.pdf``: check every signature of a PDF.

Trust: the roots of the trust store (:mod:`app.trust`: shipped roots, ``bidseal
trust add``, the virtual UKey's demo root) by default; ``--trust`` adds roots for
this run, ``--no-default-trust`` ignores the store.

Exit codes: 0 only when every signature is valid (trusted) and nothing
disallowed changed after signing; 1 when something is invalid, untrusted,
modified, or the file has no signatures; 2 on usage or I/O errors (missing file,
not a PDF, unreadable trust root).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_NEGATIVE, EXIT_OK, ProgressPrinter, lang, print_error, print_json
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.x509 import Certificate, Crl
from app.pdfsign.pdfstructure import NotAPdfError, PdfStructureError


class VerifyCliError(BidSealError):
    code = "ERR_IO"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "verify",
        help="验证 PDF 中的全部签名 / verify every signature in a PDF",
        description="验证 PDF 中的全部签名（SM2/SM3），检查签名后是否被修改。"
                    " / Verify every SM2/SM3 signature in a PDF and whether it was modified after signing.",
    )
    p.add_argument("file", type=Path, help="PDF 文件 / PDF file")
    p.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    p.add_argument("--trust", action="append", default=[], type=Path, metavar="ROOT.pem",
                   help="额外信任的根证书（可多次指定）/ an extra trusted root certificate (repeatable)")
    p.add_argument("--no-default-trust", action="store_true",
                   help="不使用信任证书库，只信任 --trust 指定的根证书 / ignore the trust store; "
                        "trust only the --trust roots")
    p.add_argument("--crl", action="append", default=[], type=Path, metavar="CRL.pem",
                   help="证书吊销列表（可多次指定）/ certificate revocation list (repeatable)")
    p.add_argument("--accept-sm2-without-z", action="store_true",
                   help="兼容开关：接受对裸摘要（不含 Z 值）的非标准 SM2 签名，并在报告中警告 / compatibility "
                        "switch: accept non-standard SM2 signatures over a bare digest without Z, with a warning")
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="输出语言，默认中文 / output language (default zh, or BIDSEAL_LANG)")
    p.set_defaults(func=cmd_verify)


def _read(path: Path, what_zh: str, what_en: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerifyCliError(
            f"无法读取{what_zh}：{path}（{exc.strerror or exc}）。",
            f"Cannot read the {what_en} {path} ({exc.strerror or exc}).",
            details={"path": str(path)},
        ) from exc


def _load_roots(paths: list[Path]) -> list[Certificate]:
    from app.trust import read_certificate_file

    return [cert for path in paths for cert in read_certificate_file(path)]


def _load_crls(paths: list[Path]) -> list[Crl]:
    out: list[Crl] = []
    for path in paths:
        try:
            out.append(Crl.load(_read(path, "吊销列表", "CRL")))
        except GMError as exc:
            raise VerifyCliError(
                f"吊销列表无法解析：{path}。", f"The CRL {path} cannot be parsed.",
                details={"path": str(path), "reason": exc.en},
            ) from exc
    return out


def cmd_verify(args: argparse.Namespace) -> int:
    from app.pdfsign.verify import verify_pdf
    from app.trust import trusted_roots

    language = args.lang or lang()
    roots = trusted_roots(_load_roots(args.trust), use_default=not args.no_default_trust)
    crls = _load_crls(args.crl)
    if not args.file.is_file():
        raise VerifyCliError(f"文件不存在：{args.file}。", f"No such file: {args.file}.",
                             details={"path": str(args.file)})
    progress = None if args.json else ProgressPrinter("验证 / Verifying")
    try:
        report = verify_pdf(args.file, trust_roots=roots, crls=crls, progress=progress,
                            accept_sm2_without_z=args.accept_sm2_without_z)
    except PdfStructureError as exc:
        if isinstance(exc, NotAPdfError) or not _has_signature_dictionary(args.file):
            raise
        # A signed file that no longer parses was damaged or altered after signing:
        # that is a verdict on the signatures (invalid), not a usage or I/O problem.
        print_error(exc)
        print("已签名的文件结构已损坏，其中的签名不能视为有效。 / The signed file is damaged; its signatures "
              "cannot be considered valid.", file=sys.stderr)
        return EXIT_NEGATIVE
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.to_text(language))
        if not report.signatures:
            print("此 PDF 没有签名。 / This PDF has no signatures." if language != "en"
                  else "This PDF has no signatures.", file=sys.stderr)
    return EXIT_OK if report.all_valid else EXIT_NEGATIVE


def _has_signature_dictionary(path: Path) -> bool:
    """True when the file holds a ``/ByteRange`` key (read in chunks, never whole)."""
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            if b"/ByteRange" in tail + chunk:
                return True
            tail = chunk[-16:]
    return False

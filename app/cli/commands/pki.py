"""``bidseal pki``: a demo SM2 PKI on disk, and certificate summaries.

``bidseal pki demo --out DIR`` writes a root CA, the demo bidder's signing and
encryption certificates and keys, the trading centre's emergency decryption pair and
a TSA pair as PEM files (demo only: the keys are unprotected software keys).
``bidseal pki show CERT`` prints what BidSeal reads from a certificate.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.atomic import write_atomic
from app.cli.common import EXIT_OK, print_json
from app.demo.pki import DEMO_UNIT_CODE, DemoPKI, Subject, demo_pki
from app.errors import BidSealError
from app.gm.x509 import Certificate


class PkiCliError(BidSealError):
    code = "ERR_IO"


README = """BidSeal 演示 PKI / BidSeal demo PKI
=====================================

本目录中的证书和私钥仅供演示和测试使用。私钥没有任何保护，任何人都可以读取，
绝不能用于真实投标、真实签章或保护真实数据。真实的签名和加密密钥应保存在 CA
签发的 UKey 中，永远不离开 UKey。

These certificates and keys are for demonstrations and tests ONLY. The private
keys are unprotected software keys that anyone can read: never use them for a
real bid, a real seal or to protect real data. Real signing and encryption keys
live in a CA-issued UKey and never leave it.

Files / 文件:
  root.pem            演示根 CA 证书 / demo root CA certificate (trust anchor)
  sign-cert.pem       投标单位签名证书 / bidder signing certificate
  sign-key.pem        签名私钥（演示）/ signing private key (demo)
  enc-cert.pem        投标单位加密证书 / bidder encryption certificate
  enc-key.pem         加密私钥（演示）/ encryption private key (demo)
  emergency-cert.pem  交易中心应急解密证书 / trading centre emergency decryption certificate
  emergency-key.pem   应急解密私钥（演示）/ emergency decryption private key (demo)
  tsa-cert.pem        演示时间戳服务证书 / demo TSA certificate
  tsa-key.pem         时间戳私钥（演示）/ TSA private key (demo)

Unit / 单位: {unit_name}
Unified social credit code / 统一社会信用代码: {unit_code}

Check with OpenSSL 3 (the SM2 ID must be given):
  openssl verify -CAfile root.pem -vfyopt distid:1234567812345678 sign-cert.pem
"""

FILES = ("root.pem", "sign-cert.pem", "sign-key.pem", "enc-cert.pem", "enc-key.pem",
         "emergency-cert.pem", "emergency-key.pem", "tsa-cert.pem", "tsa-key.pem", "README.txt")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("pki", help="演示 PKI 与证书查看 / demo PKI and certificate viewer")
    sub = p.add_subparsers(dest="pki_command", metavar="ACTION")

    demo = sub.add_parser("demo", help="生成演示 SM2 证书与密钥 / write a demo SM2 PKI")
    demo.add_argument("--out", required=True, type=Path, help="输出目录 / output directory")
    demo.add_argument("--unit-name", default="辽宁示例建设工程有限公司", help="单位名称 / unit name")
    demo.add_argument("--unit-code", default=DEMO_UNIT_CODE, help="统一社会信用代码 / unified social credit code")
    demo.add_argument("--legal-name", default="张三", help="法定代表人 / legal representative")
    demo.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite existing files")
    demo.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    demo.set_defaults(func=cmd_demo)

    show = sub.add_parser("show", help="显示证书信息 / show a certificate")
    show.add_argument("cert", type=Path, help="证书文件（PEM 或 DER）/ certificate file (PEM or DER)")
    show.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    show.set_defaults(func=cmd_show)

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=_help)



def _contents(pki: DemoPKI) -> dict[str, tuple[bytes, bool]]:
    readme = README.format(unit_name=pki.subject.unit_name, unit_code=pki.subject.unit_code)
    return {
        "root.pem": (pki.root_cert.pem, False),
        "sign-cert.pem": (pki.sign_cert.pem, False),
        "sign-key.pem": (pki.sign_key.to_pem(), True),
        "enc-cert.pem": (pki.enc_cert.pem, False),
        "enc-key.pem": (pki.enc_key.to_pem(), True),
        "emergency-cert.pem": (pki.emergency_cert.pem, False),
        "emergency-key.pem": (pki.emergency_key.to_pem(), True),
        "tsa-cert.pem": (pki.tsa_cert.pem, False),
        "tsa-key.pem": (pki.tsa_key.to_pem(), True),
        "README.txt": (readme.encode("utf-8"), False),
    }


def cmd_demo(args: argparse.Namespace) -> int:
    unit_code = args.unit_code.strip().upper()
    # Validate first: nothing is created for a bad unit code.
    Subject(unit_name=args.unit_name, unit_code=unit_code, legal_name=args.legal_name or None).validate()
    out: Path = args.out
    existing = [name for name in FILES if (out / name).exists()]
    if existing and not args.force:
        raise PkiCliError(
            f"目录 {out} 中已有演示文件（{', '.join(existing)}）；如需覆盖请加 --force。",
            f"{out} already holds demo files ({', '.join(existing)}); use --force to overwrite them.",
            code="ERR_EXISTS",
            details={"existing": existing},
        )
    pki = demo_pki(unit_name=args.unit_name, unit_code=unit_code, legal_name=args.legal_name or None)
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, (data, private) in _contents(pki).items():
            write_atomic(out / name, data, private=private)
            written.append(str(out / name))
    except OSError as exc:
        raise PkiCliError(
            f"无法写入目录 {out}：{exc.strerror or exc}",
            f"Cannot write to {out}: {exc.strerror or exc}",
            details={"path": str(out)},
        ) from exc
    if args.json:
        print_json({
            "out": str(out),
            "files": written,
            "unit_name": pki.subject.unit_name,
            "unit_code": pki.subject.unit_code,
            "sign_cert": pki.sign_cert.summary(),
            "enc_cert_serial": pki.enc_cert.serial_hex,
            "root_fingerprint_sm3": pki.root_cert.fingerprint_sm3,
        })
    else:
        print(f"已写入演示 PKI / Demo PKI written to {out}:")
        for path in written:
            print(f"  {path}")
        print("注意：私钥仅供演示，没有任何保护。/ Note: the keys are unprotected and for demos only.")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    try:
        data = args.cert.read_bytes()
    except OSError as exc:
        raise PkiCliError(
            f"无法读取证书文件 {args.cert}：{exc.strerror or exc}",
            f"Cannot read the certificate file {args.cert}: {exc.strerror or exc}",
            details={"path": str(args.cert)},
        ) from exc
    certs = Certificate.load_all(data)
    if not certs:
        certs = [Certificate.load(data)]
    summaries = [c.summary() for c in certs]
    if args.json:
        print_json(summaries[0] if len(summaries) == 1 else summaries)
        return EXIT_OK
    labels = (
        ("common_name", "名称 / Name"), ("unit_name", "单位 / Unit"),
        ("unit_code", "统一社会信用代码 / USCC"), ("id_number", "身份证号 / ID number"),
        ("legal_name", "法定代表人 / Legal rep."), ("kind", "用途 / Kind"),
        ("key_usage", "密钥用法 / Key usage"), ("serial_hex", "序列号 / Serial"),
        ("not_before", "生效 / Not before"), ("not_after", "到期 / Not after"),
        ("valid_now", "当前有效 / Valid now"), ("issuer_common_name", "签发者 / Issuer"),
        ("fingerprint_sm3", "SM3 指纹 / SM3 fingerprint"),
    )
    for i, s in enumerate(summaries):
        if i:
            print()
        print(f"主题 / Subject: {s['subject']['rfc4514']}")
        for key, label in labels:
            value = s[key]
            if isinstance(value, list):
                value = ", ".join(value) or "-"
            print(f"{label}: {value if value is not None else '-'}")
    return EXIT_OK

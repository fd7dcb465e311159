"""``bidseal trust add|list|remove``: the root certificates ``verify`` trusts by default.

The store itself is :mod:`app.trust` (shipped roots in ``resources/trust/``, the
user's roots and the virtual UKey's demo root in BidSeal's data folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_OK, help_when_bare, print_json, tr


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("trust", help="管理受信任的根证书 / manage trusted root certificates",
                              description="管理验证签名时信任的根证书。 / Manage the root certificates "
                                          "that signature verification trusts.")
    sub = p.add_subparsers(dest="trust_command", metavar="ACTION")

    add = sub.add_parser("add", help="信任一个 CA 根证书 / trust a CA root certificate")
    add.add_argument("cert", type=Path, metavar="CERT.pem", help="根证书（PEM 或 DER，可含多张）/ root "
                                                                 "certificate(s), PEM or DER")
    add.add_argument("--demo", action="store_true",
                     help="标记为演示根证书（其签名均标注为演示）/ mark as a demo root (its signatures are "
                          "reported as demo)")
    add.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    add.set_defaults(func=cmd_add)

    lst = sub.add_parser("list", help="列出受信任的根证书 / list trusted roots")
    lst.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    lst.set_defaults(func=cmd_list)

    rm = sub.add_parser("remove", help="不再信任一个根证书 / stop trusting a root")
    rm.add_argument("ident", metavar="FINGERPRINT|CERT.pem",
                    help="SM3 指纹（至少 8 位）或证书文件 / SM3 fingerprint (8+ hex digits) or certificate file")
    rm.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    rm.set_defaults(func=cmd_remove)

    help_when_bare(p)


def _line(entry: Any) -> str:
    d = entry.to_dict()
    label = {"shipped": tr("随程序发布", "shipped"), "user": tr("用户添加", "user")}[d["source"]]
    if d["demo"]:
        label += tr("，演示", ", DEMO")
    if not d["valid_now"]:
        label += tr("，已过期或未生效", ", expired or not yet valid")
    return (f"  {d['fingerprint_sm3'][:16]}  {d['common_name'] or d['subject']}  "
            f"[{label}]  {tr('有效期至', 'until')} {d['not_after'][:10]}")


def _print_entries(entries: list[Any], as_json: bool, zh: str, en: str) -> int:
    if as_json:
        print_json([e.to_dict() for e in entries])
        return EXIT_OK
    print(tr(zh, en))
    for e in entries:
        print(_line(e))
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    from app.trust import TrustStore

    return _print_entries(TrustStore().add_file(args.cert, demo=args.demo), args.json, "已信任：", "Trusted: ")


def cmd_list(args: argparse.Namespace) -> int:
    from app.trust import TrustStore

    store = TrustStore()
    entries, problems = store.list(), store.problems()
    if args.json:
        print_json({"roots": [e.to_dict() for e in entries],
                    "problems": [{"path": str(p.path), "reason": p.reason} for p in problems],
                    "store": str(store.folder), "shipped": str(store.shipped)})
        return EXIT_OK
    if not entries:
        print(tr("没有受信任的根证书：验证结果将是「签署人不受信任」。用 bidseal trust add ROOT.pem 添加。",
                 "No trusted roots: every signature will be 'untrusted'. Add one with bidseal trust add ROOT.pem."))
    for e in entries:
        print(_line(e))
    for p in problems:
        print(tr(f"  已忽略无法读取的文件：{p.path}（{p.reason}）", f"  Ignored unreadable file: {p.path} ({p.reason})"))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from app.trust import TrustStore

    return _print_entries(TrustStore().remove(args.ident), args.json, "已不再信任：", "No longer trusted: ")

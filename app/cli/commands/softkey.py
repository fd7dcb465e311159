"""``bidseal softkey``: the embedded virtual UKey (libsoftskf) - provision, plug, unplug."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_OK, add_json, help_when_bare, print_json, tr


def register(subparsers: Any) -> None:
    from app.token import softkey as sk

    p = subparsers.add_parser("softkey", help="内置虚拟 UKey / the embedded virtual UKey")
    sub = p.add_subparsers(dest="softkey_command", metavar="ACTION")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--store", type=Path, help="虚拟 UKey 存储目录 / store directory (default: SOFTSKF_STORE "
                                                  "or the library's default)")
        q.add_argument("--label", default=sk.DEFAULT_LABEL, help=f"设备名 / device name (default {sk.DEFAULT_LABEL})")

    init = sub.add_parser("init", help="插入并按真实签发流程初始化虚拟 UKey / plug and provision the virtual key")
    common(init)
    init.add_argument("--user-pin", default=sk.DEFAULT_USER_PIN, help="用户口令 / user PIN (default %(default)s)")
    init.add_argument("--admin-pin", default=sk.DEFAULT_ADMIN_PIN, help="管理员口令 / admin PIN (default %(default)s)")
    init.add_argument("--pki", type=Path, help="演示 CA 目录 / demo CA directory (default: user data dir/demo-pki)")
    init.add_argument("--unit-name", default=sk.DEFAULT_UNIT, help="单位名称 / unit name")
    init.add_argument("--unit-code", help="统一社会信用代码 / unified social credit code (default: demo code)")
    init.add_argument("--legal-name", default=sk.DEFAULT_LEGAL, help="法定代表人 / legal representative")
    init.add_argument("--lib", help="SKF 库路径 / SKF library (default: libsoftskf)")
    init.add_argument("--force", action="store_true", help="已初始化时重新初始化 / re-initialise an existing key")
    init.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    init.set_defaults(func=cmd_init)

    plug = sub.add_parser("plug", help="插入虚拟 UKey / insert the virtual key")
    common(plug)
    add_json(plug)
    plug.set_defaults(func=cmd_plug)
    unplug = sub.add_parser("unplug", help="拔出虚拟 UKey / remove the virtual key")
    common(unplug)
    add_json(unplug)
    unplug.set_defaults(func=cmd_unplug)

    help_when_bare(p)


def cmd_init(args: argparse.Namespace) -> int:
    from app.demo.pki import DEMO_LEGAL_ID, DEMO_UNIT_CODE, Subject
    from app.token.softkey import init_softkey

    demo = args.unit_code is None
    subject = Subject(unit_name=args.unit_name, unit_code=args.unit_code or DEMO_UNIT_CODE,
                      legal_name=args.legal_name or None,
                      legal_id=DEMO_LEGAL_ID if demo and args.legal_name else None)
    info = init_softkey(args.store, args.label, args.user_pin, args.admin_pin, args.pki, subject=subject,
                        library=args.lib, force=args.force)
    from app.trust import TrustStore

    # The demo CA becomes a trusted root, marked demo: its signatures verify, labelled as demos.
    demo_root = TrustStore().add(info.root_certificate, demo=True)
    if args.json:
        print_json({**info.to_dict(), "demo_root": demo_root.to_dict()})
        return EXIT_OK
    print(tr("虚拟 UKey 已初始化", "Virtual key initialised") + f": {info.store}/{info.label}")
    print(f"  {info.application}/{info.container}: {info.sign_certificate.subject.rfc4514()}")
    print(f"  sign serial {info.sign_certificate.serial_hex}, enc serial {info.enc_certificate.serial_hex}")
    print(f"  seals: {', '.join(info.seals) or '-'}")
    print(tr("  演示根证书已加入信任列表（标记为演示）：", "  Demo root trusted (marked demo): ") + str(demo_root.path))
    return EXIT_OK


def cmd_plug(args: argparse.Namespace) -> int:
    from app.token.softkey import plug

    d = plug(args.store, args.label)
    if args.json:
        print_json({"ok": True, "plugged": str(d)})
    else:
        print(tr("已插入", "Plugged in") + f": {d}")
    return EXIT_OK


def cmd_unplug(args: argparse.Namespace) -> int:
    from app.token.softkey import default_store, unplug

    unplug(args.store, args.label)
    where = Path(args.store or default_store()) / args.label
    if args.json:
        print_json({"ok": True, "removed": str(where)})
    else:
        print(tr("已拔出", "Removed") + f": {where}")
    return EXIT_OK

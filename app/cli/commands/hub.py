"""``bidseal hub sync|change-cert|secret|serve``: interfaces 1-2 and the reference hub.

* ``hub sync --hub URL --ca-unit-id ID`` pushes the UKey's certificates, unit data
  and seal image (interface 1, userSynchro);
* ``hub change-cert --type renew|change|revoke`` does the same for interface 2;
* ``hub secret set|delete`` keeps the caUnitId's HMAC secret in the system keyring;
* ``hub serve`` starts the reference hub, the CA service and the demo trading system
  on 127.0.0.1 (resources/docs/platform-api.md).

Exit codes: 0 success; 2 usage, key, network or a refusal by the hub.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_ERROR, EXIT_OK, help_when_bare, print_json, read_pin, tr, wipe
from app.errors import BidSealError
from app.hub import credentials
from app.hub.client import HubClient
from app.hub.payload import Overrides


def register(subparsers: Any) -> None:
    hub = subparsers.add_parser("hub", help="互认平台：数据同步、证书变更、演示平台 / platform hub: sync, "
                                            "certificate change, demo platform")
    sub = hub.add_subparsers(dest="hub_command", metavar="ACTION")

    sync = sub.add_parser("sync", help="把 UKey 的证书与单位信息同步到互认平台（接口 1）"
                                       " / push the UKey's data to the hub (interface 1)")
    _add_sync_options(sync)
    sync.set_defaults(func=cmd_sync)

    change = sub.add_parser("change-cert", help="证书续期、变更、注销（接口 2）"
                                                " / certificate renewal, change, revocation (interface 2)")
    change.add_argument("--type", dest="pa_type", required=True, choices=("renew", "change", "revoke"),
                        help="renew=续期(0) change=变更(1) revoke=注销(2)")
    _add_sync_options(change)
    change.set_defaults(func=cmd_change_cert)

    secret = sub.add_parser("secret", help="在系统密钥环中保存平台密钥 / keep the platform secret in the keyring")
    ssub = secret.add_subparsers(dest="secret_command", metavar="ACTION")
    sset = ssub.add_parser("set", help="保存（从终端或标准输入读取）/ save (read from the terminal or stdin)")
    sdel = ssub.add_parser("delete", help="删除 / delete")
    for p in (sset, sdel):
        p.add_argument("--hub", required=True, metavar="URL", help="互认平台地址 / hub base URL")
        p.add_argument("--ca-unit-id", required=True, metavar="ID", help="平台分配的 caUnitId")
    sset.add_argument("--stdin", action="store_true", help="从标准输入读取 / read from stdin")
    sset.set_defaults(func=cmd_secret_set)
    sdel.set_defaults(func=cmd_secret_delete)
    help_when_bare(secret)

    serve = sub.add_parser("serve", help="在 127.0.0.1 启动参考互认平台与演示交易系统"
                                         " / start the reference hub and demo trading system on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8780, help="端口 / port (default 8780)")
    serve.add_argument("--database", metavar="URL",
                       help="数据库 URL（默认 SQLite 文件）/ database URL (default: a SQLite file), "
                            "e.g. postgresql+psycopg://user@/hub")
    serve.add_argument("--helper-port", type=int, action="append", metavar="PORT",
                       help="网页探测助手的端口（默认 24821-24823）/ helper port the pages probe (default 24821-24823)")
    serve.add_argument("--task-ttl", type=int, default=600, metavar="SECONDS",
                       help="任务有效期 / task lifetime (default 600 s)")
    serve.set_defaults(func=cmd_serve)
    help_when_bare(hub)


def _add_sync_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hub", required=True, metavar="URL", help="互认平台地址 / hub base URL (https://...)")
    p.add_argument("--ca-unit-id", required=True, metavar="ID", help="平台分配的 caUnitId")
    p.add_argument("--auth", choices=("hmac", "sm2"),
                   help="签名方式：hmac=密钥环中的平台密钥；sm2=用 UKey 签（需口令）。默认有密钥用 hmac，否则 sm2"
                        " / how to sign: hmac (keyring secret) or sm2 (the UKey, PIN); default hmac when a "
                        "secret is saved")
    p.add_argument("--ca-bundle", metavar="FILE", help="平台 TLS 根证书 / CA bundle for the hub's TLS certificate")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="读取超时 / read timeout")
    p.add_argument("--legal-name", help="法定代表人姓名（证书中没有时）/ legal representative (if not in the certificate)")
    p.add_argument("--legal-id", help="法定代表人身份证号（证书中没有时）/ their ID number (if not in the certificate)")
    p.add_argument("--seal", metavar="KIND", help="用哪枚印章图片（company/legal）/ which seal image")
    p.add_argument("--dry-run", action="store_true", help="只显示将发送的数据 / show what would be sent")
    p.add_argument("--pin-stdin", action="store_true", help="从标准输入读取口令 / read the PIN from stdin")
    p.add_argument("--lib", metavar="PATH", help="SKF 驱动库路径 / SKF library path")
    p.add_argument("--device", metavar="NAME", help="设备名 / device name")
    p.add_argument("--container", metavar="NAME", help="容器名 / container name")
    p.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")


def cmd_sync(args: argparse.Namespace) -> int:
    return _sync(args, None)


def cmd_change_cert(args: argparse.Namespace) -> int:
    return _sync(args, args.pa_type)


def _sync(args: argparse.Namespace, pa_type: str | None) -> int:
    from app.hub import sync
    from app.token import find_identity, open_session

    client = HubClient(args.hub, ca_bundle=args.ca_bundle, read_timeout=args.timeout)
    if args.ca_bundle and not Path(args.ca_bundle).exists():
        raise BidSealError(f"找不到 CA 文件：{args.ca_bundle}", f"CA bundle not found: {args.ca_bundle}",
                           code="ERR_IO")
    identity = find_identity(args.lib, args.device, args.container)
    prepared = sync.prepare(client, args.ca_unit_id, identity.sign_certificate, identity.enc_certificate,
                            identity.seals, pa_type=pa_type, auth=args.auth,
                            overrides=Overrides(legal_name=args.legal_name, legal_id=args.legal_id,
                                                seal_kind=args.seal),
                            probe=(lambda _client: None) if args.dry_run else None)
    if args.dry_run:
        print_json(prepared.summary())
        return EXIT_OK
    if prepared.needs_pin:
        pin = read_pin(args.pin_stdin)
        try:
            session = open_session(identity, pin)
        finally:
            wipe(pin)
        with session as s:
            answer = prepared.send(s.signer)
    else:
        answer = prepared.send()
    if args.json:
        print_json({"sent": prepared.summary(), "answer": answer})
    else:
        what = tr("证书变更已提交", "Certificate change accepted") if pa_type else tr("已同步", "Synchronised")
        print(f"{what}: {prepared.fields['unitName']} ({prepared.fields['unitCode']}) -> {args.hub}")
        print(f"  {tr('签名证书序列号', 'signing certificate serial')}: {prepared.fields['signCertSn']}")
        print(f"  {tr('平台应答', 'hub answer')}: {answer.get('msg', '')}")
    return EXIT_OK


def cmd_secret_set(args: argparse.Namespace) -> int:
    HubClient(args.hub)  # validates the URL
    if args.stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            print(tr("没有终端：请用 --stdin 从标准输入提供密钥。", "No terminal: use --stdin to pass the secret."),
                  file=sys.stderr)
            return EXIT_ERROR
        secret = getpass.getpass(tr("平台密钥: ", "Platform secret: "))
    credentials.save_secret(args.ca_unit_id, args.hub, secret)
    print(tr("已保存到系统密钥环。", "Saved in the system keyring."))
    return EXIT_OK


def cmd_secret_delete(args: argparse.Namespace) -> int:
    found = credentials.delete_secret(args.ca_unit_id, args.hub)
    print(tr("已删除。", "Deleted.") if found else tr("密钥环中没有该密钥。", "No such secret in the keyring."))
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from app.hub.server.run import serve

    return serve(port=args.port, database=args.database,
                 helper_ports=tuple(args.helper_port) if args.helper_port else None, task_ttl=args.task_ttl)

"""``bidseal helper``: run the localhost helper without the window, and sign hub lists.

``bidseal helper serve`` binds 127.0.0.1 (fixed port 24821, fallbacks 24822, 24823),
asks consent, placement and PIN in this terminal, and serves the hub origins configured
in ``<config>/helper.json`` and signed ``<config>/hubs.d/*.json`` lists (``--allow-origin``
adds one for this run). ``--dev-allow-http`` accepts http:// origins: development only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_OK, help_when_bare


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("helper", help="本机网页助手 / the localhost helper for hub web pages")
    sub = p.add_subparsers(dest="helper_command", metavar="ACTION")
    serve = sub.add_parser("serve", help="在终端中运行助手（无窗口）/ run the helper in this terminal")
    serve.add_argument("--port", type=int, action="append", help="端口（可重复，最多 3 个）/ port (repeatable, up to 3)")
    serve.add_argument("--allow-origin", action="append", default=[],
                       help="本次运行允许的平台网址 / an extra allowed hub origin for this run")
    serve.add_argument("--hub-cert", type=Path, help="--allow-origin 平台的加密证书 / that hub's encryption certificate")
    serve.add_argument("--project", action="append", default=[], help="--allow-origin 平台的项目编号模式 / project pattern")
    serve.add_argument("--dev-allow-http", action="store_true", help="允许 http:// 网址（仅开发）/ allow http origins (development only)")
    serve.set_defaults(func=cmd_serve)
    sign = sub.add_parser("sign-hubs", help="平台运营方签署平台列表 / sign a hub list (hub operators)")
    sign.add_argument("payload", type=Path, help="平台列表 JSON / the hub list payload JSON")
    sign.add_argument("--cert", type=Path, required=True, help="运营方签名证书 / operator signing certificate (PEM)")
    sign.add_argument("--key", type=Path, required=True, help="运营方私钥 / operator private key (PEM)")
    sign.add_argument("-o", "--output", type=Path, required=True)
    sign.set_defaults(func=cmd_sign_hubs)
    help_when_bare(p)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.gm.x509 import Certificate
    from app.helper.app import create_services
    from app.helper.config import hub_from_dict
    from app.helper.server import HelperServer
    from app.helper.terminal import TerminalConsent, TerminalPinSource, TerminalSignReview

    services = create_services(consent=TerminalConsent(), pins=TerminalPinSource(), review=TerminalSignReview(),
                               allow_http=args.dev_allow_http, ports=args.port)
    for origin in args.allow_origin:
        entry: dict[str, Any] = {"origin": origin, "projects": args.project}
        if args.hub_cert:
            entry["encryptionCertificate"] = Certificate.load(args.hub_cert.read_bytes()).pem.decode()
        hub = hub_from_dict(entry, source="command line", allow_http=args.dev_allow_http)
        services.config.hubs[hub.origin] = hub
    server = HelperServer(services)
    port = server.start()
    for owner in server.skipped:
        print(f"端口被占用 / port taken: {owner.describe()}", file=sys.stderr)
    for problem in services.config.problems:
        print(f"配置问题 / configuration problem: {problem}", file=sys.stderr)
    hubs = ", ".join(sorted(services.config.hubs)) or "无 / none (add hubs to helper.json)"
    print(f"BidSeal 助手运行于 / helper listening on http://127.0.0.1:{port}\n允许的平台 / allowed hubs: {hubs}\n"
          f"请求日志 / request log: {services.audit.path}\nCtrl-C 停止 / to stop", file=sys.stderr, flush=True)
    server.serve_forever()
    return EXIT_OK


def cmd_sign_hubs(args: argparse.Namespace) -> int:
    from app.gm import sm2
    from app.gm.keyops import SoftwareSigner
    from app.gm.x509 import Certificate
    from app.helper.hublist import sign_hub_list

    payload = json.loads(args.payload.read_text(encoding="utf-8"))
    signer = SoftwareSigner(Certificate.load(args.cert.read_bytes()), sm2.PrivateKey.from_pem(args.key.read_bytes()))
    args.output.write_text(json.dumps(sign_hub_list(payload, signer), indent=2) + "\n", encoding="utf-8")
    return EXIT_OK

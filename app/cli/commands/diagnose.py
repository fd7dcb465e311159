"""``bidseal diagnose`` (一键检测) and ``bidseal support-report``.

``diagnose`` prints every check with its status and fix (exit 0 when nothing is an
error, 1 when a check found an error, 2 when the diagnosis itself could not run);
``--guide decrypt|cert`` adds the bid-opening emergency guide with the steps that
match the findings marked. ``support-report -o FILE.zip`` writes the report a bidder
sends to support: never a PIN, a private key or a document.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.common import EXIT_NEGATIVE, EXIT_OK, add_json, lang, print_json, report_error, tr
from app.diagnostics import Status, emergency_guide, run_diagnostics, write_support_report
from app.errors import BidSealError

GUIDE_IDS = {"cert": "cert_unreadable", "decrypt": "cannot_decrypt"}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lib", metavar="PATH", action="append",
                   help="只检查这些 SKF 驱动库（可重复）/ check only these SKF libraries (repeatable)")
    p.add_argument("--time-server", metavar="HOST", help="与该时间服务器比对时间 / compare the clock with this server")


def register(subparsers: Any) -> None:
    d = subparsers.add_parser("diagnose", help="一键检测：驱动、UKey、证书、口令、时间、磁盘 / check everything a bid "
                                               "day depends on")
    _common(d)
    d.add_argument("--guide", choices=sorted(GUIDE_IDS),
                   help="同时显示开标应急指引：cert=证书无法读取，decrypt=无法解密 / also show the emergency guide")
    d.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    d.set_defaults(func=cmd_diagnose)

    s = subparsers.add_parser("support-report", help="生成支持报告（不含口令、私钥、投标文件）/ write a support report "
                                                     "(no PIN, key or document)")
    _common(s)
    s.add_argument("-o", "--output", type=Path, required=True, help="输出的 zip 文件 / output zip file")
    add_json(s)
    s.set_defaults(func=cmd_support_report)


def cmd_diagnose(args: argparse.Namespace) -> int:
    try:
        report = run_diagnostics(libraries=args.lib, time_server=args.time_server)
    except BidSealError as exc:
        return report_error(exc, args.json)
    guide = emergency_guide(GUIDE_IDS[args.guide], report) if args.guide else None
    if args.json:
        data = report.to_dict()
        if guide is not None:
            data["guide"] = {"id": guide.id, "title": guide.title.get(lang()),
                             "steps": [{"text": {"zh": s.text.zh, "en": s.text.en}, "highlighted": s.highlighted}
                                       for s in guide.steps]}
        print_json(data)
    else:
        print(report.text(lang()))
        if guide is not None:
            print()
            print(guide.text(lang()))
    return EXIT_NEGATIVE if report.status is Status.ERROR else EXIT_OK


def cmd_support_report(args: argparse.Namespace) -> int:
    try:
        report = run_diagnostics(libraries=args.lib, time_server=args.time_server)
        written = write_support_report(args.output, report)
    except BidSealError as exc:
        return report_error(exc, args.json)
    if args.json:
        print_json({"ok": True, "output": str(written.path), "members": list(written.members),
                    "status": report.status.value})
        return EXIT_OK
    print(tr(f"支持报告已写入：{written.path}（不含口令、私钥和投标文件）",
             f"Support report written: {written.path} (no PIN, private key or document)"))
    return EXIT_OK

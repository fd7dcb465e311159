"""CLI side of the certificate lifecycle guard (app/envelope/records.py).

``bidseal encrypt --opening DATE`` records the envelope with its bid-opening date and
warns at once when a recipient certificate expires before it; ``bidseal envelope
records`` lists the pending envelopes, their state and warnings; ``records opening``,
``records opened`` and ``records forget`` maintain them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.cli.common import EXIT_OK, add_json, lang, print_error, print_json, report_error, tr
from app.envelope import EnvelopeInfo, is_envelope, read_info
from app.envelope.records import EnvelopeRecord, EnvelopeRecords, RecordsError
from app.errors import BidSealError
from app.gm.x509 import Certificate


def parse_when(text: str) -> datetime:
    """``2026-12-20``, ``2026-12-20 09:30`` or ISO 8601; local time unless it has an offset."""
    try:
        value = datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"时间格式不对：{text}（例如 2026-12-20 09:30）/ bad date: {text} (e.g. 2026-12-20 09:30)") from exc
    return value.astimezone(UTC) if value.tzinfo else value.astimezone().astimezone(UTC)


def add_encrypt_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--opening", type=parse_when, metavar="DATE",
                   help="开标时间，用于提醒证书在开标前过期 / bid-opening date, to warn when a certificate "
                        "expires before it")


def remember(args: argparse.Namespace, info: EnvelopeInfo, certificates: Sequence[Certificate],
             recovery: Sequence[Certificate]) -> None:
    """Record a fresh envelope and print its lifecycle warnings on stderr. A records
    failure is reported but does not undo the (finished, valid) encryption."""
    try:
        rec = EnvelopeRecords().add(args.output, info, certificates, opening=getattr(args, "opening", None),
                                    recovery=recovery)
    except BidSealError as exc:
        print_error(exc)
        return
    for warning in rec.warnings():
        print(tr("警告", "Warning") + ": " + warning.message(lang()), file=sys.stderr)


# -- bidseal envelope records ----------------------------------------------------------


def register_action(sub: Any) -> None:
    """``records`` under ``bidseal envelope`` (called by app/cli/commands/envelope.py)."""
    rec = sub.add_parser("records", help="本机加密过的投标文件与证书到期提醒 / envelopes made here and "
                                         "certificate warnings")
    rec.add_argument("--all", action="store_true", help="包括已开标的 / include opened ones")
    rec.add_argument("--json", action="store_true", help="以 JSON 输出 / JSON output")
    rec.set_defaults(func=cmd_list)
    acts = rec.add_subparsers(dest="records_command", metavar="ACTION")
    opening = acts.add_parser("opening", help="设置开标时间 / set the opening date")
    opening.add_argument("envelope", help="信封文件或记录编号 / envelope file or record id")
    opening.add_argument("when", type=parse_when, help="例如 / e.g. 2026-12-20 09:30")
    add_json(opening)
    opening.set_defaults(func=cmd_opening)
    opened = acts.add_parser("opened", help="标记为已开标 / mark as opened")
    opened.add_argument("envelope", help="信封文件或记录编号 / envelope file or record id")
    add_json(opened)
    opened.set_defaults(func=cmd_opened)
    forget = acts.add_parser("forget", help="删除记录（不删除文件）/ forget the record (the file stays)")
    forget.add_argument("envelope", help="信封文件或记录编号 / envelope file or record id")
    add_json(forget)
    forget.set_defaults(func=cmd_forget)


def _file_id(store: EnvelopeRecords, ref: str) -> str:
    """A record id (or a unique prefix of one), or the path of a recorded envelope."""
    if os.path.exists(ref) and is_envelope(ref):
        return read_info(ref).file_id
    ids = [r.file_id for r in store.entries(include_opened=True) if r.file_id.startswith(ref.lower())]
    if len(ids) != 1:
        raise RecordsError(f"没有唯一匹配 {ref} 的记录。", f"No single record matches {ref}.", ref=ref)
    return ids[0]


def _print_record(rec: EnvelopeRecord) -> None:
    states = {"waiting": ("待开标", "waiting"), "due": ("已到开标时间", "opening reached"),
              "opened": ("已开标", "opened"), "missing": ("文件不见了", "file missing")}
    zh, en = states[rec.state()]
    opening = f"{rec.opening.astimezone():%Y-%m-%d %H:%M}" if rec.opening else tr("未填写", "not set")
    print(f"{rec.file_id[:12]}  {tr(zh, en)}  {rec.file_name}  {tr('项目', 'project')} {rec.project or '-'}  "
          f"{tr('开标', 'opening')} {opening}")
    print(f"    {rec.path}")
    for r in rec.recipients:
        until = f"{r.not_after:%Y-%m-%d}" if r.not_after else "?"
        role = tr("恢复密钥", "recovery key") if r.role == "recovery" else tr("证书", "certificate")
        print(f"    - {role} {r.label}  {tr('有效至', 'valid until')} {until}")
    for w in rec.warnings():
        print("    ! " + w.message(lang()))


def _run(fn: Any, args: argparse.Namespace) -> int:
    try:
        return int(fn() or EXIT_OK)
    except BidSealError as exc:
        return report_error(exc, bool(getattr(args, "json", False)))


def cmd_list(args: argparse.Namespace) -> int:
    def run() -> int:
        records = EnvelopeRecords().entries(include_opened=args.all)
        if args.json:
            print_json([r.to_dict() for r in records])
        elif not records:
            print(tr("没有待开标的投标文件记录。", "No pending envelopes recorded."))
        for rec in [] if args.json else records:
            _print_record(rec)
        return EXIT_OK

    return _run(run, args)


def _change(args: argparse.Namespace, action: str) -> int:
    def run() -> int:
        store = EnvelopeRecords()
        fid = _file_id(store, args.envelope)
        if action == "forget":
            store.forget(fid)
            if args.json:
                print_json({"ok": True, "file_id": fid, "forgotten": True})
            else:
                print(tr("记录已删除（文件未动）。", "Record forgotten (the file was not touched)."))
            return EXIT_OK
        rec = store.set_opening(fid, args.when) if action == "opening" else store.mark_opened(fid)
        if args.json:
            print_json({"ok": True, **rec.to_dict()})
        else:
            _print_record(rec)
        return EXIT_OK

    return _run(run, args)


def cmd_opening(args: argparse.Namespace) -> int:
    return _change(args, "opening")


def cmd_opened(args: argparse.Namespace) -> int:
    return _change(args, "opened")


def cmd_forget(args: argparse.Namespace) -> int:
    return _change(args, "forget")


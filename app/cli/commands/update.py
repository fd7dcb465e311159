"""``bidseal update check`` / ``bidseal update download``: the update channel from a terminal.

Thin over :mod:`app.update`: the manifest URL comes from the settings (``update-url``;
``--url`` for this run), the trusted keys are the shipped release keys, plus any given
with ``--trust-key`` for this one command (a deployment testing its own channel before
its key ships; nothing is saved, and the desktop app's start-up check never uses them).
The ``update-check`` switch only concerns the start-up check: running the command is
asking for it.

Exit codes: ``check`` 0 when offered or up to date, 1 when the manifest was refused
(cannot be trusted), 2 when the server cannot be reached or no URL is set;
``download`` 0 when the verified installer is stored (or already was), 1 when it or the
manifest failed a check (nothing kept), 2 for the network and usage errors.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app import settings
from app.cli.common import (
    EXIT_ERROR,
    EXIT_NEGATIVE,
    EXIT_OK,
    ProgressPrinter,
    add_json,
    help_when_bare,
    print_json,
    report_error,
    say,
    usage,
)
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.sm2 import PublicKey

_EXIT = {"offered": EXIT_OK, "up-to-date": EXIT_OK, "no-package": EXIT_OK, "rejected": EXIT_NEGATIVE,
         "unreachable": EXIT_ERROR}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("update", help="检查与下载新版本 / check for and download a new version")
    help_when_bare(p)
    sub = p.add_subparsers(dest="update_command", metavar="ACTION")
    c = sub.add_parser("check", help="检查是否有新版本 / check whether a newer version is published")
    _common(c)
    c.set_defaults(func=cmd_check)
    d = sub.add_parser("download", help="下载并校验新版本安装包 / download and verify the new installer")
    _common(d)
    d.add_argument("--out", default=".", help="保存到的文件夹 / folder to store it in (default: current)")
    d.set_defaults(func=cmd_download)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="本次使用的清单地址 / manifest URL for this run (default: the update-url setting)")
    p.add_argument("--trust-key", action="append", default=[], metavar="PEM",
                   help="本次额外信任的发布公钥 / also trust this release public key, for this command only")
    add_json(p)


@contextlib.contextmanager
def _log_quietly() -> Iterator[None]:
    """The engine's log line repeats what the command prints; keep it off the terminal."""
    logger = logging.getLogger("bidseal.update")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _keys(args: argparse.Namespace) -> list[PublicKey]:
    from app.update import load_keys, shipped_keys

    try:
        return shipped_keys() + load_keys([Path(p) for p in args.trust_key])
    except OSError as exc:
        raise usage(f"无法读取公钥文件：{exc.filename}", f"Cannot read the key file: {exc.filename}") from exc
    except GMError as exc:
        raise usage(f"公钥文件不是 SM2 公钥（PEM）：{exc.zh}", f"The key file is not an SM2 public key (PEM): {exc.en}") \
            from exc


def _check(args: argparse.Namespace) -> Any:
    from app.update import check_for_update

    url = args.url or settings.load().update_url
    if not url:
        raise BidSealError("未设置更新清单地址。请用 bidseal settings set update-url https://… 设置，或加 --url。",
                           "No update manifest URL is set. Set one with bidseal settings set update-url https://… "
                           "or pass --url.", code="ERR_UPDATE_NO_URL")
    with _log_quietly():
        return check_for_update(url, keys=_keys(args))


def _print_result(result: Any) -> None:
    if result.offered:
        m, pkg = result.manifest, result.package
        say(f"有新版本 BidSeal {m.version} 可用（{m.published:%Y-%m-%d}）：{m.notes_zh}",
            f"BidSeal {m.version} is available ({m.published:%Y-%m-%d}): {m.notes_en}")
        say(f"安装包：{pkg.url}（{pkg.size} 字节）。用 bidseal update download 下载并校验。",
            f"Installer: {pkg.url} ({pkg.size} bytes). Run bidseal update download to fetch and verify it.")
        if m.page:
            say(f"详情：{m.page}", f"Details: {m.page}")
    else:
        say(result.zh, result.en)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        result = _check(args)
    except BidSealError as exc:
        return report_error(exc, args.json)
    code = _EXIT[result.status]
    if args.json:
        print_json({"ok": code == EXIT_OK, **result.to_dict()})
    else:
        _print_result(result)
    return code


def cmd_download(args: argparse.Namespace) -> int:
    from app.update import download_package

    try:
        result = _check(args)
        if not result.offered:
            if args.json:
                print_json({"ok": _EXIT[result.status] == EXIT_OK, "path": None, **result.to_dict()})
            else:
                say(result.zh, result.en)
            return _EXIT[result.status]
        folder = Path(args.out)
        if not folder.is_dir():
            raise usage(f"文件夹不存在：{folder}", f"No such folder: {folder}", path=str(folder))
        path = download_package(result.package, folder, progress=ProgressPrinter(result.package.name))
    except BidSealError as exc:
        return report_error(exc, args.json)
    if args.json:
        print_json({"ok": True, "path": str(path), **result.to_dict()})
    else:
        say(f"已下载并校验（大小与 SM3 与签名清单一致）：{path}。请手动运行安装程序。",
            f"Downloaded and verified (size and SM3 match the signed manifest): {path}. Run the installer "
            "yourself.")
    return EXIT_OK

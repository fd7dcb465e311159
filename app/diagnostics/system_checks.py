"""Checks of the computer: versions, clock, disk space, the crypto backend, settings."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import ssl
import sys
from pathlib import Path

from app import __version__
from app.diagnostics.context import Context
from app.diagnostics.model import Check, Status, Text
from app.diagnostics.ntp import NtpError, query_offset

T_VERSIONS = Text("版本信息", "Versions")
T_CLOCK = Text("系统时间", "System clock")
T_DISK = Text("磁盘空间", "Disk space")
T_BACKEND = Text("国密算法实现", "Crypto backend")
T_SETTINGS = Text("设置", "Settings")

PACKAGES = ("cryptography", "asn1crypto", "gmssl", "pymupdf", "pyscard", "cffi", "PySide6-Essentials",
            "platformdirs", "keyring", "requests")
CLOCK_WARNING = 60.0        # seconds
CLOCK_ERROR = 5 * 60.0
DISK_ERROR = 200 * 1024**2
DISK_WARNING = 2 * 1024**3
MIN_YEAR = 2024


def versions() -> dict[str, object]:
    pkgs: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            pkgs[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pkgs[name] = None
    return {"bidseal": __version__, "python": sys.version.split()[0],
            "python_bits": 64 if sys.maxsize > 2**32 else 32, "platform": platform.platform(),
            "machine": platform.machine(), "openssl": ssl.OPENSSL_VERSION, "packages": pkgs}


def check_versions(ctx: Context) -> Check:
    v = versions()
    return Check("versions", Status.INFO, T_VERSIONS,
                 Text(f"BidSeal {v['bidseal']}，Python {v['python']}（{v['python_bits']} 位），{v['platform']}",
                      f"BidSeal {v['bidseal']}, Python {v['python']} ({v['python_bits']}-bit), {v['platform']}"),
                 None, v)


def check_clock(ctx: Context) -> Check:
    now = ctx.now
    details: dict[str, object] = {"local_utc": now.isoformat()}
    if now.year < MIN_YEAR:
        return Check("clock", Status.ERROR, T_CLOCK,
                     Text(f"电脑时间是 {now:%Y-%m-%d}，明显不对。", f"The computer's date is {now:%Y-%m-%d}, clearly wrong."),
                     _fix_clock(), details)
    server = ctx.time_server or ctx.settings.time_server
    if not server:
        return Check("clock", Status.INFO, T_CLOCK,
                     Text(f"电脑时间 {now.astimezone():%Y-%m-%d %H:%M}（未设置时间服务器，未与标准时间比对）。",
                          f"Computer time {now.astimezone():%Y-%m-%d %H:%M} (no time server set, not compared)."),
                     Text("可在“设置 → 时间服务器”中填写，例如 ntp.ntsc.ac.cn（国家授时中心）。",
                          "Set one under Settings → time server, e.g. ntp.ntsc.ac.cn (National Time Service "
                          "Center)."), details)
    details["server"] = server
    try:
        offset, delay = query_offset(server)
    except NtpError as exc:
        return Check("clock", Status.WARNING, T_CLOCK,
                     Text(f"无法连接时间服务器 {server}，未能比对时间。", f"The time server {server} could not be "
                          "reached; the time was not compared."),
                     Text("检查网络或时间服务器地址；开标前请手动核对电脑时间。",
                          "Check the network or the server address; check the computer's time by hand before "
                          "the opening."), details | {"error": str(exc)})
    details |= {"offset_seconds": round(offset, 3), "delay_seconds": round(delay, 3)}
    ahead = "慢" if offset > 0 else "快"
    ahead_en = "behind" if offset > 0 else "ahead of"
    if abs(offset) >= CLOCK_ERROR:
        status = Status.ERROR
    elif abs(offset) >= CLOCK_WARNING:
        status = Status.WARNING
    else:
        return Check("clock", Status.OK, T_CLOCK,
                     Text(f"与 {server} 相差 {abs(offset):.1f} 秒。", f"{abs(offset):.1f} s from {server}."),
                     None, details)
    return Check("clock", status, T_CLOCK,
                 Text(f"电脑时间比 {server} {ahead}了 {_span_zh(abs(offset))}。",
                      f"The computer's clock is {_span_en(abs(offset))} {ahead_en} {server}."),
                 _fix_clock(), details)


def _span_zh(seconds: float) -> str:
    return f"{seconds / 3600:.1f} 小时" if seconds >= 3600 else f"{seconds / 60:.0f} 分钟" if seconds >= 60 \
        else f"{seconds:.0f} 秒"


def _span_en(seconds: float) -> str:
    return f"{seconds / 3600:.1f} hours" if seconds >= 3600 else f"{seconds / 60:.0f} minutes" if seconds >= 60 \
        else f"{seconds:.0f} seconds"


def _fix_clock() -> Text:
    return Text("校准电脑时间（打开系统的“自动设置时间”）：时间不对会让有效证书显示为过期或未生效，并写错签章时间。",
                "Correct the computer's time (turn on automatic time): a wrong clock makes valid certificates "
                "look expired or not yet valid and stamps wrong times into signatures.")


def check_disk(ctx: Context) -> Check:
    folder = ctx.bid_folder()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    details: dict[str, object] = {"folder": str(folder)}
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return Check("disk", Status.WARNING, T_DISK, Text(f"无法读取 {folder} 的磁盘空间。", f"Cannot read the free space of "
                     f"{folder}."), None, details | {"error": str(exc)})
    details |= {"free_bytes": usage.free, "total_bytes": usage.total}
    free = _size(usage.free)
    writable = os.access(probe, os.W_OK)
    details["writable"] = writable
    if not writable:
        return Check("disk", Status.ERROR, T_DISK,
                     Text(f"投标文件保存位置 {folder} 不可写入。", f"The folder for bid files, {folder}, is not writable."),
                     Text("在“设置 → 输出文件夹”中换一个可写的文件夹。", "Choose a writable folder under Settings → "
                          "output folder."), details)
    if usage.free < DISK_ERROR:
        status = Status.ERROR
    elif usage.free < DISK_WARNING:
        status = Status.WARNING
    else:
        return Check("disk", Status.OK, T_DISK, Text(f"{folder}：可用 {free}", f"{folder}: {free} free"), None, details)
    return Check("disk", status, T_DISK,
                 Text(f"{folder} 只剩 {free} 可用空间；解密大文件需要与原文件同样大的空间。",
                      f"Only {free} free in {folder}; decrypting a large file needs as much space as the file."),
                 Text("清理磁盘，或在“设置 → 输出文件夹”中换一个空间更大的磁盘。",
                      "Free some space, or choose a folder on a larger disk under Settings → output folder."),
                 details)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def check_backend(ctx: Context) -> Check:
    from app.gm import sm2

    available = sm2.available_backends()
    name = sm2.get_backend().name
    details = {"sm2_backend": name, "available": available,
               "forced": os.environ.get("BIDSEAL_SM2_BACKEND") or None, "openssl": ssl.OPENSSL_VERSION}
    fallback = getattr(sm2, "fallback_warning", None)  # the token layer's own sentence, when it has one
    if callable(fallback):
        message = fallback()
        if message:
            details["fallback_warning"] = str(message)
    if name == "gmssl":
        return Check("crypto_backend", Status.WARNING, T_BACKEND,
                     Text("SM2 正在使用纯 Python 的备用实现（gmssl），签章和验章会明显变慢。",
                          "SM2 runs on the pure-Python fallback (gmssl); sealing and verifying are much slower."),
                     Text("安装 OpenSSL 3（libcrypto），或设置 BIDSEAL_LIBCRYPTO 指向它。",
                          "Install OpenSSL 3 (libcrypto), or point BIDSEAL_LIBCRYPTO at it."), details)
    return Check("crypto_backend", Status.OK, T_BACKEND,
                 Text(f"SM2 使用 {name}（{ssl.OPENSSL_VERSION}）", f"SM2 runs on {name} ({ssl.OPENSSL_VERSION})"),
                 None, details)


def check_settings(ctx: Context) -> Check:
    from app.settings import settings_file

    s = ctx.settings
    details = {"file": str(settings_file()), "language": s.language, "skf_libraries": list(s.skf_libraries),
               "tsa_url": s.tsa_url, "time_server": s.time_server, "output_folder": s.output_folder}
    missing = [p for p in s.skf_libraries if not Path(p).exists()]
    if s.problems or missing:
        zh = "；".join([*s.problems, *(f"驱动库文件不存在：{p}" for p in missing)])
        en = "; ".join([*s.problems, *(f"library file missing: {p}" for p in missing)])
        return Check("settings", Status.WARNING, T_SETTINGS, Text(zh, en),
                     Text("在“设置”中修正或删除这些项。", "Correct or remove these under Settings."), details)
    return Check("settings", Status.OK, T_SETTINGS, Text("设置正常。", "Settings are fine."), None, details)

"""Checks of the UKey side: SKF libraries, the PC/SC service, keys, certificates, PINs."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from app.diagnostics.context import Context, identity_label, is_virtual, safe_details
from app.diagnostics.model import Check, Status, Text
from app.errors import BidSealError
from app.gm.x509 import Certificate
from app.token import registry
from app.token.device import pin_info
from app.token.skf_ffi import probe_library

T_LIBS = Text("UKey 驱动（SKF 接口库）", "UKey drivers (SKF libraries)")
T_PCSC = Text("智能卡服务（PC/SC）", "Smart-card service (PC/SC)")
T_KEYS = Text("UKey", "UKeys")
T_CERTS = Text("证书有效期", "Certificate validity")
T_PIN = Text("UKey 口令状态", "UKey PIN state")

EXPIRY_WARNING = timedelta(days=30)
EXPIRY_NOTICE = timedelta(days=90)
LOW_RETRIES = 3

_FIX_DRIVER = Text(
    "请安装 CA 提供的 UKey 驱动；若已安装但未被找到，在“设置 → SKF 驱动库”中添加驱动文件（Windows 为 .dll，Linux 为 .so）。",
    "Install the UKey driver from your CA; if it is installed but not found, add its file (.dll on "
    "Windows, .so on Linux) under Settings → SKF libraries.")


def _vendor(path: str) -> str | None:
    name = Path(path).name
    for entries in registry.VENDOR_LIBRARIES.values():
        for file_name, vendor in entries:
            if file_name == name:
                return vendor
    return None


def check_libraries(ctx: Context) -> Check:
    result, failure = ctx.scan, ctx.scan_error
    if result is None:
        assert failure is not None
        return Check("skf_libraries", Status.ERROR, T_LIBS,
                     Text(f"无法检查驱动：{failure.zh}", f"The drivers could not be checked: {failure.en}"),
                     _FIX_DRIVER, safe_details(failure))
    libs = []
    for lib in result.libraries:
        entry: dict[str, object] = {"path": lib.path, "source": lib.candidate.source,
                                    "reason": lib.candidate.reason, "status": lib.status,
                                    "vendor": _vendor(lib.path)}
        try:
            binary = probe_library(lib.path)
            entry.update(format=binary.format, bits=binary.bits, machine=binary.machine)
        except BidSealError:
            pass
        if lib.host:
            entry["host_bits"] = lib.host.get("bits")
        if lib.error is not None:
            entry["error"] = {"code": lib.error.code, "zh": lib.error.zh, "en": lib.error.en}
        makers = {d.info.manufacturer for d in lib.devices if d.info and d.info.manufacturer}
        if makers:
            entry["manufacturers"] = sorted(makers)
        entry["devices"] = len(lib.devices)
        libs.append(entry)
    details = {"libraries": libs, "python_bits": 64 if sys.maxsize > 2**32 else 32}
    loaded = [lib for lib in result.libraries if lib.status == "ok"]
    failed = [lib for lib in result.libraries if lib.status != "ok"]
    if not result.libraries:
        return Check("skf_libraries", Status.ERROR, T_LIBS,
                     Text("没有找到任何 UKey 驱动。", "No UKey driver was found."), _FIX_DRIVER, details)
    if not loaded:
        first = failed[0].error
        return Check("skf_libraries", Status.ERROR, T_LIBS,
                     Text(f"找到 {len(failed)} 个驱动，但都无法加载：{first.zh if first else ''}",
                          f"{len(failed)} driver(s) found but none loads: {first.en if first else ''}"),
                     _FIX_DRIVER, details)
    names = "、".join(Path(lib.path).name for lib in loaded)
    names_en = ", ".join(Path(lib.path).name for lib in loaded)
    only_demo = all(lib.candidate.source == "embedded" for lib in loaded)
    if failed:
        bad = failed[0].error
        return Check("skf_libraries", Status.WARNING, T_LIBS,
                     Text(f"已加载 {names}；{len(failed)} 个驱动无法加载：{bad.zh if bad else ''}",
                          f"Loaded {names_en}; {len(failed)} driver(s) failed: {bad.en if bad else ''}"),
                     Text("如果您的 UKey 用的是无法加载的那个驱动，请向 CA 索取与本机匹配（32/64 位）的驱动。",
                          "If your UKey needs the driver that failed, get a matching (32/64-bit) driver "
                          "from your CA."), details)
    if only_demo:
        return Check("skf_libraries", Status.WARNING, T_LIBS,
                     Text("只加载了内置的演示用虚拟 UKey，没有找到 CA 的 UKey 驱动。",
                          "Only the built-in demo virtual key is loaded; no CA driver was found."),
                     _FIX_DRIVER, details)
    return Check("skf_libraries", Status.OK, T_LIBS,
                 Text(f"已加载：{names}", f"Loaded: {names_en}"), None, details)


def check_pcsc(ctx: Context) -> Check:
    try:
        from app.token import pcsc
    except ImportError as exc:  # pragma: no cover - pyscard is a dependency
        return Check("pcsc", Status.SKIPPED, T_PCSC, Text("未安装 pyscard。", "pyscard is not installed."),
                     None, {"reason": str(exc)})
    if sys.platform == "win32":
        fix = Text("在“服务”中启动 Smart Card（SCardSvr）服务，并设为自动启动；然后重新插入 UKey。",
                   "Start the Smart Card (SCardSvr) service in Services and set it to automatic; then "
                   "plug the key in again.")
    else:
        fix = Text("启动智能卡服务：sudo systemctl enable --now pcscd（需要先安装 pcscd 软件包）；然后重新插入 UKey。",
                   "Start the smart-card service: sudo systemctl enable --now pcscd (install the pcscd "
                   "package first); then plug the key in again.")
    try:
        readers = pcsc.list_readers()
    except BidSealError as exc:
        # many UKeys work without PC/SC (HID keys through their SKF driver): a warning, not an error
        return Check("pcsc", Status.WARNING, T_PCSC,
                     Text("智能卡服务没有运行。使用 CCID 接口的 UKey 需要它；只用厂商驱动的 UKey 不受影响。",
                          "The smart-card service is not running. UKeys with a CCID interface need it; keys "
                          "driven only by their vendor's library are not affected."),
                     fix, safe_details(exc))
    if not readers:
        return Check("pcsc", Status.INFO, T_PCSC,
                     Text("智能卡服务正在运行，但没有读卡器（不使用 CCID 接口的 UKey 属正常）。",
                          "The smart-card service runs but sees no reader (normal for keys without a CCID "
                          "interface)."), None, {"readers": []})
    return Check("pcsc", Status.OK, T_PCSC,
                 Text(f"智能卡服务正在运行，读卡器：{'、'.join(readers)}", f"Running; readers: {', '.join(readers)}"),
                 None, {"readers": readers})


_FIX_NO_KEY = Text(
    "插入 UKey；若已插入：拔下等 5 秒再插，换一个 USB 口（主机背面、不用集线器），确认 CA 的驱动已安装，"
    "关闭其他可能占用 UKey 的证书助手后重试。",
    "Insert the UKey; if it is in: unplug it, wait 5 s and plug it in again, try another USB port (at the "
    "back, no hub), check the CA's driver is installed, and close other certificate tools that may hold "
    "the key.")


def check_keys(ctx: Context) -> Check:
    result = ctx.scan
    if result is None:
        return Check("keys", Status.SKIPPED, T_KEYS, Text("驱动检查失败，无法查找 UKey。", "No driver, so no key search."))
    devices = result.devices
    problems = [p for d in devices for p in ([d.error] if d.error else []) + d.problems]
    idents = result.identities
    details = {"devices": [{"name": d.name, "library": d.library,
                            "manufacturer": d.info.manufacturer if d.info else None,
                            "serial": d.info.serial if d.info else None,
                            "identities": len(d.identities),
                            "error": d.error.code if d.error else None,
                            "problems": [p.code for p in d.problems]} for d in devices]}
    if not devices:
        return Check("keys", Status.ERROR, T_KEYS, Text("没有检测到 UKey。", "No UKey was detected."),
                     _FIX_NO_KEY, details)
    labels = "；".join(identity_label(i) for i in idents)
    if not idents:
        first = problems[0] if problems else None
        return Check("keys", Status.ERROR, T_KEYS,
                     Text(f"检测到 {len(devices)} 个 UKey，但读不到证书。{first.zh if first else ''}",
                          f"{len(devices)} key(s) detected but no certificate could be read. "
                          f"{first.en if first else ''}"),
                     Text("UKey 中可能没有证书或证书已损坏：请联系 CA 重新写入证书。",
                          "The key may hold no certificate or a damaged one: ask your CA to write it again."),
                     details)
    warnings = [w for i in idents for w in i.warnings]
    if problems or warnings:
        first_zh = problems[0].zh if problems else warnings[0]
        first_en = problems[0].en if problems else warnings[0]
        return Check("keys", Status.WARNING, T_KEYS,
                     Text(f"找到：{labels}。但有问题：{first_zh}", f"Found: {labels}. But: {first_en}"),
                     Text("如问题影响您要用的证书，请联系 CA。", "If this affects the certificate you use, contact "
                          "your CA."), details | {"warnings": warnings})
    demo = any(is_virtual(i) for i in idents)
    return Check("keys", Status.INFO if demo else Status.OK, T_KEYS,
                 Text(f"找到：{labels}", f"Found: {labels}"), None, details)


def _cert_state(cert: Certificate, ctx: Context) -> tuple[Status, str, str]:
    now = ctx.now
    if now < cert.not_before:
        return (Status.ERROR, f"尚未生效（{cert.not_before:%Y-%m-%d %H:%M} UTC 起）",
                f"not valid yet (from {cert.not_before:%Y-%m-%d %H:%M} UTC)")
    if now > cert.not_after:
        return Status.ERROR, f"已于 {cert.not_after:%Y-%m-%d} 过期", f"expired on {cert.not_after:%Y-%m-%d}"
    left = cert.not_after - now
    if left <= EXPIRY_WARNING:
        return Status.WARNING, f"{left.days} 天后过期（{cert.not_after:%Y-%m-%d}）", \
            f"expires in {left.days} days ({cert.not_after:%Y-%m-%d})"
    if left <= EXPIRY_NOTICE:
        return Status.INFO, f"{left.days} 天后过期（{cert.not_after:%Y-%m-%d}）", \
            f"expires in {left.days} days ({cert.not_after:%Y-%m-%d})"
    return Status.OK, f"有效至 {cert.not_after:%Y-%m-%d}", f"valid until {cert.not_after:%Y-%m-%d}"


def check_certificates(ctx: Context) -> list[Check]:
    out = []
    for ident in ctx.identities:
        for kind_zh, kind_en, cert in (("签名证书", "signing certificate", ident.sign_certificate),
                                       ("加密证书", "encryption certificate", ident.enc_certificate)):
            if cert is None:
                continue
            status, zh, en = _cert_state(cert, ctx)
            fix = None
            if status is Status.ERROR and ctx.now < cert.not_before:
                fix = Text("证书尚未生效：先检查电脑的日期和时间是否正确；正确则等到生效时间或联系 CA。",
                           "Not valid yet: first check the computer's date and time; if they are right, wait "
                           "or contact your CA.")
            elif status is Status.ERROR:
                fix = Text("证书已过期：请联系 CA 更新证书。注意：更新会重新签发加密密钥，更新前请确认待开标的投标文件"
                           "已加入恢复密钥或交易中心应急证书。",
                           "Expired: ask your CA to renew it. Renewal re-issues the encryption key: before it, make "
                           "sure pending bids also went to a recovery key or the centre's emergency certificate.")
            elif status is Status.WARNING:
                fix = Text("请尽快联系 CA 办理证书更新（更新前先完成或保护好待开标的投标文件）。",
                           "Arrange the renewal with your CA soon (first finish or protect pending bids).")
            out.append(Check("certificates", status, T_CERTS,
                             Text(f"{identity_label(ident)} 的{kind_zh}（序列号 {cert.serial_hex}）{zh}",
                                  f"{kind_en} of {identity_label(ident)} (serial {cert.serial_hex}) {en}"),
                             fix, {"device": ident.device, "container": ident.container, "kind": kind_en,
                                   "serial": cert.serial_hex, "not_before": cert.not_before.isoformat(),
                                   "not_after": cert.not_after.isoformat()}))
    if not out:
        out.append(Check("certificates", Status.SKIPPED, T_CERTS,
                         Text("没有可检查的证书（未检测到 UKey）。", "No certificate to check (no key detected).")))
    return out


def check_pins(ctx: Context) -> list[Check]:
    out = []
    seen: set[tuple[str, str, str]] = set()
    for ident in ctx.identities:
        key = (ident.library, ident.device, ident.application)
        if key in seen:  # one PIN per application
            continue
        seen.add(key)
        who = identity_label(ident)
        try:
            info = pin_info(ident, pool=ctx.pool)
        except BidSealError as exc:
            out.append(Check("pin", Status.WARNING, T_PIN,
                             Text(f"{who}：无法读取口令状态：{exc.zh}", f"{who}: cannot read the PIN state: {exc.en}"),
                             None, safe_details(exc)))
            continue
        details = {"device": ident.device, "application": ident.application, **info.to_dict()}
        if info.locked:
            out.append(Check("pin", Status.ERROR, T_PIN,
                             Text(f"{who}：用户口令已锁定。", f"{who}: the user PIN is locked."),
                             Text("用管理员口令解锁（UKey 面板 → 解锁口令），或带 UKey 到 CA 解锁；解锁前无法签章或解密。",
                                  "Unblock it with the admin PIN (key panel → Unblock PIN) or at your CA; until then "
                                  "nothing can be sealed or decrypted."), details))
        elif info.remaining <= LOW_RETRIES:
            out.append(Check("pin", Status.WARNING, T_PIN,
                             Text(f"{who}：口令只剩 {info.remaining} 次重试机会。",
                                  f"{who}: only {info.remaining} PIN attempts left."),
                             Text("先确认口令再输入，不要盲试；输错次数用完口令会被锁定。",
                                  "Make sure of the PIN before typing it; when the attempts run out the PIN locks."),
                             details))
        else:
            note_zh = "（仍是出厂默认口令，建议修改）" if info.is_default else ""
            note_en = " (still the factory default: change it)" if info.is_default else ""
            out.append(Check("pin", Status.INFO if info.is_default else Status.OK, T_PIN,
                             Text(f"{who}：剩余 {info.remaining}/{info.max_retries} 次{note_zh}",
                                  f"{who}: {info.remaining}/{info.max_retries} attempts left{note_en}"),
                             Text("在 UKey 面板中修改口令。", "Change the PIN in the key panel.") if info.is_default
                             else None, details))
    if not out:
        out.append(Check("pin", Status.SKIPPED, T_PIN, Text("未检测到 UKey。", "No key detected.")))
    return out

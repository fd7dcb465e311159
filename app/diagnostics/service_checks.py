"""Checks of BidSeal's own services: the localhost helper, the envelope records, the
trust store. Each reports SKIPPED when its package is not part of this installation."""

from __future__ import annotations

import socket
from typing import Any

from app.diagnostics.context import Context
from app.diagnostics.model import Check, Status, Text
from app.envelope.records import EnvelopeRecords
from app.errors import BidSealError

T_HELPER = Text("网页助手（本机服务）", "Web helper (local service)")
T_ENVELOPES = Text("待开标的投标文件", "Pending bid envelopes")
T_TRUST = Text("信任的根证书", "Trusted root certificates")


def _listening(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def check_helper(ctx: Context) -> Check:
    """Whether the localhost helper listens on one of its ports, and which hub origins it allows
    (its own configuration, :mod:`app.helper.config`; nothing is duplicated here)."""
    try:
        from app.helper.config import load_config
    except ImportError:
        return Check("helper", Status.SKIPPED, T_HELPER,
                     Text("此版本没有网页助手。", "This version has no web helper."))
    try:
        config = load_config()
    except (BidSealError, OSError, ValueError) as exc:
        return Check("helper", Status.WARNING, T_HELPER, Text(f"网页助手配置无法读取：{exc}",
                     f"The web helper configuration cannot be read: {exc}"), None, {"error": str(exc)})
    ports = list(config.ports)
    listening = [p for p in ports if _listening(p)]
    details: dict[str, Any] = {"ports": ports, "listening": listening, "origins": sorted(config.hubs),
                               "problems": list(config.problems)}
    if not config.hubs:
        return Check("helper", Status.INFO if not listening else Status.WARNING, T_HELPER,
                     Text("没有允许任何交易平台网页调用网页助手。" + ("（网页助手正在运行）" if listening else ""),
                          "No trading-platform web page is allowed to use the helper."
                          + (" (the helper is running)" if listening else "")),
                     Text("在“设置 → 允许的平台网址”中添加交易平台的网址（https://...）。",
                          "Add the trading platform's address (https://...) under Settings → allowed "
                          "platforms."), details)
    if not listening:
        return Check("helper", Status.WARNING, T_HELPER,
                     Text(f"网页助手没有运行（端口 {', '.join(map(str, ports))} 无人监听），平台网页将无法登录、解密或签章。",
                          f"The web helper is not running (nothing listens on {', '.join(map(str, ports))}); "
                          "platform pages cannot log in, decrypt or sign."),
                     Text("启动 BidSeal（托盘图标）或运行 bidseal helper serve。",
                          "Start BidSeal (tray icon) or run bidseal helper serve."), details)
    return Check("helper", Status.OK, T_HELPER,
                 Text(f"正在 127.0.0.1:{listening[0]} 运行，允许 {len(config.hubs)} 个平台网址。",
                      f"Running on 127.0.0.1:{listening[0]}; {len(config.hubs)} platform address(es) allowed."),
                 None, details)


def check_envelopes(ctx: Context) -> Check:
    """The lifecycle guard: pending envelopes whose certificate expires before the opening,
    or made for an encryption certificate the inserted key no longer holds."""
    store = EnvelopeRecords()
    try:
        pending = store.entries()
        warnings = [w for rec in pending for w in rec.warnings(ctx.now)]
        present = [i.enc_certificate for i in ctx.identities if i.enc_certificate is not None]
        warnings += store.changed_certificate_warnings(present, ctx.now)
    except BidSealError as exc:
        return Check("envelopes", Status.WARNING, T_ENVELOPES, Text(exc.zh, exc.en), None, {"code": exc.code})
    details = {"pending": len(pending), "warnings": [w.to_dict() for w in warnings],
               "states": {s: sum(1 for r in pending if r.state(ctx.now) == s)
                          for s in ("waiting", "due", "missing")}}
    if not warnings:
        return Check("envelopes", Status.OK if pending else Status.INFO, T_ENVELOPES,
                     Text(f"{len(pending)} 个待开标的投标文件，没有证书问题。",
                          f"{len(pending)} pending envelope(s), no certificate problem."), None, details)
    worst = Status.ERROR if any(not w.has_fallback for w in warnings) else Status.WARNING
    return Check("envelopes", worst, T_ENVELOPES,
                 Text(" ".join(w.zh for w in warnings), " ".join(w.en for w in warnings)),
                 Text("开标前用有效的加密证书（并加上恢复密钥）重新加密并上传；已有恢复密钥的请带好恢复密钥文件和口令。",
                      "Before the opening, re-encrypt with a valid encryption certificate (and a recovery key) "
                      "and upload again; where a recovery key was added, bring the file and its passphrase."),
                 details)


def check_trust(ctx: Context) -> Check:
    """How many trust roots the verifier uses (the trust store of :mod:`app.trust`)."""
    try:
        from app.trust import trusted_roots
    except ImportError:
        return Check("trust", Status.SKIPPED, T_TRUST,
                     Text("此版本没有信任存储。", "This version has no trust store."))
    try:
        roots = list(trusted_roots())
    except BidSealError as exc:
        return Check("trust", Status.WARNING, T_TRUST, Text(exc.zh, exc.en), None, {"code": exc.code})
    details = {"roots": [{"subject": r.subject.rfc4514(), "not_after": r.not_after.isoformat(),
                          "fingerprint_sm3": r.fingerprint_sm3} for r in roots]}
    if not roots:
        return Check("trust", Status.WARNING, T_TRUST,
                     Text("没有信任任何根证书，验章时所有签名都会显示为“签名者不受信任”。",
                          "No root certificate is trusted; every signature will show as 'untrusted signer'."),
                     Text("在“设置 → 根证书”中导入 CA 的根证书。", "Import your CA's root certificate under "
                          "Settings → root certificates."), details)
    return Check("trust", Status.OK, T_TRUST, Text(f"信任 {len(roots)} 个根证书。", f"{len(roots)} trusted root(s)."),
                 None, details)

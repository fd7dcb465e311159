"""The helper's error vocabulary: stable codes shared with the JS SDK (bidseal.js), each
with an HTTP status and a Chinese and English sentence (helper-security.md §7.20).

Allowed pages get ``{"error": {"code", "zh", "en", "details"}}``; other origins get a
bare 403 and never see any of this. :func:`from_exception` maps engine and token
errors into the vocabulary, so no traceback or internal message reaches a page.
"""

from __future__ import annotations

from typing import Any

from app.errors import BidSealError

#: code -> (HTTP status, zh, en)
VOCABULARY: dict[str, tuple[int, str, str]] = {
    "ERR_BAD_REQUEST": (400, "请求格式不正确。", "The request is malformed."),
    "ERR_PAYLOAD_TOO_LARGE": (413, "请求数据过大。", "The request is too large."),
    "ERR_REQUEST_TIMEOUT": (408, "请求数据传输超时。", "The request took too long to arrive."),
    "ERR_VERSION_MISMATCH": (400, "网页与 BidSeal 助手的协议版本不一致，请升级 BidSeal 或刷新网页。",
                             "The page and the BidSeal helper speak different protocol versions; update "
                             "BidSeal or reload the page."),
    "ERR_ACTION_PENDING": (409, "另一个 UKey 操作正在进行，请先完成或取消它。",
                           "Another UKey operation is in progress; finish or cancel it first."),
    "ERR_USER_CANCELLED": (403, "您已取消操作。", "You cancelled the operation."),
    "ERR_USER_TIMEOUT": (408, "等待您确认的时间已过，操作已取消。",
                         "The operation timed out waiting for your confirmation and was cancelled."),
    "ERR_TOO_MANY_CANCELS": (429, "您多次取消了此网站的请求，BidSeal 暂停处理它的请求几分钟。",
                             "You cancelled this site's requests several times; BidSeal ignores its "
                             "requests for a few minutes."),
    "ERR_HELPER_PAUSED": (503, "BidSeal 助手已暂停，请在托盘图标中恢复。",
                          "The BidSeal helper is paused; resume it from its tray icon."),
    "ERR_NO_UKEY": (404, "没有找到 UKey，请插入 UKey 后重试。", "No UKey was found; insert your UKey and try again."),
    "ERR_DRIVER_NOT_FOUND": (500, "找不到 UKey 驱动程序（SKF 库），请安装 CA 提供的驱动。",
                             "The UKey driver (SKF library) was not found; install your CA's driver."),
    "ERR_CERT_NOT_FOUND": (404, "UKey 中没有可用于此操作的证书。",
                           "The UKey holds no certificate for this operation."),
    "ERR_CERT_MISMATCH": (409, "数据不是给这把 UKey 的证书的。", "The data is not for this UKey's certificate."),
    "ERR_CERT_EXPIRED": (409, "证书已过期或尚未生效。", "The certificate has expired or is not valid yet."),
    "ERR_PIN_LOCKED": (423, "UKey 口令已锁死，请联系 CA 解锁。", "The UKey PIN is locked; contact your CA to unlock it."),
    "ERR_UKEY_REMOVED": (410, "UKey 已被拔出。", "The UKey was removed."),
    "ERR_UNSUPPORTED_ALG": (400, "不支持的算法或数据格式。", "Unsupported algorithm or data format."),
    "ERR_PROJECT_MISMATCH": (403, "该信封不属于本平台配置的项目，已拒绝解密。",
                             "This envelope does not belong to a project of this platform; decryption "
                             "was refused."),
    "ERR_INVALID_DATA": (422, "数据已损坏或被篡改。", "The data is damaged or was altered."),
    "ERR_NOT_FOUND": (404, "没有这个接口。", "No such operation."),
    "ERR_METHOD_NOT_ALLOWED": (405, "请求方法不允许。", "Method not allowed."),
    "ERR_INTERNAL": (500, "BidSeal 助手内部错误，请查看请求日志。", "Internal error in the BidSeal helper; see the "
                     "request log."),
}


class HelperError(BidSealError):
    """A refusal or failure an allowed page is told about."""

    def __init__(self, code: str, *, zh: str | None = None, en: str | None = None, **details: Any) -> None:
        status, dzh, den = VOCABULARY[code]
        super().__init__(zh or dzh, en or den, code=code, details=details)
        self.status = status


_TOKEN_CODES = {
    "ERR_DEVICE_REMOVED": "ERR_UKEY_REMOVED", "ERR_PIN_LOCKED": "ERR_PIN_LOCKED",
    "ERR_CERT_NOT_FOUND": "ERR_CERT_NOT_FOUND", "ERR_LIBRARY_MISSING": "ERR_DRIVER_NOT_FOUND",
    "ERR_LIBRARY_BITNESS": "ERR_DRIVER_NOT_FOUND", "ERR_NOT_SKF_LIBRARY": "ERR_DRIVER_NOT_FOUND",
    "ERR_TOKEN_NOT_FOUND": "ERR_NO_UKEY", "ERR_NOT_RECIPIENT": "ERR_CERT_MISMATCH",
    "ERR_INTEGRITY": "ERR_INVALID_DATA", "ERR_ENVELOPE_FORMAT": "ERR_INVALID_DATA",
    "ERR_ENVELOPE_UNWRAP": "ERR_CERT_MISMATCH", "ERR_RECIPIENT_CERT": "ERR_CERT_EXPIRED",
    "ERR_CRYPTO_INPUT": "ERR_INVALID_DATA", "ERR_CANCELLED": "ERR_USER_CANCELLED",
    "ERR_CERT_EXPIRED": "ERR_CERT_EXPIRED", "ERR_CERT_NOT_YET_VALID": "ERR_CERT_EXPIRED",
    "ERR_TOKEN_BUSY": "ERR_ACTION_PENDING", "ERR_TOKEN_DRIVER": "ERR_DRIVER_NOT_FOUND",
}


def from_exception(exc: BaseException) -> HelperError:
    """The vocabulary error for any exception (engine sentences kept when they are ours)."""
    if isinstance(exc, HelperError):
        return exc
    if isinstance(exc, BidSealError):
        code = _TOKEN_CODES.get(exc.code)
        if code is None and exc.code.startswith(("ERR_PDF", "ERR_SEAL", "ERR_KEYWORD", "ERR_PAGE")):
            code = "ERR_INVALID_DATA"
        if code is not None:
            return HelperError(code, zh=exc.zh, en=exc.en, cause=exc.code)
        return HelperError("ERR_INTERNAL", cause=exc.code)
    return HelperError("ERR_INTERNAL", cause=type(exc).__name__)

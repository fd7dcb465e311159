"""Typed token errors: every SKF return code becomes a sentence a bidder can act on.

The table :data:`SAR_TABLE` covers every standard code of GM/T 0016-2012 Appendix A
(``SAR_OK`` .. ``SAR_REACH_MAX_CONTAINER_COUNT``). :func:`error_for` turns a code
returned by a function into the matching exception class; vendor-defined codes
(0x0A000033 and up) become a generic :class:`SkfError` that still names the code.

Errors travel from the token-host process to the caller as plain dictionaries
(:meth:`TokenError.to_wire` / :func:`error_from_wire`), so the exception a caller
catches is the same class the host raised. Details never contain PINs.
"""

from __future__ import annotations

from typing import Any

from app.cancel import OperationCancelled
from app.errors import BidSealError


class TokenError(BidSealError):
    """Base of everything :mod:`app.token` raises."""

    code = "ERR_TOKEN"

    def __init__(self, zh: str, en: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(zh, en, code=code, details=details)

    def to_wire(self) -> dict[str, Any]:
        return {"cls": type(self).__name__, "code": self.code, "zh": self.zh, "en": self.en,
                "details": safe_details(self.details)}


MAX_DETAIL = 1000


def safe_details(details: dict[str, Any]) -> dict[str, Any]:
    """Flat, short, PIN-free details that pass :func:`app.token.protocol.check_error_object`."""
    out: dict[str, Any] = {}
    for k, v in details.items():
        if "pin" in k.lower() and "retr" not in k.lower():
            continue
        value = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        out[str(k)] = value[:MAX_DETAIL] if isinstance(value, str) else value
    return out


# ---------------------------------------------------------------- SKF return codes


class SkfError(TokenError):
    """An SKF function returned a code other than SAR_OK."""

    code = "ERR_SKF"

    @property
    def sar(self) -> int:
        return int(str(self.details.get("sar", "0x0")), 16)

    @property
    def sar_name(self) -> str:
        return str(self.details.get("sar_name", ""))

    @property
    def function(self) -> str:
        return str(self.details.get("function", ""))


class PinIncorrect(SkfError):
    code = "ERR_PIN_INCORRECT"

    @property
    def retries_left(self) -> int | None:
        v = self.details.get("retries_left")
        return int(v) if v is not None else None


class PinLocked(SkfError):
    code = "ERR_PIN_LOCKED"


class PinLength(SkfError):
    code = "ERR_PIN_LENGTH"


class PinInvalid(SkfError):
    code = "ERR_PIN_INVALID"


class DeviceRemoved(SkfError):
    code = "ERR_DEVICE_REMOVED"


class CertificateNotFound(SkfError):
    code = "ERR_CERT_NOT_FOUND"


class KeyNotFound(SkfError):
    code = "ERR_KEY_NOT_FOUND"


class NotLoggedIn(SkfError):
    code = "ERR_NOT_LOGGED_IN"


class NotSupported(SkfError):
    code = "ERR_NOT_SUPPORTED"


class ApplicationNotFound(SkfError):
    code = "ERR_APPLICATION_NOT_FOUND"


class FileNotFound(SkfError):
    code = "ERR_FILE_NOT_FOUND"


class DeviceAuthFailed(SkfError):
    code = "ERR_DEVICE_AUTH"


# ---------------------------------------------------------------- library / host


class LibraryMissing(TokenError):
    code = "ERR_LIBRARY_MISSING"


class LibraryWrongBitness(TokenError):
    code = "ERR_LIBRARY_BITNESS"


class NotAnSkfLibrary(TokenError):
    code = "ERR_NOT_SKF_LIBRARY"


class TokenTimeout(TokenError):
    code = "ERR_TOKEN_TIMEOUT"


class TokenCrashed(TokenError):
    code = "ERR_TOKEN_CRASHED"


class StaleHandle(TokenError):
    code = "ERR_TOKEN_STALE_HANDLE"


class TokenNotFound(TokenError):
    """No key / device / container matched the selection."""

    code = "ERR_TOKEN_NOT_FOUND"


class CertificateInvalid(TokenError):
    """A certificate stored on the key cannot be parsed."""

    code = "ERR_TOKEN_CERT_INVALID"


class TokenUsageError(TokenError):
    """The caller used the token API wrongly (closed session, bad length...)."""

    code = "ERR_TOKEN_USAGE"


class TokenProtocolError(TokenError):
    """The token host broke the protocol (a malformed frame, reply or result)."""

    code = "ERR_TOKEN_PROTOCOL"


class TokenCancelled(OperationCancelled, TokenError):
    """A device call was cancelled; its host process was killed (the next call starts a new
    one). The :class:`app.cancel.OperationCancelled` of the token layer."""


class DeviceBusy(TokenError):
    """Another session (in this process or another BidSeal process) owns the device."""

    code = "ERR_TOKEN_BUSY"


class NotOwner(TokenError):
    """A handle or a login used by someone who did not make it (refused by the token host)."""

    code = "ERR_TOKEN_NOT_OWNER"


class DriverFailure(TokenError):
    """Key discovery failed in a driver (it crashed, hung, returned an error or did not
    load), so "no key inserted" would be the wrong thing to say. ``details`` name the
    library, the SKF function and the error; ``failures`` holds every underlying error.
    Built by :meth:`app.token.device.TokenScan.driver_failure`."""

    code = "ERR_TOKEN_DRIVER"

    @property
    def failures(self) -> list[BidSealError]:
        return list(getattr(self, "_failures", []))


_CONTACT = "如问题持续，请联系 UKey 的发证 CA 机构。"
_CONTACT_EN = "If it persists, contact the CA that issued the key."

# code -> (name, class, zh, en)
SAR_TABLE: dict[int, tuple[str, type[SkfError], str, str]] = {
    0x0A000001: ("SAR_FAIL", SkfError, "UKey 操作失败。" + _CONTACT, "The UKey operation failed. " + _CONTACT_EN),
    0x0A000002: ("SAR_UNKNOWNERR", SkfError, "UKey 报告未知错误。请重新插拔 UKey 后重试。",
                 "The UKey reported an unknown error. Unplug and re-insert the key, then retry."),
    0x0A000003: ("SAR_NOTSUPPORTYETERR", NotSupported, "此 UKey 不支持该功能。请确认使用的是投标用的国密 UKey。",
                 "This UKey does not support the operation. Check that this is your SM2 e-bidding key."),
    0x0A000004: ("SAR_FILEERR", SkfError, "UKey 内部文件操作出错。" + _CONTACT, "A file operation inside the UKey failed. " + _CONTACT_EN),
    0x0A000005: ("SAR_INVALIDHANDLEERR", SkfError, "与 UKey 的连接已失效。请重新插拔 UKey 后重试。",
                 "The connection to the UKey is no longer valid. Re-insert the key and retry."),
    0x0A000006: ("SAR_INVALIDPARAMERR", SkfError, "UKey 拒绝了无效的参数。请重试；如问题持续请反馈给技术支持。",
                 "The UKey rejected an invalid parameter. Retry; if it persists, report it to support."),
    0x0A000007: ("SAR_READFILEERR", SkfError, "读取 UKey 内的文件失败。", "Reading a file on the UKey failed."),
    0x0A000008: ("SAR_WRITEFILEERR", SkfError, "写入 UKey 内的文件失败。", "Writing a file on the UKey failed."),
    0x0A000009: ("SAR_NAMELENERR", SkfError, "名称过长，UKey 无法接受。", "A name is too long for the UKey."),
    0x0A00000A: ("SAR_KEYUSAGEERR", SkfError, "该密钥不能用于此操作（用途不符）。请确认选择了正确的证书。",
                 "The key cannot be used for this operation (wrong key usage). Check the selected certificate."),
    0x0A00000B: ("SAR_MODULUSLENERR", SkfError, "密钥长度不受支持。", "The key length is not supported."),
    0x0A00000C: ("SAR_NOTINITIALIZEERR", SkfError, "UKey 尚未初始化。" + _CONTACT, "The UKey is not initialised. " + _CONTACT_EN),
    0x0A00000D: ("SAR_OBJERR", SkfError, "UKey 内对象错误。" + _CONTACT, "An object inside the UKey is wrong. " + _CONTACT_EN),
    0x0A00000E: ("SAR_MEMORYERR", SkfError, "UKey 内存不足。请重新插拔后重试。", "The UKey ran out of memory. Re-insert it and retry."),
    0x0A00000F: ("SAR_TIMEOUTERR", SkfError, "UKey 操作超时。请重新插拔后重试。", "The UKey operation timed out. Re-insert it and retry."),
    0x0A000010: ("SAR_INDATALENERR", SkfError, "输入数据长度不正确。", "The input data length is wrong."),
    0x0A000011: ("SAR_INDATAERR", SkfError, "输入数据不正确。", "The input data is wrong."),
    0x0A000012: ("SAR_GENRANDERR", SkfError, "UKey 生成随机数失败。", "The UKey failed to generate random data."),
    0x0A000013: ("SAR_HASHOBJERR", SkfError, "UKey 杂凑对象错误。", "The UKey hash object is wrong."),
    0x0A000014: ("SAR_HASHERR", SkfError, "UKey 杂凑运算失败。", "The UKey hash operation failed."),
    0x0A000015: ("SAR_GENRSAKEYERR", SkfError, "UKey 生成 RSA 密钥失败。", "The UKey failed to generate an RSA key."),
    0x0A000016: ("SAR_RSAMODULUSLENERR", SkfError, "RSA 模长不受支持。", "The RSA modulus length is not supported."),
    0x0A000017: ("SAR_CSPIMPRTPUBKEYERR", SkfError, "导入公钥失败。", "Importing the public key failed."),
    0x0A000018: ("SAR_RSAENCERR", SkfError, "RSA 加密失败。", "RSA encryption failed."),
    0x0A000019: ("SAR_RSADECERR", SkfError, "RSA 解密失败。", "RSA decryption failed."),
    0x0A00001A: ("SAR_HASHNOTEQUALERR", SkfError, "杂凑值不一致，数据可能已被篡改。",
                 "The hash values differ; the data may have been altered."),
    0x0A00001B: ("SAR_KEYNOTFOUNTERR", KeyNotFound, "UKey 中找不到所需的密钥。请确认证书已正确下载到 UKey。",
                 "The required key is not on the UKey. Check that the certificate was installed on it."),
    0x0A00001C: ("SAR_CERTNOTFOUNTERR", CertificateNotFound, "UKey 中找不到证书。请确认插入的是已办理证书的 UKey。",
                 "No certificate on the UKey. Check that you inserted the key that holds your certificate."),
    0x0A00001D: ("SAR_NOTEXPORTERR", SkfError, "该对象不允许导出。", "The object cannot be exported."),
    0x0A00001E: ("SAR_DECRYPTPADERR", SkfError, "解密时填充错误，数据可能不是发给此证书的或已损坏。",
                 "Bad padding while decrypting: the data was not made for this certificate or is damaged."),
    0x0A00001F: ("SAR_MACLENERR", SkfError, "MAC 长度不正确。", "The MAC length is wrong."),
    0x0A000020: ("SAR_BUFFER_TOO_SMALL", SkfError, "缓冲区不足（程序错误）。请反馈给技术支持。",
                 "Buffer too small (a program error). Please report it to support."),
    0x0A000021: ("SAR_KEYINFOTYPEERR", SkfError, "密钥类型不正确。", "The key type is wrong."),
    0x0A000022: ("SAR_NOT_EVENTERR", SkfError, "没有设备事件。", "No device event."),
    0x0A000023: ("SAR_DEVICE_REMOVED", DeviceRemoved, "UKey 已被拔出。请重新插入 UKey 后再试。",
                 "The UKey was removed. Plug it back in and try again."),
    0x0A000024: ("SAR_PIN_INCORRECT", PinIncorrect, "UKey 口令错误。", "The UKey PIN is incorrect."),
    0x0A000025: ("SAR_PIN_LOCKED", PinLocked,
                 "UKey 口令已被锁定。请联系发证的 CA 机构解锁，或使用管理员口令解锁并设置新口令（bidseal token unblock）。",
                 "The UKey PIN is locked. Contact the issuing CA to unlock it, or use the admin PIN to unblock it "
                 "and set a new PIN (bidseal token unblock)."),
    0x0A000026: ("SAR_PIN_INVALID", PinInvalid, "口令格式无效。", "The PIN is not valid."),
    0x0A000027: ("SAR_PIN_LEN_RANGE", PinLength, "口令长度不符合要求（通常为 6 到 16 位）。",
                 "The PIN length is out of range (usually 6 to 16 characters)."),
    0x0A000028: ("SAR_USER_ALREADY_LOGGED_IN", SkfError, "用户已登录。", "The user is already logged in."),
    0x0A000029: ("SAR_USER_PIN_NOT_INITIALIZED", SkfError, "用户口令尚未初始化。" + _CONTACT,
                 "The user PIN is not initialised. " + _CONTACT_EN),
    0x0A00002A: ("SAR_USER_TYPE_INVALID", SkfError, "口令类型无效。", "The PIN type is not valid."),
    0x0A00002B: ("SAR_APPLICATION_NAME_INVALID", SkfError, "应用名称无效。", "The application name is not valid."),
    0x0A00002C: ("SAR_APPLICATION_EXISTS", SkfError, "应用已存在。", "The application already exists."),
    0x0A00002D: ("SAR_USER_NOT_LOGGED_IN", NotLoggedIn, "尚未输入 UKey 口令或登录已失效。请重新输入口令。",
                 "Not logged in to the UKey (or the login expired). Enter the PIN again."),
    0x0A00002E: ("SAR_APPLICATION_NOT_EXISTS", ApplicationNotFound, "UKey 中找不到该应用。请确认插入的是正确的 UKey。",
                 "The application is not on the UKey. Check that you inserted the right key."),
    0x0A00002F: ("SAR_FILE_ALREADY_EXIST", SkfError, "文件已存在。", "The file already exists."),
    0x0A000030: ("SAR_NO_ROOM", SkfError, "UKey 存储空间不足。", "The UKey has no room left."),
    0x0A000031: ("SAR_FILE_NOT_EXIST", FileNotFound, "UKey 中找不到该文件。", "The file is not on the UKey."),
    0x0A000032: ("SAR_REACH_MAX_CONTAINER_COUNT", SkfError, "UKey 容器数量已达上限。",
                 "The UKey holds the maximum number of containers."),
}

SAR_OK = 0
SAR_BUFFER_TOO_SMALL = 0x0A000020
SAR_NAMES: dict[int, str] = {0: "SAR_OK", **{k: v[0] for k, v in SAR_TABLE.items()}}


def sar_name(rc: int) -> str:
    return SAR_NAMES.get(rc, "vendor-defined" if 0x0A000033 <= rc <= 0x0AFFFFFF else "unknown")


def error_for(rc: int, function: str, **details: Any) -> SkfError:
    """The typed exception for return code ``rc`` of SKF function ``function``."""
    name = sar_name(rc)
    entry = SAR_TABLE.get(rc)
    if entry is None:
        cls: type[SkfError] = SkfError
        zh = f"UKey 返回了错误代码 0x{rc:08X}（{name}）。" + _CONTACT
        en = f"The UKey returned error code 0x{rc:08X} ({name}). " + _CONTACT_EN
    else:
        _, cls, zh, en = entry
    retries = details.get("retries_left")
    admin = details.get("account") == "admin"
    if cls is PinIncorrect and retries is not None and int(retries) == 0:
        cls = PinLocked
        _, _, zh, en = SAR_TABLE[0x0A000025]
    if cls is PinIncorrect and retries is not None:
        who_zh, who_en = ("管理员口令", "admin PIN") if admin else ("UKey 口令", "UKey PIN")
        zh = f"{who_zh}错误，还可以再试 {retries} 次。多次输错口令会锁定 UKey。"
        en = f"The {who_en} is incorrect; {retries} attempt(s) left before it locks."
    elif cls is PinLocked and admin:
        zh = "UKey 管理员口令已被锁定，无法再解锁用户口令。请联系发证的 CA 机构。"
        en = "The UKey admin PIN is locked, so the user PIN can no longer be unblocked. Contact the issuing CA."
    return cls(zh, en, sar=f"0x{rc:08X}", sar_name=name, function=function, **details)


_CLASSES: dict[str, type[TokenError]] = {}


def _collect(cls: type[TokenError]) -> None:
    _CLASSES[cls.__name__] = cls
    for sub in cls.__subclasses__():
        _collect(sub)


def error_from_wire(data: dict[str, Any]) -> BidSealError:
    """Rebuild an exception sent by the token host."""
    if not _CLASSES:
        _collect(TokenError)
    cls = _CLASSES.get(str(data.get("cls")), TokenError)
    details = dict(data.get("details") or {})
    exc = cls.__new__(cls)
    BidSealError.__init__(exc, str(data.get("zh", "")), str(data.get("en", "")),
                          code=str(data.get("code") or cls.code), details=details)
    return exc

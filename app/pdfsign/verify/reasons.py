"""The verifier's reason vocabulary: stable codes, severity and the zh/en sentences."""

from __future__ import annotations

from typing import Any

from app.pdfsign.report import (
    Reason,
    Severity,
)

# -- reason vocabulary ---------------------------------------------------------------------

_I, _U, _N = Severity.INVALID, Severity.UNTRUSTED, Severity.INFO

REASONS: dict[str, tuple[Severity, str, str]] = {
    "NO_SIGNATURES": (_I, "此文件没有任何签名。", "This file has no signatures."),
    "FILE_INCOMPLETE": (_I, "文件末尾有多余或不完整的数据（文件被截断或被追加了内容）。",
                        "The file ends with stray or incomplete data (truncated, or bytes appended)."),
    "SIG_DICT_MISSING": (_I, "签名字典不存在或无法读取。", "The signature dictionary is missing or unreadable."),
    "SIG_DICT_COMPRESSED": (_I, "签名字典位于压缩对象流中，无法确认签名范围。",
                            "The signature dictionary is inside a compressed object stream; its byte range cannot be checked."),
    "UNSUPPORTED_SUBFILTER": (_I, "不支持的签名格式（SubFilter）。", "Unsupported signature format (SubFilter)."),
    "BYTERANGE_MALFORMED": (_I, "签名范围（/ByteRange）格式错误。", "The signature byte range (/ByteRange) is malformed."),
    "BYTERANGE_OUT_OF_BOUNDS": (_I, "签名范围超出文件长度（文件可能被截断）。",
                                "The signature byte range goes beyond the end of the file (truncated?)."),
    "CONTENTS_MALFORMED": (_I, "签名值（/Contents）不是十六进制字符串。",
                           "The signature value (/Contents) is not a hex string."),
    "BYTERANGE_GAP_MISMATCH": (_I, "签名范围的空隙与签名值的位置不一致（疑似签名伪造/影子攻击）。",
                               "The byte-range gap is not exactly this signature's /Contents (signature forgery / shadow attack)."),
    "COVERAGE_PARTIAL": (_I, "签名只覆盖了文件的一部分，不是完整的修订版本。",
                         "The signature covers only part of the file, not a complete revision."),
    "CMS_MALFORMED": (_I, "签名数据（CMS）格式错误。", "The signature data (CMS) is malformed."),
    "CMS_UNSUPPORTED": (_I, "签名算法不是 SM2/SM3，本程序不能验证。",
                        "The signature algorithm is not SM2/SM3 and cannot be verified here."),
    "SIGNATURE_INVALID": (_I, "签名值验证失败：签名后内容或签名被改动，或证书不对。",
                          "The signature does not verify: data or signature altered, or wrong certificate."),
    "DIGEST_MISMATCH": (_I, "文档摘要与签名时不一致：签名范围内的内容被修改。",
                        "The document digest differs from the signed one: signed bytes were changed."),
    "SIGNER_CERT_MISSING": (_I, "签名中找不到签名者证书。", "The signer certificate is not in the signature."),
    "CERT_MALFORMED": (_I, "签名者证书格式错误，无法检查。", "The signer certificate is malformed and cannot be checked."),
    "CERT_EXPIRED_AT_SIGNING": (_I, "签署时证书已过期。", "The certificate had expired at signing time."),
    "CERT_NOT_YET_VALID_AT_SIGNING": (_I, "签署时证书尚未生效。", "The certificate was not yet valid at signing time."),
    "CERT_NOT_FOR_SIGNING": (_I, "该证书不是签名证书（密钥用法不含数字签名/不可否认），可能是加密证书。",
                             "The certificate is not a signing certificate (no digitalSignature/nonRepudiation); it may be an encryption certificate."),
    "NO_TRUST_ROOTS": (_U, "未配置信任根证书，无法确认签署人身份。",
                       "No trusted root certificates are configured, so the signer cannot be trusted."),
    "CHAIN_UNTRUSTED": (_U, "签署人证书链不到任何受信任的根证书。",
                        "The signer's certificate chain does not reach a trusted root."),
    "CHAIN_INVALID": (_I, "签署人证书链验证失败。", "The signer's certificate chain is invalid."),
    "CRL_STALE": (_U, "吊销列表已过期，无法确认证书未被吊销。",
                  "A revocation list is out of date; revocation cannot be ruled out."),
    "CRL_IGNORED": (_N, "一个吊销列表签名无效，已忽略。", "A revocation list had a bad signature and was ignored."),
    "SIGNATURE_REMOVED": (_I, "该签名在后来的修订中被删除（签名域或签名控件已不在文档中）。",
                          "This signature was removed in a later revision (its field or widget is no longer in the document)."),
    "MODIFIED_AFTER_SIGNING": (_I, "签名后文档被修改（不仅是追加签名或填写表单）。",
                               "The document was modified after signing (beyond adding signatures or filling forms)."),
    "EMPTY_SM2_ID": (_N, "签名使用了空的 SM2 用户标识（OpenSSL 默认），不是 GM/T 0009 的默认标识。",
                     "The signature used the empty SM2 ID (OpenSSL's default), not the GM/T 0009 default ID."),
    "SIGNING_TIME_UNPROTECTED": (_N, "签名中没有受保护的签署时间，使用了 PDF 中自报的时间。",
                                 "The signature has no protected signing time; the PDF's claimed /M was used."),
    "SIGNING_TIME_MISSING": (_N, "签名中没有签署时间，按当前时间检查证书有效期。",
                             "The signature has no signing time; certificate validity was checked at the current time."),
    "TIMESTAMP_INVALID": (_I, "签名中的时间戳无效。", "The time-stamp in the signature is invalid."),
    "TIMESTAMP_UNTRUSTED": (_N, "时间戳机构证书不受信任，时间戳时间仅供参考。",
                            "The time-stamp authority is not trusted; its time is informational."),
}

_CMS_PROBLEMS = {
    "BAD_SIGNATURE": "SIGNATURE_INVALID",
    "SIGNATURE_MALFORMED": "SIGNATURE_INVALID",
    "DIGEST_MISMATCH": "DIGEST_MISMATCH",
    "SIGNER_CERT_NOT_FOUND": "SIGNER_CERT_MISSING",
}

_SUPPORTED_SUBFILTERS = frozenset({"adbe.pkcs7.detached", "ETSI.CAdES.detached"})
_TIMESTAMP_SUBFILTERS = frozenset({"ETSI.RFC3161"})
_OID_TST_TOKEN = "1.2.840.113549.1.9.16.2.14"
_OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"


def _reason(code: str, extra: str = "", **details: Any) -> Reason:
    sev, zh, en = REASONS[code]
    if extra:
        zh, en = f"{zh}（{extra}）", f"{en} ({extra})"
    return Reason(code, zh, en, sev, dict(details))

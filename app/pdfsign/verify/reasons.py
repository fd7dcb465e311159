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
    "FINAL_REVISION_UNREADABLE": (_I, "文档的最终版本无法读取（结构损坏、不受支持或是“解压炸弹”），签名后的内容无法确认。",
                                  "The document's final revision cannot be read (damaged, unsupported or a "
                                  "decompression bomb); what follows the signatures cannot be checked."),
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
    "CERT_EXPIRED": (_I, "证书已过期，而签名中没有可信的时间戳能证明签署时证书仍有效（签署人自报的时间不能作为依据）。",
                     "The certificate has expired, and no trusted time-stamp proves it was valid when signing "
                     "(the signer's own claimed time does not count)."),
    "CERT_NOT_YET_VALID": (_I, "证书尚未生效。", "The certificate is not yet valid."),
    "CLAIMED_TIME_INCONSISTENT": (_N, "签署人自报的签署时间晚于可信时间戳或当前时间，该时间不可信。",
                                  "The signing time the signer claims is later than the trusted time-stamp "
                                  "or the current time; it cannot be right."),
    "CERT_NOT_FOR_SIGNING": (_I, "该证书不是签名证书（密钥用法不含数字签名/不可否认），可能是加密证书。",
                             "The certificate is not a signing certificate (no digitalSignature/nonRepudiation); it may be an encryption certificate."),
    "NO_TRUST_ROOTS": (_U, "未配置信任根证书，无法确认签署人身份。",
                       "No trusted root certificates are configured, so the signer cannot be trusted."),
    "CHAIN_UNTRUSTED": (_U, "签署人证书链不到任何受信任的根证书。",
                        "The signer's certificate chain does not reach a trusted root."),
    "DEMO_CERTIFICATE": (_N, "签署人证书来自演示 CA（虚拟 UKey），只能用于演示，不代表真实单位身份。",
                         "The signer's certificate comes from a demo CA (the virtual UKey): a demo only, not a real identity."),
    "CHAIN_INVALID": (_I, "签署人证书链验证失败。", "The signer's certificate chain is invalid."),
    "CRL_STALE": (_U, "吊销列表已过期，无法确认证书未被吊销。",
                  "A revocation list is out of date; revocation cannot be ruled out."),
    "CRL_IGNORED": (_N, "一个吊销列表签名无效，已忽略。", "A revocation list had a bad signature and was ignored."),
    "SIGNATURE_REMOVED": (_I, "该签名在后来的修订中被删除（签名域或签名控件已不在文档中）。",
                          "This signature was removed in a later revision (its field or widget is no longer in the document)."),
    "MODIFIED_AFTER_SIGNING": (_I, "签名后文档被修改（不仅是追加签名或填写表单）。",
                               "The document was modified after signing (beyond adding signatures or filling forms)."),
    "SM2_WITHOUT_Z": (_N, "签名是对裸摘要（不含 Z 值）做的非标准 SM2 签名，仅因启用了兼容开关才被接受；请核实签名工具。",
                      "The signature is a non-standard SM2 signature over a bare digest without Z, accepted only "
                      "because the compatibility switch is on; check the signing tool."),
    "SM2_WITHOUT_Z_REJECTED": (_I, "签名是对裸摘要（不含 Z 值）做的，不是标准 SM2 签名（GM/T 0009）；"
                                   "如确认签名工具如此实现，可用 --accept-sm2-without-z 兼容开关验证。",
                               "The signature was computed over a bare digest without Z, not a standard SM2 "
                               "signature (GM/T 0009); if the signing tool is known to do this, verify with the "
                               "--accept-sm2-without-z compatibility switch."),
    "EMPTY_SM2_ID": (_N, "签名使用了空的 SM2 用户标识（OpenSSL 默认），不是 GM/T 0009 的默认标识。",
                     "The signature used the empty SM2 ID (OpenSSL's default), not the GM/T 0009 default ID."),
    "SIGNING_TIME_UNPROTECTED": (_N, "签名中没有受保护的签署时间，使用了 PDF 中自报的时间。",
                                 "The signature has no protected signing time; the PDF's claimed /M was used."),
    "SIGNING_TIME_MISSING": (_N, "签名中没有签署时间，按当前时间检查证书有效期。",
                             "The signature has no signing time; certificate validity was checked at the current time."),
    "TIMESTAMP_INVALID": (_I, "签名中的时间戳无效。", "The time-stamp in the signature is invalid."),
    "SES_MALFORMED": (_I, "电子签章数据（SES_Signature）格式错误。", "The electronic seal signature (SES_Signature) is malformed."),
    "SES_SEAL_INVALID": (_I, "签章中的电子印章制章签名无效：印章被改动或不是该制章人制作的。",
                         "The seal inside the signature fails its maker's signature: altered, or not made by that maker."),
    "SES_SEAL_NOT_BOUND": (_I, "签章人证书不在电子印章的证书列表中：无权使用该印章。",
                           "The signer's certificate is not in the seal's certificate list: not entitled to this seal."),
    "SES_SEAL_EXPIRED": (_I, "签章时电子印章不在有效期内。", "The seal was outside its validity period at signing time."),
    "SES_MAKER_UNTRUSTED": (_U, "电子印章的制章人证书链不到受信任的根证书。",
                            "The seal maker's certificate does not chain to a trusted root."),
    "TIMESTAMP_UNTRUSTED": (_N, "时间戳不可信（时间戳机构证书不受信任，或不是带关键扩展用途 timeStamping 的时间戳证书），"
                                "其时间不被采用。",
                            "The time-stamp is not trusted (its authority's certificate is not trusted, or is not a "
                            "time-stamping certificate with a critical timeStamping extended key usage); its time "
                            "is not used."),
}

_CMS_PROBLEMS = {
    "BAD_SIGNATURE": "SIGNATURE_INVALID",
    "SIGNATURE_MALFORMED": "SIGNATURE_INVALID",
    "DIGEST_MISMATCH": "DIGEST_MISMATCH",
    "SIGNER_CERT_NOT_FOUND": "SIGNER_CERT_MISSING",
    "SM2_WITHOUT_Z": "SM2_WITHOUT_Z_REJECTED",
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

"""RFC 3161 time stamps for seals (optional, off by default).

The token stamps the *signature value* (message imprint = SM3 of the SignerInfo's
``signature`` octets, as RFC 3161 appendix A / PAdES require) and is added as the
unsigned attribute id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14); the space
is reserved in /Contents beforehand (:data:`app.pdfsign.signer.TIMESTAMP_RESERVE`).

:func:`request_timestamp` posts a ``TimeStampReq`` (SM3 imprint, random nonce,
certReq) to a configurable TSA URL with ``requests`` and checks the answer before
it is used: status granted, a SignedData token whose TSTInfo carries our imprint
and nonce, and a signature that verifies (SM2 via :mod:`app.gm.cms`). Trust in the
TSA's certificate is the verifier's business, not the signer's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import tsp

from app.gm import cms, oids
from app.gm.errors import GMError
from app.gm.sm3 import sm3
from app.pdfsign.errors import TimestampError

__all__ = ["OID_TIMESTAMP_TOKEN", "TimestampInfo", "build_request", "parse_token", "request_timestamp"]

OID_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"
_CONTENT_TYPE = "application/timestamp-query"


@dataclass(frozen=True)
class TimestampInfo:
    gen_time: datetime
    serial_number: int
    imprint: bytes
    nonce: int | None
    tsa_name: str | None


def build_request(imprint: bytes, nonce: int) -> bytes:
    """DER TimeStampReq for an SM3 ``imprint`` with ``nonce`` and certReq set."""
    req = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": oids.SM3}, "hashed_message": imprint},
        "nonce": nonce,
        "cert_req": True,
    })
    return bytes(req.dump())


def _fail(zh: str, en: str, **details: Any) -> TimestampError:
    return TimestampError(f"时间戳服务出错：{zh}", f"Time-stamp authority error: {en}", **details)


def parse_token(token_der: bytes, imprint: bytes, nonce: int | None = None) -> TimestampInfo:
    """Check a TimeStampToken against ``imprint`` (and ``nonce``) and return its facts."""
    try:
        ci = asn1_cms.ContentInfo.load(token_der)
        if ci["content_type"].native != "signed_data":
            raise _fail("返回的不是签名数据。", "the token is not SignedData.")
        encap = ci["content"]["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise _fail("返回的内容不是时间戳信息。", "the token does not carry a TSTInfo.")
        tst = encap["content"].parsed
        got_imprint = bytes(tst["message_imprint"]["hashed_message"].native)
        alg = tst["message_imprint"]["hash_algorithm"]["algorithm"].dotted
        got_nonce = tst["nonce"].native
        gen_time = tst["gen_time"].native
        serial = int(tst["serial_number"].native)
        tsa = tst["tsa"].native
    except (ValueError, KeyError, TypeError) as exc:
        raise _fail("时间戳格式错误。", "the token is malformed.", reason=str(exc)[:200]) from exc
    if alg != oids.SM3 or got_imprint != imprint:
        raise _fail("时间戳与签名不对应。", "the token stamps different data.")
    if nonce is not None and got_nonce != nonce:
        raise _fail("时间戳随机数不一致（可能是重放）。", "the nonce does not match (possible replay).")
    try:
        info = cms.verify_detached(token_der)
    except GMError as exc:
        raise _fail("时间戳签名无法解析。", "the token signature cannot be parsed.", reason=exc.en) from exc
    if not info.valid:
        raise _fail("时间戳签名无效。", "the token signature does not verify.", problems=info.problems)
    tsa_name = info.signer_certificate.common_name if info.signer_certificate else None
    if tsa is not None and not tsa_name:
        tsa_name = str(tsa)
    return TimestampInfo(gen_time=gen_time, serial_number=serial, imprint=got_imprint, nonce=got_nonce,
                         tsa_name=tsa_name)


def request_timestamp(url: str, signature_value: bytes, *, timeout: float = 15.0,
                      session: Any = None) -> bytes:
    """Ask the TSA at ``url`` to stamp ``signature_value``; returns the token DER (checked)."""
    import requests

    imprint = sm3(signature_value)
    nonce = secrets.randbits(63)
    http = session or requests
    try:
        resp = http.post(url, data=build_request(imprint, nonce), timeout=timeout,
                         headers={"Content-Type": _CONTENT_TYPE, "Accept": "application/timestamp-reply"})
    except requests.RequestException as exc:
        raise _fail("无法连接时间戳服务器，请检查网络或时间戳地址。",
                    "cannot reach the server; check the network and the TSA URL.",
                    url=url, reason=str(exc)[:200]) from exc
    if resp.status_code != 200:
        raise _fail(f"服务器返回 HTTP {resp.status_code}。", f"the server answered HTTP {resp.status_code}.",
                    url=url, status=resp.status_code)
    try:
        answer = tsp.TimeStampResp.load(resp.content)
        status = answer["status"]["status"].native
        token = answer["time_stamp_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _fail("应答格式错误。", "the reply is malformed.", url=url) from exc
    if status not in ("granted", "granted_with_mods") or token.native is None:
        text = answer["status"]["status_string"].native
        raise _fail("服务器拒绝了时间戳请求。", "the server refused the request.", url=url, status=status,
                    status_string=text)
    token_der = bytes(token.dump())
    parse_token(token_der, imprint, nonce)
    return token_der

"""RFC 3161 tokens: embedded in a signature, or a document time-stamp."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import parser as asn1_parser
from asn1crypto import tsp as asn1_tsp

from app.gm import cms as gm_cms
from app.gm import oids
from app.gm.errors import GMError
from app.gm.sm3 import SM3
from app.gm.x509 import verify_chain
from app.pdfsign.report import (
    SignatureReport,
    TimestampReport,
)
from app.pdfsign.verify.context import _Context
from app.pdfsign.verify.hashing import _HASHLIB_NAMES
from app.pdfsign.verify.reasons import _OID_TST_INFO, _OID_TST_TOKEN, _reason

# -- time-stamps ------------------------------------------------------------------------------------


def _first_der(data: bytes) -> bytes:
    """The first DER element of ``data`` (a /Contents string is zero-padded)."""
    _cls, _method, _tag, header, contents, trailer = asn1_parser.parse(data)
    return data[: len(header) + len(contents) + len(trailer)]


def _parse_token(token_der: bytes) -> tuple[Any, Any] | None:
    """(ContentInfo, TSTInfo) of an RFC 3161 token, or None when malformed."""
    try:
        ci = asn1_cms.ContentInfo.load(_first_der(token_der))
        sd = ci["content"]
        encap = sd["encap_content_info"]
        if encap["content_type"].dotted != _OID_TST_INFO:
            return None
        raw = encap["content"]
        body = raw.parsed if hasattr(raw, "parsed") else raw
        tst = body if isinstance(body, asn1_tsp.TSTInfo) else asn1_tsp.TSTInfo.load(bytes(raw.native))
        tst.native  # noqa: B018 - force a full parse
        return ci, tst
    except (ValueError, TypeError, KeyError, AttributeError, GMError):
        return None


def _check_token(ctx: _Context, token_der: bytes, imprint_of: Callable[[str], bytes | None]) -> TimestampReport:
    out = TimestampReport()
    parsed = _parse_token(token_der)
    if parsed is None:
        return out
    _ci, tst = parsed
    alg = tst["message_imprint"]["hash_algorithm"]["algorithm"].dotted
    expected = imprint_of(alg)
    imprint_ok = expected is not None and bytes(tst["message_imprint"]["hashed_message"].native) == expected
    try:
        info = gm_cms.verify_detached(token_der)
    except GMError:
        return out
    gen = tst["gen_time"].native
    if gen is not None and gen.tzinfo is None:
        gen = gen.replace(tzinfo=UTC)
    out.time = gen
    tsa = info.signer_certificate
    out.tsa = tsa.common_name if tsa is not None else None
    out.valid = bool(info.valid and imprint_ok and gen is not None)
    if tsa is not None and out.valid:
        # Only a time-stamping certificate (critical timeStamping EKU, RFC 3161 2.3)
        # that chains to a trusted root, valid and unrevoked at genTime, makes the
        # time count; any signing certificate could otherwise vouch for any time.
        chain = verify_chain(tsa, list(ctx.roots), list(info.certificates), at=gen, crls=list(ctx.crls))
        try:
            is_tsa = tsa.is_timestamping_cert
        except GMError:
            is_tsa = False
        out.trusted = chain.trusted and is_tsa
        out.problem = None if out.trusted else ("not_tsa_certificate" if not is_tsa else "chain")
    return out


def _embedded_timestamp(ctx: _Context, rep: SignatureReport, contents: bytes,
                        info: gm_cms.SignedDataInfo) -> TimestampReport | None:
    try:
        ci = asn1_cms.ContentInfo.load(_first_der(contents))
        si = ci["content"]["signer_infos"][0]
        unsigned = si["unsigned_attrs"]
        if isinstance(unsigned, core.Void) or unsigned.native is None:
            return None
        token = None
        for attr in unsigned:
            if attr["type"].dotted == _OID_TST_TOKEN:
                token = bytes(attr["values"][0].dump())
                break
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, GMError):
        return None
    if token is None:
        return None

    def imprint(alg: str) -> bytes | None:
        if alg == oids.SM3:
            return SM3(info.signature).digest()
        name = _HASHLIB_NAMES.get(alg)
        return hashlib.new(name, info.signature).digest() if name else None

    ts = _check_token(ctx, token, imprint)
    rep.timestamp = ts
    if not ts.valid:
        rep.add(_reason("TIMESTAMP_INVALID"))
    elif not ts.trusted:
        rep.add(_reason("TIMESTAMP_UNTRUSTED", ts.tsa or ""))
    return ts


def _verify_doc_timestamp(ctx: _Context, rep: SignatureReport, contents: bytes,
                          ranges: list[tuple[int, int]]) -> None:
    parsed = _parse_token(contents)
    alg = parsed[1]["message_imprint"]["hash_algorithm"]["algorithm"].dotted if parsed else oids.SM3
    extra = _HASHLIB_NAMES.get(alg)
    sm3_digest, other = ctx.hasher.digest(ranges, extra)

    def imprint(a: str) -> bytes | None:
        return sm3_digest if a == oids.SM3 else other

    ts = _check_token(ctx, contents, imprint)
    rep.timestamp = ts
    rep.signing_time = ts.time
    rep.signing_time_source = "timestamp" if ts.trusted else "timestamp_untrusted"
    rep.signer_cn = ts.tsa
    if not ts.valid:
        rep.add(_reason("TIMESTAMP_INVALID"))
        return
    rep.trusted = ts.trusted
    if ts.problem == "not_tsa_certificate":
        rep.add(_reason("TIMESTAMP_UNTRUSTED", ts.tsa or ""))
        rep.add(_reason("CHAIN_UNTRUSTED", f"{ts.tsa or ''}: not a time-stamping certificate"))
    elif not ts.trusted:
        rep.add(_reason("NO_TRUST_ROOTS" if not ctx.roots else "CHAIN_UNTRUSTED", ts.tsa or ""))

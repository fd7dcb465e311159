"""The helper's OpenAPI 3.1 document, generated from :mod:`.schemas` (one source of truth).

``python -m app.helper.openapi > resources/api/helper-openapi.json`` regenerates the
committed file; ``tests/helper/test_openapi.py`` fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any

from app import __version__
from app.helper import limits, schemas
from app.helper.config import DEFAULT_PORTS
from app.helper.errors import VOCABULARY

_DESCRIPTIONS = {
    "status": "Version and protocol (allowlisted origins only).",
    "certificates": "Identities on the inserted UKeys; no consent, allowlisted origins only.",
    "login": "After consent and PIN (both in BidSeal's own windows), the signing key signs "
             "\"BIDSEAL-AUTH-v1\\0\" || SM3(origin) || SM3(nonce); returns a bidseal-auth:1 token.",
    "decrypt": "(a) cms: a short GM/T 0010 ciphertext -> plaintext; (b) envelope-head: the file key "
               "re-wrapped to the hub's configured encryption certificate.",
    "sign-pdf": "The whole PDF as the body (<= 50 MiB); after consent, review and PIN the helper seals "
                "exactly that file and returns the signed PDF.",
}


def _error_responses() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in sorted({s for s, _zh, _en in VOCABULARY.values()}):
        codes = sorted(c for c, (s, _zh, _en) in VOCABULARY.items() if s == status)
        out[str(status)] = {"description": ", ".join(codes),
                            "content": {"application/json": {"schema": schemas.ERROR_REPLY}}}
    return out


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    headers = [{"name": "BidSeal-Protocol", "in": "header", "required": True,
                "schema": {"const": schemas.PROTOCOL_VERSION}}]
    for op, desc in _DESCRIPTIONS.items():
        post: dict[str, Any] = {"operationId": op.replace("-", "_"), "summary": desc, "parameters": list(headers),
                                "responses": _error_responses()}
        if op == "sign-pdf":
            for name, schema in schemas.SIGN_PDF_QUERY["properties"].items():
                post["parameters"].append({"name": name, "in": "query", "required": False, "schema": schema})
            post["requestBody"] = {"required": True, "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary", "maxLength": limits.MAX_PDF_BYTES}}}}
            post["responses"]["200"] = {"description": "The signed PDF (an incremental update of the upload).",
                                        "content": {"application/pdf": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}
        else:
            post["requestBody"] = {"required": True,
                                   "content": {"application/json": {"schema": schemas.REQUESTS[op]}}}
            post["responses"]["200"] = {"description": "Success.",
                                        "content": {"application/json": {"schema": schemas.REPLIES[op]}}}
        post["responses"]["403"]["description"] += "; other origins: a bare 403 with no body and no CORS headers"
        paths[f"/v1/{op}"] = {"post": post}
    return {
        "openapi": "3.1.0",
        "info": {"title": "BidSeal localhost helper", "version": __version__,
                 "description": "Called by hub web pages through resources/web/bidseal.js. Every request "
                                "must carry the Origin header the browser sets, naming an allowlisted https hub "
                                "origin, and Host 127.0.0.1:<port>; anything else gets a bare 403 (no body, no "
                                "CORS headers) before any work. Listens on "
                                f"http://127.0.0.1:{DEFAULT_PORTS[0]} (fallbacks {DEFAULT_PORTS[1]}, "
                                f"{DEFAULT_PORTS[2]}). Security: resources/docs/helper.md."},
        "servers": [{"url": f"http://127.0.0.1:{p}"} for p in DEFAULT_PORTS],
        "paths": paths,
    }


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")

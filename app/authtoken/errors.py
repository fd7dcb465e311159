"""Why a login token was refused: one error class, stable codes, bilingual sentences.

The hub turns these into its own reply (never show a bidder the raw token); the
codes are part of the spec (``resources/docs/login-token.md`` §6), so a Java hub can
log the same words.
"""

from __future__ import annotations

from typing import Any

from app.errors import BidSealError


class AuthTokenError(BidSealError):
    """A login token or its inputs failed a check; ``code`` says which."""

    code = "ERR_AUTH_TOKEN"

    def __init__(self, code: str, zh: str, en: str, **details: Any) -> None:
        super().__init__(zh, en, code=code, details=details)


def format_error(reason: str) -> AuthTokenError:
    return AuthTokenError("ERR_AUTH_FORMAT", "登录令牌格式不正确。", "The login token is malformed.",
                          reason=reason)

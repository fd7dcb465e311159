"""BidSeal login tokens: the challenge a UKey signs at a hub's login page, the token the
helper returns, and the verifier a hub runs (Qt-free; imports only app.gm and the shared
base modules, so any Python hub can use it). Normative spec, written so a Java hub can
implement it: ``resources/docs/login-token.md``; test vector in
``resources/testvectors/authtoken-v1/``.

::

    from app.authtoken import TokenVerifier, MemoryNonceStore, create_token
    nonces = MemoryNonceStore()                      # hub: nonce = nonces.issue()
    token = create_token(signer, origin, nonce)      # helper: a UKey session's signer
    login = TokenVerifier(origin, roots, nonces).verify(token.to_json(), nonce)
"""

from app.authtoken.challenge import CHALLENGE_SIZE, PREFIX, challenge, is_valid_nonce, new_nonce
from app.authtoken.errors import AuthTokenError
from app.authtoken.nonces import DEFAULT_TTL, MemoryNonceStore, NonceStore
from app.authtoken.origin import OriginError, is_canonical_origin, normalize_origin, parse_origin
from app.authtoken.token import ALGORITHM, APP_VERSION, FORMAT, AuthToken, create_token, parse_token
from app.authtoken.verifier import TokenVerifier, VerifiedLogin

__all__ = [
    "ALGORITHM", "APP_VERSION", "CHALLENGE_SIZE", "DEFAULT_TTL", "FORMAT", "PREFIX", "AuthToken",
    "AuthTokenError", "MemoryNonceStore", "NonceStore", "OriginError", "TokenVerifier", "VerifiedLogin",
    "challenge", "create_token", "is_canonical_origin", "is_valid_nonce", "new_nonce", "normalize_origin",
    "parse_origin", "parse_token",
]

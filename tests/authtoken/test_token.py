"""The login token verifies for its origin and nonce and fails after any change."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.authtoken import (
    PREFIX,
    AuthToken,
    AuthTokenError,
    MemoryNonceStore,
    TokenVerifier,
    challenge,
    create_token,
    new_nonce,
    parse_token,
)
from app.demo.pki import DemoPKI
from app.gm import sm2
from app.gm.keyops import SoftwareSigner
from app.gm.sm3 import sm3
from tests.authtoken.conftest import ORIGIN


def _login(pki: DemoPKI, nonces: MemoryNonceStore, origin: str = ORIGIN) -> tuple[AuthToken, str]:
    nonce = nonces.issue()
    return create_token(pki.signer(), origin, nonce), nonce


def _code(exc: pytest.ExceptionInfo[AuthTokenError]) -> str:
    return exc.value.code


def test_challenge_layout() -> None:
    nonce = "A" * 44
    c = challenge(ORIGIN, nonce)
    assert c == b"BIDSEAL-AUTH-v1\x00" + sm3(ORIGIN.encode()) + sm3(nonce.encode())
    assert len(c) == 80 and c.startswith(PREFIX)


@pytest.mark.parametrize("nonce", ["A" * 43, "A" * 129, "A" * 43 + "!", "A" * 43 + "é", ""])
def test_bad_nonce_lengths_and_alphabets_are_refused(nonce: str) -> None:
    with pytest.raises(ValueError):
        challenge(ORIGIN, nonce)


def test_a_fresh_token_verifies(pki: DemoPKI, nonces: MemoryNonceStore, verifier: TokenVerifier) -> None:
    token, nonce = _login(pki, nonces)
    login = verifier.verify(token.to_json(), nonce)
    assert login.certificate == pki.sign_cert
    assert login.unit_code == pki.sign_cert.unit_code and login.origin == ORIGIN
    assert login.to_dict()["serial"] == pki.sign_cert.serial_hex


def test_replay_fails(pki: DemoPKI, nonces: MemoryNonceStore, verifier: TokenVerifier) -> None:
    token, nonce = _login(pki, nonces)
    verifier.verify(token.to_json(), nonce)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(token.to_json(), nonce)
    assert _code(exc) == "ERR_AUTH_NONCE"


def test_a_failed_attempt_burns_the_nonce(pki: DemoPKI, other_pki: DemoPKI, nonces: MemoryNonceStore,
                                          verifier: TokenVerifier) -> None:
    nonce = nonces.issue()
    bad = create_token(other_pki.signer(), ORIGIN, nonce)
    with pytest.raises(AuthTokenError):
        verifier.verify(bad, nonce)
    good = create_token(pki.signer(), ORIGIN, nonce)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(good, nonce)
    assert _code(exc) == "ERR_AUTH_NONCE"


def test_token_for_another_origin_fails(pki: DemoPKI, nonces: MemoryNonceStore, verifier: TokenVerifier) -> None:
    for origin in ("https://evil.example.cn", "https://hub.example.cn:8443", "https://hub.example.cn.evil.cn"):
        token, nonce = _login(pki, nonces, origin)
        with pytest.raises(AuthTokenError) as exc:
            verifier.verify(token, nonce)
        assert _code(exc) == "ERR_AUTH_SIGNATURE"


def test_token_for_another_nonce_fails(pki: DemoPKI, nonces: MemoryNonceStore, verifier: TokenVerifier) -> None:
    token, _ = _login(pki, nonces)
    other = nonces.issue()
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(token, other)
    assert _code(exc) == "ERR_AUTH_SIGNATURE"


def test_unissued_and_expired_nonces_fail(pki: DemoPKI) -> None:
    now = [0.0]
    nonces = MemoryNonceStore(ttl=300, clock=lambda: now[0])
    verifier = TokenVerifier(ORIGIN, [pki.root_cert], nonces)
    stray = new_nonce()
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(create_token(pki.signer(), ORIGIN, stray), stray)
    assert _code(exc) == "ERR_AUTH_NONCE"
    nonce = nonces.issue()
    now[0] = 301.0
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(create_token(pki.signer(), ORIGIN, nonce), nonce)
    assert _code(exc) == "ERR_AUTH_NONCE"


def test_other_certificate_fails(pki: DemoPKI, other_pki: DemoPKI, nonces: MemoryNonceStore,
                                 verifier: TokenVerifier) -> None:
    # the signature is right for the other key, but its CA is not trusted by this hub
    nonce = nonces.issue()
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(create_token(other_pki.signer(), ORIGIN, nonce), nonce)
    assert _code(exc) == "ERR_AUTH_CERT_UNTRUSTED"
    # a certificate swapped into a token signed by another key
    token, nonce = _login(pki, nonces)
    swapped = AuthToken(certificate_der=other_pki.sign_cert.der, signature_der=token.signature_der)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(swapped, nonce)
    assert _code(exc) == "ERR_AUTH_SIGNATURE"


def test_same_ca_other_bidder_key_with_this_certificate_fails(pki: DemoPKI, nonces: MemoryNonceStore,
                                                              verifier: TokenVerifier) -> None:
    intruder = SoftwareSigner(pki.sign_cert, sm2.PrivateKey.generate())
    nonce = nonces.issue()
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(create_token(intruder, ORIGIN, nonce), nonce)
    assert _code(exc) == "ERR_AUTH_SIGNATURE"


def test_every_flipped_signature_byte_fails(pki: DemoPKI, nonces: MemoryNonceStore) -> None:
    token, _ = _login(pki, nonces)
    sig = token.signature_der
    for i in range(len(sig)):
        nonce = nonces.issue()
        signed = create_token(pki.signer(), ORIGIN, nonce)
        damaged = bytearray(signed.signature_der)
        damaged[i % len(damaged)] ^= 0x01
        verifier = TokenVerifier(ORIGIN, [pki.root_cert], nonces)
        with pytest.raises(AuthTokenError):
            verifier.verify(AuthToken(signed.certificate_der, bytes(damaged)), nonce)


def test_encryption_certificate_cannot_log_in(pki: DemoPKI, nonces: MemoryNonceStore,
                                              verifier: TokenVerifier) -> None:
    nonce = nonces.issue()
    token = create_token(SoftwareSigner(pki.enc_cert, pki.enc_key), ORIGIN, nonce)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(token, nonce)
    assert _code(exc) == "ERR_AUTH_KEY_USAGE"


def test_ca_certificate_cannot_log_in(pki: DemoPKI, nonces: MemoryNonceStore, verifier: TokenVerifier) -> None:
    nonce = nonces.issue()
    token = create_token(SoftwareSigner(pki.root_cert, pki.root.key), ORIGIN, nonce)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(token, nonce)
    assert _code(exc) == "ERR_AUTH_KEY_USAGE"


def test_expired_certificate_fails(pki: DemoPKI, nonces: MemoryNonceStore) -> None:
    later = pki.sign_cert.not_after + timedelta(days=1)
    verifier = TokenVerifier(ORIGIN, [pki.root_cert], nonces, clock=lambda: later)
    token, nonce = _login(pki, nonces)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(token, nonce)
    assert _code(exc) == "ERR_AUTH_CERT_EXPIRED"


def test_revoked_by_crl_file_fails_and_the_file_is_reread(pki: DemoPKI, nonces: MemoryNonceStore,
                                                          tmp_path) -> None:
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(pki.root.make_crl([]).pem)
    verifier = TokenVerifier(ORIGIN, [pki.root_cert], nonces, crl_files=[crl_file])
    token, nonce = _login(pki, nonces)
    verifier.verify(token, nonce)  # not revoked yet (and the chain verdict is cached)
    revoked_at = datetime.now(UTC) - timedelta(minutes=1)
    crl_file.write_bytes(pki.root.make_crl([(pki.sign_cert.serial_number, revoked_at)], crl_number=2).pem)
    token, nonce = _login(pki, nonces)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(token, nonce)
    assert _code(exc) == "ERR_AUTH_CERT_REVOKED"


def test_stale_or_unreadable_crl_fails_closed(pki: DemoPKI, nonces: MemoryNonceStore, tmp_path) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    stale = tmp_path / "stale.crl"
    stale.write_bytes(pki.root.make_crl([], this_update=old, next_update=old + timedelta(days=7)).pem)
    token, nonce = _login(pki, nonces)
    with pytest.raises(AuthTokenError) as exc:
        TokenVerifier(ORIGIN, [pki.root_cert], nonces, crl_files=[stale]).verify(token, nonce)
    assert _code(exc) == "ERR_AUTH_REVOCATION_UNKNOWN"
    token, nonce = _login(pki, nonces)
    with pytest.raises(AuthTokenError) as exc:
        TokenVerifier(ORIGIN, [pki.root_cert], nonces, crl_files=[tmp_path / "missing.crl"]).verify(token, nonce)
    assert _code(exc) == "ERR_AUTH_REVOCATION_UNKNOWN"


def test_bare_digest_signature_is_not_a_login(pki: DemoPKI, nonces: MemoryNonceStore,
                                              verifier: TokenVerifier) -> None:
    """Cross-protocol: a helper that signs caller-chosen bytes (no prefix, or the
    challenge hashed without Z) cannot produce a valid login."""
    nonce = nonces.issue()
    bare = sm3(ORIGIN.encode()) + sm3(nonce.encode())
    for message_sig in (
        sm2.sign(pki.sign_key, bare),                                   # no domain prefix
        sm2.sign_digest(pki.sign_key, sm3(challenge(ORIGIN, nonce))),  # e without Z
        sm2.sign(pki.sign_key, challenge(ORIGIN, nonce), b""),          # empty SM2 ID
    ):
        with pytest.raises(AuthTokenError) as exc:
            TokenVerifier(ORIGIN, [pki.root_cert], _once(nonce)).verify(
                AuthToken(pki.sign_cert.der, message_sig), nonce)
        assert _code(exc) == "ERR_AUTH_SIGNATURE"


def _once(nonce: str) -> MemoryNonceStore:
    store = MemoryNonceStore()
    store.remember(nonce)
    return store


def test_login_signature_is_not_a_signature_of_anything_else(pki: DemoPKI, nonces: MemoryNonceStore) -> None:
    """The login signature verifies only over the 80-byte prefixed challenge."""
    token, nonce = _login(pki, nonces)
    pub = pki.sign_cert.public_key
    assert sm2.verify(pub, challenge(ORIGIN, nonce), token.signature_der)
    assert not sm2.verify(pub, challenge(ORIGIN, nonce)[len(PREFIX):], token.signature_der)
    assert not sm2.verify(pub, nonce.encode(), token.signature_der)


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("appVersion"),
    lambda d: d.update(extra="1"),
    lambda d: d.update(format="web-eid:1.0"),
    lambda d: d.update(algorithm="ES256"),
    lambda d: d.update(signature=d["signature"] + "="),
    lambda d: d.update(signature="!!!"),
    lambda d: d.update(unverifiedCertificate=""),
    lambda d: d.update(appVersion=7),
    lambda d: d.update(appVersion="x" * 65),
    lambda d: d.update(signature=base64.b64encode(b"\0" * 200).decode()),
])
def test_malformed_tokens_are_refused(pki: DemoPKI, nonces: MemoryNonceStore, mutate) -> None:
    token, _ = _login(pki, nonces)
    d = token.to_dict()
    mutate(d)
    with pytest.raises(AuthTokenError) as exc:
        parse_token(json.dumps(d))
    assert _code(exc) == "ERR_AUTH_FORMAT"


def test_non_json_and_deep_json_are_format_errors() -> None:
    for data in ("not json", "[" * 5000 + "]" * 5000, b"\xff", "x" * 40000, "[]"):
        with pytest.raises(AuthTokenError) as exc:
            parse_token(data)
        assert _code(exc) == "ERR_AUTH_FORMAT"


def test_garbage_certificate_is_refused(pki: DemoPKI, nonces: MemoryNonceStore, verifier: TokenVerifier) -> None:
    token, nonce = _login(pki, nonces)
    with pytest.raises(AuthTokenError) as exc:
        verifier.verify(AuthToken(b"\x30\x03\x02\x01\x01", token.signature_der), nonce)
    assert _code(exc) == "ERR_AUTH_CERT_INVALID"


def test_verifier_refuses_a_non_canonical_origin(pki: DemoPKI, nonces: MemoryNonceStore) -> None:
    with pytest.raises(ValueError):
        TokenVerifier("https://Hub.example.cn/", [pki.root_cert], nonces)
    with pytest.raises(ValueError):
        TokenVerifier("http://hub.example.cn", [pki.root_cert], nonces)


def test_nonce_store_is_bounded() -> None:
    store = MemoryNonceStore(max_size=10)
    issued = [store.issue() for _ in range(25)]
    assert len(store) <= 10
    assert store.consume(issued[-1]) and not store.consume(issued[-1])
    assert not store.consume(issued[0])


def test_verifier_is_fast_enough_for_a_busy_hub(pki: DemoPKI) -> None:
    """Behaviour, not a benchmark: the chain is checked once per certificate, not per login
    (the timing numbers are in tests/benchmarks/bench_helper.py)."""
    nonces = MemoryNonceStore()
    verifier = TokenVerifier(ORIGIN, [pki.root_cert], nonces)
    calls = []
    import app.authtoken.verifier as mod

    real = mod.verify_chain
    mod.verify_chain = lambda *a, **k: calls.append(1) or real(*a, **k)  # type: ignore[assignment]
    try:
        for _ in range(5):
            token, nonce = _login(pki, nonces)
            verifier.verify(token, nonce)
    finally:
        mod.verify_chain = real  # type: ignore[assignment]
    assert len(calls) == 1

"""Signing and unwrapping inside the key, checked with app.gm.sm2 and the OpenSSL CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.gm import sm2, sm4
from app.gm.keyops import DigestSigner, SessionKeyUnwrapper
from app.token.errors import PinIncorrect, SkfError, TokenUsageError
from app.token.identity import Identity
from app.token.session import open_session, sign_message

from .conftest import USER_PIN, open_handles

MESSAGE = "投标文件摘要 / bid summary".encode()


def test_session_objects_satisfy_keyops_protocols(identity: Identity) -> None:
    with open_session(identity, USER_PIN) as s:
        assert isinstance(s.signer, DigestSigner)
        assert isinstance(s.unwrapper, SessionKeyUnwrapper)
        assert s.signer.certificate == identity.sign_certificate
        assert s.unwrapper.certificate == identity.enc_certificate
        assert USER_PIN not in repr(s)


def test_sign_digest_verifies_with_app_gm(identity: Identity) -> None:
    cert = identity.sign_certificate
    assert cert is not None
    e = sm2.compute_e(cert.public_key, MESSAGE)
    with open_session(identity, bytearray(USER_PIN.encode())) as s:
        der = s.signer.sign_digest(e)
    assert sm2.verify(cert.public_key, MESSAGE, der)
    assert not sm2.verify(cert.public_key, MESSAGE + b"x", der)
    assert open_handles(identity.library, identity.device) == 0


@pytest.mark.interop
def test_sign_message_verifies_with_openssl(identity: Identity, tmp_path: Path, openssl_bin: str) -> None:
    cert = identity.sign_certificate
    assert cert is not None
    der = sign_message(identity, USER_PIN.encode(), MESSAGE)
    (tmp_path / "pub.pem").write_bytes(cert.public_key.to_pem())
    (tmp_path / "msg").write_bytes(MESSAGE)
    (tmp_path / "sig.der").write_bytes(der)
    (tmp_path / "other").write_bytes(MESSAGE + b"!")

    def verify(msg: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([openssl_bin, "dgst", "-sm3", "-verify", str(tmp_path / "pub.pem"), "-sigopt",
                               "distid:1234567812345678", "-signature", str(tmp_path / "sig.der"),
                               str(tmp_path / msg)], capture_output=True, text=True)

    ok = verify("msg")
    assert ok.returncode == 0 and "Verified OK" in ok.stdout, ok.stdout + ok.stderr
    assert verify("other").returncode != 0
    # and with pkeyutl -rawin on the message
    pk = subprocess.run([openssl_bin, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"),
                         "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in",
                         str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig.der")], capture_output=True, text=True)
    assert pk.returncode == 0 and "Success" in pk.stdout, pk.stdout + pk.stderr


def test_unwrap_decrypts_inside_the_key(identity: Identity) -> None:
    enc = identity.enc_certificate
    assert enc is not None
    session_key = os.urandom(16)
    wrapped = sm2.SM2Ciphertext.decode(sm2.encrypt(enc.public_key, session_key))
    block = os.urandom(32)
    with open_session(identity, USER_PIN) as s:
        assert s.unwrapper.unwrap(wrapped, sm4.ecb_encrypt(session_key, block)) == block
    assert open_handles(identity.library, identity.device) == 0


def test_unwrap_of_a_key_for_another_certificate_fails(identity: Identity) -> None:
    sign = identity.sign_certificate
    assert sign is not None
    session_key = os.urandom(16)
    wrapped = sm2.SM2Ciphertext.decode(sm2.encrypt(sign.public_key, session_key))  # wrong recipient
    with open_session(identity, USER_PIN) as s, pytest.raises(SkfError):
        s.unwrapper.unwrap(wrapped, sm4.ecb_encrypt(session_key, bytes(16)))
    assert open_handles(identity.library, identity.device) == 0


def test_bad_lengths_and_closed_session_are_usage_errors(identity: Identity) -> None:
    with open_session(identity, USER_PIN) as s:
        with pytest.raises(TokenUsageError):
            s.signer.sign_digest(b"short")
        signer = s.signer
    with pytest.raises(TokenUsageError):
        signer.sign_digest(bytes(32))


def test_wrong_pin_leaves_no_handles_and_no_pin_in_error(fresh_identity: Identity) -> None:
    with pytest.raises(PinIncorrect) as info:
        open_session(fresh_identity, "99999999")
    assert "99999999" not in str(info.value.to_dict())
    assert open_handles(fresh_identity.library, fresh_identity.device) == 0

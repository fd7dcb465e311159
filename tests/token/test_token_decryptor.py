"""SM4-CBC inside the key: one SKF_ImportSessionKey, then DecryptInit(IV)/Update/Final.

GM/T 0010 EnvelopedData decrypted with a UKey used to re-import the wrapped key for
every 64 bytes (one SM2 decryption each). The fault ``SKF_ImportSessionKey:2:crash``
proves there is only one import now: a second one would kill the host.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.envelope.cms_bridge import import_cms
from app.gm import cms, sm2, sm4
from app.gm.keyops import CbcSessionKeyUnwrapper
from app.token.errors import TokenUsageError
from app.token.host_client import HostPool
from app.token.identity import Identity
from app.token.session import open_session

from .conftest import USER_PIN

ONE_IMPORT = "SKF_ImportSessionKey:2:crash"


def _wrapped(identity: Identity, key: bytes) -> sm2.SM2Ciphertext:
    assert identity.enc_certificate is not None
    return sm2.SM2Ciphertext.decode(sm2.encrypt(identity.enc_certificate.public_key, key))


@pytest.mark.parametrize("pieces", [[100_000], [1, 15, 16, 17, 4095, 4097, 60_000, 31_853]])
def test_decryptor_streams_cbc_with_one_key_import(identity: Identity, pool: HostPool, pieces: list[int]) -> None:
    pool.env["SOFTSKF_FAULTS"] = ONE_IMPORT
    key, iv = os.urandom(16), os.urandom(16)
    plain = os.urandom(sum(pieces) // 16 * 16)
    ct = sm4.cbc_encrypt(key, iv, plain, pad=False)
    with open_session(identity, USER_PIN, pool=pool) as s:
        out, off = bytearray(), 0
        with s.decryptor(_wrapped(identity, key), iv) as d:
            for n in pieces:
                out += d.update(ct[off:off + n])
                off += n
            out += d.finalize()
            assert d.device_calls <= -(-len(ct) // d.device_chunk) + len(pieces) + 1
        assert bytes(out) == plain
        assert s.host.call("handle_count") == 3  # device, application, container: the key is closed


def test_decryptor_refuses_bad_input_and_frees_the_key(identity: Identity) -> None:
    key, iv = os.urandom(16), os.urandom(16)
    with open_session(identity, USER_PIN) as s:
        with pytest.raises(TokenUsageError):
            s.decryptor(_wrapped(identity, key), iv[:8])
        d = s.decryptor(_wrapped(identity, key), iv)
        d.update(bytes(40))
        with pytest.raises(TokenUsageError):  # 40 bytes: not whole blocks
            d.finalize()
        with pytest.raises(TokenUsageError):  # finished
            d.update(bytes(16))
        assert s.host.call("handle_count") == 3


def test_token_unwrapper_offers_bulk_cbc(identity: Identity) -> None:
    with open_session(identity, USER_PIN) as s:
        assert isinstance(s.unwrapper, CbcSessionKeyUnwrapper)


def test_gmt0010_envelope_decrypts_with_one_import(identity: Identity, pool: HostPool, tmp_path: Path) -> None:
    assert identity.enc_certificate is not None
    content = os.urandom(100_003)
    der = cms.envelope(content, [identity.enc_certificate])
    pool.env["SOFTSKF_FAULTS"] = ONE_IMPORT
    with open_session(identity, USER_PIN, pool=pool) as s:
        assert cms.open_envelope(der, s.unwrapper) == content
    # and through the envelope engine's decrypt path (a fresh host, so the counter restarts)
    pool.close()
    (tmp_path / "bid.p7m").write_bytes(der)
    with open_session(identity, USER_PIN, pool=pool) as s:
        assert import_cms(tmp_path / "bid.p7m", tmp_path / "bid.out", s.unwrapper, fsync=False) == len(content)
    assert (tmp_path / "bid.out").read_bytes() == content


def test_damaged_gmt0010_padding_is_still_detected(identity: Identity) -> None:
    from app.gm.errors import GMError

    assert identity.enc_certificate is not None
    der = bytearray(cms.envelope(b"x" * 1000, [identity.enc_certificate]))
    der[-17] ^= 0xFF  # last byte of the next-to-last block flips the pad byte (8 -> 0xF7)
    with open_session(identity, USER_PIN) as s, pytest.raises(GMError):
        cms.open_envelope(bytes(der), s.unwrapper)

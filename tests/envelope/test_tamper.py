"""Every change to an envelope is refused, and no plaintext file is left behind."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import pytest

from app.envelope import (
    EnvelopeError,
    EnvelopeFormatError,
    EnvelopeIntegrityError,
    NotARecipientError,
    UnwrapError,
    decrypt_file,
    encrypt_file,
)
from app.envelope import format as fmt
from app.gm.keyops import SoftwareUnwrapper
from app.gm.sm2 import PrivateKey

from .conftest import flip, layout, leftovers

CHUNK = 1024


def _encrypt(src: Path, dst: Path, pki) -> Path:
    """``src`` encrypted to the bidder and the trading centre in CHUNK-sized records."""
    encrypt_file(src, dst, [pki.enc_cert, pki.emergency_cert], chunk_size=CHUNK)
    return dst


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    """Put ``data`` over the bytes of ``path`` at ``offset`` (the size stays the same)."""
    buf = bytearray(path.read_bytes())
    buf[offset:offset + len(data)] = data
    path.write_bytes(bytes(buf))


@pytest.fixture()
def envelope(pki, make_file, tmp_path) -> tuple[Path, Path]:
    src = make_file(4 * CHUNK + 100)
    return src, _encrypt(src, tmp_path / "bid.env", pki)


def assert_refused(env: Path, unwrapper, exc_type=EnvelopeError, reason: str | None = None):
    out = env.parent / "plain.out"
    with pytest.raises(exc_type) as ei:
        decrypt_file(env, out, unwrapper)
    assert not out.exists()
    assert leftovers(env.parent, {"bid.bin", env.name, "other.env", "other.bin"}) == []
    if reason is not None:
        assert ei.value.details.get("reason") == reason, ei.value.details
    return ei.value


def test_intact_envelope_decrypts(envelope, bidder):
    src, env = envelope
    decrypt_file(env, env.parent / "ok.out", bidder)
    assert (env.parent / "ok.out").read_bytes() == src.read_bytes()


def test_header_bit_flip_in_metadata(envelope, bidder):
    _src, env = envelope
    data = env.read_bytes()
    pos = data.index(b"bid.bin")
    flip(env, pos, 1)  # "bid.bin" -> "bkd.bin": still valid DER, different header
    assert_refused(env, bidder, EnvelopeIntegrityError, "header_mac")


def test_header_mac_bit_flip(envelope, bidder):
    _src, env = envelope
    lay = layout(env)
    flip(env, fmt.PREAMBLE_SIZE + lay.header_len + 5)
    assert_refused(env, bidder, EnvelopeIntegrityError, "header_mac")


def test_recipient_wrapped_key_bit_flip(envelope, pki, bidder):
    _src, env = envelope
    header = fmt.parse_header(env.read_bytes()[: fmt.PREAMBLE_SIZE + layout(env).header_len])
    pos = env.read_bytes().index(header.recipients[0].wrapped_file_key)
    flip(env, pos + 3)
    assert_refused(env, bidder, EnvelopeIntegrityError, "key_check_value")
    # the other recipient's entry is intact, but the header MAC still catches the change
    assert_refused(env, pki.emergency_unwrapper(), EnvelopeIntegrityError, "header_mac")


def test_recipient_session_key_bit_flip(envelope, bidder):
    _src, env = envelope
    header = fmt.parse_header(env.read_bytes()[: fmt.PREAMBLE_SIZE + layout(env).header_len])
    pos = env.read_bytes().index(header.recipients[0].encrypted_session_key.c3)
    flip(env, pos)
    assert_refused(env, bidder, UnwrapError)


def test_recipient_serial_change_means_not_a_recipient(envelope, pki, bidder):
    _src, env = envelope
    serial = pki.enc_cert.serial_number.to_bytes(16, "big").lstrip(b"\0")
    pos = env.read_bytes().index(serial)
    flip(env, pos + len(serial) - 1)
    # SKI still matches, so the entry is found; the header MAC then refuses it
    assert_refused(env, bidder, EnvelopeIntegrityError, "header_mac")


@pytest.mark.parametrize("chunk", [0, 2, 4])
def test_chunk_bit_flip(envelope, bidder, chunk):
    _src, env = envelope
    off, length = layout(env).record(chunk)
    flip(env, off + length // 3, 4)
    assert_refused(env, bidder, EnvelopeIntegrityError, "chunk_tag")


@pytest.mark.parametrize("chunk", [0, 4])
def test_tag_bit_flip(envelope, bidder, chunk):
    _src, env = envelope
    off, length = layout(env).record(chunk)
    flip(env, off + length - 1, 7)
    assert_refused(env, bidder, EnvelopeIntegrityError, "chunk_tag")


def test_trailer_bit_flip(envelope, bidder):
    _src, env = envelope
    flip(env, layout(env).trailer + 3)
    assert_refused(env, bidder, EnvelopeIntegrityError, "trailer_tag")


@pytest.mark.parametrize("where", ["chunk_boundary", "mid_chunk", "before_trailer",
                                   "mid_trailer", "one_byte", "in_header"])
def test_truncation(envelope, bidder, where):
    _src, env = envelope
    lay = layout(env)
    cut = {
        "chunk_boundary": lay.record(2)[0],
        "mid_chunk": lay.record(2)[0] + 100,
        "before_trailer": lay.trailer,
        "mid_trailer": lay.trailer + 20,
        "one_byte": env.stat().st_size - 1,
        "in_header": 40,
    }[where]
    data = env.read_bytes()
    env.write_bytes(data[:cut])
    err = assert_refused(env, bidder, EnvelopeError)
    assert err.code in ("ERR_INTEGRITY", "ERR_ENVELOPE_FORMAT")


def test_truncation_with_consistent_header_size(envelope, bidder):
    """Cut at a chunk boundary AND rewrite plaintextSize to match: the MAC refuses it."""
    _src, env = envelope
    lay = layout(env)
    data = env.read_bytes()
    raw = data[: fmt.PREAMBLE_SIZE + lay.header_len]
    header = fmt.parse_header(raw)
    shorter = dataclasses.replace(header, plaintext_size=2 * CHUNK)
    new_raw = fmt.encode_header(shorter)
    mac = data[len(raw): len(raw) + fmt.HEADER_MAC_SIZE]
    body = data[lay.payload_start: lay.record(2)[0]]
    # re-use the last record's tag position as a fake trailer: still wrong
    env.write_bytes(new_raw + mac + body + data[lay.trailer:])
    assert_refused(env, bidder, EnvelopeIntegrityError, "header_mac")


def test_chunk_reordering(envelope, bidder):
    _src, env = envelope
    lay = layout(env)
    (a, n), (b, _) = lay.record(1), lay.record(2)
    data = env.read_bytes()
    _overwrite(env, a, data[b:b + n])
    _overwrite(env, b, data[a:a + n])
    assert_refused(env, bidder, EnvelopeIntegrityError, "chunk_tag")


def test_chunk_splice_from_another_envelope_of_same_recipient(envelope, pki, bidder, tmp_path):
    src, env = envelope
    other = _encrypt(src, tmp_path / "other.env", pki)
    off, n = layout(env).record(1)
    off2, _ = layout(other).record(1)
    _overwrite(env, off, other.read_bytes()[off2:off2 + n])
    assert_refused(env, bidder, EnvelopeIntegrityError, "chunk_tag")


def test_payload_splice_with_own_header(envelope, pki, bidder, tmp_path):
    """Header + MAC of one envelope, payload of another (same key holder): refused."""
    src, env = envelope
    other = _encrypt(src, tmp_path / "other.env", pki)
    lay = layout(env)
    lay2 = layout(other)
    env.write_bytes(env.read_bytes()[: lay.payload_start] + other.read_bytes()[lay2.payload_start:])
    assert_refused(env, bidder, EnvelopeIntegrityError, "chunk_tag")


def test_recipient_entry_swapped_in_from_another_envelope(envelope, pki, bidder, tmp_path):
    src, env = envelope
    other = _encrypt(src, tmp_path / "other.env", pki)
    data, data2 = env.read_bytes(), other.read_bytes()
    h1 = fmt.parse_header(data[: fmt.PREAMBLE_SIZE + layout(env).header_len])
    h2 = fmt.parse_header(data2[: fmt.PREAMBLE_SIZE + layout(other).header_len])
    # same lengths, so replace the encrypted session key and wrapped key in place
    e1, e2 = h1.recipients[0], h2.recipients[0]
    swapped = dataclasses.replace(h1, recipients=(e2, h1.recipients[1]))
    raw = fmt.encode_header(swapped)
    lay = layout(env)
    env.write_bytes(raw + data[fmt.PREAMBLE_SIZE + lay.header_len:])
    assert e1 != e2
    # FK of the other file fails the key check (it is bound to the fileId)
    assert_refused(env, bidder, EnvelopeIntegrityError, "key_check_value")


def test_recipient_order_swap(envelope, pki):
    _src, env = envelope
    data = env.read_bytes()
    lay = layout(env)
    h = fmt.parse_header(data[: fmt.PREAMBLE_SIZE + lay.header_len])
    raw = fmt.encode_header(dataclasses.replace(h, recipients=h.recipients[::-1]))
    env.write_bytes(raw + data[fmt.PREAMBLE_SIZE + lay.header_len:])
    assert_refused(env, pki.emergency_unwrapper(), EnvelopeIntegrityError, "header_mac")


def test_extra_trailing_bytes(envelope, bidder):
    _src, env = envelope
    env.write_bytes(env.read_bytes() + b"\0")
    assert_refused(env, bidder, EnvelopeIntegrityError, "extra_bytes")


def test_every_single_bit_flip_is_refused(pki, bidder, make_file, tmp_path):
    """Exhaustive over a small envelope: a flipped bit anywhere is caught."""
    src = make_file(40)
    env = tmp_path / "bid.env"
    encrypt_file(src, env, [pki.enc_cert], chunk_size=16)
    data = env.read_bytes()
    out = tmp_path / "o"
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 1 << (pos % 8)
        env.write_bytes(bytes(bad))
        with pytest.raises(EnvelopeError):
            decrypt_file(env, out, bidder, fsync=False)
        assert not out.exists()
    assert leftovers(tmp_path, {"bid.bin", "bid.env"}) == []


def test_not_a_recipient_lists_both_certificates(envelope, pki, other_pki):
    _src, env = envelope
    err = assert_refused(env, other_pki.unwrapper(), NotARecipientError)
    needed = err.details["needed"]
    offered = err.details["offered"]
    assert [n["serial"] for n in needed] == [pki.enc_cert.serial_hex, pki.emergency_cert.serial_hex]
    assert [n["unit"] for n in needed] == [pki.subject.unit_name, "沈阳市公共资源交易中心"]
    assert offered == [{"unit": "大连另一家投标有限公司", "unit_code": other_pki.enc_cert.unit_code,
                        "common_name": other_pki.enc_cert.common_name,
                        "serial": other_pki.enc_cert.serial_hex,
                        "issuer": other_pki.enc_cert.issuer.rfc4514()}]
    assert pki.enc_cert.serial_hex in err.zh and other_pki.enc_cert.serial_hex in err.en


def test_signing_key_offered_is_not_a_recipient(envelope, pki):
    _src, env = envelope
    assert_refused(env, SoftwareUnwrapper(pki.sign_cert, pki.sign_key), NotARecipientError)


def test_wrong_private_key_for_the_certificate(envelope, pki):
    _src, env = envelope
    err = assert_refused(env, SoftwareUnwrapper(pki.enc_cert, PrivateKey.generate()), UnwrapError)
    assert err.details["certificate"]["serial"] == pki.enc_cert.serial_hex


def test_not_an_envelope(tmp_path, bidder):
    p = tmp_path / "bid.env"
    p.write_bytes(b"%PDF-1.7\n" + b"x" * 100)
    assert_refused(p, bidder, EnvelopeFormatError)


def test_future_version_says_upgrade(envelope, bidder):
    _src, env = envelope
    data = bytearray(env.read_bytes())
    struct.pack_into(">H", data, 8, 2)
    env.write_bytes(bytes(data))
    err = assert_refused(env, bidder, EnvelopeFormatError)
    assert "upgrade" in err.en and err.details["version"] == 2

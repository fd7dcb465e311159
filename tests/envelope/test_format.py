"""The header encoding: round trips, canonical form only, limits, the shipped test vector."""

from __future__ import annotations

import dataclasses
import os
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.envelope import EnvelopeFormatError, decrypt_file, encrypt_file, read_info
from app.envelope import format as fmt
from app.envelope.recipients import make_entry
from app.gm.keyops import SoftwareUnwrapper
from app.gm.sm2 import PrivateKey
from app.gm.x509 import Certificate

VECTOR = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "envelope-v1"

texts = st.text(st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)), max_size=40)


@pytest.fixture(scope="module")
def entries(pki):
    fk, fid = os.urandom(16), os.urandom(16)
    return fid, make_entry(pki.enc_cert, fk, fid), make_entry(pki.emergency_cert, fk, fid)


def _header(fid, recipients, **kw) -> fmt.Header:
    base = dict(file_id=fid, chunk_size=1 << 20, plaintext_size=10, file_name="a.pdf",
                created_at=datetime(2026, 3, 1, 8, 30, tzinfo=UTC), project_id=None,
                unit_code=None, recipients=tuple(recipients))
    base.update(kw)
    return fmt.Header(**base)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=texts.filter(lambda s: s.strip("./\\") and "/" not in s and "\\" not in s),
    project=st.none() | texts,
    unit=st.none() | texts,
    chunk=st.integers(fmt.MIN_CHUNK_SIZE, fmt.MAX_CHUNK_SIZE),
    size=st.integers(0, fmt.MAX_PLAINTEXT_SIZE),
    when=st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(9999, 1, 1),
                      timezones=st.just(UTC)),
    which=st.sampled_from([(1,), (2,), (1, 2), (2, 1)]),
)
def test_header_round_trip(entries, name, project, unit, chunk, size, when, which):
    fid = entries[0]
    h = _header(fid, [entries[i] for i in which], file_name=name, project_id=project,
                unit_code=unit, chunk_size=chunk, plaintext_size=size, created_at=when)
    raw = fmt.encode_header(h)
    back = fmt.parse_header(raw)
    assert back == dataclasses.replace(h, created_at=when.replace(microsecond=0))
    assert back.raw == raw and fmt.encode_header(back) == raw


def test_non_canonical_der_is_refused(entries):
    raw = fmt.encode_header(_header(entries[0], [entries[1]], plaintext_size=5))
    der = raw[16:]
    # plaintextSize 5 is "02 01 05": re-encode it as "02 02 00 05" (valid BER, not DER)
    i = der.index(b"\x02\x01\x05")
    bad_der = der[:i] + b"\x02\x02\x00\x05" + der[i + 3:]
    # fix the outer SEQUENCE length (long form: 30 82 LL LL)
    assert bad_der[1] == 0x82
    bad_der = bad_der[:2] + struct.pack(">H", len(bad_der) - 4) + bad_der[4:]
    with pytest.raises(EnvelopeFormatError):
        fmt.parse_header(struct.pack(">8sHHI", fmt.MAGIC, 1, 0, len(bad_der)) + bad_der)


@pytest.mark.parametrize("change", [
    {"chunk_size": 15}, {"chunk_size": fmt.MAX_CHUNK_SIZE + 1}, {"plaintext_size": -1},
    {"file_name": "../x"}, {"file_name": "a\nb"}, {"file_name": ""}, {"project_id": "x" * 2000},
    {"recipients": ()}, {"file_id": b"short"},
])
def test_out_of_range_headers_are_refused(entries, change):
    with pytest.raises(EnvelopeFormatError):
        fmt.encode_header(dataclasses.replace(_header(entries[0], [entries[1]]), **change))


def test_too_many_recipients_refused(entries):
    with pytest.raises(EnvelopeFormatError):
        fmt.encode_header(_header(entries[0], [entries[1]] * (fmt.MAX_RECIPIENTS + 1)))


@pytest.mark.parametrize("preamble", [
    b"", b"\x89BSE", struct.pack(">8sHHI", b"NOTMAGIC", 1, 0, 10),
    struct.pack(">8sHHI", fmt.MAGIC, 1, 1, 10), struct.pack(">8sHHI", fmt.MAGIC, 1, 0, 0),
    struct.pack(">8sHHI", fmt.MAGIC, 1, 0, fmt.MAX_HEADER_SIZE + 1),
])
def test_bad_preambles(preamble):
    with pytest.raises(EnvelopeFormatError):
        fmt.read_preamble(preamble)


def test_nonce_and_aad_layout():
    assert fmt.nonce(0x0102) == bytes(10) + b"\x01\x02"
    assert fmt.aad(b"H" * 32, 7, fmt.KIND_TRAILER) == b"H" * 32 + bytes(7) + b"\x07\x02"
    assert fmt.chunk_count(0, 16) == 1 and fmt.chunk_count(16, 16) == 1
    assert fmt.chunk_count(17, 16) == 2


def test_shipped_test_vector_still_decrypts(tmp_path):
    """Format stability: the committed vector opens with today's code."""
    cert = Certificate.load((VECTOR / "enc-cert.pem").read_bytes())
    key = PrivateKey.from_pem((VECTOR / "enc-key.pem").read_bytes())
    info = read_info(VECTOR / "envelope.bse")
    assert info.project_id == "TEST-2026-001" and info.recipients[0].serial_hex == cert.serial_hex
    out = tmp_path / "p.txt"
    opened = decrypt_file(VECTOR / "envelope.bse", out, SoftwareUnwrapper(cert, key))
    assert out.read_bytes() == (VECTOR / "plaintext.txt").read_bytes()
    readme = (VECTOR / "README.md").read_text(encoding="utf-8")
    assert opened.plaintext_sm3 in readme


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), chunk=st.integers(16, 80))
def test_round_trip_property(pki, tmp_path_factory, data, chunk):
    d = tmp_path_factory.mktemp("rt")
    (d / "p").write_bytes(data)
    info = encrypt_file(d / "p", d / "e", [pki.enc_cert], chunk_size=chunk, fsync=False)
    assert (d / "e").stat().st_size == info.envelope_size
    decrypt_file(d / "e", d / "o", pki.unwrapper(), fsync=False)
    assert (d / "o").read_bytes() == data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=120), pos=st.integers(0, 10_000),
       xor=st.integers(1, 255))
def test_any_byte_change_releases_nothing(pki, tmp_path_factory, data, pos, xor):
    d = tmp_path_factory.mktemp("mut")
    (d / "p").write_bytes(data)
    encrypt_file(d / "p", d / "e", [pki.enc_cert, pki.emergency_cert], chunk_size=32, fsync=False)
    env = bytearray((d / "e").read_bytes())
    env[pos % len(env)] ^= xor
    (d / "e").write_bytes(bytes(env))
    with pytest.raises(Exception) as ei:  # noqa: PT011 - type checked below
        decrypt_file(d / "e", d / "o", pki.unwrapper(), fsync=False)
    from app.envelope import EnvelopeError

    assert isinstance(ei.value, EnvelopeError), repr(ei.value)
    assert sorted(p.name for p in d.iterdir()) == ["e", "p"]

"""SM2: standard vectors, both backends, encodings, OpenSSL interop and bad input."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.gm import sm2
from app.gm.errors import GMError
from app.gm.sm2 import CipherFormat, PrivateKey, PublicKey, SM2Ciphertext
from app.gm.sm2.curve import N, P

BACKENDS = sm2.available_backends()

D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
PX = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
PY = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13


@pytest.fixture(scope="module")
def vector_key() -> PrivateKey:
    return PrivateKey.from_int(D)


def test_both_backends_are_available_here() -> None:
    assert BACKENDS == ["openssl", "gmssl"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_public_point_from_vector(backend: str) -> None:
    assert sm2.get_backend(backend).public_point(D) == (PX, PY)


def test_z_and_e_vectors(vector_key: PrivateKey) -> None:
    pub = vector_key.public_key
    assert sm2.compute_z(pub).hex().upper() == "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
    assert sm2.compute_e(pub, b"message digest").hex().upper() == (
        "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
    )


def test_signature_vector_with_fixed_nonce(vector_key: PrivateKey) -> None:
    sig = sm2.sign(vector_key, b"message digest", backend="gmssl", k=K)
    r, s = sm2.signature_from_der(sig)
    assert f"{r:064X}" == "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    assert f"{s:064X}" == "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
    for backend in BACKENDS:
        assert sm2.verify(vector_key.public_key, b"message digest", sig, backend=backend)


def test_encryption_vector_with_fixed_nonce(vector_key: PrivateKey) -> None:
    ct = sm2.encrypt(vector_key.public_key, b"encryption standard", backend="gmssl", k=K)
    assert ct[:1] == b"\x04"
    assert ct[1:33].hex().upper().startswith("04EBFC71")
    assert ct[65:97].hex().upper() == "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766"
    assert ct[97:].hex().upper() == "21886CA989CA9C7D58087307CA93092D651EFA"
    for backend in BACKENDS:
        assert sm2.decrypt(vector_key, ct, backend=backend) == b"encryption standard"


def test_openssl_backend_refuses_caller_nonce(vector_key: PrivateKey) -> None:
    with pytest.raises(GMError):
        sm2.sign(vector_key, b"m", backend="openssl", k=K)


@pytest.mark.parametrize("signer", BACKENDS)
@pytest.mark.parametrize("verifier", BACKENDS)
def test_cross_backend_signatures(signer: str, verifier: str) -> None:
    key = PrivateKey.generate()
    sig = sm2.sign(key, b"bid", backend=signer)
    assert sm2.verify(key.public_key, b"bid", sig, backend=verifier)
    assert not sm2.verify(key.public_key, b"bid!", sig, backend=verifier)
    assert not sm2.verify(key.public_key, b"bid", sig, uid=b"", backend=verifier)


@pytest.mark.parametrize("enc", BACKENDS)
@pytest.mark.parametrize("dec", BACKENDS)
@pytest.mark.parametrize("fmt", list(CipherFormat))
def test_cross_backend_encryption(enc: str, dec: str, fmt: CipherFormat) -> None:
    key = PrivateKey.generate()
    ct = sm2.encrypt(key.public_key, b"session key 16b!", fmt, backend=enc)
    assert sm2.decrypt(key, ct, fmt, backend=dec) == b"session key 16b!"


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.binary(max_size=40))
def test_roundtrips_property(msg: bytes, uid: bytes) -> None:
    key = PrivateKey.generate()
    sig = sm2.sign(key, msg, uid)
    assert sm2.verify(key.public_key, msg, sig, uid, backend="gmssl")
    assert sm2.decrypt(key, sm2.encrypt(key.public_key, msg), backend="gmssl") == msg


def test_wrong_key_decrypt_fails_cleanly() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    ct = sm2.encrypt(a.public_key, b"secret")
    for backend in BACKENDS:
        with pytest.raises(GMError) as err:
            sm2.decrypt(b, ct, backend=backend)
        assert err.value.code == "ERR_DECRYPT"


def test_tampered_ciphertext_fails_cleanly() -> None:
    key = PrivateKey.generate()
    ct = bytearray(sm2.encrypt(key.public_key, b"secret"))
    ct[-1] ^= 1
    for backend in BACKENDS:
        with pytest.raises(GMError):
            sm2.decrypt(key, bytes(ct), backend=backend)


# -- encodings -------------------------------------------------------------------


def test_skf_signature_blob_roundtrip() -> None:
    key = PrivateKey.generate()
    der = sm2.sign(key, b"x")
    r, s = sm2.signature_from_der(der)
    blob = sm2.signature_to_skf_blob(r, s)
    assert len(blob) == 128 and blob[:32] == bytes(32) and blob[64:96] == bytes(32)
    assert sm2.signature_to_der(*sm2.signature_from_skf_blob(blob)) == der


def test_skf_public_key_and_cipher_blobs() -> None:
    key = PrivateKey.generate()
    blob = key.public_key.to_skf_blob()
    assert len(blob) == 132 and blob[:4] == (256).to_bytes(4, "little")
    assert PublicKey.from_skf_blob(blob) == key.public_key
    ct = SM2Ciphertext.decode(sm2.encrypt(key.public_key, bytes(16)))
    raw = ct.to_skf_blob()
    assert len(raw) == 164 + 16 and int.from_bytes(raw[160:164], "little") == 16
    assert SM2Ciphertext.from_skf_blob(raw) == ct
    assert sm2.decrypt_parts(key, SM2Ciphertext.from_skf_blob(raw)) == bytes(16)


def test_key_codecs_roundtrip() -> None:
    key = PrivateKey.generate()
    assert PrivateKey.from_pem(key.to_pem()).d == key.d
    assert PrivateKey.from_der(key.to_der()).public_key == key.public_key
    assert PublicKey.from_pem(key.public_key.to_pem()) == key.public_key
    raw = key.public_key.to_bytes()
    assert PublicKey.from_bytes(raw) == PublicKey.from_bytes(raw[1:]) == key.public_key
    compressed = bytes([2 + (key.public_key.y & 1)]) + raw[1:33]
    assert PublicKey.from_bytes(compressed) == key.public_key
    assert "d=" not in repr(key) and str(key.d) not in repr(key)


def test_public_key_with_leading_zero_and_four_digits() -> None:
    """gmssl's constructor lstrip('04') trap must not reach us: keys whose X starts 0/4 work."""
    tried = 0
    while tried < 200:
        key = PrivateKey.generate()
        tried += 1
        if f"{key.public_key.x:064x}"[0] in "04":
            break
    sig = sm2.sign(key, b"m")
    assert sm2.verify(key.public_key, b"m", sig, backend="gmssl")


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda k: PublicKey(1, 2),
        lambda k: PublicKey.from_bytes(b"\x04" + bytes(10)),
        lambda k: PublicKey.from_bytes(b"\x02" + (P - 1).to_bytes(32, "big")),
        lambda k: PublicKey.from_der(b"\x30\x03\x02\x01\x01"),
        lambda k: PrivateKey.from_int(0),
        lambda k: PrivateKey.from_int(N),
        lambda k: PrivateKey.from_der(b"garbage"),
        lambda k: sm2.sign_digest(k, b"short"),
        lambda k: sm2.verify(k.public_key, b"m", b"\x30\x00"),
        lambda k: sm2.verify(k.public_key, b"m", b"not der at all"),
        lambda k: sm2.verify(k.public_key, b"m", sm2.signature_to_der(0, 1)),
        lambda k: sm2.verify(k.public_key, b"m", sm2.sign(k, b"m") + b"\0"),
        lambda k: sm2.decrypt(k, sm2.encrypt(k.public_key, b"abc")[:90]),
        lambda k: sm2.decrypt(k, b"\x04" + bytes(64) + bytes(33)),
        lambda k: sm2.decrypt(k, b"\x30\x02\x01", CipherFormat.ASN1),
        lambda k: sm2.encrypt(k.public_key, b""),
        lambda k: sm2.signature_from_skf_blob(b"\1" * 128),
        lambda k: SM2Ciphertext.from_skf_blob(bytes(160)),
    ],
)
def test_bad_input_raises_one_documented_type(call) -> None:
    key = PrivateKey.generate()
    with pytest.raises(GMError) as err:
        call(key)
    assert err.value.zh and err.value.en


# -- OpenSSL command line as an independent implementation ---------------------------

DISTID = "distid:1234567812345678"


def _write_keys(tmp_path, key: PrivateKey):
    priv = tmp_path / "key.pem"
    pub = tmp_path / "pub.pem"
    priv.write_bytes(key.to_pem())
    pub.write_bytes(key.public_key.to_pem())
    return priv, pub


@pytest.mark.interop
@pytest.mark.parametrize("backend", BACKENDS)
def test_openssl_verifies_our_signature(openssl_bin: str, tmp_path, backend: str) -> None:
    key = PrivateKey.generate()
    _priv, pub = _write_keys(tmp_path, key)
    msg = tmp_path / "msg"
    msg.write_bytes(b"bid document bytes")
    sig = tmp_path / "sig"
    sig.write_bytes(sm2.sign(key, msg.read_bytes(), backend=backend))
    ok = subprocess.run([openssl_bin, "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin",
                         "-digest", "sm3", "-pkeyopt", DISTID, "-in", str(msg), "-sigfile", str(sig)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    msg.write_bytes(b"bid document bytez")
    bad = subprocess.run([openssl_bin, "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin",
                          "-digest", "sm3", "-pkeyopt", DISTID, "-in", str(msg), "-sigfile", str(sig)],
                         capture_output=True, text=True)
    assert bad.returncode != 0


@pytest.mark.interop
@pytest.mark.parametrize("backend", BACKENDS)
def test_we_verify_openssl_signature(openssl_bin: str, tmp_path, backend: str) -> None:
    key = PrivateKey.generate()
    priv, _pub = _write_keys(tmp_path, key)
    msg = tmp_path / "msg"
    msg.write_bytes(b"hello from openssl")
    sig = subprocess.run([openssl_bin, "pkeyutl", "-sign", "-inkey", str(priv), "-rawin", "-digest", "sm3",
                          "-pkeyopt", DISTID, "-in", str(msg)], capture_output=True, check=True).stdout
    assert sm2.verify(key.public_key, msg.read_bytes(), sig, backend=backend)


@pytest.mark.interop
def test_openssl_generated_key_loads(openssl_bin: str, tmp_path) -> None:
    pem = subprocess.run([openssl_bin, "genpkey", "-algorithm", "SM2"], capture_output=True, check=True).stdout
    key = PrivateKey.from_pem(pem)
    pub_pem = subprocess.run([openssl_bin, "pkey", "-pubout"], input=pem, capture_output=True, check=True).stdout
    assert PublicKey.from_pem(pub_pem) == key.public_key


@pytest.mark.interop
@pytest.mark.parametrize("backend", BACKENDS)
def test_encryption_interop_both_directions(openssl_bin: str, tmp_path, backend: str) -> None:
    key = PrivateKey.generate()
    priv, pub = _write_keys(tmp_path, key)
    ours = tmp_path / "ours.der"
    ours.write_bytes(sm2.encrypt(key.public_key, b"wrapped-key-1234", CipherFormat.ASN1, backend=backend))
    plain = subprocess.run([openssl_bin, "pkeyutl", "-decrypt", "-inkey", str(priv), "-in", str(ours)],
                           capture_output=True, check=True).stdout
    assert plain == b"wrapped-key-1234"
    theirs = subprocess.run([openssl_bin, "pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub)],
                            input=b"from openssl", capture_output=True, check=True).stdout
    assert sm2.decrypt(key, theirs, CipherFormat.ASN1, backend=backend) == b"from openssl"
    c1c3c2 = SM2Ciphertext.decode(theirs, CipherFormat.ASN1).encode(CipherFormat.C1C3C2)
    assert sm2.decrypt(key, c1c3c2, backend=backend) == b"from openssl"

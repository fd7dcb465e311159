"""resources/testvectors/envelope-v1: every intermediate value its README publishes is
recomputed here, twice: once from the spec alone (OpenSSL for SM2, ``cryptography`` for
SM4, hashlib SM3; the helpers of test_interop.py) and once with BidSeal's own format
functions. A README that drifts from its files, or an engine that drifts from the spec,
fails this test (the README is what another implementer checks against)."""

from __future__ import annotations

import hmac
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.envelope import format as fmt
from app.gm import sm2, sm4
from app.gm.sm3 import sm3 as bidseal_sm3
from tests.envelope.test_interop import gm_kdf, parse_by_spec, sm3

VECTOR = Path(__file__).resolve().parents[2] / "resources" / "testvectors" / "envelope-v1"


def published() -> dict[str, str]:
    """The README's table: value name -> the text between backticks."""
    rows = re.findall(r"^\| (.+?) \| `([^`]*)` \|$", (VECTOR / "README.md").read_text(encoding="utf-8"), re.M)
    table = dict(rows)
    assert len(table) == len(rows) >= 20, "the README table lost rows"
    return table


@pytest.fixture(scope="module")
def spec_values(tmp_path_factory: pytest.TempPathFactory, openssl_bin: str) -> dict[str, str]:
    """Every value computed by following resources/docs/envelope-format.md only."""
    data = (VECTOR / "envelope.bse").read_bytes()
    plain = (VECTOR / "plaintext.txt").read_bytes()
    f = parse_by_spec(data)
    (sm2cipher, wrapped), = f["entries"]
    tmp = tmp_path_factory.mktemp("vector")
    (tmp / "sk.der").write_bytes(sm2cipher)
    sk = subprocess.run([openssl_bin, "pkeyutl", "-decrypt", "-inkey", str(VECTOR / "enc-key.pem"),
                         "-in", str(tmp / "sk.der")], check=True, capture_output=True).stdout
    ecb = Cipher(algorithms.SM4(sk), modes.ECB()).decryptor()
    w = ecb.update(wrapped) + ecb.finalize()
    fk, kcv = w[:16], w[16:]
    okm = gm_kdf(fk + f["file_id"] + b"BidSeal envelope v1 keys", 48)
    kp, km = okm[:16], okm[16:]
    h = sm3(f["raw"])
    size = f["size"]
    payload = f["payload"]
    return {
        "plaintext size": str(len(plain)),
        "SM3(plaintext)": sm3(plain).hex(),
        "envelope size": str(len(data)),
        "headerLength": str(len(f["raw"]) - 16),
        "fileId": f["file_id"].hex(),
        "encryptedSessionKey (SM2Cipher DER)": sm2cipher.hex(),
        "SK_0": sk.hex(),
        "wrappedFileKey": wrapped.hex(),
        "FK": fk.hex(),
        "KCV": kcv.hex(),
        "KCV (recomputed)": sm3(b"BidSeal envelope v1 key check" + fk + f["file_id"])[:16].hex(),
        "Kp": kp.hex(),
        "Km": km.hex(),
        "H = SM3(preamble || headerDER)": h.hex(),
        "headerMac": f["mac"].hex(),
        "headerMac (recomputed)": hmac.new(km, f["raw"], "sm3").hexdigest(),
        "nonce_0": (bytes(4) + (0).to_bytes(8, "big")).hex(),
        "AAD_0 (kind 1 = last)": (h + (0).to_bytes(8, "big") + b"\x01").hex(),
        "record_0 ciphertext": payload[:size].hex(),
        "record_0 tag": payload[size:size + 16].hex(),
        "nonce_1 (trailer)": (bytes(4) + (1).to_bytes(8, "big")).hex(),
        "AAD_1 (kind 2 = trailer)": (h + (1).to_bytes(8, "big") + b"\x02").hex(),
        "trailer": payload[size + 16:].hex(),
    }


SPEC_ROWS = ["plaintext size", "SM3(plaintext)", "envelope size", "headerLength", "fileId",
             "encryptedSessionKey (SM2Cipher DER)", "SK_0", "wrappedFileKey", "FK", "KCV", "Kp", "Km",
             "H = SM3(preamble || headerDER)", "headerMac", "nonce_0", "AAD_0 (kind 1 = last)",
             "record_0 ciphertext", "record_0 tag", "nonce_1 (trailer)", "AAD_1 (kind 2 = trailer)", "trailer"]


@pytest.mark.interop
@pytest.mark.parametrize("row", SPEC_ROWS)
def test_published_value_matches_the_spec(spec_values: dict[str, str], row: str) -> None:
    assert published()[row] == spec_values[row]


@pytest.mark.interop
def test_the_vector_is_self_consistent(spec_values: dict[str, str]) -> None:
    """KCV and headerMac in the file are the ones the spec's formulas give."""
    assert spec_values["KCV"] == spec_values["KCV (recomputed)"]
    assert spec_values["headerMac"] == spec_values["headerMac (recomputed)"]


def test_bidseal_format_functions_give_the_published_values() -> None:
    """The same values through app.envelope.format and app.gm (the engine's own code)."""
    table = published()
    data = (VECTOR / "envelope.bse").read_bytes()
    hlen = fmt.read_preamble(data[:16])
    raw = data[:16 + hlen]
    header = fmt.parse_header(raw)
    entry, = header.recipients
    key = sm2.PrivateKey.from_pem((VECTOR / "enc-key.pem").read_bytes())
    sk = sm2.decrypt_parts(key, entry.encrypted_session_key)
    unwrapped = sm4.ecb_decrypt(sk, entry.wrapped_file_key)
    fk, kcv = unwrapped[:16], unwrapped[16:]
    keys = fmt.derive_keys(fk, header.file_id)
    h = bidseal_sm3(raw)
    assert str(hlen) == table["headerLength"]
    assert header.file_id.hex() == table["fileId"]
    assert entry.serial_hex == table["recipient serial"]
    assert fmt.sm2cipher_der(entry.encrypted_session_key).hex() == table["encryptedSessionKey (SM2Cipher DER)"]
    assert sk.hex() == table["SK_0"]
    assert entry.wrapped_file_key.hex() == table["wrappedFileKey"]
    assert fk.hex() == table["FK"] and kcv.hex() == table["KCV"]
    assert fmt.key_check_value(fk, header.file_id).hex() == table["KCV"]
    assert keys.payload_key.hex() == table["Kp"]
    assert keys.mac_key.hex() == table["Km"]
    assert h.hex() == table["H = SM3(preamble || headerDER)"]
    assert fmt.nonce(0).hex() == table["nonce_0"]
    assert fmt.aad(h, 0, fmt.KIND_LAST).hex() == table["AAD_0 (kind 1 = last)"]
    assert fmt.nonce(1).hex() == table["nonce_1 (trailer)"]
    assert fmt.aad(h, 1, fmt.KIND_TRAILER).hex() == table["AAD_1 (kind 2 = trailer)"]


"""Regenerate this test vector: ``python resources/testvectors/envelope-v1/make_vector.py``.

Writes plaintext.txt, enc-cert.pem, enc-key.pem (demo software key: never a real
bidder's), envelope.bse and README.md with every intermediate value, computed by
opening the envelope step by step as resources/docs/envelope-format.md describes.
Random values (keys, FK, fileId, SK, SM2 k) differ on each run; the README always
matches the files beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from app.demo.pki import demo_pki  # noqa: E402
from app.envelope import encrypt_file  # noqa: E402
from app.envelope import format as fmt  # noqa: E402
from app.gm import sm2, sm4  # noqa: E402
from app.gm.sm3 import sm3  # noqa: E402

PLAINTEXT = "BidSeal 投标文件数字信封测试向量 / envelope test vector v1\n".encode()


def main() -> None:
    pki = demo_pki(days=36500)
    (HERE / "plaintext.txt").write_bytes(PLAINTEXT)
    (HERE / "enc-cert.pem").write_bytes(pki.enc_cert.pem)
    (HERE / "enc-key.pem").write_bytes(pki.enc_key.to_pem())
    env = HERE / "envelope.bse"
    encrypt_file(HERE / "plaintext.txt", env, [pki.enc_cert], project_id="TEST-2026-001",
                 unit_code=pki.subject.unit_code, chunk_size=fmt.DEFAULT_CHUNK_SIZE)
    data = env.read_bytes()
    hlen = fmt.read_preamble(data[:16])
    raw = data[: 16 + hlen]
    header = fmt.parse_header(raw)
    entry = header.recipients[0]
    sk = sm2.decrypt_parts(pki.enc_key, entry.encrypted_session_key)
    w = sm4.ecb_decrypt(sk, entry.wrapped_file_key)
    fk, kcv = w[:16], w[16:]
    keys = fmt.derive_keys(fk, header.file_id)
    h = sm3(raw)
    mac = data[16 + hlen: 16 + hlen + 32]
    payload = data[16 + hlen + 32:]
    size = len(PLAINTEXT)
    rec0, trailer = payload[: size + 16], payload[size + 16:]
    rows = [
        ("plaintext size", str(size)),
        ("SM3(plaintext)", sm3(PLAINTEXT).hex()),
        ("envelope size", str(len(data))),
        ("headerLength", str(hlen)),
        ("fileId", header.file_id.hex()),
        ("recipient serial", entry.serial_hex),
        ("encryptedSessionKey (SM2Cipher DER)", fmt.sm2cipher_der(entry.encrypted_session_key).hex()),
        ("SK_0", sk.hex()),
        ("wrappedFileKey", entry.wrapped_file_key.hex()),
        ("FK", fk.hex()),
        ("KCV", kcv.hex()),
        ("Kp", keys.payload_key.hex()),
        ("Km", keys.mac_key.hex()),
        ("H = SM3(preamble || headerDER)", h.hex()),
        ("headerMac", mac.hex()),
        ("nonce_0", fmt.nonce(0).hex()),
        ("AAD_0 (kind 1 = last)", fmt.aad(h, 0, fmt.KIND_LAST).hex()),
        ("record_0 ciphertext", rec0[:size].hex()),
        ("record_0 tag", rec0[size:].hex()),
        ("nonce_1 (trailer)", fmt.nonce(1).hex()),
        ("AAD_1 (kind 2 = trailer)", fmt.aad(h, 1, fmt.KIND_TRAILER).hex()),
        ("trailer", trailer.hex()),
    ]
    lines = [
        "# Envelope v1 test vector",
        "",
        "Files: `plaintext.txt` (the plaintext), `enc-cert.pem` / `enc-key.pem` (a demo SM2",
        "encryption certificate and its software key, valid 100 years; never a real bidder's),",
        "`envelope.bse` (the envelope, one recipient, project `TEST-2026-001`, created",
        f"{header.created_at:%Y-%m-%dT%H:%M:%SZ}, chunk size 1 MiB, so one data record and the trailer).",
        "Regenerate with `python resources/testvectors/envelope-v1/make_vector.py` (all",
        "random values change). Format: `resources/docs/envelope-format.md`.",
        "",
        "Check by hand:",
        "",
        "```sh",
        "# skip preamble (16) and find the SM2Cipher in the header, or take it from the table:",
        "echo <encryptedSessionKey hex> | xxd -r -p > sk.der",
        "openssl pkeyutl -decrypt -inkey enc-key.pem -in sk.der | xxd -p   # = SK_0",
        "bidseal envelope info envelope.bse",
        "bidseal decrypt envelope.bse -o out.txt --soft-key enc-key.pem --cert enc-cert.pem",
        "```",
        "",
        "| value | hex / number |",
        "|---|---|",
    ] + [f"| {k} | `{v}` |" for k, v in rows] + [""]
    (HERE / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()

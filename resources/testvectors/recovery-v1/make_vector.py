"""Regenerate this test vector: ``python resources/testvectors/recovery-v1/make_vector.py``.

Writes ``recovery.bsrk`` (a recovery key file with the DEFAULT work factor), its
passphrase, the private key it holds (``recovery-key.pem``: a test key, never a real
bidder's), ``envelope.bse`` (a small envelope whose only recipient is the recovery
key) and README.md with every intermediate value. The private key, salt, IV and
passphrase are fixed, so the encrypted key block is the same on every run; the
certificate signature and the envelope use fresh randomness.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from app.envelope import encrypt_file  # noqa: E402
from app.gm import sm2, sm4  # noqa: E402
from app.gm.names import make_uscc  # noqa: E402
from app.recovery import DEFAULT_PARAMS, RecoveryKey, make_certificate, save  # noqa: E402
from app.recovery.pbes2 import encrypt_private_key, parse_encrypted_key, passphrase_bytes  # noqa: E402

PASSPHRASE = "开标应急 recovery 2026!"
KEY_D = int("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8", 16)
SALT = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
IV = bytes.fromhex("00112233445566778899aabbccddeeff")
PLAINTEXT = "BidSeal 恢复密钥测试向量 / recovery key test vector v1\n".encode()
UNIT, UNIT_CODE = "辽宁示例建设工程有限公司", make_uscc("91210100MA0Y8B6K2")


def main() -> None:
    key = sm2.PrivateKey.from_int(KEY_D)
    cert = make_certificate(key, unit_name=UNIT, unit_code=UNIT_CODE,
                            now=datetime(2026, 1, 1, tzinfo=UTC), serial=0x42)
    encrypted = encrypt_private_key(key.to_der(), PASSPHRASE, DEFAULT_PARAMS, salt=SALT, iv=IV)
    rk = RecoveryKey(cert, encrypted)
    save(rk, HERE / "recovery.bsrk", overwrite=True)
    (HERE / "passphrase.txt").write_text(PASSPHRASE + "\n", encoding="utf-8")
    (HERE / "recovery-key.pem").write_bytes(key.to_pem())
    (HERE / "plaintext.txt").write_bytes(PLAINTEXT)
    encrypt_file(HERE / "plaintext.txt", HERE / "envelope.bse", [cert], project_id="TEST-2026-RK")
    p = parse_encrypted_key(encrypted)
    kek = hashlib.scrypt(bytes(passphrase_bytes(PASSPHRASE)), salt=SALT, n=p.params.n, r=p.params.r,
                         p=p.params.p, maxmem=p.params.memory + (1 << 20), dklen=16)
    assert sm4.cbc_decrypt(kek, IV, p.ciphertext) == key.to_der()
    rows = [
        ("passphrase (UTF-8 of NFC)", bytes(passphrase_bytes(PASSPHRASE)).hex()),
        ("scrypt N, r, p", f"{p.params.n}, {p.params.r}, {p.params.p}"),
        ("salt", SALT.hex()),
        ("KEK = scrypt(passphrase, salt, N, r, p, 16)", kek.hex()),
        ("SM4-CBC IV", IV.hex()),
        ("PKCS#8 PrivateKeyInfo (plaintext)", key.to_der().hex()),
        ("EncryptedPrivateKeyInfo (DER)", encrypted.hex()),
        ("private key d", format(KEY_D, "064x")),
        ("public key (04||X||Y)", key.public_key.to_bytes().hex()),
        ("certificate serial", cert.serial_hex),
        ("certificate SM3 fingerprint", cert.fingerprint_sm3),
    ]
    table = "\n".join(f"| {k} | `{v}` |" for k, v in rows)
    (HERE / "README.md").write_text(README.format(table=table, n=p.params.n, r=p.params.r,
                                                  p=p.params.p, salt=SALT.hex(), iv=IV.hex(),
                                                  passphrase=PASSPHRASE), encoding="utf-8")


README = """# Recovery key file v1 test vector

Files: `recovery.bsrk` (the recovery key file, default work factor), `passphrase.txt`
(its passphrase: `{passphrase}`), `recovery-key.pem` (the private key inside: a test
key, never a real bidder's), `envelope.bse` (an envelope of `plaintext.txt` whose only
recipient is the recovery key). Regenerate with
`python resources/testvectors/recovery-v1/make_vector.py`: the encrypted key block is
fixed (fixed key, salt, IV), the certificate signature and the envelope change.
Format: `resources/docs/recovery-key-format.md`.

Check by hand with OpenSSL 3 only (`openssl pkey -in recovery.bsrk` refuses this file
because its scrypt needs 128 MiB, above OpenSSL's built-in 32 MiB limit for PKCS#8; the
three steps below are the same computation with the limit raised):

```sh
sed -n '/BEGIN ENCRYPTED/,/END ENCRYPTED/p' recovery.bsrk | openssl asn1parse   # PBES2, scrypt, sm4-cbc
KEK=$(openssl kdf -keylen 16 -kdfopt pass:"$(cat passphrase.txt)" -kdfopt hexsalt:{salt} \\
      -kdfopt n:{n} -kdfopt r:{r} -kdfopt p:{p} -kdfopt maxmem_bytes:200000000 SCRYPT | tr -d :)
sed -n '/BEGIN ENCRYPTED/,/END ENCRYPTED/p' recovery.bsrk | openssl asn1parse -strparse 92 -noout -out enc.bin
openssl enc -d -sm4-cbc -K $KEK -iv {iv} -in enc.bin | openssl pkey -inform DER -text -noout  # d as below
openssl x509 -in recovery.bsrk -noout -subject -ext keyUsage,basicConstraints
bidseal recovery info recovery.bsrk
bidseal decrypt envelope.bse -o out.txt --recovery recovery.bsrk --passphrase-stdin < passphrase.txt
```

| value | hex / number |
|---|---|
{table}
"""


if __name__ == "__main__":
    main()

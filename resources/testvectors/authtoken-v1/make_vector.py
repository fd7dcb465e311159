"""Regenerate this test vector: ``python resources/testvectors/authtoken-v1/make_vector.py``.

Writes root.pem (a demo root CA, valid 100 years), leaf.pem + leaf-key.pem (a demo
bidder signing certificate and its software key: never a real bidder's), token.json
(a login token for ORIGIN and NONCE) and vector.json with every intermediate value
(challenge, Z, e) computed as resources/docs/login-token.md describes. Keys, serials
and the SM2 signature are random on each run; vector.json always matches the files.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from app.authtoken import challenge, create_token  # noqa: E402
from app.demo.pki import DEMO_UNIT_CODE, CertificateAuthority, Subject  # noqa: E402
from app.gm import sm2  # noqa: E402
from app.gm.keyops import SoftwareSigner  # noqa: E402

ORIGIN = "https://hub.example.cn"
NONCE = "qhXZ2JbHK0n5FDJjN6gqG4Rz1Cj7vFvB9r0FQw5iXn8="


def main() -> None:
    root = CertificateAuthority.create_root(name="BidSeal Test Vector Root CA", days=36500)
    key = sm2.PrivateKey.generate()
    leaf = root.issue(key.public_key, Subject(unit_name="辽宁示例建设工程有限公司", unit_code=DEMO_UNIT_CODE,
                                              legal_name="张三"), "sign", days=36500)
    token = create_token(SoftwareSigner(leaf, key), ORIGIN, NONCE)
    message = challenge(ORIGIN, NONCE)
    assert sm2.verify(leaf.public_key, message, token.signature_der)
    (HERE / "root.pem").write_bytes(root.certificate.pem)
    (HERE / "leaf.pem").write_bytes(leaf.pem)
    (HERE / "leaf-key.pem").write_bytes(key.to_pem())
    (HERE / "token.json").write_text(json.dumps(token.to_dict(), indent=2) + "\n", encoding="utf-8")
    vector = {
        "origin": ORIGIN,
        "nonce": NONCE,
        "challenge_hex": message.hex(),
        "public_key_hex": leaf.public_key.to_bytes().hex(),
        "sm2_id": sm2.DEFAULT_ID.decode(),
        "z_hex": sm2.compute_z(leaf.public_key).hex(),
        "e_hex": sm2.compute_e(leaf.public_key, message).hex(),
        "signature_hex": token.signature_der.hex(),
        "leaf_serial_hex": leaf.serial_hex,
        "verify_at": (leaf.not_before + timedelta(days=1)).isoformat(),
        "expected": {"unit_code": leaf.unit_code, "unit_name": leaf.unit_name},
    }
    (HERE / "vector.json").write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

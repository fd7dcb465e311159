"""Rebuild vectors.json: the canonical string and the ``sign`` value of resources/docs/
platform-api.md §3 for a few requests (HMAC-SM3 and SM2 with a fixed nonce k).

    python resources/testvectors/platform-sign/make_vectors.py
"""

from __future__ import annotations

import json
from pathlib import Path

from app.gm import sm2
from app.hub import signing

HERE = Path(__file__).resolve().parent
SECRET = "demo-secret-仅用于测试"
SM2_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
SM2_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21

CASES = [
    ("hmac-usersynchro", "/api/ca/userSynchro", signing.HMAC_SM3, {
        "caUnitId": "LN-CA-DEMO-001", "userName": "辽宁示例建设工程有限公司", "idType": "02",
        "idNumber": "91210100MA0Y8B6K2X", "unitName": "辽宁示例建设工程有限公司", "unitCode": "91210100MA0Y8B6K2X",
        "signCert": "MIIB+zCCAaGgAwIBAgIQ/x==", "encCert": "MIIB/DCCAaGgAwIBAgIQ+w==",
        "signCertSn": "54B6608C2ECE3E47", "encCertSn": "1A2B3C", "certEndTime": "2028-11-27 23:59:59",
        "legalName": "张三", "legalIdcard": "21010219800101001X", "signature": "iVBORw0KGgo=",
        "standBy": "",
    }),
    ("hmac-startcheck", "/api/ca/startCheck", signing.HMAC_SM3, {
        "caUnitId": "LN-CA-DEMO-001", "taskId": "LOGIN-20261127-0001", "orgcode": "LNGGZY-DEMO",
    }),
    ("sm2-startdecrypt", "/api/ca/startdecrypt", signing.SM2, {
        "caUnitId": "LN-CA-DEMO-001", "taskId": "DEC 1&2=3", "orgcode": "LNGGZY-DEMO",
        "encData": "QlNFTlYBAAAA+/8=", "standBy": "{\"round\":1}",
    }),
]


def build() -> list[dict[str, object]]:
    key = sm2.PrivateKey.from_int(SM2_D)
    out = []
    for name, path, alg, fields in CASES:
        ts, nonce = "1764201600", "Vv3x9Qm2Lr8Tz4Kp"
        canonical = signing.canonical_string(path, fields, alg, ts, nonce)
        if alg == signing.HMAC_SM3:
            sign = signing.sign_hmac(path, fields, SECRET, timestamp=int(ts), nonce=nonce)
            key_info: dict[str, object] = {"secret": SECRET}
        else:
            sign = signing.sign_sm2(path, fields, key.public_key, lambda e: sm2.sign_digest(key, e, k=SM2_K, backend="gmssl"),
                                    alg=alg, timestamp=int(ts), nonce=nonce)
            key_info = {"private_key_hex": f"{SM2_D:064X}", "k_hex": f"{SM2_K:064X}",
                        "public_key_hex": key.public_key.to_bytes().hex().upper(), "id": "1234567812345678"}
        out.append({"name": name, "path": path, "alg": alg, "timestamp": ts, "nonce": nonce, "fields": fields,
                    "canonical": canonical.decode("ascii"), "canonical_hex": canonical.hex(), "key": key_info,
                    "sign": sign})
    return out


if __name__ == "__main__":
    (HERE / "vectors.json").write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'vectors.json'}")

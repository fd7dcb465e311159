"""Enumeration of a provisioned virtual key: devices, certificates, seals, broken objects."""

from __future__ import annotations

from pathlib import Path

from app.gm.x509 import Certificate
from app.token import host_client
from app.token.device import find_identity, scan
from app.token.errors import CertificateInvalid
from app.token.identity import PNG_MAGIC, Identity, seal_file_name, seal_kind
from app.token.skf_ffi import USER_TYPE
from app.token.softkey import SoftkeyInfo

from .conftest import USER_PIN, make_key, open_handles


def test_enumerates_device_and_identity(identity: Identity, softkey: SoftkeyInfo, softskf_lib: str) -> None:
    result = scan([softskf_lib])
    assert result.libraries[0].status == "ok"
    dev = next(d for d in result.devices if d.name == softkey.label)
    assert dev.info is not None
    assert dev.info.manufacturer == "BidSeal SoftSKF" and dev.info.serial
    assert {"SM2-sign", "SM4", "SM3"} <= set(dev.info.capabilities)
    assert dev.applications == ["BIDSEAL"]
    assert identity.container == "BIDSEAL-SM2" and identity.application == "BIDSEAL"
    assert identity.library == softskf_lib


def test_certificates_are_told_apart_by_usage_and_slot(identity: Identity, softkey: SoftkeyInfo) -> None:
    sign, enc = identity.sign_certificate, identity.enc_certificate
    assert isinstance(sign, Certificate) and isinstance(enc, Certificate)
    assert sign == softkey.sign_certificate and enc == softkey.enc_certificate
    assert sign.is_signing_cert and not sign.is_encryption_cert
    assert enc.is_encryption_cert and not enc.is_signing_cert
    assert sign.unit_name == "辽宁示例建设工程有限公司" and sign.unit_code
    assert sign.verify_signed_by(softkey.root_certificate)
    assert identity.warnings == ()


def test_seals_are_read_from_seal_files(identity: Identity) -> None:
    assert set(identity.seals) == {"company", "legal"}
    for png in identity.seals.values():
        assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert seal_file_name("company") == "seal_company.png"
    assert seal_kind("seal_legal.png") == "legal" and seal_kind("cert.der") is None


def test_summary_is_json_friendly(identity: Identity) -> None:
    import json

    s = identity.summary()
    json.dumps(s, ensure_ascii=False)
    assert s["sign_certificate"]["kind"] == "sign" and s["enc_certificate"]["kind"] == "enc"
    assert s["seals"]["company"]["file"] == "seal_company.png"


def test_scan_leaves_no_open_handles(identity: Identity, softskf_lib: str) -> None:
    scan([softskf_lib])
    assert open_handles(softskf_lib) == 0


def test_malformed_certificate_names_the_container_and_others_still_list(
        store: Path, pki_dir: Path, softskf_lib: str) -> None:
    make_key(store, pki_dir, "BROKEN-KEY")
    ident = find_identity(softskf_lib, "BROKEN-KEY")
    host = host_client.get_pool().get(softskf_lib, "BROKEN-KEY")
    hdev = host.call("connect_dev", "BROKEN-KEY")
    try:
        happ = host.call("open_application", hdev, ident.application)
        host.call("verify_pin", happ, USER_TYPE, bytearray(USER_PIN.encode()))
        hcon = host.call("create_container", happ, "DAMAGED")
        host.call("import_certificate", hcon, True, b"\x30\x82\x01\x00" + b"\x02\x01\x05" * 20)
    finally:
        host.call("close", hdev)
    assert host.call("handle_count") == 0

    result = scan([softskf_lib])
    dev = next(d for d in result.devices if d.name == "BROKEN-KEY")
    assert [i.container for i in dev.identities] == ["BIDSEAL-SM2"]  # the good one still lists
    assert len(dev.problems) == 1
    prob = dev.problems[0]
    assert isinstance(prob, CertificateInvalid)
    assert "DAMAGED" in prob.zh and "DAMAGED" in prob.en
    assert prob.details["container"] == "DAMAGED" and prob.details["device"] == "BROKEN-KEY"
    # other keys are unaffected
    assert any(d.identities for d in result.devices if d.name != "BROKEN-KEY")

"""Choosing the key (app/token/selection.py) on scan results made of real certificates:
selection rules, ambiguity, recipients, and driver failures never read as "no key"."""

from __future__ import annotations

import pytest

from app.demo.pki import DemoPKI, demo_pki
from app.gm.names import make_uscc
from app.token.device import DeviceReport, LibraryReport, TokenScan
from app.token.errors import DeviceRemoved, SkfError, TokenCrashed, TokenNotFound, error_for
from app.token.identity import DeviceInfo, Identity
from app.token.registry import Candidate
from app.token.selection import (
    Discovery,
    KeyAmbiguous,
    KeyDiscoveryFailed,
    KeyFilter,
    NoRecipientKey,
    normalise_serial,
    pin_prompt,
    select_identity,
    select_recipient,
    select_signer,
)

LIB = "/opt/ca/libskf.so"
CODE_B = make_uscc("91210200MA0Y8B6K3")


@pytest.fixture(scope="module")
def pkis() -> tuple[DemoPKI, DemoPKI]:
    a = demo_pki()
    b = demo_pki(unit_name="大连第二投标有限公司", unit_code=CODE_B)
    return a, b


def _ident(pki: DemoPKI, device: str, serial: str) -> Identity:
    return Identity(LIB, device, "APP", "CON", pki.sign_cert, pki.enc_cert,
                    device_info=DeviceInfo(name=device, serial=serial, label=f"label-{device}"))


def _scan(*devices: DeviceReport, lib_error: Exception | None = None) -> Discovery:
    lib = LibraryReport(Candidate(LIB, "test", "argument"), devices=list(devices))
    if lib_error is not None:
        lib.status, lib.error = "error", lib_error  # type: ignore[assignment]
    return Discovery(TokenScan([lib]))


def _dev(name: str, *idents: Identity, error: Exception | None = None) -> DeviceReport:
    return DeviceReport(LIB, name, identities=list(idents), error=error)  # type: ignore[arg-type]


def test_filter_matches_key_unit_code_and_serial(pkis: tuple[DemoPKI, DemoPKI]) -> None:
    a, b = pkis
    ia, ib = _ident(a, "KEY-A", "SN-A"), _ident(b, "KEY-B", "SN-B")
    assert KeyFilter(key="KEY-A").matches(ia) and not KeyFilter(key="KEY-A").matches(ib)
    assert KeyFilter(key="SN-B").matches(ib) and KeyFilter(key="label-KEY-B").matches(ib)
    assert KeyFilter(unit_code=CODE_B.lower()).matches(ib) and not KeyFilter(unit_code=CODE_B).matches(ia)
    hexed = b.enc_cert.serial_hex
    spaced = "00:" + ":".join(hexed[i:i + 2] for i in range(0, len(hexed), 2)).lower()
    assert KeyFilter(serial=spaced).matches(ib) and not KeyFilter(serial=spaced).matches(ia)
    assert KeyFilter(serial=b.sign_cert.serial_hex).matches(ib)
    assert normalise_serial("0x00ab:CD") == "ABCD"
    assert KeyFilter().empty and not KeyFilter(serial="1").empty


def test_signer_is_explicit(pkis: tuple[DemoPKI, DemoPKI]) -> None:
    a, b = pkis
    ia, ib = _ident(a, "KEY-A", "SN-A"), _ident(b, "KEY-B", "SN-B")
    disc = _scan(_dev("KEY-A", ia), _dev("KEY-B", ib))
    with pytest.raises(KeyAmbiguous) as exc:
        select_signer(disc, KeyFilter())
    assert "KEY-A" in exc.value.zh and "KEY-B" in exc.value.en and "--unit-code" in exc.value.en
    assert len(exc.value.details["candidates"]) == 2
    assert select_signer(disc, KeyFilter(unit_code=CODE_B)) is ib
    assert select_signer(disc, KeyFilter(), choose=lambda found: found[1]) is ib
    assert select_signer(_scan(_dev("KEY-A", ia)), KeyFilter()) is ia
    with pytest.raises(TokenNotFound) as nf:
        select_signer(disc, KeyFilter(key="KEY-C"))
    assert "--key KEY-C" in nf.value.zh and "KEY-A" in nf.value.zh


def test_no_key_versus_a_failing_driver(pkis: tuple[DemoPKI, DemoPKI]) -> None:
    with pytest.raises(TokenNotFound) as nf:
        select_signer(_scan(), KeyFilter())
    assert nf.value.code == "ERR_TOKEN_NOT_FOUND" and "没有检测到 UKey" in nf.value.zh
    # a key pulled out during the scan is still "no key", not a driver failure
    removed = error_for(0x0A000023, "SKF_ConnectDev")
    assert isinstance(removed, DeviceRemoved)
    with pytest.raises(TokenNotFound):
        select_signer(_scan(_dev("KEY-A", error=removed)), KeyFilter())
    failing = error_for(0x0A000001, "SKF_EnumDev")
    assert isinstance(failing, SkfError)
    with pytest.raises(KeyDiscoveryFailed) as exc:
        select_signer(_scan(lib_error=failing), KeyFilter())
    err = exc.value
    assert err.code == "ERR_TOKEN_DRIVER" and "SKF_EnumDev" in err.zh and "0x0A000001" in err.en
    assert "libskf.so" in err.zh and "不是“未插入 UKey”" in err.zh and "not 'no key inserted'" in err.en
    crash = TokenCrashed("驱动崩溃。", "The driver crashed.", op="connect_dev", library=LIB)
    with pytest.raises(KeyDiscoveryFailed) as exc2:
        select_identity(_scan(_dev("KEY-A", error=crash)), KeyFilter())
    assert "SKF_ConnectDev" in exc2.value.en and "crash" in exc2.value.en


def test_after_a_failure_nothing_is_guessed(pkis: tuple[DemoPKI, DemoPKI]) -> None:
    a, _b = pkis
    ia = _ident(a, "KEY-A", "SN-A")
    failing = error_for(0x0A000005, "SKF_ExportCertificate")
    disc = _scan(_dev("KEY-A", ia), _dev("KEY-B", error=failing))
    with pytest.raises(KeyDiscoveryFailed) as exc:
        select_signer(disc, KeyFilter())
    assert "--key" in exc.value.zh and exc.value.details["found"][0]["device"] == "KEY-A"
    assert select_signer(disc, KeyFilter(key="KEY-A")) is ia


def test_recipient_key_is_the_one_the_envelope_names(pkis: tuple[DemoPKI, DemoPKI]) -> None:
    a, b = pkis
    ia, ib = _ident(a, "KEY-A", "SN-A"), _ident(b, "KEY-B", "SN-B")
    disc = _scan(_dev("KEY-A", ia), _dev("KEY-B", ib))
    assert select_recipient(disc, KeyFilter(), lambda c: c == b.enc_cert, ["B"]) is ib
    assert select_recipient(disc, KeyFilter(), lambda c: c == a.enc_cert, ["A"]) is ia
    with pytest.raises(NoRecipientKey) as exc:
        select_recipient(disc, KeyFilter(), lambda c: False, ["营口其他公司（序列号 / serial 01）"])
    assert "营口其他公司" in exc.value.zh and "KEY-A" in exc.value.zh and "Insert the right key" in exc.value.en
    failing = error_for(0x0A000001, "SKF_ConnectDev")
    with pytest.raises(KeyDiscoveryFailed):  # the recipient may be the key behind the failing driver
        select_recipient(_scan(_dev("KEY-A", ia), _dev("KEY-B", error=failing)), KeyFilter(),
                         lambda c: c == b.enc_cert, ["B"])
    # a recipient that was read is used even when another driver failed
    assert select_recipient(_scan(_dev("KEY-A", ia), _dev("KEY-B", error=failing)), KeyFilter(),
                            lambda c: c == a.enc_cert, ["A"]) is ia


def test_pin_prompt_names_key_unit_and_serial(pkis: tuple[DemoPKI, DemoPKI]) -> None:
    _a, b = pkis
    ib = _ident(b, "KEY-B", "SN-B")
    prompt = pin_prompt(ib, need="sign")
    assert "KEY-B" in prompt and "大连第二投标有限公司" in prompt and b.sign_cert.serial_hex in prompt
    assert "PIN" in prompt and "口令" in prompt
    assert "管理员口令" in pin_prompt(ib, admin=True) and b.enc_cert.serial_hex in pin_prompt(ib, need="enc")

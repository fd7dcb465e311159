"""SAR codes -> typed errors with a bidder sentence; errors survive the trip from the host."""

from __future__ import annotations

import re

import pytest

from app.token import errors as E
from app.token.skf_ffi import header_path


def _header_codes() -> dict[str, int]:
    text = header_path().read_text(encoding="utf-8")
    return {m.group(1): int(m.group(2), 16) for m in re.finditer(r"#define\s+(SAR_\w+)\s+(0x[0-9A-Fa-f]+)", text)}


def test_table_covers_every_standard_code_in_the_header() -> None:
    codes = _header_codes()
    assert len(codes) == 51  # SAR_OK .. SAR_REACH_MAX_CONTAINER_COUNT
    for name, value in codes.items():
        if value == 0:
            continue
        assert value in E.SAR_TABLE, name
        assert E.SAR_TABLE[value][0] == name
        _, cls, zh, en = E.SAR_TABLE[value]
        assert issubclass(cls, E.SkfError)
        assert re.search(r"[\u4e00-\u9fff]", zh) and en[0].isupper()


@pytest.mark.parametrize(("code", "cls"), [
    (0x0A000023, E.DeviceRemoved), (0x0A000025, E.PinLocked), (0x0A000027, E.PinLength),
    (0x0A00001C, E.CertificateNotFound), (0x0A00002D, E.NotLoggedIn), (0x0A000003, E.NotSupported),
    (0x0A000001, E.SkfError),
])
def test_error_for_maps_codes_to_classes(code: int, cls: type[E.SkfError]) -> None:
    exc = E.error_for(code, "SKF_Something")
    assert type(exc) is cls
    assert exc.details["sar"] == f"0x{code:08X}"
    assert exc.function == "SKF_Something"
    assert exc.sar == code and exc.sar_name.startswith("SAR_")


def test_pin_incorrect_says_how_many_tries_are_left_and_zero_means_locked() -> None:
    exc = E.error_for(0x0A000024, "SKF_VerifyPIN", retries_left=3)
    assert isinstance(exc, E.PinIncorrect) and exc.retries_left == 3
    assert "3" in exc.zh and "3" in exc.en
    locked = E.error_for(0x0A000024, "SKF_VerifyPIN", retries_left=0)
    assert type(locked) is E.PinLocked
    assert "CA" in locked.zh and "unblock" in locked.en


def test_vendor_code_keeps_the_raw_code() -> None:
    exc = E.error_for(0x0A000101, "SKF_CreateFile")
    assert type(exc) is E.SkfError
    assert exc.sar_name == "vendor-defined"
    assert "0x0A000101" in exc.zh and "0x0A000101" in exc.en


def test_wire_round_trip_keeps_class_and_details_and_drops_pins() -> None:
    exc = E.error_for(0x0A000024, "SKF_VerifyPIN", retries_left=2, user_pin="123456")
    wire = exc.to_wire()
    assert "user_pin" not in wire["details"] and "123456" not in str(wire)
    back = E.error_from_wire(wire)
    assert type(back) is E.PinIncorrect
    assert back.retries_left == 2 and back.zh == exc.zh and back.code == "ERR_PIN_INCORRECT"


def test_admin_pin_errors_say_admin() -> None:
    wrong = E.error_for(0x0A000024, "SKF_UnblockPIN", retries_left=4, account="admin")
    assert isinstance(wrong, E.PinIncorrect) and "管理员口令" in wrong.zh and "admin PIN" in wrong.en
    locked = E.error_for(0x0A000025, "SKF_UnblockPIN", retries_left=0, account="admin")
    assert type(locked) is E.PinLocked
    assert "管理员口令" in locked.zh and "admin PIN is locked" in locked.en
    assert "bidseal token unblock" not in locked.en  # unblocking needs the admin PIN itself

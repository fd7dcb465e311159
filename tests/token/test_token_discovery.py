"""A driver that breaks during key discovery is reported as a driver failure, never as
"no key inserted": the library, the SKF function and the error are named.

Faults through libsoftskf (``SOFTSKF_FAULTS``): an error code, a crash or a hang in
EnumDev, ConnectDev, ExportCertificate and ReadFile.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from app.cli.main import main
from app.token import host_client
from app.token.device import find_identity, scan
from app.token.errors import DriverFailure, TokenCrashed, TokenNotFound, TokenTimeout
from app.token.host_client import HostPool
from app.token.identity import Identity

SAR_FAIL = "0x0A000001"


@pytest.fixture
def faulty() -> Iterator[HostPool]:
    p = HostPool(timeout=2)
    try:
        yield p
    finally:
        p.close()


@pytest.mark.parametrize(("fault", "function", "code"), [
    (f"SKF_EnumDev:1:{SAR_FAIL}", "SKF_EnumDev", "ERR_SKF"),
    ("SKF_EnumDev:1:crash", "SKF_EnumDev", "ERR_TOKEN_CRASHED"),
    ("SKF_EnumDev:1:hang", "SKF_EnumDev", "ERR_TOKEN_TIMEOUT"),
    (f"SKF_ConnectDev:1:{SAR_FAIL}", "SKF_ConnectDev", "ERR_SKF"),
    ("SKF_ConnectDev:1:crash", "SKF_ConnectDev", "ERR_TOKEN_CRASHED"),
    (f"SKF_ExportCertificate:1:{SAR_FAIL}", "SKF_ExportCertificate", "ERR_SKF"),
    ("SKF_ExportCertificate:1:crash", "SKF_ExportCertificate", "ERR_TOKEN_CRASHED"),
    ("SKF_EnumContainer:1:0x0A000040", "SKF_EnumContainer", "ERR_SKF"),
])
def test_discovery_failure_names_library_function_and_error(identity: Identity, faulty: HostPool, fault: str,
                                                             function: str, code: str) -> None:
    faulty.env["SOFTSKF_FAULTS"] = fault
    result = scan([identity.library], pool=faulty)  # a report, not an exception
    assert result.identities == []
    failure = result.driver_failure()
    assert isinstance(failure, DriverFailure)
    assert failure.code == "ERR_TOKEN_DRIVER"
    assert failure.details["library"] == identity.library
    assert failure.details["function"] == function and failure.details["error_code"] == code
    name = os.path.basename(identity.library)
    assert name in failure.zh and function in failure.zh and name in failure.en and function in failure.en
    assert "Insert your UKey" not in failure.en and "请插入 UKey" not in failure.zh  # not "no key"
    assert failure.failures and failure.failures[0].code == code
    faulty.close()  # a new host: the library's call counters start again
    with pytest.raises(DriverFailure) as info:
        find_identity(identity.library, identity.device, pool=faulty)
    assert info.value.details["function"] == function


def test_timeout_and_crash_stay_typed_in_the_report(identity: Identity, faulty: HostPool) -> None:
    faulty.env["SOFTSKF_FAULTS"] = "SKF_EnumDev:1:hang"
    lib = scan([identity.library], pool=faulty).libraries[0]
    assert lib.status == "error" and isinstance(lib.error, TokenTimeout)
    faulty.close()
    faulty.env["SOFTSKF_FAULTS"] = "SKF_ConnectDev:1:crash"
    lib = scan([identity.library], pool=faulty).libraries[0]
    assert isinstance(lib.error, TokenCrashed)


def test_a_seal_file_that_cannot_be_read_is_a_named_warning(identity: Identity, faulty: HostPool) -> None:
    faulty.env["SOFTSKF_FAULTS"] = f"SKF_ReadFile:1:{SAR_FAIL}"
    ident = find_identity(identity.library, identity.device, pool=faulty)
    assert ident.sign_certificate == identity.sign_certificate
    assert len(ident.seals) == len(identity.seals) - 1
    warning = next(w for w in ident.warnings if "SKF_ReadFile" in w)
    assert os.path.basename(identity.library) in warning


def test_no_failure_no_key_is_still_not_found(identity: Identity, pool: HostPool) -> None:
    result = scan([identity.library], pool=pool)
    assert result.driver_failure() is None
    with pytest.raises(TokenNotFound):
        find_identity(identity.library, "NO-SUCH-KEY", pool=pool)


def test_the_cli_wording_is_a_driver_failure() -> None:
    from app.token.selection import KeyDiscoveryFailed

    assert issubclass(KeyDiscoveryFailed, DriverFailure)


def test_a_library_that_does_not_load_is_a_driver_failure(tmp_path: os.PathLike[str], pool: HostPool) -> None:
    missing = os.path.join(tmp_path, "libgm3000.1.0.so")
    with pytest.raises(DriverFailure) as info:
        find_identity(missing, pool=pool)
    assert info.value.details["function"] == "LoadLibrary"
    assert info.value.failures[0].code == "ERR_LIBRARY_MISSING"


def test_cli_reports_the_driver_not_a_missing_key(identity: Identity, capsys: pytest.CaptureFixture[str]) -> None:
    host_client.configure(env={"SOFTSKF_FAULTS": "SKF_EnumDev:1:crash"})
    try:
        assert main(["token", "pin-info", "--device", identity.device]) != 0
    finally:
        host_client.configure()
    err = capsys.readouterr().err
    # the CLI words it with app.token.selection.KeyDiscoveryFailed, a DriverFailure
    assert "ERR_TOKEN_DRIVER" in err and "SKF_EnumDev" in err and "libsoftskf" in err
    assert "请插入" not in err and "Insert your UKey" not in err

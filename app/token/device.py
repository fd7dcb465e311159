"""Enumeration: libraries -> devices -> applications -> containers -> identities.

Every call goes through a token host (:mod:`app.token.host_client`); handles are
always closed in ``finally`` blocks. One broken object never hides the others: a
library that fails to load, a key pulled out mid-scan or a certificate that does
not parse is recorded as a problem on its level and the scan goes on.

Driver failures are kept apart from "no key": :meth:`TokenScan.driver_failure`
turns every library or device the driver failed on (crash, hang, an SKF error in
EnumDev/ConnectDev/ExportCertificate/..., a library that does not load) into one
:class:`DriverFailure` naming the library, the SKF function and the error, and
:func:`find_identity` raises it instead of "no key found" when nothing matched.

Reading certificates needs no login, so discovery and ``pin_info`` do not wait for a
device another session holds (a GUI key panel must not stall behind a long sealing);
the token host refuses every login-needing operation to them anyway. PIN changes and
unblocking take the device lease (:mod:`app.token.access`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from app.cancel import Cancel
from app.errors import BidSealError
from app.gm.errors import GMError
from app.gm.ses import SESeal
from app.gm.sm2 import PublicKey
from app.gm.x509 import Certificate
from app.sensitive import wipe
from app.token.access import acquire
from app.token.errors import (
    CertificateInvalid,
    CertificateNotFound,
    DeviceRemoved,
    DriverFailure,
    FileNotFound,
    KeyNotFound,
    NotSupported,
    StaleHandle,
    TokenCancelled,
    TokenCrashed,
    TokenError,
    TokenNotFound,
    TokenProtocolError,
    TokenTimeout,
)
from app.token.host_client import HostPool, TokenHost, get_pool
from app.token.identity import PNG_MAGIC, DeviceInfo, Identity, PinInfo, seal_kind
from app.token.registry import Candidate, candidates
from app.token.ses_seals import read_ses_seals
from app.token.skf_ffi import ADMIN_TYPE, USER_TYPE

PinLike = str | bytes | bytearray


def pin_bytes(pin: PinLike) -> bytearray:
    """A fresh bytearray copy of the PIN (the caller wipes it)."""
    if isinstance(pin, str):
        return bytearray(pin.encode("utf-8"))
    if isinstance(pin, (bytes, bytearray)):
        return bytearray(pin)
    raise TypeError("PIN must be str, bytes or bytearray")


def close_quietly(host: TokenHost | _Calls, hid: str | None) -> None:
    """Close a handle; a dead or restarted host has already dropped it."""
    if hid is None:
        return
    gen = host.host.generation if isinstance(host, _Calls) else host.generation
    if gen is None or not hid.startswith(gen + ":"):
        return
    with suppress(TokenError):
        (host.host if isinstance(host, _Calls) else host).call("close", hid)


@contextmanager
def opened(host: TokenHost | _Calls, op: str, *args: Any) -> Iterator[str]:
    """``with opened(host, "connect_dev", name) as hdev:`` — closed on exit."""
    hid = host.call(op, *args)
    try:
        yield hid
    finally:
        close_quietly(host, hid)


@dataclass
class DeviceReport:
    library: str
    name: str
    info: DeviceInfo | None = None
    applications: list[str] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    problems: list[BidSealError] = field(default_factory=list)
    error: BidSealError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "info": self.info.to_dict() if self.info else None,
            "applications": self.applications,
            "identities": [i.summary() for i in self.identities],
            "problems": [p.to_dict() for p in self.problems],
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass
class LibraryReport:
    candidate: Candidate
    status: str = "ok"  # "ok" or "error"
    error: BidSealError | None = None
    host: dict[str, Any] | None = None
    devices: list[DeviceReport] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.candidate.path

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.candidate.to_dict(),
            "status": self.status,
            "error": self.error.to_dict() if self.error else None,
            "host": self.host,
            "devices": [d.to_dict() for d in self.devices],
        }


@dataclass
class TokenScan:
    libraries: list[LibraryReport]

    @property
    def devices(self) -> list[DeviceReport]:
        return [d for lib in self.libraries for d in lib.devices]

    @property
    def identities(self) -> list[Identity]:
        return [i for d in self.devices for i in d.identities]

    @property
    def problems(self) -> list[BidSealError]:
        return [p for d in self.devices for p in d.problems]

    def failures(self) -> list[tuple[str, BidSealError]]:
        """``(library, error)`` for every library and device the driver failed on (a key
        pulled out mid-scan is not a driver failure)."""
        out: list[tuple[str, BidSealError]] = []
        for lib in self.libraries:
            if lib.error is not None:
                out.append((lib.path, lib.error))
            for dev in lib.devices:
                if dev.error is not None and not isinstance(dev.error, DeviceRemoved):
                    out.append((lib.path, dev.error))
        return out

    def driver_failure(self) -> DriverFailure | None:
        """One :class:`DriverFailure` describing :meth:`failures`, or None when every
        driver answered. A front end raises it instead of saying "no key inserted"."""
        failures = self.failures()
        return driver_failure(failures) if failures else None

    def to_dict(self) -> dict[str, Any]:
        return {"libraries": [lib.to_dict() for lib in self.libraries]}


#: host operation -> the SKF function it calls (for messages about a failed driver)
_OP_FUNCTIONS = {
    "start": "LoadLibrary", "enum_dev": "SKF_EnumDev", "connect_dev": "SKF_ConnectDev",
    "get_dev_info": "SKF_GetDevInfo", "enum_application": "SKF_EnumApplication",
    "open_application": "SKF_OpenApplication", "enum_container": "SKF_EnumContainer",
    "open_container": "SKF_OpenContainer", "export_certificate": "SKF_ExportCertificate",
    "export_public_key": "SKF_ExportPublicKey", "enum_files": "SKF_EnumFiles",
    "read_file_all": "SKF_ReadFile", "get_file_info": "SKF_GetFileInfo", "verify_pin": "SKF_VerifyPIN",
    "get_pin_info": "SKF_GetPINInfo",
}


def failed_function(error: BidSealError) -> str:
    """The SKF function (or "LoadLibrary") an error came from, as far as it says."""
    fn = error.details.get("function")
    if fn:
        return str(fn)
    op = str(error.details.get("op") or "")
    if op:
        return _OP_FUNCTIONS.get(op, op)
    return "LoadLibrary" if error.code in ("ERR_LIBRARY_MISSING", "ERR_LIBRARY_BITNESS",
                                           "ERR_NOT_SKF_LIBRARY") else "?"


def driver_failure(failures: list[tuple[str, BidSealError]]) -> DriverFailure:
    """A :class:`DriverFailure` for ``(library, error)`` pairs; the first one is named in
    the sentence, all are listed in ``details["failures"]``."""
    library, first = failures[0]
    name = os.path.basename(library)
    function = failed_function(first)
    more_zh = f"（另有 {len(failures) - 1} 处驱动错误）" if len(failures) > 1 else ""
    more_en = f" ({len(failures) - 1} more driver error(s))" if len(failures) > 1 else ""
    exc = DriverFailure(
        f"UKey 驱动 {name} 在调用 {function} 时出错，无法读取 UKey：{first.zh}{more_zh}",
        f"The UKey driver {name} failed in {function}, so the keys could not be read: {first.en}{more_en}",
        library=library, function=function, error_code=first.code,
        sar=first.details.get("sar"),
        failures="; ".join(f"{os.path.basename(lib)}:{failed_function(e)}:{e.code}" for lib, e in failures),
    )
    exc._failures = [e for _, e in failures]  # type: ignore[attr-defined]
    return exc


def _as_candidates(libraries: Iterable[str | os.PathLike[str] | Candidate] | None) -> list[Candidate]:
    if libraries is None:
        return candidates()
    out = []
    for lib in libraries:
        out.append(lib if isinstance(lib, Candidate) else Candidate(os.fspath(lib), "指定 given", "argument"))
    return out


def scan(libraries: Iterable[str | os.PathLike[str] | Candidate] | None = None, *,
         pool: HostPool | None = None, cancel: Cancel | None = None) -> TokenScan:
    """Try each library (default: :func:`app.token.registry.candidates`) and read every present key.

    ``cancel`` stops a hanging driver at once (:class:`TokenCancelled`)."""
    pool = pool or get_pool()
    reports = []
    for cand in _as_candidates(libraries):
        report = LibraryReport(cand)
        reports.append(report)
        try:
            host = pool.get(cand.path)
            report.host = host.start(cancel=cancel)
            for name in host.call("enum_dev", True, cancel=cancel):
                report.devices.append(scan_device(host, name, cancel=cancel))
        except TokenCancelled:
            raise
        except BidSealError as exc:
            report.status = "error"
            report.error = exc
    return TokenScan(reports)


def scan_device(host: TokenHost, name: str, *, cancel: Cancel | None = None) -> DeviceReport:
    """Read one device: certificates, public keys, seal files (no login, no lease)."""
    return _scan_device(_Calls(host, cancel), DeviceReport(host.library, name), name)


class _Calls:
    """A host and a cancel token, so the readers below pass one object."""

    def __init__(self, host: TokenHost, cancel: Cancel | None) -> None:
        self.host = host
        self.library = host.library
        self.cancel = cancel
        self.generation = host.generation

    def call(self, op: str, *args: Any) -> Any:
        return self.host.call(op, *args, cancel=self.cancel)


def _scan_device(host: _Calls, rep: DeviceReport, name: str) -> DeviceReport:
    try:
        with opened(host, "connect_dev", name) as hdev:
            try:
                rep.info = DeviceInfo.from_dict(name, host.call("get_dev_info", hdev))
            except (TokenCrashed, TokenTimeout, StaleHandle, TokenCancelled, TokenProtocolError):
                raise
            except BidSealError as exc:  # e.g. a vendor DEVINFO quirk: keep listing
                rep.problems.append(exc)
            rep.applications = list(host.call("enum_application", hdev))
            for app in rep.applications:
                with opened(host, "open_application", hdev, app) as happ:
                    seals, seal_warnings, ses_seals = _read_seals(host, happ)
                    for con in host.call("enum_container", happ):
                        try:
                            ident = _read_identity(host, happ, rep, app, con, seals, seal_warnings,
                                                   ses_seals)
                        except (CertificateInvalid, GMError) as exc:
                            rep.problems.append(exc)
                            continue
                        if ident is not None:
                            rep.identities.append(ident)
    except (TokenCrashed, TokenTimeout, TokenCancelled, TokenProtocolError):
        raise
    except BidSealError as exc:
        rep.error = exc
    return rep


def _read_seals(host: _Calls, happ: str) -> tuple[dict[str, bytes], list[str], dict[str, SESeal]]:
    """PNG seals (kind -> bytes), warnings, and SESeal files (file name -> seal, see app/token/ses_seals)."""
    seals: dict[str, bytes] = {}
    warnings: list[str] = []
    try:
        files = host.call("enum_files", happ)
    except NotSupported:
        return seals, warnings, {}
    for f in files:
        kind = seal_kind(f)
        if kind is None:
            continue
        try:
            data = host.call("read_file_all", happ, f)
        except (TokenCrashed, TokenTimeout, TokenCancelled, TokenProtocolError):
            raise
        except BidSealError as exc:
            fn = failed_function(exc)
            warnings.append(f"印章文件 {f} 无法读取（{os.path.basename(host.library)} {fn}：{exc.zh}）/ seal file {f} "
                            f"cannot be read ({os.path.basename(host.library)} {fn}: {exc.en})")
            continue
        if not data.startswith(PNG_MAGIC):
            warnings.append(f"印章文件 {f} 不是 PNG 图片 / seal file {f} is not a PNG image")
            continue
        seals[kind] = data
    ses_seals, ses_warnings = read_ses_seals(host, happ, list(files))
    return seals, warnings + ses_warnings, ses_seals


def _export_cert(host: _Calls, hcon: str, sign: bool) -> bytes | None:
    try:
        der = host.call("export_certificate", hcon, sign)
    except (CertificateNotFound, FileNotFound, KeyNotFound):
        return None
    return der or None


def _export_pub(host: _Calls, hcon: str, sign: bool) -> PublicKey | None:
    try:
        return PublicKey.from_skf_blob(host.call("export_public_key", hcon, sign))
    except (TokenCrashed, TokenTimeout, StaleHandle, TokenCancelled, TokenProtocolError):
        raise
    except BidSealError:
        return None


def _parse_cert(der: bytes, rep: DeviceReport, app: str, con: str, sign: bool) -> Certificate:
    what_zh, what_en = ("签名证书", "signing certificate") if sign else ("加密证书", "encryption certificate")
    try:
        cert = Certificate.from_der(der)
        cert.public_key  # noqa: B018 - must be SM2
        cert.key_usage  # noqa: B018
        return cert
    except GMError as exc:
        raise CertificateInvalid(
            f"UKey「{rep.name}」容器「{con}」中的{what_zh}已损坏或格式不受支持，无法使用。请联系 CA 重新下载证书到 UKey。",
            f"The {what_en} in container '{con}' on key '{rep.name}' is damaged or in an unsupported format "
            "and cannot be used. Ask your CA to write the certificate to the key again.",
            library=rep.library, device=rep.name, application=app, container=con, sign_flag=sign,
            reason=exc.en,
        ) from exc


def _read_identity(host: _Calls, happ: str, rep: DeviceReport, app: str, con: str,
                   seals: dict[str, bytes], seal_warnings: list[str],
                   ses_seals: dict[str, SESeal] | None = None) -> Identity | None:
    with opened(host, "open_container", happ, con) as hcon:
        sign_der = _export_cert(host, hcon, True)
        enc_der = _export_cert(host, hcon, False)
        if sign_der is None and enc_der is None:
            return None
        sign_pub = _export_pub(host, hcon, True)
        enc_pub = _export_pub(host, hcon, False) if enc_der is not None else None
    sign_cert = _parse_cert(sign_der, rep, app, con, True) if sign_der is not None else None
    enc_cert = _parse_cert(enc_der, rep, app, con, False) if enc_der is not None else None
    warnings = list(seal_warnings)
    # The key pair in each slot decides: the signing certificate is the one whose public key is
    # the container's signing key. A vendor tool that imported the certificates with swapped
    # bSignFlag values is corrected, with a warning.
    if (sign_cert and enc_cert and sign_pub is not None and enc_cert.public_key == sign_pub
            and sign_cert.public_key != sign_pub):
        sign_cert, enc_cert = enc_cert, sign_cert
        warnings.append("签名证书与加密证书在 UKey 中位置颠倒，已按密钥自动纠正 / the signing and encryption "
                        "certificates were stored in each other's slot; corrected by matching the keys")
    if sign_cert is not None and sign_pub is not None and sign_cert.public_key != sign_pub:
        warnings.append("签名证书与 UKey 中的签名密钥不匹配 / the signing certificate does not match the key's "
                        "signing key")
    if enc_cert is not None and enc_pub is not None and enc_cert.public_key != enc_pub:
        warnings.append("加密证书与 UKey 中的加密密钥不匹配 / the encryption certificate does not match the "
                        "key's encryption key")
    if sign_cert is not None and not sign_cert.is_signing_cert:
        warnings.append("签名位置的证书没有数字签名用途 / the certificate in the signing slot lacks the "
                        "digitalSignature key usage")
    if enc_cert is not None and not enc_cert.is_encryption_cert:
        warnings.append("加密位置的证书没有加密用途 / the certificate in the encryption slot lacks an "
                        "encipherment key usage")
    return Identity(library=host.library, device=rep.name, application=app, container=con,
                    sign_certificate=sign_cert, enc_certificate=enc_cert, seals=seals, device_info=rep.info,
                    warnings=tuple(warnings), ses_seals=ses_seals or {})


def list_identities(libraries: Iterable[str | os.PathLike[str] | Candidate] | None = None, *,
                    pool: HostPool | None = None, cancel: Cancel | None = None) -> list[Identity]:
    return scan(libraries, pool=pool, cancel=cancel).identities


def select(identities: Iterable[Identity], device: str | None = None, container: str | None = None,
           application: str | None = None) -> list[Identity]:
    """The identities matching a selection (None matches anything)."""
    return [i for i in identities
            if (device is None or i.device == device) and (container is None or i.container == container)
            and (application is None or i.application == application)]


def find_identity(library: str | os.PathLike[str] | None = None, device: str | None = None,
                  container: str | None = None, *, application: str | None = None,
                  pool: HostPool | None = None, cancel: Cancel | None = None) -> Identity:
    """The identity matching the selection (the first one when several match).

    Nothing matched: :class:`DriverFailure` when a driver failed during discovery (the
    key may be behind it), else :class:`TokenNotFound`."""
    result = scan([library] if library is not None else None, pool=pool, cancel=cancel)
    found = select(result.identities, device, container, application)
    if found:
        return found[0]
    raise not_found(result, device=device, container=container)


def not_found(result: TokenScan, *, device: str | None = None, container: str | None = None) -> TokenError:
    """What to raise when a selection matched nothing in ``result``: the driver failure if
    there was one, else "no usable certificate"."""
    failure = result.driver_failure()
    if failure is not None:
        return failure
    sel = ", ".join(f"{k}={v}" for k, v in (("device", device), ("container", container)) if v)
    return TokenNotFound(
        "没有找到可用的 UKey 证书。请插入 UKey，并确认已安装 CA 提供的驱动。" + (f"（选择条件：{sel}）" if sel else ""),
        "No usable UKey certificate found. Insert your UKey and check that its driver from the CA is installed."
        + (f" (selection: {sel})" if sel else ""),
        libraries=len(result.libraries), devices=len(result.devices), problems=len(result.problems),
    )


# -------------------------------------------------------------------- PIN management


@contextmanager
def _application(identity: Identity, pool: HostPool | None, purpose: str | None, wait: float | None,
                 cancel: Cancel | None) -> Iterator[tuple[_Calls, str]]:
    """The identity's application opened; under the device lease when ``purpose`` is given
    (shared with the calling thread's own session, if any)."""
    host = _Calls((pool or get_pool()).get(identity.library, identity.device), cancel)
    lease = acquire(identity.device, purpose, wait=wait, cancel=cancel, shared=True) if purpose else None
    try:
        with opened(host, "connect_dev", identity.device) as hdev, \
                opened(host, "open_application", hdev, identity.application) as happ:
            yield host, happ
    finally:
        if lease is not None:
            lease.release()


def pin_info(identity: Identity, *, admin: bool = False, pool: HostPool | None = None,
             cancel: Cancel | None = None) -> PinInfo:
    """Retry counters of the user PIN (or the admin PIN)."""
    with _application(identity, pool, None, None, cancel) as (host, happ):
        mx, rem, dflt = host.call("get_pin_info", happ, ADMIN_TYPE if admin else USER_TYPE)
    return PinInfo(int(mx), int(rem), bool(dflt))


def _with_pins(identity: Identity, pool: HostPool | None, op: str, head: tuple[Any, ...],
               *pins: PinLike, wait: float | None = None, cancel: Cancel | None = None) -> None:
    """``op(happ, *head, *pins)`` in the identity's application, on copies of the PINs that
    are wiped afterwards, even when the call fails."""
    secrets = [pin_bytes(p) for p in pins]
    try:
        with _application(identity, pool, "PIN management", wait, cancel) as (host, happ):
            host.call(op, happ, *head, *secrets)
    finally:
        for secret in secrets:
            wipe(secret)


def change_pin(identity: Identity, old_pin: PinLike, new_pin: PinLike, *, pool: HostPool | None = None,
               wait: float | None = None, cancel: Cancel | None = None) -> None:
    """Change the user PIN (wrong old PIN -> PinIncorrect with retries left)."""
    _with_pins(identity, pool, "change_pin", (USER_TYPE,), old_pin, new_pin, wait=wait, cancel=cancel)


def unblock(identity: Identity, admin_pin: PinLike, new_user_pin: PinLike, *, pool: HostPool | None = None,
            wait: float | None = None, cancel: Cancel | None = None) -> None:
    """Unlock a locked user PIN with the admin PIN and set a new user PIN."""
    _with_pins(identity, pool, "unblock_pin", (), admin_pin, new_user_pin, wait=wait, cancel=cancel)

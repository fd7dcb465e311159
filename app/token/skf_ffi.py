"""cffi (ABI mode) binding of ``native/skf.h`` and a checked loader for any SKF library.

Only the token-host process (:mod:`app.token.host`) loads a library; nothing here
is imported by the caller's process except the header/file checks
(:func:`header_path`, :func:`probe_library`), which never load code.

:class:`SkfApi` wraps the raw functions: Python values in and out, every non-zero
return code raised as the typed exception of :mod:`app.token.errors`, the SKF
buffer conventions (multi-string lists, size queries, 64-byte right-aligned
fields) handled once.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.token.errors import (
    SAR_BUFFER_TOO_SMALL,
    LibraryMissing,
    LibraryWrongBitness,
    NotAnSkfLibrary,
    NotSupported,
    TokenProtocolError,
    error_for,
)

_UNPACKED_RE = re.compile(r"/\* ==== BEGIN SKF CDEF UNPACKED ==== \*/(.*?)/\* ==== END SKF CDEF UNPACKED ==== \*/", re.S)
_PACKED_RE = re.compile(r"/\* ==== BEGIN SKF CDEF ==== \*/(.*?)/\* ==== END SKF CDEF ==== \*/", re.S)

#: Functions without which a library is not treated as an SKF library.
REQUIRED_FUNCTIONS = ("SKF_EnumDev", "SKF_ConnectDev", "SKF_DisConnectDev", "SKF_EnumApplication",
                      "SKF_OpenApplication", "SKF_EnumContainer", "SKF_OpenContainer")

# constants used by the callers (same values as skf.h)
USER_TYPE = 1
ADMIN_TYPE = 0
SGD_SM2_1 = 0x00020100
SGD_SMS4_ECB = 0x00000401
SGD_SMS4_CBC = 0x00000402
SECURE_ANYONE_ACCOUNT = 0xFF
SECURE_USER_ACCOUNT = 0x10
SECURE_ADM_ACCOUNT = 0x01
DEV_EVENT_INSERTED = 1
DEV_EVENT_REMOVED = 2


#: The cdef part of ``native/skf.h``, shipped inside the package (package data), so an
#: installed or frozen application needs no source tree. ``tests/token`` checks that it
#: is exactly what :func:`extract_cdef` takes from ``native/skf.h``.
PACKAGED_CDEF = Path(__file__).resolve().parent / "skf_cdef.h"
NATIVE_HEADER = Path(__file__).resolve().parent.parent.parent / "native" / "skf.h"


def header_path() -> Path:
    """Where the SKF declarations are read from: env ``BIDSEAL_SKF_HEADER``, else the
    cdef shipped in the package (``app/token/skf_cdef.h``), else the repository's
    ``native/skf.h``."""
    env = os.environ.get("BIDSEAL_SKF_HEADER")
    candidates = [Path(env)] if env else []
    candidates += [PACKAGED_CDEF, NATIVE_HEADER]
    for c in candidates:
        if c.is_file():
            return c
    raise LibraryMissing(
        "找不到 SKF 接口声明文件 skf.h，安装不完整。请重新安装 BidSeal。",
        "The SKF declarations file skf.h is missing; the installation is incomplete. Reinstall BidSeal.",
        searched=os.pathsep.join(str(c) for c in candidates),
    )


def extract_cdef(header_text: str) -> str:
    """The two marked cdef blocks of ``skf.h`` (what :data:`PACKAGED_CDEF` contains)."""
    m1, m2 = _UNPACKED_RE.search(header_text), _PACKED_RE.search(header_text)
    if not m1 or not m2:
        raise NotAnSkfLibrary("skf.h 缺少 cdef 标记。", "skf.h lacks the cdef markers.")
    return ("/* SKF (GM/T 0016) declarations for cffi, generated from native/skf.h by\n"
            " * app.token.skf_ffi.extract_cdef; do not edit (tests/token checks it). */\n\n"
            + m1.group(0) + "\n\n" + m2.group(0) + "\n")


def cdef_sources(text: str, windows: bool | None = None) -> tuple[str, str]:
    """(unpacked, packed) cdef text from the header, DEVAPI resolved for the platform."""
    if windows is None:
        windows = sys.platform == "win32"
    m1, m2 = _UNPACKED_RE.search(text), _PACKED_RE.search(text)
    if not m1 or not m2:
        raise NotAnSkfLibrary("skf.h 缺少 cdef 标记。", "skf.h lacks the cdef markers.")
    devapi = "__stdcall" if windows else ""
    return tuple(re.sub(r"\bDEVAPI\b", devapi, m.group(1)) for m in (m1, m2))  # type: ignore[return-value]


_FFI: Any = None


def get_ffi() -> Any:
    global _FFI
    if _FFI is None:
        from cffi import FFI

        ffi = FFI()
        unpacked, packed = cdef_sources(header_path().read_text(encoding="utf-8"))
        ffi.cdef(unpacked)
        ffi.cdef(packed, packed=True)
        _FFI = ffi
    return _FFI


# ------------------------------------------------------------------ file checks


@dataclass(frozen=True)
class BinaryInfo:
    format: str  # "ELF", "PE", "Mach-O"
    bits: int
    machine: str


_ELF_MACHINES = {3: "x86", 62: "x86_64", 40: "arm", 183: "aarch64", 8: "mips", 243: "riscv", 258: "loongarch"}
_PE_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0xAA64: "aarch64", 0x1C4: "arm"}


def read_binary_info(path: Path) -> BinaryInfo | None:
    """Format, bitness and machine from a file's header, or None if it is no known binary."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] == b"\x7fELF" and len(head) >= 20:
            bits = {1: 32, 2: 64}.get(head[4], 0)
            endian = "<" if head[5] != 2 else ">"
            machine = struct.unpack(endian + "H", head[18:20])[0]
            return BinaryInfo("ELF", bits, _ELF_MACHINES.get(machine, f"0x{machine:x}"))
        if head[:2] == b"MZ" and len(head) >= 64:
            off = struct.unpack("<I", head[60:64])[0]
            f.seek(off)
            pe = f.read(6)
            if pe[:4] != b"PE\0\0":
                return None
            machine = struct.unpack("<H", pe[4:6])[0]
            bits = 32 if machine in (0x14C, 0x1C4) else 64
            return BinaryInfo("PE", bits, _PE_MACHINES.get(machine, f"0x{machine:x}"))
        magic = head[:4]
        if magic in (b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xce"):
            return BinaryInfo("Mach-O", 32, "")
        if magic in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf"):
            return BinaryInfo("Mach-O", 64, "")
        if magic == b"\xca\xfe\xba\xbe":
            return BinaryInfo("Mach-O", struct.calcsize("P") * 8, "universal")
    return None


def host_bits() -> int:
    return struct.calcsize("P") * 8


def probe_library(path: str | os.PathLike[str]) -> BinaryInfo:
    """Check a library file without loading it: exists, is a binary, right bitness
    for *this* interpreter. Raises LibraryMissing / NotAnSkfLibrary / LibraryWrongBitness."""
    p = Path(path)
    if not p.exists():
        raise LibraryMissing(
            f"找不到 UKey 驱动库 {p}。请安装 CA 提供的 UKey 驱动，或在设置中指定正确的驱动库路径。",
            f"The UKey driver library {p} does not exist. Install the key's driver from your CA, "
            "or configure the correct library path.",
            library=str(p),
        )
    if not p.is_file():
        raise NotAnSkfLibrary(f"{p} 不是文件。", f"{p} is not a file.", library=str(p))
    try:
        info = read_binary_info(p)
    except OSError as exc:
        raise LibraryMissing(f"无法读取 UKey 驱动库 {p}：{exc.strerror}。", f"Cannot read the UKey driver library {p}: {exc.strerror}.",
                             library=str(p)) from exc
    if info is None:
        raise NotAnSkfLibrary(
            f"{p} 不是动态链接库，不能作为 UKey 驱动（SKF 接口库）使用。",
            f"{p} is not a shared library, so it cannot be a UKey (SKF) driver.",
            library=str(p),
        )
    mine = host_bits()
    if info.bits and info.bits != mine:
        raise LibraryWrongBitness(
            f"UKey 驱动库 {p.name} 是 {info.bits} 位的，而当前 UKey 服务进程是 {mine} 位的，无法加载。"
            f"请向 CA 索取 {mine} 位驱动；在 Windows 上也可重新运行 BidSeal 安装程序，勾选“32 位 UKey 驱动支持”。",
            f"The UKey driver {p.name} is {info.bits}-bit but the token host process is {mine}-bit, so it cannot be "
            f"loaded. Get the {mine}-bit driver from your CA; on Windows you can also run the BidSeal installer "
            "again and select \"32-bit UKey driver support\".",
            library=str(p), library_bits=info.bits, host_bits=mine, format=info.format, machine=info.machine,
            other_host="x86\\bidseal-token-host.exe beside bidseal.exe, or BIDSEAL_TOKEN_HOST_PYTHON",
        )
    return info


def load_library(path: str | os.PathLike[str]) -> SkfApi:
    """Load an SKF library (Linux .so via dlopen, Windows DLL with stdcall) after checking it."""
    p = Path(path)
    info = probe_library(p)
    ffi = get_ffi()
    if sys.platform == "win32" and hasattr(os, "add_dll_directory"):
        # vendor DLLs often load helpers from their own folder
        os.add_dll_directory(str(p.resolve().parent))
    try:
        lib = ffi.dlopen(str(p.resolve()))
    except OSError as exc:
        msg = str(exc)
        if "position-independent executable" in msg or "cannot dynamically load" in msg:
            raise NotAnSkfLibrary(
                f"{p} 是可执行程序而不是 UKey 驱动库（SKF 接口库）。",
                f"{p} is a program, not a UKey driver (SKF) library.",
                library=str(p), os_error=msg,
            ) from exc
        raise LibraryMissing(
            f"无法加载 UKey 驱动库 {p.name}（可能缺少它依赖的其他库）。请重新安装 CA 提供的 UKey 驱动。",
            f"Cannot load the UKey driver {p.name} (a library it depends on may be missing). "
            "Reinstall the key's driver from your CA.",
            library=str(p), os_error=msg,
        ) from exc
    missing = [name for name in REQUIRED_FUNCTIONS if not _has(lib, name)]
    if missing:
        raise NotAnSkfLibrary(
            f"{p.name} 不是 UKey 驱动库：缺少 SKF 接口函数 {', '.join(missing)}。请选择 CA 提供的 SKF 接口库。",
            f"{p.name} is not a UKey (SKF) library: it lacks {', '.join(missing)}. "
            "Choose the SKF library provided by your CA.",
            library=str(p), missing=",".join(missing),
        )
    return SkfApi(ffi, lib, p, info)


def _has(lib: Any, name: str) -> bool:
    try:
        getattr(lib, name)
    except (AttributeError, NotImplementedError):
        return False
    return True


#: Largest certificate accepted from ExportCertificate's size query.
MAX_CERT_SIZE = 64 * 1024
#: Largest name list (EnumDev, EnumApplication, ...) a driver may announce.
MAX_NAME_LIST = 1 << 20


def _impossible_length(function: str, reported: int) -> TokenProtocolError:
    return TokenProtocolError(
        "UKey 驱动报告了不合理的数据长度。请重新安装 CA 提供的驱动。",
        "The UKey driver reported an impossible data length. Reinstall the driver from your CA.",
        function=function, reported=reported,
    )


def _clamp(reported: Any, capacity: int) -> int:
    """A length a vendor library reported, limited to the buffer actually allocated:
    ``ffi.buffer`` must never read past it, whatever the driver claims."""
    return max(0, min(int(reported), int(capacity)))


def _multi_string(buf: bytes) -> list[str]:
    out = []
    for part in buf.split(b"\0"):
        if not part:
            break
        out.append(part.decode("gbk", errors="replace"))
    return out


def _cstr(data: bytes) -> str:
    raw = data.split(b"\0", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gbk", errors="replace")


class SkfApi:
    """The loaded library with Python-level calls. Handles are raw cdata pointers."""

    def __init__(self, ffi: Any, lib: Any, path: Path, info: BinaryInfo) -> None:
        self.ffi = ffi
        self.lib = lib
        self.path = path
        self.info = info

    # -- plumbing ---------------------------------------------------------------
    def fn(self, name: str) -> Any:
        try:
            return getattr(self.lib, name)
        except (AttributeError, NotImplementedError):
            raise NotSupported(
                f"此 UKey 驱动不提供 {name} 功能。", f"This UKey driver does not provide {name}.",
                function=name, library=str(self.path),
            ) from None

    def call(self, name: str, *args: Any, **details: Any) -> None:
        rc = int(self.fn(name)(*args))
        if rc != 0:
            raise error_for(rc, name, **details)

    def _names(self, name: str, *args: Any) -> list[str]:
        ffi = self.ffi
        size = ffi.new("ULONG *", 0)
        self.call(name, *args, ffi.NULL, size)
        if size[0] == 0:
            return []
        for _ in range(3):
            if size[0] > MAX_NAME_LIST:
                raise _impossible_length(name, int(size[0]))
            buf = ffi.new("char[]", size[0] + 2)
            n = size[0]
            rc = int(self.fn(name)(*args, buf, size))
            if rc == SAR_BUFFER_TOO_SMALL:
                size[0] = max(size[0], n * 2)
                continue
            if rc != 0:
                raise error_for(rc, name)
            return _multi_string(ffi.buffer(buf, _clamp(size[0], n + 2))[:])
        raise error_for(SAR_BUFFER_TOO_SMALL, name)

    def _call_out(self, ctype: str, name: str, *args: Any, **details: Any) -> Any:
        """Call ``name(*args, out)`` where ``out`` is a new ``ctype`` (e.g. ``"HCONTAINER *"``)
        the function fills in, and return what it wrote (a handle or a number)."""
        out = self.ffi.new(ctype)
        self.call(name, *args, out, **details)
        return out[0]

    def _pstr(self, s: str | bytes | bytearray) -> Any:
        data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        return self.ffi.new("char[]", data)

    def _wipe(self, buf: Any) -> None:
        self.ffi.memmove(buf, b"\0" * len(buf), len(buf))

    # -- device -----------------------------------------------------------------
    def enum_dev(self, present: bool = True) -> list[str]:
        return self._names("SKF_EnumDev", 1 if present else 0)

    def connect_dev(self, name: str) -> Any:
        return self._call_out("DEVHANDLE *", "SKF_ConnectDev", self._pstr(name), device=name)

    def disconnect_dev(self, h: Any) -> None:
        self.call("SKF_DisConnectDev", h)

    def get_dev_state(self, name: str) -> int:
        return int(self._call_out("ULONG *", "SKF_GetDevState", self._pstr(name), device=name))

    def get_dev_info(self, h: Any) -> dict[str, Any]:
        ffi = self.ffi
        # oversized zeroed buffer: some vendor headers omit the two Max* fields
        raw = ffi.new("BYTE[]", ffi.sizeof("DEVINFO") + 256)
        info = ffi.cast("DEVINFO *", raw)
        self.call("SKF_GetDevInfo", h, info)
        return {
            "version": f"{info.Version.major}.{info.Version.minor}",
            "manufacturer": _cstr(ffi.buffer(info.Manufacturer)[:]),
            "issuer": _cstr(ffi.buffer(info.Issuer)[:]),
            "label": _cstr(ffi.buffer(info.Label)[:]),
            "serial": _cstr(ffi.buffer(info.SerialNumber)[:]),
            "hw_version": f"{info.HWVersion.major}.{info.HWVersion.minor}",
            "firmware_version": f"{info.FirmwareVersion.major}.{info.FirmwareVersion.minor}",
            "alg_sym_cap": int(info.AlgSymCap),
            "alg_asym_cap": int(info.AlgAsymCap),
            "alg_hash_cap": int(info.AlgHashCap),
            "dev_auth_alg_id": int(info.DevAuthAlgId),
            "total_space": int(info.TotalSpace),
            "free_space": int(info.FreeSpace),
            "max_ecc_buffer_size": int(info.MaxECCBufferSize),
            "max_buffer_size": int(info.MaxBufferSize),
        }

    def set_label(self, h: Any, label: str) -> None:
        self.call("SKF_SetLabel", h, self._pstr(label))

    def gen_random(self, h: Any, n: int) -> bytes:
        n = _clamp(n, 4096)
        buf = self.ffi.new("BYTE[]", max(n, 1))
        self.call("SKF_GenRandom", h, buf, n)
        return bytes(self.ffi.buffer(buf, n))

    def dev_auth(self, h: Any, data: bytes) -> None:
        self.call("SKF_DevAuth", h, self.ffi.from_buffer(bytearray(data)), len(data))

    def change_dev_auth_key(self, h: Any, key: bytes) -> None:
        self.call("SKF_ChangeDevAuthKey", h, self.ffi.from_buffer(bytearray(key)), len(key))

    def wait_for_dev_event(self) -> tuple[str, int]:
        ffi = self.ffi
        buf = ffi.new("char[]", 1024)
        n = ffi.new("ULONG *", 1024)
        ev = ffi.new("ULONG *", 0)
        self.call("SKF_WaitForDevEvent", buf, n, ev)
        name = _cstr(ffi.buffer(buf, _clamp(n[0], 1024))[:]) if n[0] else ""
        return name, int(ev[0])

    def cancel_wait_for_dev_event(self) -> None:
        self.call("SKF_CancelWaitForDevEvent")

    # -- access control ------------------------------------------------------------
    def _pin_call(self, name: str, account: str, head: tuple[Any, ...], *pins: bytes | bytearray) -> None:
        """``name(*head, *pins, &retry)`` with each PIN in a C buffer that is wiped afterwards,
        even when the call fails; a failure carries the retries left and the account."""
        bufs = [self._pstr(p) for p in pins]
        retry = self.ffi.new("ULONG *", 0)
        try:
            rc = int(self.fn(name)(*head, *bufs, retry))
        finally:
            for buf in bufs:
                self._wipe(buf)
        if rc:
            raise error_for(rc, name, retries_left=int(retry[0]), account=account)

    def verify_pin(self, happ: Any, pin_type: int, pin: bytes | bytearray) -> None:
        self._pin_call("SKF_VerifyPIN", "admin" if pin_type == ADMIN_TYPE else "user", (happ, pin_type), pin)

    def change_pin(self, happ: Any, pin_type: int, old: bytes | bytearray, new: bytes | bytearray) -> None:
        self._pin_call("SKF_ChangePIN", "admin" if pin_type == ADMIN_TYPE else "user", (happ, pin_type), old, new)

    def unblock_pin(self, happ: Any, admin: bytes | bytearray, new_user: bytes | bytearray) -> None:
        self._pin_call("SKF_UnblockPIN", "admin", (happ,), admin, new_user)

    def get_pin_info(self, happ: Any, pin_type: int) -> tuple[int, int, bool]:
        ffi = self.ffi
        mx, rem, dflt = ffi.new("ULONG *"), ffi.new("ULONG *"), ffi.new("BOOL *")
        self.call("SKF_GetPINInfo", happ, pin_type, mx, rem, dflt)
        return int(mx[0]), int(rem[0]), bool(dflt[0])

    def clear_secure_state(self, happ: Any) -> None:
        self.call("SKF_ClearSecureState", happ)

    # -- applications ----------------------------------------------------------------
    def enum_application(self, hdev: Any) -> list[str]:
        return self._names("SKF_EnumApplication", hdev)

    def create_application(self, hdev: Any, name: str, admin_pin: bytes | bytearray, admin_retry: int,
                           user_pin: bytes | bytearray, user_retry: int, rights: int) -> Any:
        h = self.ffi.new("HAPPLICATION *")
        a, u = self._pstr(admin_pin), self._pstr(user_pin)
        try:
            self.call("SKF_CreateApplication", hdev, self._pstr(name), a, admin_retry, u, user_retry, rights, h,
                      application=name)
        finally:
            self._wipe(a)
            self._wipe(u)
        return h[0]

    def open_application(self, hdev: Any, name: str) -> Any:
        return self._call_out("HAPPLICATION *", "SKF_OpenApplication", hdev, self._pstr(name), application=name)

    def close_application(self, happ: Any) -> None:
        self.call("SKF_CloseApplication", happ)

    def delete_application(self, hdev: Any, name: str) -> None:
        self.call("SKF_DeleteApplication", hdev, self._pstr(name), application=name)

    # -- files ------------------------------------------------------------------------
    def enum_files(self, happ: Any) -> list[str]:
        return self._names("SKF_EnumFiles", happ)

    def create_file(self, happ: Any, name: str, size: int, read_rights: int, write_rights: int) -> None:
        self.call("SKF_CreateFile", happ, self._pstr(name), size, read_rights, write_rights, file=name)

    def delete_file(self, happ: Any, name: str) -> None:
        self.call("SKF_DeleteFile", happ, self._pstr(name), file=name)

    def get_file_info(self, happ: Any, name: str) -> dict[str, Any]:
        attr = self.ffi.new("FILEATTRIBUTE *")
        self.call("SKF_GetFileInfo", happ, self._pstr(name), attr, file=name)
        return {"name": _cstr(self.ffi.buffer(attr.FileName)[:]), "size": int(attr.FileSize),
                "read_rights": int(attr.ReadRights), "write_rights": int(attr.WriteRights)}

    def read_file(self, happ: Any, name: str, offset: int, size: int) -> bytes:
        ffi = self.ffi
        buf = ffi.new("BYTE[]", max(size, 1))
        n = ffi.new("ULONG *", size)
        self.call("SKF_ReadFile", happ, self._pstr(name), offset, size, buf, n, file=name)
        return bytes(ffi.buffer(buf, _clamp(n[0], size)))

    def write_file(self, happ: Any, name: str, offset: int, data: bytes) -> None:
        self.call("SKF_WriteFile", happ, self._pstr(name), offset, self.ffi.from_buffer(bytearray(data)),
                  len(data), file=name)

    # -- containers ----------------------------------------------------------------------
    def enum_container(self, happ: Any) -> list[str]:
        return self._names("SKF_EnumContainer", happ)

    def create_container(self, happ: Any, name: str) -> Any:
        return self._call_out("HCONTAINER *", "SKF_CreateContainer", happ, self._pstr(name), container=name)

    def open_container(self, happ: Any, name: str) -> Any:
        return self._call_out("HCONTAINER *", "SKF_OpenContainer", happ, self._pstr(name), container=name)

    def close_container(self, hcon: Any) -> None:
        self.call("SKF_CloseContainer", hcon)

    def delete_container(self, happ: Any, name: str) -> None:
        self.call("SKF_DeleteContainer", happ, self._pstr(name), container=name)

    def get_container_type(self, hcon: Any) -> int:
        return int(self._call_out("ULONG *", "SKF_GetContainerType", hcon))

    def import_certificate(self, hcon: Any, sign: bool, der: bytes) -> None:
        self.call("SKF_ImportCertificate", hcon, 1 if sign else 0, self.ffi.from_buffer(bytearray(der)), len(der),
                  sign_flag=sign)

    def export_certificate(self, hcon: Any, sign: bool) -> bytes:
        ffi = self.ffi
        size = 8192
        for _ in range(3):
            buf = ffi.new("BYTE[]", size)
            n = ffi.new("ULONG *", size)
            rc = int(self.fn("SKF_ExportCertificate")(hcon, 1 if sign else 0, buf, n))
            if rc == SAR_BUFFER_TOO_SMALL and size < n[0] <= MAX_CERT_SIZE:
                size = int(n[0])
                continue
            if rc:
                raise error_for(rc, "SKF_ExportCertificate", sign_flag=sign)
            return bytes(ffi.buffer(buf, _clamp(n[0], size)))
        raise error_for(SAR_BUFFER_TOO_SMALL, "SKF_ExportCertificate")

    def export_public_key(self, hcon: Any, sign: bool) -> bytes:
        ffi = self.ffi
        buf = ffi.new("BYTE[]", 1024)
        n = ffi.new("ULONG *", 1024)
        self.call("SKF_ExportPublicKey", hcon, 1 if sign else 0, buf, n, sign_flag=sign)
        return bytes(ffi.buffer(buf, _clamp(n[0], 1024)))

    # -- asymmetric ------------------------------------------------------------------------
    def gen_ecc_key_pair(self, hcon: Any, alg: int = SGD_SM2_1) -> bytes:
        blob = self.ffi.new("ECCPUBLICKEYBLOB *")
        self.call("SKF_GenECCKeyPair", hcon, alg, blob)
        return bytes(self.ffi.buffer(blob))

    def import_ecc_key_pair(self, hcon: Any, enveloped_blob: bytes) -> None:
        ffi = self.ffi
        base = ffi.sizeof("ENVELOPEDKEYBLOB")
        buf = ffi.new("BYTE[]", max(base, len(enveloped_blob)) + 64)
        ffi.memmove(buf, enveloped_blob, len(enveloped_blob))
        try:
            self.call("SKF_ImportECCKeyPair", hcon, ffi.cast("ENVELOPEDKEYBLOB *", buf))
        finally:
            self._wipe(buf)

    def ecc_sign_data(self, hcon: Any, data: bytes) -> bytes:
        ffi = self.ffi
        sig = ffi.new("ECCSIGNATUREBLOB *")
        self.call("SKF_ECCSignData", hcon, ffi.from_buffer(bytearray(data)), len(data), sig)
        return bytes(ffi.buffer(sig))

    def ecc_verify(self, hdev: Any, pub_blob: bytes, data: bytes, sig_blob: bytes) -> None:
        ffi = self.ffi
        pub = ffi.new("ECCPUBLICKEYBLOB *")
        ffi.memmove(pub, pub_blob, ffi.sizeof("ECCPUBLICKEYBLOB"))
        sig = ffi.new("ECCSIGNATUREBLOB *")
        ffi.memmove(sig, sig_blob, ffi.sizeof("ECCSIGNATUREBLOB"))
        self.call("SKF_ECCVerify", hdev, pub, ffi.from_buffer(bytearray(data)), len(data), sig)

    # -- symmetric -------------------------------------------------------------------------------
    def import_session_key(self, hcon: Any, alg: int, wrapped: bytes) -> Any:
        ffi = self.ffi
        h = ffi.new("HANDLE *")
        buf = ffi.new("BYTE[]", len(wrapped))
        ffi.memmove(buf, wrapped, len(wrapped))
        self.call("SKF_ImportSessionKey", hcon, alg, buf, len(wrapped), h)
        return h[0]

    def set_symm_key(self, hdev: Any, key: bytes, alg: int) -> Any:
        ffi = self.ffi
        h = ffi.new("HANDLE *")
        buf = ffi.new("BYTE[]", key)
        try:
            self.call("SKF_SetSymmKey", hdev, buf, alg, h)
        finally:
            self._wipe(buf)
        return h[0]

    def _param(self, iv: bytes, padding: int, feed_bits: int) -> Any:
        p = self.ffi.new("BLOCKCIPHERPARAM *")
        self.ffi.memmove(p.IV, iv, len(iv))
        p.IVLen = len(iv)
        p.PaddingType = padding
        p.FeedBitLen = feed_bits
        return p

    def decrypt_init(self, hkey: Any, iv: bytes = b"", padding: int = 0, feed_bits: int = 0) -> None:
        self.call("SKF_DecryptInit", hkey, self._param(iv, padding, feed_bits)[0])

    def encrypt_init(self, hkey: Any, iv: bytes = b"", padding: int = 0, feed_bits: int = 0) -> None:
        self.call("SKF_EncryptInit", hkey, self._param(iv, padding, feed_bits)[0])

    def _crypt(self, name: str, hkey: Any, data: bytes) -> bytes:
        ffi = self.ffi
        cap = len(data) + 64
        out = ffi.new("BYTE[]", cap)
        n = ffi.new("ULONG *", cap)
        src = ffi.new("BYTE[]", max(len(data), 1))
        ffi.memmove(src, data, len(data))
        self.call(name, hkey, src, len(data), out, n)
        result = bytes(ffi.buffer(out, _clamp(n[0], cap)))
        self._wipe(out)
        return result

    def decrypt(self, hkey: Any, data: bytes) -> bytes:
        return self._crypt("SKF_Decrypt", hkey, data)

    def decrypt_update(self, hkey: Any, data: bytes) -> bytes:
        return self._crypt("SKF_DecryptUpdate", hkey, data)

    def decrypt_final(self, hkey: Any) -> bytes:
        ffi = self.ffi
        out = ffi.new("BYTE[]", 64)
        n = ffi.new("ULONG *", 64)
        self.call("SKF_DecryptFinal", hkey, out, n)
        return bytes(ffi.buffer(out, _clamp(n[0], 64)))

    def encrypt(self, hkey: Any, data: bytes) -> bytes:
        return self._crypt("SKF_Encrypt", hkey, data)

    def close_handle(self, h: Any) -> None:
        self.call("SKF_CloseHandle", h)

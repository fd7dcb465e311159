"""Which key an operation uses when several are inserted, and why none was found.

Qt-free and printing nothing, so the CLI, the GUI and the localhost helper make the
same choice:

* :func:`discover` reads every library (:func:`app.token.scan`) and keeps, besides the
  identities, every **driver failure** met on the way (a library that does not load,
  crashes or hangs; ``SKF_EnumDev``/``SKF_ConnectDev``/``SKF_ExportCertificate``
  returning an error; a damaged certificate). A failed discovery is reported as
  :class:`KeyDiscoveryFailed` naming the library, the SKF function and the error,
  never as "no key inserted".
* :class:`KeyFilter` is what a bidder can say about the key: ``--key`` (device name,
  device serial number or label), ``--unit-code``, ``--serial`` (certificate serial,
  signing or encryption), ``--container``, ``--lib``.
* :func:`select_signer` makes the signer explicit: one candidate is used, several
  go to a ``choose`` callback (a terminal prompt, a dialog) or raise
  :class:`KeyAmbiguous` listing them.
* :func:`select_recipient` picks the key whose **encryption certificate** the
  envelope names (the caller passes ``is_recipient(cert)``), not the first key found.
* :func:`key_label` / :func:`pin_prompt` name the key and unit, so a PIN is never
  typed into the wrong key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.cancel import Cancel
from app.errors import BidSealError
from app.gm.x509 import Certificate
from app.token.device import failed_function
from app.token.errors import DeviceRemoved, DriverFailure, TokenError, TokenNotFound
from app.token.identity import Identity

Need = Literal["sign", "enc", "any"]
Chooser = Callable[[Sequence[Identity]], Identity]

class KeyDiscoveryFailed(DriverFailure):
    """Looking for keys failed in a driver: the key may well be inserted.

    The token layer's :class:`~app.token.errors.DriverFailure` (code ``ERR_TOKEN_DRIVER``)
    with every failure named in the sentence and, when some keys were read all the same,
    the hint to name one with ``--key``."""


class KeyAmbiguous(TokenError):
    """Several keys fit and nobody said which one to use."""

    code = "ERR_KEY_AMBIGUOUS"


class NoRecipientKey(TokenNotFound):
    """Keys are inserted, but none holds an encryption certificate the envelope names."""

    code = "ERR_NO_RECIPIENT_KEY"


# -- what a bidder can say about the key -------------------------------------------------


def normalise_serial(text: str) -> str:
    """``"0A:1b 2C"`` -> ``"A1B2C"``: hex digits only, upper case, no leading zeros."""
    digits = re.sub(r"[\s:.-]", "", text).upper()
    if digits.startswith("0X"):
        digits = digits[2:]
    return digits.lstrip("0") or "0"


@dataclass(frozen=True)
class KeyFilter:
    """The selection a bidder gave; empty fields match anything."""

    library: str | None = None
    key: str | None = None
    container: str | None = None
    unit_code: str | None = None
    serial: str | None = None
    application: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.key, self.container, self.unit_code, self.serial, self.application))

    def matches(self, ident: Identity) -> bool:
        if self.key is not None:
            info = ident.device_info
            names = {ident.device, info.serial if info else "", info.label if info else ""}
            if self.key not in names - {""}:
                return False
        if self.container is not None and ident.container != self.container:
            return False
        if self.application is not None and ident.application != self.application:
            return False
        certs = [c for c in (ident.sign_certificate, ident.enc_certificate) if c is not None]
        if self.unit_code is not None:
            want = self.unit_code.strip().upper()
            if not any((c.unit_code or "").upper() == want for c in certs):
                return False
        if self.serial is not None:
            want = normalise_serial(self.serial)
            if not any(normalise_serial(c.serial_hex) == want for c in certs):
                return False
        return True

    def describe(self) -> str:
        """``--key KEY-A --unit-code 9121...`` (what was asked, for messages)."""
        parts = [(f"--{k.replace('_', '-')}", v) for k, v in (
            ("key", self.key), ("unit_code", self.unit_code), ("serial", self.serial),
            ("container", self.container), ("lib", self.library))]
        return " ".join(f"{k} {v}" for k, v in parts if v)


# -- driver failures -----------------------------------------------------------------------


@dataclass(frozen=True)
class DriverProblem:
    """One thing that went wrong while looking for keys (a library, a device, a container)."""

    library: str
    device: str | None
    function: str | None
    error: BidSealError = field(compare=False)

    @property
    def sar(self) -> str | None:
        value = self.error.details.get("sar")
        return str(value) if value is not None else None

    def where(self) -> tuple[str, str]:
        """(zh, en) "SKF_ConnectDev of libxyz.so (key KEY-A)" parts."""
        lib = os.path.basename(self.library) or self.library
        fn = self.function or "?"
        code = ""
        if self.sar:
            code = f" {self.sar}"
            if self.error.details.get("sar_name"):
                code += f" ({self.error.details['sar_name']})"
        code_zh = code_en = code
        if not code and self.error.code == "ERR_TOKEN_CRASHED":
            code_zh, code_en = "（崩溃 / crash）", " (crash)"
        elif not code and self.error.code == "ERR_TOKEN_TIMEOUT":
            code_zh, code_en = "（无响应 / timeout）", " (timeout)"
        dev_zh = f"，UKey「{self.device}」" if self.device else ""
        dev_en = f", key '{self.device}'" if self.device else ""
        return (f"驱动 {lib} 的 {fn}{code_zh}{dev_zh}：{self.error.zh.rstrip('。.')}",
                f"{fn} in driver {lib}{code_en}{dev_en}: {self.error.en.rstrip('.')}")

    def to_dict(self) -> dict[str, Any]:
        return {"library": self.library, "device": self.device, "function": self.function,
                **self.error.to_dict()}


@dataclass
class Discovery:
    """Identities found and the driver failures met while finding them."""

    scan: Any  # app.token.device.TokenScan

    @property
    def identities(self) -> list[Identity]:
        return list(self.scan.identities)

    @property
    def failures(self) -> list[DriverProblem]:
        out: list[DriverProblem] = []
        for lib in self.scan.libraries:
            if lib.error is not None:
                out.append(DriverProblem(lib.path, None, failed_function(lib.error), lib.error))
            for dev in lib.devices:
                # a key pulled out during the scan is not a driver failure
                if dev.error is not None and not isinstance(dev.error, DeviceRemoved):
                    out.append(DriverProblem(lib.path, dev.name, failed_function(dev.error), dev.error))
                for prob in dev.problems:
                    out.append(DriverProblem(lib.path, dev.name, failed_function(prob), prob))
        return out

    def failure_error(self, found: Sequence[Identity] = ()) -> KeyDiscoveryFailed:
        """The error for "no key could be read because a driver failed"; ``found`` lists the
        keys that were read all the same (the bidder may name one of them with --key)."""
        failures = self.failures
        zh = "；".join(f.where()[0] for f in failures)
        en = "; ".join(f.where()[1] for f in failures)
        hint_zh = hint_en = ""
        if found:
            hint_zh = f"已识别的 UKey：{_listing(found, 'any')}；如确认使用其中一把，请用 --key 指定。"
            hint_en = f" Keys read: {_listing(found, 'any')}; to use one of them, name it with --key."
        exc = KeyDiscoveryFailed(
            f"查找 UKey 时驱动出错，无法确认是否已插入 UKey（不是“未插入 UKey”）：{zh}。"
            f"请重新插拔 UKey 后重试；如仍出错，请重新安装 CA 提供的驱动或联系 CA。{hint_zh}",
            f"The UKey driver failed while looking for keys, so it is unknown whether a key is "
            f"inserted (this is not 'no key inserted'): {en}. Re-insert the key and retry; if it "
            f"persists, reinstall the driver from your CA or contact the CA.{hint_en}",
            failures=[f.to_dict() for f in failures], found=[describe(i) for i in found],
        )
        exc._failures = [f.error for f in failures]  # type: ignore[attr-defined]
        return exc


def discover(libraries: Iterable[str | os.PathLike[str]] | None = None, *, pool: Any = None,
             cancel: Cancel | None = None) -> Discovery:
    """Scan every library (or only ``libraries``) for keys; never raises for a driver fault."""
    from app.token.device import scan

    return Discovery(scan(libraries, pool=pool, cancel=cancel))


def discover_for(flt: KeyFilter, *, pool: Any = None, cancel: Cancel | None = None) -> Discovery:
    """:func:`discover` limited to ``flt.library`` when one was given."""
    return discover([flt.library] if flt.library else None, pool=pool, cancel=cancel)


# -- naming keys -----------------------------------------------------------------------------


def _cert(ident: Identity, need: Need = "any") -> Certificate | None:
    if need == "enc":
        return ident.enc_certificate
    if need == "sign":
        return ident.sign_certificate
    return ident.sign_certificate or ident.enc_certificate


def key_label(ident: Identity, need: Need = "any") -> str:
    """``辽宁示例建设工程有限公司（UKey KEY-A，证书序列号 / serial 63B7…）``: unit and key, both
    languages (names are not translated)."""
    cert = _cert(ident, need)
    who = (cert.unit_name or cert.common_name) if cert else None
    serial = f"，证书序列号 / serial {cert.serial_hex}" if cert else ""
    con = f"，容器 / container {ident.container}" if ident.container else ""
    return f"{who or ident.container}（UKey {ident.device}{con}{serial}）"


def describe(ident: Identity) -> dict[str, Any]:
    """JSON-friendly: which key, whose certificate, which serials."""
    cert = ident.sign_certificate or ident.enc_certificate
    return {
        "library": ident.library, "device": ident.device, "application": ident.application,
        "container": ident.container,
        "device_serial": ident.device_info.serial if ident.device_info else None,
        "unit_name": cert.unit_name if cert else None, "unit_code": cert.unit_code if cert else None,
        "common_name": cert.common_name if cert else None,
        "sign_serial": ident.sign_certificate.serial_hex if ident.sign_certificate else None,
        "enc_serial": ident.enc_certificate.serial_hex if ident.enc_certificate else None,
    }


def pin_prompt(ident: Identity, *, admin: bool = False, need: Need = "any") -> str:
    """The PIN prompt, naming the key and the unit it belongs to."""
    who_zh, who_en = ("管理员口令", "admin PIN") if admin else ("口令", "PIN")
    return f"请输入 {key_label(ident, need)} 的{who_zh} / {who_en} for this key: "


def _listing(idents: Sequence[Identity], need: Need) -> str:
    return "；".join(f"[{i}] {key_label(ident, need)}" for i, ident in enumerate(idents, 1))


# -- choosing ----------------------------------------------------------------------------------


def _usable(ident: Identity, need: Need) -> bool:
    return _cert(ident, need) is not None


def _nothing_found(disc: Discovery, flt: KeyFilter, need: Need) -> BidSealError:
    """No candidate: a driver failure, a selection that matched nothing, or no key."""
    idents = [i for i in disc.identities if _usable(i, need)]
    if disc.failures:  # the key asked for may be the one behind the failing driver
        return disc.failure_error()
    if idents and not flt.empty:
        return TokenNotFound(
            f"没有符合选择条件（{flt.describe()}）的 UKey。已插入：{_listing(idents, need)}。",
            f"No inserted key matches the selection ({flt.describe()}). Inserted: {_listing(idents, need)}.",
            selection=flt.describe(), inserted=[describe(i) for i in idents],
        )
    if disc.identities and need != "any":
        what_zh, what_en = ("签名证书", "signing certificate") if need == "sign" else ("加密证书", "encryption certificate")
        return TokenNotFound(
            f"已插入的 UKey 中没有{what_zh}。请确认插入的是办理了投标证书的 UKey。",
            f"No inserted key holds a {what_en}. Check that you inserted the key with your bidding certificates.",
            inserted=[describe(i) for i in disc.identities],
        )
    return TokenNotFound(
        "没有检测到 UKey：请插入 UKey，并确认已安装 CA 提供的驱动。",
        "No UKey detected: insert your key and check that its driver from the CA is installed.",
        libraries=len(disc.scan.libraries), devices=len(disc.scan.devices),
    )


def candidates(disc: Discovery, flt: KeyFilter, need: Need = "any") -> list[Identity]:
    """Identities that fit ``flt`` and hold the certificate ``need`` asks for."""
    return [i for i in disc.identities if _usable(i, need) and flt.matches(i)]


def select_identity(disc: Discovery, flt: KeyFilter, need: Need = "any", *,
                    choose: Chooser | None = None) -> Identity:
    """The one identity to use: the only candidate, the one ``choose`` picks among several,
    or an error (:class:`KeyDiscoveryFailed`, :class:`TokenNotFound`, :class:`KeyAmbiguous`).

    After a driver failure nothing is chosen without an explicit selection: the key
    behind the failing driver may be the one the bidder means."""
    found = candidates(disc, flt, need)
    if not found:
        raise _nothing_found(disc, flt, need)
    if disc.failures and flt.empty:
        # the key behind the failing driver may be the one meant: never guess around it
        raise disc.failure_error(found)
    if len(found) == 1:
        return found[0]
    if choose is not None:
        picked = choose(found)
        if picked not in found:  # pragma: no cover - a chooser bug
            raise KeyAmbiguous("所选 UKey 不在候选列表中。", "The chosen key is not one of the candidates.")
        return picked
    raise KeyAmbiguous(
        f"插入了多把可用的 UKey，请指明使用哪一把（--key 设备名、--unit-code 单位代码或 --serial 证书序列号）："
        f"{_listing(found, need)}。",
        f"Several keys fit; say which one to use (--key device name, --unit-code or --serial certificate "
        f"serial): {_listing(found, need)}.",
        candidates=[describe(i) for i in found],
    )


def select_signer(disc: Discovery, flt: KeyFilter, *, choose: Chooser | None = None) -> Identity:
    """The identity whose signing key seals (see :func:`select_identity`)."""
    return select_identity(disc, flt, "sign", choose=choose)


def select_recipient(disc: Discovery, flt: KeyFilter, is_recipient: Callable[[Certificate], bool],
                     needed: Sequence[str]) -> Identity:
    """The first identity (in discovery order) whose encryption certificate is a recipient.

    ``needed`` names the envelope's recipients for the message when no key fits. A
    driver failure is reported as such when no inserted key is a recipient (the right
    key may be behind the failing driver).
    """
    usable = candidates(disc, flt, "enc")
    for ident in usable:
        assert ident.enc_certificate is not None
        if is_recipient(ident.enc_certificate):
            return ident
    if disc.failures:
        raise disc.failure_error()
    if not usable:
        raise _nothing_found(disc, flt, "enc")
    names = "；".join(needed) or "?"
    return_list = _listing(usable, "enc")
    raise NoRecipientKey(
        f"插入的 UKey 都不是此文件的接收者：文件加密给了 {names}；已插入 {return_list}。请插入正确的 UKey。",
        f"None of the inserted keys is a recipient of this file: it was encrypted to {names}; inserted: "
        f"{return_list}. Insert the right key.",
        needed=list(needed), inserted=[describe(i) for i in usable],
    )


__all__ = [
    "Chooser", "Discovery", "DriverProblem", "KeyAmbiguous", "KeyDiscoveryFailed", "KeyFilter",
    "NoRecipientKey", "candidates", "describe", "discover", "discover_for", "key_label", "normalise_serial",
    "pin_prompt", "select_identity", "select_recipient", "select_signer",
]

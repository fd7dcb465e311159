"""The UKey layer: the one place that knows SKF (GM/T 0016).

Public API (imported lazily, so ``python -m app.token.host`` stays light)::

    from app import token
    result = token.scan()                        # libraries -> devices -> identities (+ problems)
    ident = token.find_identity(device="...")    # or token.list_identities(); DriverFailure if a driver broke
    cache = token.shared_cache()                 # GUI/helper: identities kept current by hot-plug events
    with token.open_session(ident, pin, owner="GUI: sealing", cancel=cancel_token) as s:
        seal_pdf(..., s.signer, ...)             # engines take the signer / unwrapper (app.gm.keyops)
        s.decryptor(wrapped, iv)                 # SM4-CBC inside the key (one key import)
    token.sign_message(ident, pin, message)      # Z/e on the PC, signature in the key
    token.pin_info(ident); token.change_pin(ident, old, new); token.unblock(ident, admin, new)
    token.DeviceMonitor(library, callback).start()   # SKF_WaitForDevEvent in its own process

Every vendor library runs in a separate token-host process (:mod:`.host`), so a
crash or hang in it becomes :class:`TokenCrashed` / :class:`TokenTimeout`, a Cancel
:class:`TokenCancelled`, and the next call starts a fresh process. A session owns its
device (:class:`DeviceBusy` for the others) and its login. ``signer.sign_digest(e)`` is
the engines' contract (they compute e themselves from what they sign); no public path
signs a caller-supplied digest. See :mod:`.errors` for the error classes and
``app/token/README.md`` for the whole story.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "scan": "device", "scan_device": "device", "list_identities": "device", "find_identity": "device",
    "pin_info": "device", "change_pin": "device", "unblock": "device", "TokenScan": "device",
    "LibraryReport": "device", "DeviceReport": "device",
    "Identity": "identity", "DeviceInfo": "identity", "PinInfo": "identity", "seal_file_name": "identity",
    "seal_kind": "identity",
    "open_session": "session", "sign_message": "session", "Session": "session", "TokenSigner": "session",
    "TokenUnwrapper": "session", "CbcDecryptor": "session",
    "IdentityCache": "cache", "shared_cache": "cache",
    "DeviceLease": "access", "acquire_device": "access",
    "is_demo_certificate": "identity", "softkey_enabled": "registry", "enable_softkey": "registry",
    "disable_softkey": "registry", "driver_failure": "device",
    "DeviceMonitor": "monitor", "DeviceEvent": "monitor", "CombinedMonitor": "monitor", "monitor_all": "monitor",
    "TokenHost": "host_client", "HostPool": "host_client", "get_pool": "host_client", "configure": "host_client",
    "candidates": "registry", "Candidate": "registry",
    "init_softkey": "softkey", "plug": "softkey", "unplug": "softkey",
}
_ERRORS = ("TokenError", "SkfError", "PinIncorrect", "PinLocked", "PinLength", "PinInvalid", "DeviceRemoved",
           "CertificateNotFound", "CertificateInvalid", "NotLoggedIn", "LibraryMissing", "LibraryWrongBitness",
           "NotAnSkfLibrary", "TokenTimeout", "TokenCrashed", "NotSupported", "StaleHandle", "TokenNotFound",
           "TokenUsageError", "TokenProtocolError", "TokenCancelled", "DeviceBusy", "NotOwner", "DriverFailure")
_EXPORTS.update({name: "errors" for name in _ERRORS})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'app.token' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"app.token.{mod}"), name)
    globals()[name] = value
    return value

"""The UKey layer: the one place that knows SKF (GM/T 0016).

Public API (imported lazily, so ``python -m app.token.host`` stays light)::

    from app import token
    result = token.scan()                        # libraries -> devices -> identities (+ problems)
    ident = token.find_identity(device="...")    # or token.list_identities()
    with token.open_session(ident, pin) as s:    # SKF_VerifyPIN ... SKF_ClearSecureState
        der = s.signer.sign_digest(e)            # app.gm.keyops.DigestSigner
        blk = s.unwrapper.unwrap(wrapped, data)  # app.gm.keyops.SessionKeyUnwrapper
    token.sign_message(ident, pin, message)      # Z/e on the PC, signature in the key
    token.pin_info(ident); token.change_pin(ident, old, new); token.unblock(ident, admin, new)
    token.DeviceMonitor(library, callback).start()   # SKF_WaitForDevEvent in its own process

Every vendor library runs in a separate token-host process (:mod:`.host`), so a
crash or hang in it becomes :class:`TokenCrashed` / :class:`TokenTimeout` and the
next call starts a fresh process. See :mod:`.errors` for the error classes.
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
    "TokenUnwrapper": "session",
    "DeviceMonitor": "monitor", "DeviceEvent": "monitor", "CombinedMonitor": "monitor", "monitor_all": "monitor",
    "TokenHost": "host_client", "HostPool": "host_client", "get_pool": "host_client", "configure": "host_client",
    "candidates": "registry", "Candidate": "registry",
    "init_softkey": "softkey", "plug": "softkey", "unplug": "softkey",
}
_ERRORS = ("TokenError", "SkfError", "PinIncorrect", "PinLocked", "PinLength", "PinInvalid", "DeviceRemoved",
           "CertificateNotFound", "CertificateInvalid", "NotLoggedIn", "LibraryMissing", "LibraryWrongBitness",
           "NotAnSkfLibrary", "TokenTimeout", "TokenCrashed", "NotSupported", "StaleHandle", "TokenNotFound",
           "TokenUsageError")
_EXPORTS.update({name: "errors" for name in _ERRORS})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'app.token' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"app.token.{mod}"), name)
    globals()[name] = value
    return value

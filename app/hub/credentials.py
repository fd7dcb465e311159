"""The caUnitId secret (HMAC-SM3 ``sign`` key) kept in the system keyring, never a file.

Service name ``bidseal-hub``; the username is ``<caUnitId>@<hub base URL>`` so a
secret given for one hub is never sent to another. A machine without a keyring
backend (a headless Linux session without Secret Service: keyring's ``fail`` backend,
or keyrings.alt's interactive one) gets :class:`CredentialStoreError` saying what to
do, never a traceback or a password prompt on stdin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from app.errors import BidSealError

SERVICE = "bidseal-hub"


class CredentialStoreError(BidSealError):
    code = "ERR_KEYRING"


def _no_store(exc: Exception | None = None) -> CredentialStoreError:
    return CredentialStoreError(
        "系统密钥环不可用，无法保存或读取平台密钥。请在有桌面会话的环境中运行，"
        "或启动 Secret Service（如 gnome-keyring），或改用 SM2 签名（--auth sm2，用 UKey 签）。",
        "No system keyring is available to keep the platform secret. Run in a desktop session, "
        "start a Secret Service (e.g. gnome-keyring), or sign with the UKey instead (--auth sm2).",
        details={"backend": _backend_name(), "error": type(exc).__name__ if exc else None},
    )


def _backend_name() -> str:
    try:
        kr = keyring.get_keyring()
        return f"{type(kr).__module__}.{type(kr).__name__}"
    except Exception:  # noqa: BLE001 - only for the diagnostic detail
        return "unknown"


def _usable() -> None:
    """Refuse backends that cannot work unattended or would keep the secret in a plain
    file nobody chose: keyring's fail backend, keyrings.alt's EncryptedKeyring (asks for
    a password on stdin), and a chainer whose best backend is one of keyrings.alt's
    files. An explicitly configured backend (``PYTHON_KEYRING_BACKEND``, keyringrc,
    ``keyring.set_keyring``) other than those is used as it is."""
    kr = keyring.get_keyring()
    chosen = kr
    if type(kr).__name__ == "ChainerBackend":
        backends = list(getattr(kr, "backends", ()))
        if not backends or type(backends[0]).__module__.startswith("keyrings.alt"):
            raise _no_store()
        chosen = backends[0]
    name = f"{type(chosen).__module__}.{type(chosen).__name__}"
    if name.startswith("keyring.backends.fail") or name.endswith("EncryptedKeyring"):
        raise _no_store()


def account(ca_unit_id: str, hub_url: str) -> str:
    parts = urlsplit(hub_url)
    return f"{ca_unit_id}@{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ca_unit_id


def save_secret(ca_unit_id: str, hub_url: str, secret: str) -> None:
    if not secret:
        raise CredentialStoreError("平台密钥为空。", "The platform secret is empty.")
    _usable()
    try:
        keyring.set_password(SERVICE, account(ca_unit_id, hub_url), secret)
    except (NoKeyringError, KeyringError, EOFError, OSError) as exc:
        raise _no_store(exc) from exc


def load_secret(ca_unit_id: str, hub_url: str) -> str | None:
    """The saved secret, or None when none is saved for this caUnitId and hub."""
    _usable()
    try:
        return keyring.get_password(SERVICE, account(ca_unit_id, hub_url))
    except (NoKeyringError, KeyringError, EOFError, OSError) as exc:
        raise _no_store(exc) from exc


def delete_secret(ca_unit_id: str, hub_url: str) -> bool:
    _usable()
    try:
        keyring.delete_password(SERVICE, account(ca_unit_id, hub_url))
        return True
    except PasswordDeleteError:
        return False
    except (NoKeyringError, KeyringError, EOFError, OSError) as exc:
        raise _no_store(exc) from exc

"""The helper's only door to keys: :class:`KeyAccess`, over the UKey or a software key.

Every token call of the helper is in this module (``app.token``'s public API:
``scan``/``list_identities``, ``open_session``, ``pin_info``), so adopting the token
layer's changes touches one file. SKF handles are not thread-safe and a device call may
take seconds, so :class:`TokenKeys` runs every call on ONE worker thread (never on the
server's event loop) and the session ends with ``SKF_ClearSecureState`` (the ``with``
block of :func:`app.token.open_session`) after each operation, whatever happens.

:class:`SoftwareKeys` puts a software SM2 key (demo PKI) behind the same interface for
tests and the benchmark, which must exclude the virtual key's own cost.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from app.gm.keyops import DigestSigner, SessionKeyUnwrapper
from app.gm.x509 import Certificate

T = TypeVar("T")


@dataclass(frozen=True)
class KeyIdentity:
    """One certificate pair the helper may offer; ``id`` is stable across requests (the
    first 32 hex digits of the SM3 fingerprint of the signing, else encryption, certificate)."""

    id: str
    device: str
    sign_certificate: Certificate | None
    enc_certificate: Certificate | None
    seals: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    handle: Any = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        cert = self.sign_certificate or self.enc_certificate
        name = (cert.unit_name or cert.common_name) if cert else None
        return name or self.device

    @staticmethod
    def make_id(sign: Certificate | None, enc: Certificate | None) -> str:
        cert = sign or enc
        return cert.fingerprint_sm3[:32] if cert else ""


@dataclass(frozen=True)
class KeySession:
    """What an operation may use while the key is logged in."""

    signer: DigestSigner
    unwrapper: SessionKeyUnwrapper


class KeyAccess(Protocol):
    needs_pin: bool

    async def identities(self) -> list[KeyIdentity]: ...

    async def run(self, identity: KeyIdentity, pin: bytearray | None, fn: Callable[[KeySession], T]) -> T:
        """Log in (``pin``), call ``fn`` with the session, log out (ClearSecureState)."""
        ...


class TokenKeys:
    """:class:`KeyAccess` over the UKeys ``app.token`` finds (vendor SKF libraries or the
    virtual key)."""

    needs_pin = True

    def __init__(self, libraries: list[str] | None = None) -> None:
        self.libraries = libraries
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bidseal-ukey")

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, fn)

    async def identities(self) -> list[KeyIdentity]:
        from app import token

        found = await self._call(lambda: token.list_identities(self.libraries))
        return [KeyIdentity(id=KeyIdentity.make_id(i.sign_certificate, i.enc_certificate), device=i.device,
                            sign_certificate=i.sign_certificate, enc_certificate=i.enc_certificate,
                            seals=dict(i.seals), handle=i) for i in found]

    async def run(self, identity: KeyIdentity, pin: bytearray | None, fn: Callable[[KeySession], T]) -> T:
        from app import token

        def work() -> T:
            with token.open_session(identity.handle, pin or bytearray()) as session:
                return fn(KeySession(session.signer, session.unwrapper))

        return await self._call(work)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


class SoftwareKeys:
    """:class:`KeyAccess` over software keys (tests, benchmark): no PIN, runs inline."""

    needs_pin = False

    def __init__(self, signer: DigestSigner, unwrapper: SessionKeyUnwrapper | None = None,
                 seals: Mapping[str, bytes] | None = None, device: str = "SOFTWARE-KEY") -> None:
        self._session = KeySession(signer, unwrapper)  # type: ignore[arg-type]
        enc = unwrapper.certificate if unwrapper is not None else None
        self._identity = KeyIdentity(id=KeyIdentity.make_id(signer.certificate, enc), device=device,
                                     sign_certificate=signer.certificate, enc_certificate=enc,
                                     seals=dict(seals or {}))

    async def identities(self) -> list[KeyIdentity]:
        return [self._identity]

    async def run(self, identity: KeyIdentity, pin: bytearray | None, fn: Callable[[KeySession], T]) -> T:
        return fn(self._session)

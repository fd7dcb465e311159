"""The helper's only door to keys: :class:`KeyAccess`, over the UKey or a software key.

Every token call of the helper is in this module (``app.token``'s public API: the
hot-plug driven :class:`~app.token.IdentityCache`, ``open_session`` with an owner,
``is_demo_certificate``), so adopting the token layer's changes touches one file.
Listing certificates reads the cache (memory only: no device is scanned per web
request). A device call may take seconds, so :class:`TokenKeys` runs it on ONE worker
thread (never on the server's event loop); the session names its owner
(``helper: <origin>``), so while the GUI or the CLI holds the key the helper gets the
token layer's busy error (``ERR_ACTION_PENDING`` to the page), and it ends with
``SKF_ClearSecureState`` (the ``with`` block of :func:`app.token.open_session`) after each
operation, whatever happens.

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
    is_demo: bool = False  # a demo-CA certificate (the virtual key): never for a real bid

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

    async def run(self, identity: KeyIdentity, pin: bytearray | None, fn: Callable[[KeySession], T], *,
                  owner: str = "helper") -> T:
        """Log in (``pin``), call ``fn`` with the session, log out (ClearSecureState)."""
        ...


class TokenKeys:
    """:class:`KeyAccess` over the UKeys ``app.token`` finds (vendor SKF libraries or the
    virtual key); identities come from the process's shared identity cache, or from an
    own cache over ``libraries`` when given (tests)."""

    needs_pin = True

    def __init__(self, libraries: list[str] | None = None) -> None:
        self.libraries = libraries
        self._cache: Any = None
        self._own_cache = False
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bidseal-ukey")

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, fn)

    def _identities(self) -> list[Any]:
        from app import token

        if self._cache is None:
            if self.libraries is not None:
                self._cache, self._own_cache = token.IdentityCache(self.libraries).start(), True
            else:
                self._cache = token.shared_cache()
        return list(self._cache.identities())

    async def identities(self) -> list[KeyIdentity]:
        found = await self._call(self._identities)
        return [KeyIdentity(id=KeyIdentity.make_id(i.sign_certificate, i.enc_certificate), device=i.device,
                            sign_certificate=i.sign_certificate, enc_certificate=i.enc_certificate,
                            seals=dict(i.seals), handle=i, is_demo=bool(i.is_demo)) for i in found]

    async def run(self, identity: KeyIdentity, pin: bytearray | None, fn: Callable[[KeySession], T], *,
                  owner: str = "helper") -> T:
        from app import token

        def work() -> T:
            with token.open_session(identity.handle, pin or bytearray(), owner=owner) as session:
                return fn(KeySession(session.signer, session.unwrapper))

        return await self._call(work)

    def close(self) -> None:
        if self._own_cache and self._cache is not None:
            self._cache.stop()
        self._worker.shutdown(wait=False, cancel_futures=True)


class SoftwareKeys:
    """:class:`KeyAccess` over software keys (tests, benchmark): no PIN, runs inline."""

    needs_pin = False

    def __init__(self, signer: DigestSigner, unwrapper: SessionKeyUnwrapper | None = None,
                 seals: Mapping[str, bytes] | None = None, device: str = "SOFTWARE-KEY") -> None:
        self._session = KeySession(signer, unwrapper)  # type: ignore[arg-type]
        enc = unwrapper.certificate if unwrapper is not None else None
        from app.token import is_demo_certificate

        self._identity = KeyIdentity(id=KeyIdentity.make_id(signer.certificate, enc), device=device,
                                     sign_certificate=signer.certificate, enc_certificate=enc,
                                     seals=dict(seals or {}), is_demo=is_demo_certificate(signer.certificate))

    async def identities(self) -> list[KeyIdentity]:
        return [self._identity]

    async def run(self, identity: KeyIdentity, pin: bytearray | None, fn: Callable[[KeySession], T], *,
                  owner: str = "helper") -> T:
        return fn(self._session)

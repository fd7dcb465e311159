"""What the operations share: the services, and the one flow every key operation follows.

:func:`key_operation` is that flow, so login, decrypt and sign-pdf cannot skip a step:

1. take the operation slot (a second request meanwhile: ``ERR_ACTION_PENDING``);
2. list the keys' identities and keep those that can do the operation (and the one the
   page named, if it named one); none: ``ERR_NO_UKEY`` / ``ERR_CERT_NOT_FOUND``;
3. ask :class:`~app.helper.consent.Consent` (origin, operation, certificates, facts) within
   the user timeout; a refusal counts toward the origin's cancel throttle;
4. ask the :class:`~app.helper.pins.PinSource` (never the request) and run the device work
   in one logged-in session that ends with ``SKF_ClearSecureState``; a wrong PIN asks
   again with the retries left, a locked PIN stops (``ERR_PIN_LOCKED``);
5. release the slot, write the audit line (origin, operation, serial, result; no data).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.errors import BidSealError
from app.helper import limits
from app.helper.audit import AuditLog
from app.helper.config import HelperConfig
from app.helper.consent import CertificateChoice, Consent, ConsentRequest, Fact, Operation
from app.helper.errors import HelperError, from_exception
from app.helper.guard import Caller
from app.helper.keys import KeyAccess, KeyIdentity, KeySession
from app.helper.origins import display
from app.helper.pins import PinPrompt, PinSource
from app.helper.review import SignReview
from app.helper.state import CancelThrottle, OperationSlot, RecentRequests
from app.sensitive import wipe

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What an operation returns: a JSON body, or a file streamed back (sign-pdf), and
    the certificate serial for the audit line."""

    body: dict[str, Any] | None = None
    file: Any = None               # a Path to stream as application/pdf
    serial: str | None = None


@dataclass
class HelperServices:
    config: HelperConfig
    keys: KeyAccess
    consent: Consent
    pins: PinSource
    review: SignReview
    audit: AuditLog
    slot: OperationSlot = field(default_factory=OperationSlot)
    throttle: CancelThrottle = field(default_factory=CancelThrottle)
    recent: RecentRequests = field(default_factory=RecentRequests)
    user_timeout: float = limits.USER_TIMEOUT


_CHOICES: dict[tuple[str, str, str], CertificateChoice] = {}


def choice(identity: KeyIdentity, cert_kind: str) -> CertificateChoice:
    """What the consent dialog shows of one certificate (cached: reading subject fields
    out of the DER costs more than the rest of a login)."""
    key = (identity.id, cert_kind, identity.device)
    cached = _CHOICES.get(key)
    if cached is not None:
        return cached
    cert = identity.sign_certificate if cert_kind == "sign" else identity.enc_certificate
    assert cert is not None
    made = CertificateChoice(id=identity.id, label=identity.label, unit_name=cert.unit_name,
                             unit_code=cert.unit_code, serial=cert.serial_hex,
                             not_after=cert.not_after.strftime("%Y-%m-%d"), device=identity.device)
    if len(_CHOICES) > 256:
        _CHOICES.clear()
    _CHOICES[key] = made
    return made


async def with_user_timeout(services: HelperServices, awaitable: Awaitable[T]) -> T:
    """``awaitable`` within the user timeout (``asyncio.timeout``: no extra task, so an
    answer that is already there costs no trip through the event loop)."""
    try:
        async with asyncio.timeout(services.user_timeout):
            return await awaitable
    except TimeoutError as exc:
        raise HelperError("ERR_USER_TIMEOUT") from exc


@dataclass
class KeyOperation:
    """The state of one key operation, for the operation module's callbacks."""

    caller: Caller
    operation: Operation
    identity: KeyIdentity | None = None
    serial: str | None = None


async def candidates(services: HelperServices, wanted: str | None, cert_kind: str,
                     accept: Callable[[KeyIdentity], bool] | None = None) -> list[KeyIdentity]:
    """The identities that can do the operation (and the one the page named, if any)."""
    try:
        found = await services.keys.identities()
    except BidSealError as exc:
        raise from_exception(exc) from exc
    if not found:
        raise HelperError("ERR_NO_UKEY")
    usable = [i for i in found if (i.sign_certificate if cert_kind == "sign" else i.enc_certificate) is not None]
    if wanted is not None:
        usable = [i for i in usable if i.id == wanted]
    if not usable:
        raise HelperError("ERR_CERT_NOT_FOUND")
    if accept is not None:
        usable = [i for i in usable if accept(i)]
        if not usable:
            raise HelperError("ERR_CERT_MISMATCH")
    return usable


async def key_operation(
    services: HelperServices,
    caller: Caller,
    operation: Operation,
    cert_kind: str,
    facts: Sequence[Fact],
    work: Callable[[KeySession], T],
    *,
    project: str | None = None,
    accept: Callable[[KeyIdentity], bool] | None = None,
    before_pin: Callable[[KeyOperation], Awaitable[bool | None]] | None = None,
) -> tuple[T | None, KeyOperation]:
    """Run ``work`` with a logged-in key after consent (see the module docstring).

    ``before_pin`` runs after consent, before the PIN (sign-pdf's review); when it returns
    True the front end already did the key work in its own session, and neither the PIN
    nor ``work`` follows (the result is None)."""
    state = KeyOperation(caller, operation)
    services.slot.acquire(operation)
    try:
        usable = await candidates(services, caller.params.get("certificate"), cert_kind, accept)
        if any(i.is_demo for i in usable):
            facts = [*facts, Fact("注意", "Note", "演示证书（虚拟 UKey），不能用于真实投标 / a demo certificate "
                                                 "(virtual UKey), not valid for a real bid")]
        request = ConsentRequest(origin=display(caller.origin, allow_http=services.config.allow_http),
                                 operation=operation, certificates=tuple(choice(i, cert_kind) for i in usable),
                                 facts=tuple(facts), project=project, timeout=services.user_timeout,
                                 request_id=caller.request_id)
        decision = await with_user_timeout(services, services.consent.ask(request))
        if not decision.approved:
            services.throttle.cancelled(caller.origin)
            raise HelperError("ERR_USER_CANCELLED")
        if not 0 <= decision.certificate < len(usable):
            raise HelperError("ERR_CERT_NOT_FOUND")
        state.identity = usable[decision.certificate]
        state.serial = request.certificates[decision.certificate].serial
        if before_pin is not None and await before_pin(state):
            return None, state
        result = await _with_pin(services, state, work)
        return result, state
    finally:
        services.slot.release()


async def _with_pin(services: HelperServices, state: KeyOperation, work: Callable[[KeySession], T]) -> T:
    from app.token import errors as token_errors

    identity = state.identity
    assert identity is not None
    retries: int | None = None
    while True:
        pin: bytearray | None = None
        if services.keys.needs_pin:
            prompt = PinPrompt(origin=state.caller.origin, operation=state.operation,
                               certificate_label=identity.label, device=identity.device, retries_left=retries)
            pin = await with_user_timeout(services, services.pins.get_pin(prompt))
            if pin is None:
                services.throttle.cancelled(state.caller.origin)
                raise HelperError("ERR_USER_CANCELLED")
        try:
            return await services.keys.run(identity, pin, work, owner=f"helper: {state.caller.origin}")
        except token_errors.PinIncorrect as exc:
            retries = exc.retries_left
            if retries == 0:
                raise HelperError("ERR_PIN_LOCKED") from exc
        except BidSealError as exc:
            raise from_exception(exc) from exc
        finally:
            if pin is not None:
                wipe(pin)


def finish(services: HelperServices, caller: Caller, result: str, serial: str | None = None) -> None:
    """Audit and remember one finished request (any operation, any outcome)."""
    services.audit.record(origin=caller.origin, operation=caller.operation, result=result,
                          certificate_serial=serial, request_id=caller.request_id,
                          duration_ms=(time.perf_counter() - caller.started) * 1000)
    services.recent.add(caller.origin, caller.operation, result)


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HelperError("ERR_BAD_REQUEST", reason=f"{what} is not base64") from exc


def cert_info(cert: Any) -> dict[str, Any] | None:
    if cert is None:
        return None
    return {"serial": cert.serial_hex, "subject": cert.subject.rfc4514(), "issuer": cert.issuer.rfc4514(),
            "notBefore": cert.not_before.isoformat(), "notAfter": cert.not_after.isoformat(),
            "validNow": cert.is_valid_at(), "der": b64(cert.der)}

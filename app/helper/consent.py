"""Asking the bidder: the :class:`Consent` interface and what a consent dialog shows.

The helper never decides consent itself. Before every key operation it builds a
:class:`ConsentRequest` (origin with its registrable domain, operation, the candidate
certificates, project / document facts) and awaits :meth:`Consent.ask`:

* the desktop app implements it with a native Qt dialog (``app/ui/consent_dialog.py``:
  Cancel is the default, OK is enabled after ~1 s, window on top), marshalled to the UI
  thread;
* ``bidseal helper serve`` uses :class:`~app.helper.terminal.TerminalConsent`;
* tests and the benchmark inject :class:`ScriptedConsent`.

``ask`` is a coroutine run on the helper's event loop; an implementation that talks to
another thread must not block the loop. When the helper gives up waiting (user timeout,
the page went away) the coroutine is cancelled and the implementation closes its dialog.
Listing certificates needs no consent; nothing is remembered between requests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from app.helper.origins import OriginDisplay

Operation = Literal["login", "decrypt", "sign-pdf"]

OPERATION_TEXT: dict[str, tuple[str, str]] = {
    "login": ("使用 UKey 登录网站", "Log in to the website with your UKey"),
    "decrypt": ("用 UKey 解密投标文件", "Decrypt bid data with your UKey"),
    "sign-pdf": ("用 UKey 在文件上签章", "Seal a document with your UKey"),
}


@dataclass(frozen=True)
class CertificateChoice:
    """One certificate the bidder may pick (facts only; nothing secret)."""

    id: str
    label: str
    unit_name: str | None
    unit_code: str | None
    serial: str
    not_after: str
    device: str


@dataclass(frozen=True)
class Fact:
    """One line of the dialog: a label in both languages and a value."""

    zh: str
    en: str
    value: str


@dataclass(frozen=True)
class ConsentRequest:
    origin: OriginDisplay
    operation: Operation
    certificates: tuple[CertificateChoice, ...]
    facts: tuple[Fact, ...] = ()
    project: str | None = None
    timeout: float = 120.0
    request_id: str = ""

    @property
    def title(self) -> tuple[str, str]:
        return OPERATION_TEXT[self.operation]


@dataclass(frozen=True)
class Decision:
    approved: bool
    certificate: int = 0  # index into ConsentRequest.certificates


class Consent(Protocol):
    async def ask(self, request: ConsentRequest) -> Decision: ...


@dataclass
class ScriptedConsent:
    """A :class:`Consent` for tests and benchmarks: answers from a script, records every
    request it was asked. ``answers`` is consumed in order, then ``default`` repeats; an
    answer may be a callable ``request -> Decision``."""

    default: Decision = field(default_factory=lambda: Decision(True))
    answers: deque[Decision | Callable[[ConsentRequest], Decision]] = field(default_factory=deque)
    asked: list[ConsentRequest] = field(default_factory=list)

    @classmethod
    def approving(cls) -> ScriptedConsent:
        return cls(Decision(True))

    @classmethod
    def refusing(cls) -> ScriptedConsent:
        return cls(Decision(False))

    def then(self, *answers: Decision | Callable[[ConsentRequest], Decision]) -> ScriptedConsent:
        self.answers.extend(answers)
        return self

    async def ask(self, request: ConsentRequest) -> Decision:
        self.asked.append(request)
        answer = self.answers.popleft() if self.answers else self.default
        return answer(request) if callable(answer) else answer


def choices_text(choices: Sequence[CertificateChoice]) -> list[str]:
    return [f"{c.label} · {c.serial}" for c in choices]

"""Where the PIN comes from: BidSeal's own UI, never a request.

:class:`PinSource` is awaited once per attempt with a :class:`PinPrompt` (which key,
which site, retries left after a wrong PIN). It returns the PIN as a ``bytearray`` the
helper wipes after use, or ``None`` when the bidder cancels. The desktop app wires the
GUI's own PIN dialog; ``bidseal helper serve`` uses :class:`~app.helper.terminal.TerminalPinSource`
(getpass on a worker thread). A key that needs no PIN (the benchmark's software key)
is never asked for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PinPrompt:
    origin: str
    operation: str
    certificate_label: str
    device: str
    retries_left: int | None = None   # after a wrong PIN; None on the first ask
    max_retries: int | None = None


class PinSource(Protocol):
    async def get_pin(self, prompt: PinPrompt) -> bytearray | None: ...


class FixedPinSource:
    """Tests only: answers every prompt with the same PIN (records the prompts)."""

    def __init__(self, pin: str | None) -> None:
        self._pin = pin
        self.prompts: list[PinPrompt] = []

    async def get_pin(self, prompt: PinPrompt) -> bytearray | None:
        self.prompts.append(prompt)
        return bytearray(self._pin.encode()) if self._pin is not None else None

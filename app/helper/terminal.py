"""Headless front end for ``bidseal helper serve``: consent, PIN and review in the terminal.

Each prompt runs on a worker thread (``input``/``getpass`` block), so the server's event
loop keeps serving; prompts are serialised by the operation slot anyway. The consent
prompt prints the origin with the registrable domain in brackets, the operation, the
certificate(s) and every fact; only ``y``/``yes``/``是`` approves (Enter = Cancel, the
default). The review prompt prints the placement hints, which must be confirmed.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from app.helper.consent import ConsentRequest, Decision
from app.helper.pins import PinPrompt
from app.helper.review import ReviewRequest, ReviewResult, placement_for

YES = {"y", "yes", "是", "确认"}


class TerminalConsent:
    def __init__(self, out: TextIO | None = None, ask=input) -> None:  # type: ignore[no-untyped-def]
        self.out = out or sys.stderr
        self._ask = ask

    def _render(self, r: ConsentRequest) -> str:
        head, domain, tail = r.origin.parts
        zh, en = r.title
        lines = ["", "=" * 60, f"{zh} / {en}", f"网站 Site: {head}[{domain}]{tail}"]
        for i, c in enumerate(r.certificates):
            lines.append(f"  [{i}] {c.label}  {c.unit_code or ''}  序列号 serial {c.serial}  至 until {c.not_after}")
        for f in r.facts:
            lines.append(f"{f.zh} / {f.en}: {f.value}")
        return "\n".join(lines)

    async def ask(self, request: ConsentRequest) -> Decision:
        print(self._render(request), file=self.out, flush=True)
        answer = await asyncio.to_thread(self._ask, "允许？Allow? [y/N] ")
        if answer.strip().lower() not in YES:
            return Decision(False)
        index = 0
        if len(request.certificates) > 1:
            pick = await asyncio.to_thread(self._ask, "证书编号 Certificate number [0]: ")
            index = int(pick) if pick.strip().isdigit() else 0
        return Decision(True, index)


class TerminalPinSource:
    def __init__(self, out: TextIO | None = None, read=getpass.getpass) -> None:  # type: ignore[no-untyped-def]
        self.out = out or sys.stderr
        self._read = read

    async def get_pin(self, prompt: PinPrompt) -> bytearray | None:
        if prompt.retries_left is not None:
            print(f"口令错误，还可尝试 {prompt.retries_left} 次。Wrong PIN, {prompt.retries_left} tries left.",
                  file=self.out, flush=True)
        text = await asyncio.to_thread(self._read, f"{prompt.certificate_label} UKey 口令 PIN (Enter = cancel): ")
        return bytearray(text.encode("utf-8")) if text else None


class TerminalSignReview:
    def __init__(self, out: TextIO | None = None, ask=input) -> None:  # type: ignore[no-untyped-def]
        self.out = out or sys.stderr
        self._ask = ask

    async def review(self, request: ReviewRequest) -> ReviewResult:
        zh, en = request.hints.describe()
        print(f"文件 Document: {request.file_name}, {request.page_count} 页 pages, SM3 {request.sm3_hex}\n"
              f"盖章位置 Seal position: {zh} / {en} ({request.hints.seal})", file=self.out, flush=True)
        answer = await asyncio.to_thread(self._ask, "在此位置盖章？Seal there? [y/N] ")
        if answer.strip().lower() not in YES:
            return ReviewResult(False)
        placement = await asyncio.to_thread(placement_for, request)
        return ReviewResult(True, (placement,), request.hints.seal)

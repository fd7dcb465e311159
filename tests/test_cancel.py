"""The shared cancellation token accepts tokens, events and callables alike."""

from __future__ import annotations

import threading

from app.cancel import CancelToken, is_cancelled


def test_token_event_and_callable() -> None:
    token = CancelToken()
    event = threading.Event()
    assert not is_cancelled(None)
    assert not is_cancelled(token) and not is_cancelled(event) and not is_cancelled(lambda: False)
    token.cancel()
    event.set()
    assert is_cancelled(token) and token.cancelled and is_cancelled(event) and is_cancelled(lambda: True)

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


def test_every_engine_cancellation_is_one_error_type():
    from app.cancel import OperationCancelled
    from app.envelope.errors import EnvelopeCancelled, EnvelopeError
    from app.pdfsign.errors import PdfSignError, SealCancelledError
    from app.pdfsign.verify import VerificationCancelled

    errors = [SealCancelledError(), VerificationCancelled(),
              EnvelopeCancelled("操作已取消。", "Cancelled.")]
    for exc in errors:
        assert isinstance(exc, OperationCancelled)
        assert exc.code == "ERR_CANCELLED" and exc.zh and exc.en and exc.details == {}
    assert isinstance(errors[0], PdfSignError) and isinstance(errors[2], EnvelopeError)

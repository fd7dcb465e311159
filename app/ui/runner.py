"""The one place where the window runs work off the UI thread.

:meth:`TaskRunner.submit` runs ``fn(ctx)`` on a ``QThreadPool`` worker and turns
what happens into signals delivered on the UI thread: ``progress(done, total,
stage)`` (the :mod:`app.progress` convention, throttled), ``partial(obj)``,
``finished(result)`` or ``failed(BidSealError)``, then ``done()``. ``ctx`` carries
the operation's :class:`app.cancel.CancelToken` and :meth:`TaskContext.engine`,
which runs a PyMuPDF-bound engine operation in an engine process
(:mod:`.engine_client`) with that token, progress and partial results wired through.

Any dialog (part 2's envelopes, batch, diagnostics) uses the same runner::

    handle = runner.submit(lambda ctx: decrypt(..., progress=ctx.progress, cancel=ctx.cancel),
                           on_result=show, on_error=window.show_error, on_progress=bar.update)
    cancel_button.clicked.connect(handle.cancel)

An exception outside the error vocabulary is a bug: it is written to a crash log
(:mod:`.crashlog`) and reaches ``failed`` as :class:`app.ui.wire.UnexpectedError`
whose ``details["log"]`` says where the log is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.cancel import CancelToken
from app.errors import BidSealError
from app.progress import Stage
from app.ui.engine_client import EnginePool, engine_pool
from app.ui.wire import UnexpectedError

#: Progress signals are sent at most this often (seconds), plus every stage change.
PROGRESS_INTERVAL = 0.03


class TaskSignals(QObject):
    progress = Signal(int, int, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    done = Signal()


class TaskContext:
    """What a task function receives: cancellation, progress, partial results, engines."""

    def __init__(self, signals: TaskSignals, cancel: CancelToken, pool: Callable[[], EnginePool]) -> None:
        self._signals = signals
        self.cancel = cancel
        self._pool = pool
        self._last = 0.0
        self._stage = ""

    def progress(self, done: int, total: int, stage: Stage | str = Stage.CHECK) -> None:
        now = time.monotonic()
        st = str(stage)
        if st != self._stage or done >= total or now - self._last >= PROGRESS_INTERVAL:
            self._last, self._stage = now, st
            self._signals.progress.emit(int(done), int(total), st)

    def partial(self, data: Any) -> None:
        self._signals.partial.emit(data)

    def engine(self, op: str, kw: Mapping[str, Any] | None = None,
               handlers: Mapping[str, Callable[..., Any]] | None = None, *, forward_partial: bool = True) -> Any:
        """Run engine operation ``op`` (see :mod:`app.ui.engine_ops`) in an engine process."""
        return self._pool().call(op, kw, progress=self.progress,
                                 partial=self.partial if forward_partial else None,
                                 handlers=handlers, cancel=self.cancel)


def unexpected(exc: BaseException, context: str) -> UnexpectedError:
    """Log a bug's traceback and return the error the bidder sees (with the log path)."""
    from app.ui.crashlog import format_exception, write_crash_log

    trace = exc.details.get("trace", "") if isinstance(exc, UnexpectedError) else \
        format_exception(type(exc), exc, exc.__traceback__)
    err = exc if isinstance(exc, UnexpectedError) else UnexpectedError(trace, f"{type(exc).__name__}: {exc}"[:300])
    path = write_crash_log(str(trace), context)
    err.details.pop("trace", None)
    err.details["log"] = str(path) if path else None
    return err


class _Task(QRunnable):
    def __init__(self, fn: Callable[[TaskContext], Any], ctx: TaskContext, signals: TaskSignals, name: str) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._ctx = ctx
        self._signals = signals
        self._name = name

    def run(self) -> None:
        try:
            result = self._fn(self._ctx)
        except UnexpectedError as exc:
            self._signals.failed.emit(unexpected(exc, self._name))
        except BidSealError as exc:
            self._signals.failed.emit(exc)
        except BaseException as exc:  # noqa: BLE001 - a bug: logged, shown as a sentence
            self._signals.failed.emit(unexpected(exc, self._name))
        else:
            self._signals.finished.emit(result)
        finally:
            self._signals.done.emit()


class TaskHandle:
    """A submitted task: its signals and its cancel token."""

    def __init__(self, name: str, signals: TaskSignals, cancel: CancelToken) -> None:
        self.name = name
        self.signals = signals
        self.token = cancel
        self.finished = threading.Event()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def running(self) -> bool:
        return not self.finished.is_set()


class TaskRunner(QObject):
    """Runs task functions on worker threads; see the module docstring."""

    def __init__(self, parent: QObject | None = None, *, pool: Callable[[], EnginePool] = engine_pool,
                 threads: int = 6) -> None:
        super().__init__(parent)
        self._threads = QThreadPool(self)
        self._threads.setMaxThreadCount(threads)
        # Threads stay: starting one on submit costs the UI thread milliseconds it must not lose.
        self._threads.setExpiryTimeout(-1)
        self._pool = pool
        self._active: set[TaskHandle] = set()

    def submit(
        self,
        fn: Callable[[TaskContext], Any],
        *,
        name: str = "task",
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BidSealError], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_done: Callable[[], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> TaskHandle:
        signals = TaskSignals(self)
        token = cancel or CancelToken()
        handle = TaskHandle(name, signals, token)
        if on_progress:
            signals.progress.connect(on_progress)
        if on_partial:
            signals.partial.connect(on_partial)
        if on_result:
            signals.finished.connect(on_result)
        if on_error:
            signals.failed.connect(on_error)

        def _done() -> None:
            handle.finished.set()
            self._active.discard(handle)
            if on_done:
                on_done()
            signals.deleteLater()

        signals.done.connect(_done)
        self._active.add(handle)
        self._threads.start(_Task(fn, TaskContext(signals, token, self._pool), signals, name))
        return handle

    @property
    def active(self) -> list[TaskHandle]:
        return list(self._active)

    def cancel_all(self) -> None:
        for h in list(self._active):
            h.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the worker threads are idle (shutdown and tests)."""
        return bool(self._threads.waitForDone(msecs))

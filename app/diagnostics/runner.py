"""One call runs every check: :func:`run_diagnostics` (the 一键检测 button, ``bidseal diagnose``).

Checks run in a fixed order, each isolated: a check that fails unexpectedly becomes an
ERROR entry saying so (never a crash of the whole diagnosis). Safe on a worker thread;
``progress(done, total, Stage.CHECK)`` after each check and ``cancel`` before each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from app import settings as app_settings
from app.cancel import Cancel, OperationCancelled, is_cancelled
from app.diagnostics import service_checks, system_checks, token_checks
from app.diagnostics.context import Context, is_virtual
from app.diagnostics.model import Check, DiagnosticReport, Status, Text
from app.progress import Progress, Stage
from app.token.host_client import HostPool

log = logging.getLogger("bidseal.diagnostics")

CheckFn = Callable[[Context], "Check | list[Check]"]

#: (id, function) in the order a bidder reads them: the key first, the computer after.
CHECKS: tuple[tuple[str, CheckFn], ...] = (
    ("skf_libraries", token_checks.check_libraries),
    ("pcsc", token_checks.check_pcsc),
    ("keys", token_checks.check_keys),
    ("certificates", token_checks.check_certificates),
    ("pin", token_checks.check_pins),
    ("clock", system_checks.check_clock),
    ("disk", system_checks.check_disk),
    ("crypto_backend", system_checks.check_backend),
    ("envelopes", service_checks.check_envelopes),
    ("helper", service_checks.check_helper),
    ("trust", service_checks.check_trust),
    ("settings", system_checks.check_settings),
    ("versions", system_checks.check_versions),
)


def run_diagnostics(*, libraries: list[str] | None = None, pool: HostPool | None = None,
                    time_server: str | None = None, output_folder: str | Path | None = None,
                    only: set[str] | None = None, now: datetime | None = None,
                    progress: Progress | None = None, cancel: Cancel | None = None) -> DiagnosticReport:
    """Run the checks (all, or the ids in ``only``) and return the report."""
    started = now or datetime.now(UTC)
    t0 = time.monotonic()
    ctx = Context(settings=app_settings.load(), now=started, libraries=libraries, pool=pool,
                  time_server=time_server, output_folder=Path(output_folder) if output_folder else None)
    selected = [(cid, fn) for cid, fn in CHECKS if only is None or cid in only]
    checks: list[Check] = []
    for done, (cid, fn) in enumerate(selected):
        if is_cancelled(cancel):
            raise OperationCancelled("检测已取消。", "The diagnosis was cancelled.")
        try:
            result = fn(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            log.exception("diagnostic check %s failed", cid)
            result = Check(cid, Status.ERROR, Text(cid, cid),
                           Text(f"检测本身出错：{type(exc).__name__}", f"The check itself failed: {type(exc).__name__}"),
                           Text("请生成支持报告并发给技术支持。", "Make a support report and send it to support."),
                           {"exception": type(exc).__name__})
        checks.extend(result if isinstance(result, list) else [result])
        if progress is not None:
            progress(done + 1, len(selected), Stage.CHECK)
    certs = tuple(i.summary() | {"demo_key": is_virtual(i)} for i in ctx.identities) if ctx._scan else ()
    return DiagnosticReport(tuple(checks), started, time.monotonic() - t0, certs)

"""The local request log: who asked for what, and what came of it.

One JSON line per request in ``<log_dir>/helper-audit.log`` (rotated at 2 MiB, 5 files):
time, origin, operation, certificate serial, result code, duration. Never a PIN,
plaintext, document content, nonce or ciphertext: :meth:`AuditLog.record` accepts only
these fields. The tray icon's "open the request log" opens this file.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import threading
from datetime import UTC, datetime
from pathlib import Path

from app import paths

FILE_NAME = "helper-audit.log"


class AuditLog:
    def __init__(self, folder: Path | None = None) -> None:
        self.path = paths.ensure(folder or paths.log_dir()) / FILE_NAME
        self._handler = logging.handlers.RotatingFileHandler(self.path, maxBytes=2 << 20, backupCount=5,
                                                             encoding="utf-8", delay=True)
        self._lock = threading.Lock()

    def record(self, *, origin: str, operation: str, result: str, certificate_serial: str | None = None,
               duration_ms: float | None = None, request_id: str = "") -> None:
        line = json.dumps({
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "origin": origin, "operation": operation, "certificate": certificate_serial,
            "result": result, "ms": round(duration_ms, 1) if duration_ms is not None else None,
            "id": request_id,
        }, ensure_ascii=False)
        rec = logging.LogRecord("bidseal.audit", logging.INFO, "", 0, line, None, None)
        with self._lock:
            self._handler.emit(rec)

    def close(self) -> None:
        self._handler.close()

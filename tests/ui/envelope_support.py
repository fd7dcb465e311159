"""Shared helpers of the envelope-dialog tests (encrypt, decrypt, recovery, records)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox

from app.demo.pki import CertificateAuthority, DemoPKI, Subject, demo_pki
from app.gm import sm2
from app.gm.x509 import Certificate


def key_certificate(window: Any) -> tuple[Any, Certificate]:
    identity, view = window.current_identity()
    assert identity is not None and view is not None and view.enc is not None
    return identity, Certificate.from_der(view.enc.der)


def centre() -> DemoPKI:
    """A trading centre's emergency certificate with its software key."""
    return demo_pki(root_name="Centre Test CA")


def expired_enc_certificate() -> Certificate:
    ca = CertificateAuthority.create_root(name="Old CA")
    start = datetime.now(UTC) - timedelta(days=800)
    return ca.issue(sm2.PrivateKey.generate().public_key, Subject(unit_name="过期的单位"), "enc",
                    not_before=start, not_after=start + timedelta(days=365))


def write_bid(path: Path, size: int = 200_000) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(size))
    return path


def answer_message_boxes(answer: QMessageBox.StandardButton) -> None:
    """Answer the next modal question boxes (QMessageBox.question runs its own loop)."""
    from PySide6.QtCore import QTimer

    def click() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.isVisible():
                w.button(answer).click()
                return
        QTimer.singleShot(50, click)

    QTimer.singleShot(50, click)

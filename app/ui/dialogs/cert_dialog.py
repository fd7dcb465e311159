"""Certificate details and export (PEM or DER), e.g. to hand the encryption
certificate to a trading platform or to encrypt a bid to it."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.atomic import write_atomic
from app.ui.i18n import pick, tr
from app.ui.models.keys import CertView

_USAGE = {
    "digital_signature": ("数字签名", "digital signature"),
    "non_repudiation": ("不可否认", "non-repudiation"),
    "key_encipherment": ("密钥加密", "key encipherment"),
    "data_encipherment": ("数据加密", "data encipherment"),
    "key_agreement": ("密钥协商", "key agreement"),
}


def certificate_html(cert: CertView, unit: str, code: str) -> str:
    e = html.escape
    rows = [
        (tr("主题", "Subject"), cert.subject),
        (tr("单位", "Unit"), unit or "-"),
        (tr("统一社会信用代码", "Unit code"), code or "-"),
        (tr("序列号", "Serial number"), cert.serial),
        (tr("颁发者", "Issuer"), cert.issuer),
        (tr("生效时间", "Valid from"), f"{cert.not_before:%Y-%m-%d %H:%M:%S %Z}"),
        (tr("失效时间", "Valid until"), f"{cert.not_after:%Y-%m-%d %H:%M:%S %Z}"),
        (tr("密钥用法", "Key usage"), ", ".join(pick(_USAGE.get(u, (u, u))) for u in cert.key_usage) or "-"),
        (tr("SM3 指纹", "SM3 fingerprint"), cert.fingerprint_sm3),
    ]
    body = "".join(f"<tr><td style='color:#555;padding-right:10px'>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in rows)
    status = f"<p style='color:{cert.colour};font-weight:600'>{e(pick(cert.expiry_text))}</p>"
    return f"<h3>{e(pick(cert.title))}</h3>{status}<table>{body}</table>"


def export_certificate(cert: CertView, path: str | Path, fmt: str) -> Path:
    """Write the certificate as PEM or DER (whole or not at all)."""
    out = Path(path)
    write_atomic(out, cert.pem if fmt.lower() == "pem" else cert.der)
    return out


class CertificateDialog(QDialog):
    def __init__(self, cert: CertView, unit: str, code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("certificateDialog")
        self.cert = cert
        self.setWindowTitle(pick(cert.title) + (tr("（演示证书）", " (demo certificate)")
                                                 if "BidSeal Demo" in cert.issuer else ""))
        self.resize(620, 420)
        self.text = QTextBrowser()
        self.text.setHtml(certificate_html(cert, unit, code))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.pem = QPushButton(tr("导出为 PEM…", "Export as PEM…"))
        self.der = QPushButton(tr("导出为 DER…", "Export as DER…"))
        self.pem.clicked.connect(lambda: self._ask("pem"))
        self.der.clicked.connect(lambda: self._ask("der"))
        buttons = QDialogButtonBox()
        buttons.addButton(self.pem, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.der, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(tr("关闭", "Close"), QDialogButtonBox.ButtonRole.RejectRole)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def default_name(self, fmt: str) -> str:
        kind = "sign" if self.cert.kind == "sign" else "enc"
        return f"{self.cert.common_name or 'certificate'}-{kind}-{self.cert.serial[:12]}.{'pem' if fmt == 'pem' else 'cer'}"

    def _ask(self, fmt: str) -> None:
        filt = tr("PEM 证书 (*.pem *.crt)", "PEM certificate (*.pem *.crt)") if fmt == "pem" else \
            tr("DER 证书 (*.cer *.der)", "DER certificate (*.cer *.der)")
        path, _ = QFileDialog.getSaveFileName(self, tr("导出证书", "Export certificate"),
                                              str(Path.home() / self.default_name(fmt)), filt)
        if path:
            self.export(path, fmt)

    def export(self, path: str | Path, fmt: str) -> Path | None:
        try:
            out = export_certificate(self.cert, path, fmt)
        except OSError as exc:
            self.status.setText(tr(f"无法写入：{exc.strerror or exc}", f"Cannot write: {exc.strerror or exc}"))
            self.status.setStyleSheet("color:#a00000")
            return None
        self.status.setText(tr(f"已导出：{out}", f"Exported: {out}"))
        self.status.setStyleSheet("color:#1b7a3a")
        return out

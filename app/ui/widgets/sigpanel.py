"""The signature panel: every signature of the open file with its verdict and details;
clicking one jumps to its seal and highlights it."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import pick, tr
from app.ui.models.signatures import SignatureView, VerificationView

_TIME_SOURCES = {
    "timestamp": ("时间戳", "time-stamp"),
    "signing_time": ("签名属性", "signing-time attribute"),
    "pdf_m": ("PDF 自报时间（未受保护）", "claimed by the PDF (unprotected)"),
    "verification_time": ("验证时间", "verification time"),
}


def signature_html(s: SignatureView) -> str:
    """The details of one signature as rich text (what the panel shows under the list)."""
    e = html.escape

    def row(zh: str, en: str, value: str) -> str:
        return f"<tr><td style='color:#555;padding-right:8px'>{e(tr(zh, en))}</td><td>{e(value)}</td></tr>"

    when = f"{s.signing_time:%Y-%m-%d %H:%M:%S %Z}" if s.signing_time else "-"
    if s.time_source:
        when += f" ({pick(_TIME_SOURCES.get(s.time_source, (s.time_source, s.time_source)))})"
    validity = (f"{s.not_before:%Y-%m-%d} — {s.not_after:%Y-%m-%d}" if s.not_before and s.not_after else "-")
    parts = [
        f"<p style='color:{s.colour};font-weight:600;font-size:large'>{e(pick(s.verdict_text))}</p>",
        "<table>",
        row("签署人", "Signer", s.signer or "-"),
        row("单位", "Unit", s.unit_name or "-"),
        row("统一社会信用代码", "Unit code", s.unit_code or "-"),
        row("签署时间", "Signed at", when),
        row("证书序列号", "Certificate serial", s.certificate_serial or "-"),
        row("颁发者", "Issuer", s.issuer or "-"),
        row("证书有效期", "Certificate validity", validity),
        row("所在页", "Pages", ", ".join(str(p) for p in s.pages) or "-"),
        row("签名覆盖", "Covers", pick(s.coverage)),
        row("签名后修改", "After signing", pick(s.modification)),
    ]
    if s.reason:
        parts.append(row("签署原因", "Reason", s.reason))
    parts.append(row("签名域", "Field", s.field_name or "-"))
    parts.append("</table>")
    if s.reasons:
        marks = {"invalid": "✖", "untrusted": "!", "info": "i"}
        parts.append("<ul>" + "".join(
            f"<li>{marks.get(r.severity, '•')} {e(pick(r.text))}</li>" for r in s.reasons) + "</ul>")
    if s.changes:
        parts.append(f"<p><b>{e(tr('签名后的改动：', 'Changed after signing:'))}</b></p><ul>"
                     + "".join(f"<li>{e(pick(c))}</li>" for c in s.changes) + "</ul>")
    return "".join(parts)


class SignaturePanel(QWidget):
    signature_clicked = Signal(object)  # SignatureView

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signaturePanel")
        self.view: VerificationView | None = None
        self.state = "empty"  # "empty", "checking", "done", "error"
        self.error_text = ""
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.summary = QLabel()
        self.summary.setObjectName("signatureSummary")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("signatureList")
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(lambda _row: self._show_details())
        self.list.itemClicked.connect(lambda item: self._emit(self.list.row(item)))
        self.details = QTextBrowser()
        self.details.setObjectName("signatureDetails")
        self.details.setOpenLinks(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.details, 2)
        layout.addStretch(0)
        self.retranslate()

    def set_checking(self) -> None:
        self.state, self.view = "checking", None
        self.list.clear()
        self.details.clear()
        self._render_summary()

    def set_empty(self) -> None:
        self.state, self.view = "empty", None
        self.list.clear()
        self.details.clear()
        self._render_summary()

    def set_error(self, text: str) -> None:
        self.state, self.view, self.error_text = "error", None, text
        self.list.clear()
        self.details.clear()
        self._render_summary()

    def set_view(self, view: VerificationView) -> None:
        self.state, self.view = "done", view
        self._fill()
        if view.signatures:
            self.list.setCurrentRow(len(view.signatures) - 1)

    def _fill(self) -> None:
        current = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for s in self.view.signatures if self.view else ():
            pages = ",".join(str(p) for p in s.pages[:6]) + ("…" if len(s.pages) > 6 else "")
            where = tr(f"第 {pages} 页", f"page {pages}") if pages else ""
            demo = tr("【演示证书】", " [demo certificate]") if s.demo else ""
            item = QListWidgetItem(f"{pick(s.title)} · {pick(s.verdict_text)}\n{s.who}{demo}  {where}")
            item.setToolTip(f"{pick(s.title)}: {s.who}\n{pick(s.verdict_text)}")
            item.setForeground(QBrush(QColor(s.colour)))
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self.view and 0 <= current < len(self.view.signatures):
            self.list.setCurrentRow(current)
        self._render_summary()
        self._show_details()

    def _render_summary(self) -> None:
        has = self.view is not None and bool(self.view.signatures)
        self.list.setVisible(has)
        self.details.setVisible(has)
        if self.state == "checking":
            self.summary.setText(tr("正在验证签名…", "Checking signatures…"))
        elif self.state == "error":
            self.summary.setText(self.error_text)
        elif self.state == "empty" or self.view is None:
            self.summary.setText(tr("打开 PDF 后在此显示其中的签名。", "Signatures of the open PDF appear here."))
        else:
            text = pick(self.view.summary)
            if self.view.signatures and self.view.trusted_roots == 0:
                text += tr("（未配置信任根证书，无法确认签署人身份）",
                           " (no trusted root certificates are configured, so signers cannot be trusted)")
            for f in self.view.findings:
                text += "\n" + pick(f.text)
            self.summary.setText(text)

    def _show_details(self) -> None:
        row = self.list.currentRow()
        if self.view is None or not 0 <= row < len(self.view.signatures):
            self.details.clear()
            return
        self.details.setHtml(signature_html(self.view.signatures[row]))

    def _emit(self, row: int) -> None:
        self._show_details()
        if self.view is not None and 0 <= row < len(self.view.signatures):
            self.signature_clicked.emit(self.view.signatures[row])

    def select(self, index: int) -> None:
        """Select signature ``index`` (0-based), as a click would."""
        self.list.setCurrentRow(index)
        self._emit(index)

    def retranslate(self) -> None:
        self.title.setText(tr("签名与验证", "Signatures"))
        if self.view is not None:
            self._fill()
        else:
            self._render_summary()
        self.list.setToolTip(tr("单击跳转到该印章", "Click to jump to the seal"))
        self.details.setAlignment(Qt.AlignmentFlag.AlignLeft)

"""The UKey panel: inserted keys and their identities, certificates, PIN state and seals.

It renders :class:`app.ui.models.keys.IdentityView` objects and asks for actions by
signals; the window does the token work (on worker threads) and feeds it back.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import pick, tr
from app.ui.models.keys import DEMO_LABEL, CertView, IdentityView, PinView
from app.ui.widgets.palette import SealPalette


def _cert_html(cert: CertView | None, title: tuple[str, str]) -> str:
    head = f"<b>{html.escape(pick(title))}</b>"
    c = tr("：", ": ")
    if cert is None:
        return head + c + html.escape(tr("无", "none"))
    return (
        f"{head}<br>"
        f"&nbsp;&nbsp;{html.escape(tr('序列号', 'Serial'))}{c}{html.escape(cert.serial)}<br>"
        f"&nbsp;&nbsp;{html.escape(tr('颁发者', 'Issuer'))}{c}{html.escape(cert.issuer)}<br>"
        f"&nbsp;&nbsp;{html.escape(tr('有效期', 'Valid'))}{c}{cert.not_before:%Y-%m-%d} — {cert.not_after:%Y-%m-%d}<br>"
        f'&nbsp;&nbsp;<span style="color:{cert.colour};font-weight:600">{html.escape(pick(cert.expiry_text))}</span>'
    )


class KeyPanel(QWidget):
    identity_selected = Signal(str)
    refresh_requested = Signal()
    change_pin_requested = Signal()
    unblock_requested = Signal()
    certificate_requested = Signal(str)  # "sign" or "enc"
    add_image_requested = Signal()
    keyword_requested = Signal()
    cross_page_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyPanel")
        self.views: list[IdentityView] = []
        self.current: IdentityView | None = None
        self.pin: PinView | None = None
        self.scanning = False
        self.problems: list[str] = []

        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.combo = QComboBox()
        self.combo.setObjectName("identityCombo")
        self.combo.currentIndexChanged.connect(self._picked)
        self.refresh = QToolButton()
        self.refresh.setText("⟳")
        self.refresh.clicked.connect(self.refresh_requested)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh)

        self.demo = QLabel()
        self.demo.setObjectName("demoBadge")
        self.demo.setWordWrap(True)
        self.demo.setStyleSheet("background:#fff3e0;color:#e65100;border:1px solid #ffb74d;"
                                "border-radius:3px;padding:3px;font-weight:600")
        self.status = QLabel()
        self.status.setObjectName("keyStatus")
        self.status.setWordWrap(True)
        self.details = QLabel()
        self.details.setObjectName("identityDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pin_label = QLabel()
        self.pin_label.setObjectName("pinState")
        self.pin_label.setWordWrap(True)

        self.sign_cert = QPushButton()
        self.sign_cert.clicked.connect(lambda: self.certificate_requested.emit("sign"))
        self.enc_cert = QPushButton()
        self.enc_cert.clicked.connect(lambda: self.certificate_requested.emit("enc"))
        self.change_pin = QPushButton()
        self.change_pin.clicked.connect(self.change_pin_requested)
        self.unblock = QPushButton()
        self.unblock.clicked.connect(self.unblock_requested)
        buttons = QGridLayout()
        buttons.addWidget(self.sign_cert, 0, 0)
        buttons.addWidget(self.enc_cert, 0, 1)
        buttons.addWidget(self.change_pin, 1, 0)
        buttons.addWidget(self.unblock, 1, 1)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        self.seals_title = QLabel()
        self.seals_title.setObjectName("panelTitle")
        self.seals_hint = QLabel()
        self.seals_hint.setWordWrap(True)
        self.seals_hint.setStyleSheet("color:#555")
        self.palette_ = SealPalette()
        self.add_image = QPushButton()
        self.add_image.clicked.connect(self.add_image_requested)
        self.keyword = QPushButton()
        self.keyword.setObjectName("keywordButton")
        self.keyword.clicked.connect(self.keyword_requested)
        self.cross = QPushButton()
        self.cross.setObjectName("crossPageButton")
        self.cross.clicked.connect(self.cross_page_requested)
        place = QGridLayout()
        place.addWidget(self.add_image, 0, 0, 1, 2)
        place.addWidget(self.keyword, 1, 0)
        place.addWidget(self.cross, 1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.demo)
        layout.addWidget(self.status)
        layout.addWidget(self.details)
        layout.addWidget(self.pin_label)
        layout.addLayout(buttons)
        layout.addWidget(line)
        layout.addWidget(self.seals_title)
        layout.addWidget(self.seals_hint)
        layout.addWidget(self.palette_, 1)
        layout.addLayout(place)
        self.retranslate()

    # -- data ------------------------------------------------------------------------------------
    def set_identities(self, views: Sequence[IdentityView], problems: Sequence[str] = ()) -> None:
        keep = self.current.key_id if self.current else None
        self.views = list(views)
        self.problems = list(problems)
        self.scanning = False
        self.combo.blockSignals(True)
        self.combo.clear()
        for i, v in enumerate(self.views):
            self.combo.addItem(pick(v.title), v.key_id)
            self.combo.setItemData(i, pick(v.title), Qt.ItemDataRole.ToolTipRole)
        index = next((i for i, v in enumerate(self.views) if v.key_id == keep), 0 if self.views else -1)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        new = self.views[index] if index >= 0 else None
        changed = (new.key_id if new else None) != keep
        self.current = new
        self.combo.setToolTip(pick(new.title) if new else "")
        if changed:
            self.pin = None
        self._render()
        if changed:
            self.identity_selected.emit(new.key_id if new else "")

    def set_pin(self, pin: PinView | None) -> None:
        self.pin = pin
        self._render()

    def set_scanning(self) -> None:
        self.scanning = True
        self._render()

    def _picked(self, index: int) -> None:
        self.current = self.views[index] if 0 <= index < len(self.views) else None
        self.pin = None
        self._render()
        self.identity_selected.emit(self.current.key_id if self.current else "")

    # -- rendering ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.title.setText(tr("UKey 与证书", "UKey and certificates"))
        self.refresh.setToolTip(tr("重新检测 UKey", "Look for keys again"))
        self.sign_cert.setText(tr("签名证书…", "Signing cert…"))
        self.enc_cert.setText(tr("加密证书…", "Encryption cert…"))
        self.change_pin.setText(tr("修改口令…", "Change PIN…"))
        self.unblock.setText(tr("解锁口令…", "Unblock PIN…"))
        self.seals_title.setText(tr("印章", "Seals"))
        self.seals_hint.setText(tr("把印章拖到页面上；可移动、拖动右下角调整大小。",
                                   "Drag a seal onto a page; move it, or drag its corner to resize."))
        self.add_image.setText(tr("添加图片印章…", "Add a seal picture…"))
        self.keyword.setText(tr("按关键字盖章…", "Seal at keyword…"))
        self.cross.setText(tr("骑缝章…", "Cross-page seal…"))
        self.demo.setText(pick(DEMO_LABEL))
        for i, v in enumerate(self.views):
            self.combo.setItemText(i, pick(v.title))
            self.combo.setItemData(i, pick(v.title), Qt.ItemDataRole.ToolTipRole)
        self.combo.setToolTip(pick(self.current.title) if self.current else "")
        self.palette_.retranslate()
        self._render()

    def _render(self) -> None:
        v = self.current
        has = v is not None
        for w in (self.combo, self.sign_cert, self.enc_cert, self.change_pin, self.unblock):
            w.setEnabled(has)
        self.combo.setVisible(bool(self.views))
        self.demo.setVisible(bool(v and v.is_demo))
        if self.scanning and not self.views:
            self.status.setText(tr("正在检测 UKey…", "Looking for keys…"))
        elif not has:
            text = tr("未检测到 UKey。请插入 UKey，并确认已安装 CA 提供的驱动。",
                      "No UKey found. Insert your key and make sure the CA's driver is installed.")
            if self.problems:
                text += "\n" + "\n".join(self.problems[:3])
            self.status.setText(text)
        elif len(self.views) > 1:
            self.status.setText(tr(f"检测到 {len(self.views)} 个证书，请选择用于签章的证书。",
                                   f"{len(self.views)} identities found; choose the one that signs."))
        else:
            self.status.setText("")
        if has and self.problems:  # a second driver that failed: say so, the key found still works
            lines = [self.status.text()] if self.status.text() else []
            self.status.setText("\n".join(lines + ["⚠ " + p for p in self.problems[:2]]))
        self.status.setVisible(bool(self.status.text()))
        if v is None:
            self.details.setText("")
            self.pin_label.setText("")
            self.details.setVisible(False)
            self.pin_label.setVisible(False)
            return
        c = tr("：", ": ")
        rows = [
            f"<b>{html.escape(tr('单位', 'Unit'))}</b>{c}{html.escape(v.unit_name or '-')}",
            f"<b>{html.escape(tr('统一社会信用代码', 'Unified social credit code'))}</b>{c}"
            f"{html.escape(v.unit_code or '-')}",
            f"<b>{html.escape(tr('法定代表人', 'Legal representative'))}</b>{c}{html.escape(v.legal_name or '-')}",
            _cert_html(v.sign, ("签名证书", "Signing certificate")),
            _cert_html(v.enc, ("加密证书", "Encryption certificate")),
        ]
        if v.warnings:
            rows.append('<span style="color:#c25e00">' + "<br>".join(html.escape(w) for w in v.warnings)
                        + "</span>")
        self.details.setText("<br>".join(rows))
        self.details.setVisible(True)
        if self.pin is None:
            self.pin_label.setText(tr("口令状态：读取中…", "PIN state: reading…"))
        else:
            colour = "#a00000" if self.pin.locked else "#c25e00" if self.pin.low else "#333"
            self.pin_label.setText(f'<span style="color:{colour}">{html.escape(pick(self.pin.text))}</span>')
        self.pin_label.setVisible(True)

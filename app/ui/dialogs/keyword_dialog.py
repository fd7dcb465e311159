"""Seal at a keyword (关键字签章): every hit, or the n-th, of a text such as 投标人（盖章）
gets a seal. The positions come from the engine's own placement resolution and are
shown on the pages for confirmation before anything is placed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialogs.placement_common import PreviewDialog, Spots
from app.ui.i18n import tr
from app.ui.models.document import SealChoice

PRESETS = ("投标人（盖章）", "法定代表人（签字或盖章）", "单位名称（盖章）", "投标人名称（盖章）")


class KeywordDialog(PreviewDialog):
    def __init__(self, choices: Sequence[SealChoice], parent: QWidget | None = None,
                 keyword: str = PRESETS[0], seal_size_mm: float = 42.0) -> None:
        super().__init__(choices, parent)
        self.setObjectName("keywordDialog")
        self.setWindowTitle(tr("按关键字盖章", "Seal at a keyword"))
        self.setMinimumWidth(460)
        self.keyword = QComboBox()
        self.keyword.setObjectName("keywordEdit")
        self.keyword.setEditable(True)
        self.keyword.addItems(PRESETS)
        self.keyword.setEditText(keyword)
        self.every = QRadioButton(tr("每一处", "Every occurrence"))
        self.every.setObjectName("everyHit")
        self.nth = QRadioButton(tr("第几处：", "Occurrence number:"))
        self.nth.setObjectName("nthHit")
        self.every.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.every)
        group.addButton(self.nth)
        self.number = QSpinBox()
        self.number.setObjectName("hitNumber")
        self.number.setRange(1, 9999)
        occ = QHBoxLayout()
        occ.addWidget(self.every)
        occ.addWidget(self.nth)
        occ.addWidget(self.number)
        occ.addStretch(1)
        self.size_spin = QDoubleSpinBox()
        self.size_spin.setRange(10.0, 80.0)
        self.size_spin.setSuffix(" mm")
        self.size_spin.setValue(seal_size_mm)
        form = QFormLayout()
        form.addRow(tr("关键字", "Keyword"), self.keyword)
        form.addRow(tr("印章", "Seal"), self.seal)
        form.addRow(tr("位置", "Where"), occ)
        form.addRow(tr("印章大小", "Seal size"), self.size_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

    def spec(self) -> dict[str, Any] | None:
        text = self.keyword.currentText().strip()
        if not text:
            self.invalid(tr("请输入关键字。", "Type a keyword."))
            return None
        return {"kind": "keyword", "keyword": text,
                "occurrence": None if self.every.isChecked() else int(self.number.value()),
                "size_mm": float(self.size_spin.value())}

    def describe(self, spots: Spots) -> str:
        pages = sorted({sig[0][0] + 1 for sig in spots if sig})
        shown = ", ".join(str(p) for p in pages[:12]) + (" …" if len(pages) > 12 else "")
        return tr(f"找到 {len(spots)} 处，位于第 {shown} 页；印章已在页面上预览，确认后放置。",
                  f"Found {len(spots)} place(s), on page(s) {shown}; previewed on the pages - confirm to place them.")

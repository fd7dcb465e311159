"""Cross-page seal (骑缝章): the seal cut into strips along the right edge of several
pages, previewed on the page edges with the engine's own layout before it is planned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialogs.placement_common import PreviewDialog, Spots
from app.ui.i18n import tr
from app.ui.models.document import SealChoice, parse_page_list


class CrossPageDialog(PreviewDialog):
    def __init__(self, choices: Sequence[SealChoice], page_count: int, parent: QWidget | None = None) -> None:
        super().__init__(choices, parent)
        self.setObjectName("crossPageDialog")
        self.setWindowTitle(tr("加盖骑缝章", "Cross-page seal"))
        self.setMinimumWidth(460)
        self.page_count = page_count
        self.pages = QLineEdit()
        self.pages.setObjectName("crossPages")
        self.pages.setPlaceholderText(tr("全部页，或如 1-3,5", "all pages, or e.g. 1-3,5"))
        self.edge = QLabel(tr("右侧页边（每页显示印章的一条）", "Right page edge (each page shows one strip)"))
        self.size_spin = QDoubleSpinBox()
        self.size_spin.setRange(20.0, 80.0)
        self.size_spin.setSuffix(" mm")
        self.size_spin.setValue(40.0)
        self.position = QSpinBox()
        self.position.setObjectName("crossPosition")
        self.position.setRange(0, 100)
        self.position.setSuffix(" %")
        self.position.setValue(50)
        self.per_seal = QSpinBox()
        self.per_seal.setObjectName("pagesPerSeal")
        self.per_seal.setRange(0, 9999)
        self.per_seal.setSpecialValueText(tr("一个印章跨全部所选页", "one seal across all chosen pages"))
        form = QFormLayout()
        form.addRow(tr("印章", "Seal"), self.seal)
        form.addRow(tr("页码", "Pages"), self.pages)
        form.addRow(tr("位置", "Edge"), self.edge)
        form.addRow(tr("垂直位置（页高的百分比）", "Height on the page (% from top)"), self.position)
        form.addRow(tr("印章大小", "Seal size"), self.size_spin)
        form.addRow(tr("每个印章跨几页", "Pages per seal"), self.per_seal)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.buttons)

    def spec(self) -> dict[str, Any] | None:
        try:
            pages = parse_page_list(self.pages.text(), self.page_count)
        except ValueError:
            self.invalid(tr(f"页码格式不对，请写成 1-3,5 这样的形式（共 {self.page_count} 页）。",
                            f"Page list not understood; write it like 1-3,5 (the file has {self.page_count} pages)."))
            return None
        count = self.page_count if pages is None else len(pages)
        if count < 2:
            self.invalid(tr("骑缝章至少需要两页。", "A cross-page seal needs at least two pages."))
            return None
        per = int(self.per_seal.value()) or None
        if per is not None and per < 2:
            self.invalid(tr("每个骑缝章至少要跨两页。", "Each cross-page seal must span at least two pages."))
            return None
        return {"kind": "cross", "pages": pages, "size_mm": float(self.size_spin.value()),
                "center_y": self.position.value() / 100.0, "pages_per_seal": per}

    def describe(self, spots: Spots) -> str:
        pages = sum(len(sig) for sig in spots)
        return tr(f"骑缝章将分成 {pages} 条，盖在 {pages} 页的右侧边缘（{len(spots)} 个签名）；已在页面上预览。",
                  f"The seal is cut into {pages} strips on the right edge of {pages} pages "
                  f"({len(spots)} signature(s)); previewed on the pages.")

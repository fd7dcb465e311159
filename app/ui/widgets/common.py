"""Small Qt helpers shared by the widgets: the language signal, pictures, colours."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from app.ui import i18n


class LanguageSignal(QObject):
    """Announces a language switch; every widget's ``retranslate()`` listens."""

    changed = Signal(str)


_SIGNAL: LanguageSignal | None = None


def language_signal() -> LanguageSignal:
    global _SIGNAL
    if _SIGNAL is None:
        _SIGNAL = LanguageSignal()
    return _SIGNAL


def switch_language(lang: str) -> None:
    i18n.set_language(lang)
    language_signal().changed.emit(i18n.language())


def pixmap_from_png(data: bytes, max_side: int | None = None) -> QPixmap:
    image = QImage.fromData(data)
    pix = QPixmap.fromImage(image)
    if max_side and not pix.isNull():
        pix = pix.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
    return pix


def coloured(text: str, colour: str, bold: bool = False) -> str:
    """Rich text in ``colour`` (HTML-escaped)."""
    import html

    weight = "font-weight:600;" if bold else ""
    return f'<span style="color:{colour};{weight}">{html.escape(text)}</span>'

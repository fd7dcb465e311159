"""The window's language: Chinese by default, English on request (Qt-free).

Every user-visible string is written in both languages where it is used, as
``tr("中文", "English")``, the way :class:`app.errors.BidSealError` carries ``zh`` and
``en``; widgets call :func:`tr` again in their ``retranslate()`` when the language
changes (the Qt side announces it with a signal, :mod:`app.ui.widgets.common`).
Values that come with both sentences (errors, verification reasons) are kept as
:data:`Text` pairs and shown with :func:`pick`.
"""

from __future__ import annotations

from typing import Any

Text = tuple[str, str]
LANGUAGES = ("zh", "en")

_current = "zh"


def set_language(lang: str) -> None:
    global _current
    _current = "en" if str(lang).lower().startswith("en") else "zh"


def language() -> str:
    return _current


def tr(zh: str, en: str) -> str:
    """``zh`` or ``en``, whichever the window currently shows."""
    return en if _current == "en" else zh


def pick(text: Text | None) -> str:
    """The current language's half of a (zh, en) pair ("" for None)."""
    if not text:
        return ""
    return text[1] if _current == "en" else text[0]


def error_text(exc: Any) -> str:
    """The sentence of a :class:`~app.errors.BidSealError` in the current language."""
    zh = getattr(exc, "zh", None)
    en = getattr(exc, "en", None)
    if zh is None or en is None:
        return str(exc)
    return tr(zh, en)

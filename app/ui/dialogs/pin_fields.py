"""PIN entry fields shared by the PIN dialogs: masked, no clipboard, no completion;
their content is taken once into a ``bytearray`` (which the caller wipes) and the
field is cleared right away. A Qt string cannot be wiped; clearing is the most a
widget allows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QWidget

PIN_MIN, PIN_MAX = 6, 16


def pin_edit(parent: QWidget | None = None, name: str = "pinEdit") -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(PIN_MAX)
    edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
    edit.setInputMethodHints(Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhSensitiveData
                             | Qt.InputMethodHint.ImhNoPredictiveText)
    return edit


def take(edit: QLineEdit) -> bytearray:
    """The field's text as UTF-8 bytes; the field is emptied."""
    buf = bytearray(edit.text().encode("utf-8"))
    edit.clear()
    return buf


def length_ok(edit: QLineEdit) -> bool:
    return PIN_MIN <= len(edit.text().encode("utf-8")) <= PIN_MAX


def new_pin_problem(new: QLineEdit, again: QLineEdit, old: QLineEdit | None = None) -> str:
    """What is wrong with a new PIN typed twice ("" when nothing is, or nothing typed yet)."""
    from app.ui.i18n import tr

    if new.text() and not length_ok(new):
        return tr(f"新口令应为 {PIN_MIN}–{PIN_MAX} 位。", f"The new PIN must be {PIN_MIN}–{PIN_MAX} characters.")
    if again.text() and again.text() != new.text():
        return tr("两次输入的新口令不一致。", "The two new PINs differ.")
    if old is not None and new.text() and new.text() == old.text():
        return tr("新口令不能与当前口令相同。", "The new PIN must differ from the current one.")
    return ""


def show_problem(label: QWidget, problem: str, typed: bool) -> None:
    """Show ``problem``; an earlier error (e.g. a wrong PIN) stays until the user types."""
    if problem or typed:
        label.setText(problem)  # type: ignore[attr-defined]

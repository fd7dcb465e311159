"""Unblock a locked user PIN with the administrator PIN (SO PIN) and set a new one."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from app.ui.dialogs.new_pin_dialog import NewPinDialog


class UnblockDialog(NewPinDialog):
    TITLE = ("解锁 UKey 口令", "Unblock the UKey PIN")
    FIRST = ("管理员口令", "Administrator PIN")
    NEW = ("新用户口令", "New user PIN")
    OK = ("解锁", "Unblock")
    INTRO = ("输入 CA 提供的管理员口令（SO PIN）并设置新的用户口令。管理员口令输错次数过多同样会被锁定。",
             "Enter the administrator PIN (SO PIN) from your CA and choose a new user PIN. "
             "Too many wrong administrator PINs lock it too.")
    FIRST_NAME = "adminPin"

    @property
    def admin(self) -> QLineEdit:
        return self.first

"""What the change analysis reports: levels, single changes, the verdict for one signed
revision, the widgets added after it, and a signature's field lock."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AddedWidget",
    "Change",
    "ChangeReport",
    "FieldLock",
    "ModificationLevel",
    "change",
    "worst",
]


class ModificationLevel(enum.Enum):
    """How much changed after a signature, from harmless to disallowed."""

    NONE = "none"
    SIGNATURE_ADDED = "signature_added"
    FORM_FILLED = "form_filled"
    MODIFIED = "modified"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: ModificationLevel) -> bool:
        return self.rank < other.rank


_RANK = {
    ModificationLevel.NONE: 0,
    ModificationLevel.SIGNATURE_ADDED: 1,
    ModificationLevel.FORM_FILLED: 2,
    ModificationLevel.MODIFIED: 3,
}


@dataclass(frozen=True)
class Change:
    """One observed change: ``code`` is stable, ``obj`` the object number (if any);
    ``details`` names what a reader would see (``kind``, ``page``, ``rect``) when known."""

    code: str
    level: ModificationLevel
    zh: str
    en: str
    obj: int | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level.value, "object": self.obj,
                "zh": self.zh, "en": self.en, "details": dict(self.details)}


@dataclass(frozen=True)
class AddedWidget:
    """A signature widget that appeared (or got an appearance) after the signed revision.

    It is only harmless when it belongs to a signature of its own that is intact and
    covers it; the verifier checks that once every signature is verified
    (:func:`app.pdfsign.verify.document`), because only then is that known.
    """

    num: int
    #: the object number of the /Sig value of the widget's field (None: no /V)
    sig_num: int | None
    page: int | None
    rect: tuple[float, float, float, float] | None
    #: draws something: a non-empty /Rect, a normal appearance, not hidden
    visible: bool
    #: revision (0-based) in which the widget's final version was written
    revision: int


def _rule_locks(action: str, fields: frozenset[str], name: str | None) -> bool:
    if action == "Include":
        return name is not None and name in fields
    if action == "Exclude":
        return name is None or name not in fields
    return True  # All, or an unknown action: lock everything (the cautious reading)


@dataclass(frozen=True)
class FieldLock:
    """What a signature locks: FieldMDP entries of its /Reference and its field's /Lock.

    Each rule is (``All`` | ``Include`` | ``Exclude``, fully qualified field names); a
    field is locked when any rule locks it. ``p`` is a /Lock's /P (PDF 2.0), which
    restricts later changes like DocMDP's /P."""

    rules: tuple[tuple[str, frozenset[str]], ...] = ()
    p: int | None = None

    def locks(self, name: str | None) -> bool:
        return any(_rule_locks(action, fields, name) for action, fields in self.rules)


@dataclass
class ChangeReport:
    """The verdict for one signed revision."""

    level: ModificationLevel = ModificationLevel.NONE
    changes: list[Change] = field(default_factory=list)
    revisions_after: int = 0
    #: signature widgets added after the signed revision (see :class:`AddedWidget`)
    added_widgets: list[AddedWidget] = field(default_factory=list)

    def add(self, change: Change) -> None:
        self.changes.append(change)
        if self.level < change.level:
            self.level = change.level

    @property
    def disallowed(self) -> list[Change]:
        return [c for c in self.changes if c.level is ModificationLevel.MODIFIED]


L = ModificationLevel

MESSAGES: dict[str, tuple[str, str]] = {
    "stray_bytes": ("最后一个 %%EOF 之后有多余数据（文件被追加或截断）。",
                    "There are stray bytes after the last %%EOF (data appended or file truncated)."),
    "malformed_update": ("增量更新中含有不属于任何对象的数据。",
                         "An incremental update contains bytes outside any registered object."),
    "unreadable": ("签名后的修订无法解析，无法确认未被修改。",
                   "A later revision cannot be parsed, so changes cannot be ruled out."),
    "catalog_replaced": ("文档目录（/Root）被替换。", "The document catalog (/Root) was replaced."),
    "catalog_changed": ("文档目录被修改。", "The document catalog was changed."),
    "encrypt_changed": ("加密设置被修改。", "The encryption settings were changed."),
    "page_changed": ("页面对象被修改（内容、资源或属性）。",
                     "A page object was changed (content, resources or attributes)."),
    "page_content_changed": ("页面内容流被修改。", "A page content stream was changed."),
    "object_changed": ("签名时已存在的对象被修改或替换。",
                       "An object that existed when signing was changed or replaced."),
    "object_deleted": ("签名时已存在的对象被删除。", "An object that existed when signing was deleted."),
    "dangling_reference_defined": (
        "签名时文档引用的一个对象当时不存在，签名后才被定义（预先埋设的“影子”内容被揭开）。",
        "An object that the signed document referred to did not exist when signing and was defined "
        "afterwards (prepared shadow content revealed)."),
    "object_stream_changed": ("签名时的压缩对象流被替换，其中的对象随之改变。",
                              "An object stream of the signed revision was replaced, changing the objects in it."),
    "annotation_removed": ("页面上的注释或签名控件被删除。",
                           "An annotation or signature widget was removed from a page."),
    "annotation_added": ("签名后在页面上新增了注释，它会显示在页面上。",
                         "An annotation was added to a page after signing; it is drawn on the page."),
    "annotation_changed": ("已有注释被修改。", "An existing annotation was changed."),
    "unsigned_widget_added": (
        "签名后新增的签名控件没有属于它自己的有效签名，却会显示在页面上。",
        "A signature widget added after signing has no valid signature of its own, yet it is drawn on the page."),
    "field_removed": ("表单域被删除。", "A form field was removed."),
    "field_added": ("新增了非签名表单域。", "A non-signature form field was added."),
    "form_changed": (
        "签名后表单域被填写或修改，读者看到的内容与签名时不同（普通签名不允许；只有允许填表的认证签名才允许）。",
        "Form fields were filled in or changed after signing, so a reader sees something else than "
        "what was signed (not allowed after an approval signature; only a certification that permits "
        "form filling allows it)."),
    "field_locked": ("签名锁定的表单域在签名后被修改。", "A form field locked by the signature was changed after signing."),
    "need_appearances_changed": (
        "签名后表单外观的生成方式被更改（/NeedAppearances），阅读器显示的表单内容可能因此改变。",
        "How viewers draw form fields was changed after signing (/NeedAppearances); the fields a reader "
        "sees may differ from what was signed."),
    "acroform_changed": ("表单字典（/AcroForm）被修改。", "The form dictionary (/AcroForm) was changed."),
    "signature_changed": ("已有签名（签名字典、签名域或其外观）被修改。",
                          "An existing signature (its dictionary, field or appearance) was changed."),
    "docmdp_forbids": ("该认证签名不允许签名后的任何修改。",
                       "This certification signature allows no changes after signing."),
    "signature_added": ("签名后新增了签名。", "A signature was added after signing."),
    "form_filled": ("签名后填写了表单域（该认证签名允许）。",
                    "Form fields were filled in after signing (this certification allows it)."),
    "bookkeeping": ("签名后更新了元数据或验证信息。", "Metadata or validation data was updated after signing."),
}


def change(code: str, level: ModificationLevel, obj: int | None = None, extra: str = "",
           **details: Any) -> Change:
    zh, en = MESSAGES[code]
    if extra:
        zh, en = f"{zh}（{extra}）", f"{en} ({extra})"
    return Change(code, level, zh, en, obj, dict(details))


def worst(levels: Any) -> ModificationLevel:
    out = L.NONE
    for lv in levels:
        if out < lv:
            out = lv
    return out

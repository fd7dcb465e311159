"""What changed in a PDF after a signature was made.

A signature covers the bytes of one revision. Later incremental updates are
legitimate when they only add further signatures (or fill in form fields), and
an attack when they change what the signer saw. This module compares the
signed revision with the final one, object by object, and grades the result in
the spirit of pyHanko's ``ModificationLevel``:

``none`` < ``signature_added`` < ``form_filled`` < ``modified``

What is compared
----------------
* Every object number whose xref entry differs between the signed revision and
  the final one is loaded from both revisions (with :mod:`.pdfstructure`, not a
  repairing PDF library) and compared **by value**: dictionaries key by key,
  arrays item by item, references by number, streams by dictionary and raw data.
  Objects rewritten with identical values count as unchanged.
* Each changed object is judged by the role it played in the **signed**
  revision (catalog, page, AcroForm, field, widget, appearance stream, signature
  dictionary, metadata, DSS, document info, xref/object stream).

Allowed (``signature_added``)
    new signature fields and their widgets (one or several, on any pages), with
    appearance streams and /Sig values; a previously empty signature field
    receiving /V, /AP, /AS, /MK, /DA; ``/AcroForm`` gaining /Fields entries that
    are signature fields, /SigFlags; the catalog gaining /AcroForm; page
    ``/Annots`` arrays (inline or indirect) gaining only signature widgets;
    DSS, XMP metadata, document info, /ID, xref and object-stream bookkeeping.
Allowed (``form_filled``)
    /V, /AP, /AS of existing non-signature fields and their widgets, their
    appearance streams, /AcroForm /DR /DA /NeedAppearances. (Like pyHanko, a
    widget's /BS, /MK or /DA changing is *not* form filling: it restyles the field.)
Forbidden (``modified``)
    anything else, in particular changed page dictionaries or content streams,
    any other object replaced or deleted, fields or annotations removed, new
    non-signature fields, new non-widget annotations, a signed signature field or
    its /Sig dictionary or appearance touched, a replaced catalog or /Encrypt,
    bytes after the last ``%%EOF``, and incremental updates containing anything
    besides registered objects, xref, trailer and ``%%EOF``. A certification
    signature with DocMDP ``/P 1`` forbids even new signatures.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.pdfsign.pdfstructure import (
    PdfDict,
    PdfStream,
    PdfStructure,
    PdfStructureError,
    Ref,
    Revision,
)

__all__ = [
    "Change",
    "ChangeReport",
    "ModificationLevel",
    "analyse_changes",
    "same_value",
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
    """One observed change: ``code`` is stable, ``obj`` the object number (if any)."""

    code: str
    level: ModificationLevel
    zh: str
    en: str
    obj: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level.value, "object": self.obj,
                "zh": self.zh, "en": self.en}


@dataclass
class ChangeReport:
    """The verdict for one signed revision."""

    level: ModificationLevel = ModificationLevel.NONE
    changes: list[Change] = field(default_factory=list)
    revisions_after: int = 0

    def add(self, change: Change) -> None:
        self.changes.append(change)
        if self.level < change.level:
            self.level = change.level

    @property
    def disallowed(self) -> list[Change]:
        return [c for c in self.changes if c.level is ModificationLevel.MODIFIED]


L = ModificationLevel

_MESSAGES: dict[str, tuple[str, str]] = {
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
    "annotation_removed": ("页面上的注释或签名控件被删除。",
                           "An annotation or signature widget was removed from a page."),
    "annotation_added": ("页面上新增了非签名注释。", "A non-signature annotation was added to a page."),
    "annotation_changed": ("已有注释被修改。", "An existing annotation was changed."),
    "field_removed": ("表单域被删除。", "A form field was removed."),
    "field_added": ("新增了非签名表单域。", "A non-signature form field was added."),
    "acroform_changed": ("表单字典（/AcroForm）被修改。", "The form dictionary (/AcroForm) was changed."),
    "signature_changed": ("已有签名（签名字典、签名域或其外观）被修改。",
                          "An existing signature (its dictionary, field or appearance) was changed."),
    "docmdp_forbids": ("该认证签名不允许签名后的任何修改。",
                       "This certification signature allows no changes after signing."),
    "signature_added": ("签名后新增了签名。", "A signature was added after signing."),
    "form_filled": ("签名后填写了表单域。", "Form fields were filled in after signing."),
    "bookkeeping": ("签名后更新了元数据或验证信息。", "Metadata or validation data was updated after signing."),
}


def _change(code: str, level: ModificationLevel, obj: int | None = None, extra: str = "") -> Change:
    zh, en = _MESSAGES[code]
    if extra:
        zh, en = f"{zh}（{extra}）", f"{en} ({extra})"
    return Change(code, level, zh, en, obj)


# -- value comparison -----------------------------------------------------------------------

_STREAM_IGNORED_KEYS = frozenset({"Length"})


def same_value(a: Any, b: Any, depth: int = 0) -> bool:
    """Structural equality of parsed PDF values (references compared by number)."""
    if depth > 64:
        return False
    if isinstance(a, PdfStream) or isinstance(b, PdfStream):
        if not (isinstance(a, PdfStream) and isinstance(b, PdfStream)):
            return False
        da = {k: v for k, v in a.dict.items() if k not in _STREAM_IGNORED_KEYS}
        db = {k: v for k, v in b.dict.items() if k not in _STREAM_IGNORED_KEYS}
        if not same_value(da, db, depth + 1):
            return False
        if a.data_end - a.data_start != b.data_end - b.data_start and a.inline is None:
            return False
        return a.raw() == b.raw()
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(same_value(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b) and not (isinstance(a, bytes) and isinstance(b, bytes)):
        return False
    return bool(a == b)


# -- roles of objects in the signed revision -------------------------------------------------


@dataclass
class _FieldInfo:
    num: int | None
    ft: str | None
    signed: bool


@dataclass
class _Roles:
    roles: dict[int, set[str]] = field(default_factory=dict)
    #: field info for fields and widgets (by object number)
    fields: dict[int, _FieldInfo] = field(default_factory=dict)
    #: appearance stream object -> owning widget's field info
    appearance_owner: dict[int, _FieldInfo] = field(default_factory=dict)

    def add(self, num: int, role: str) -> None:
        self.roles.setdefault(num, set()).add(role)

    def of(self, num: int) -> set[str]:
        return self.roles.get(num, set())


def _ref_nums(value: Any) -> list[int]:
    if isinstance(value, Ref):
        return [value.num]
    if isinstance(value, list):
        return [v.num for v in value if isinstance(v, Ref)]
    return []


class _View:
    """Object access in one revision with cheap cycle-safe helpers."""

    def __init__(self, s: PdfStructure, rev: Revision) -> None:
        self.s = s
        self.rev = rev

    def get(self, num: int) -> Any:
        return self.s.get(num, self.rev)

    def resolve(self, value: Any) -> Any:
        return self.s.resolve(value, self.rev)

    def field_info(self, node: Any, num: int | None) -> _FieldInfo:
        """FT (inherited through /Parent) and whether /V is set, for a field or widget."""
        ft = None
        signed = False
        cur = node
        seen: set[int] = set()
        depth = 0
        while isinstance(cur, dict) and depth < 32:
            if ft is None and "FT" in cur:
                ft = str(cur["FT"])
            if "V" in cur and cur["V"] is not None:
                signed = True
            parent = cur.get("Parent")
            if not isinstance(parent, Ref) or parent.num in seen:
                break
            seen.add(parent.num)
            cur = self.get(parent.num)
            depth += 1
        return _FieldInfo(num, ft, signed if ft == "Sig" else bool(signed))


def _collect_roles(view: _View) -> _Roles:
    out = _Roles()
    s, rev = view.s, view.rev
    trailer = s.trailer(rev)
    root_ref = trailer.get("Root")
    info_ref = trailer.get("Info")
    if isinstance(info_ref, Ref):
        out.add(info_ref.num, "info")
    if not isinstance(root_ref, Ref):
        return out
    out.add(root_ref.num, "catalog")
    root = view.get(root_ref.num)
    if not isinstance(root, dict):
        return out
    for key, role in (("Metadata", "metadata"), ("AcroForm", "acroform"), ("DSS", "dss")):
        for n in _ref_nums(root.get(key)):
            out.add(n, role)
    dss = view.resolve(root.get("DSS"))
    if isinstance(dss, dict):
        for v in dss.values():
            for n in _ref_nums(v):
                out.add(n, "dss")
    # pages
    for num, node, leaf in s.walk_pages(root.get("Pages"), rev):
        if not leaf:
            out.add(num, "pages")
            continue
        out.add(num, "page")
        for n in _ref_nums(node.get("Contents")):
            out.add(n, "page_content")
        contents = node.get("Contents")
        if isinstance(contents, Ref):
            arr = view.get(contents.num)
            if isinstance(arr, list):
                for n in _ref_nums(arr):
                    out.add(n, "page_content")
        annots_val = node.get("Annots")
        if isinstance(annots_val, Ref):
            out.add(annots_val.num, "annots")
        annots = view.resolve(annots_val)
        if isinstance(annots, list):
            for a in annots:
                if isinstance(a, Ref):
                    _annotation_roles(view, out, a.num)
    # fields
    acro = view.resolve(root.get("AcroForm"))
    if isinstance(acro, dict):
        fields_val = acro.get("Fields")
        if isinstance(fields_val, Ref):
            out.add(fields_val.num, "fields_array")
        todo = [(r, 0) for r in _ref_nums(view.resolve(fields_val))]
        fseen: set[int] = set()
        while todo:
            num, depth = todo.pop()
            if num in fseen or depth > 32:
                continue
            fseen.add(num)
            node = view.get(num)
            if not isinstance(node, dict):
                continue
            info = view.field_info(node, num)
            out.fields[num] = info
            out.add(num, "field")
            v = node.get("V")
            if info.ft == "Sig" and isinstance(v, Ref):
                out.add(v.num, "sig")
            kids = view.resolve(node.get("Kids"))
            if isinstance(node.get("Kids"), Ref):
                out.add(node["Kids"].num, "kids_array")
            if isinstance(kids, list):
                todo.extend((k, depth + 1) for k in _ref_nums(kids))
            if node.get("Subtype") == "Widget":
                _appearance_roles(view, out, node, info)
    for num in list(out.roles):
        val = None
        try:
            val = view.get(num)
        except PdfStructureError:
            continue
        if isinstance(val, PdfStream) and val.dict.get("Type") in ("ObjStm", "XRef"):
            out.add(num, "container")
    return out


def _annotation_roles(view: _View, out: _Roles, num: int) -> None:
    node = view.get(num)
    if not isinstance(node, dict):
        return
    if node.get("Subtype") == "Widget":
        info = view.field_info(node, num)
        out.fields.setdefault(num, info)
        out.add(num, "widget")
        v = node.get("V")
        if info.ft == "Sig" and isinstance(v, Ref):
            out.add(v.num, "sig")
        _appearance_roles(view, out, node, info)
    else:
        out.add(num, "annotation")


def _appearance_roles(view: _View, out: _Roles, widget: dict[str, Any], info: _FieldInfo) -> None:
    ap = view.resolve(widget.get("AP"))
    if not isinstance(ap, dict):
        return
    for v in ap.values():
        nums = _ref_nums(v)
        sub = view.resolve(v) if not nums or isinstance(v, Ref) else None
        if isinstance(sub, dict) and not isinstance(sub, PdfStream):
            nums += [n for vv in sub.values() for n in _ref_nums(vv)]
        for n in nums:
            out.add(n, "appearance")
            out.appearance_owner.setdefault(n, info)


# -- the analysis ---------------------------------------------------------------------------------


_FIELD_FILL_KEYS = frozenset({"V", "AP", "AS"})
_SIG_FIELD_SIGN_KEYS = frozenset({"V", "AP", "AS", "MK", "DA", "Lock", "SV"})
_CATALOG_BOOKKEEPING = frozenset({"DSS", "Metadata", "Extensions", "Version"})
_ACRO_SIG_KEYS = frozenset({"Fields", "SigFlags"})
_ACRO_FILL_KEYS = frozenset({"DR", "DA", "NeedAppearances"})
_TRAILER_IGNORED = frozenset({"Size", "Prev", "XRefStm", "Index", "W", "Filter", "DecodeParms",
                              "Length", "Type", "ID", "Info", "DL"})


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    keys = set(old) | set(new)
    return {k for k in keys if k not in old or k not in new or not same_value(old[k], new[k])}


class _Analyser:
    def __init__(self, s: PdfStructure, signed: Revision, docmdp_p: int | None) -> None:
        self.s = s
        self.old = _View(s, signed)
        self.new = _View(s, s.revisions[-1])
        self.report = ChangeReport(revisions_after=len(s.revisions) - 1 - signed.index)
        self.docmdp_p = docmdp_p
        self.roles = _Roles()
        self.new_fields_ok: set[int] = set()

    def add(self, code: str, level: ModificationLevel, obj: int | None = None, extra: str = "") -> None:
        if level is L.SIGNATURE_ADDED and self.docmdp_p == 1 or level is L.FORM_FILLED and self.docmdp_p == 1:
            self.report.add(_change("docmdp_forbids", L.MODIFIED, obj))
        self.report.add(_change(code, level, obj, extra))

    def run(self) -> ChangeReport:
        s = self.s
        if s.trailing_garbage is not None:
            self.add("stray_bytes", L.MODIFIED, extra=f"offset {s.trailing_garbage}")
        signed = self.old.rev
        if signed.index == len(s.revisions) - 1:
            return self.report
        for rev in s.revisions[signed.index + 1:]:
            for problem, offset in s.scan_increment(rev):
                self.add("malformed_update", L.MODIFIED, extra=f"{problem} @ {offset}")
        try:
            self.roles = _collect_roles(self.old)
            self._compare_trailers()
            self._compare_objects()
        except PdfStructureError as exc:
            self.add("unreadable", L.MODIFIED, extra=exc.en)
        return self.report

    def _compare_trailers(self) -> None:
        old_t = self.s.trailer(self.old.rev)
        new_t = self.s.trailer(self.new.rev)
        if not same_value(old_t.get("Root"), new_t.get("Root")):
            self.add("catalog_replaced", L.MODIFIED)
        if not same_value(old_t.get("Encrypt"), new_t.get("Encrypt")):
            self.add("encrypt_changed", L.MODIFIED)
        if not same_value(old_t.get("Info"), new_t.get("Info")):
            self.add("bookkeeping", L.SIGNATURE_ADDED)
        others = {k for k in _changed_keys(old_t, new_t)
                  if k not in _TRAILER_IGNORED and k not in ("Root", "Encrypt")}
        if others:
            self.add("object_changed", L.MODIFIED, extra="trailer " + ",".join(sorted(others)))

    def _compare_objects(self) -> None:
        old_map = self.s.object_map(self.old.rev)
        new_map = self.s.object_map(self.new.rev)
        nums = sorted(set(old_map) | set(new_map))
        for num in nums:
            a, b = old_map.get(num), new_map.get(num)
            if a == b:
                continue
            old_val = self.old.get(num) if a is not None and a.kind != "f" else None
            new_val = self.new.get(num) if b is not None and b.kind != "f" else None
            if old_val is None:
                continue  # a new object: judged where something old points to it
            if new_val is None:
                if self._is_container(old_val):
                    continue
                self.add("object_deleted", L.MODIFIED, num)
                continue
            if same_value(old_val, new_val):
                continue
            self._judge(num, old_val, new_val)

    @staticmethod
    def _is_container(val: Any) -> bool:
        return isinstance(val, PdfStream) and val.dict.get("Type") in ("ObjStm", "XRef")

    # -- one changed object -----------------------------------------------------------
    def _judge(self, num: int, old: Any, new: Any) -> None:
        roles = self.roles.of(num)
        if self._is_container(old) and self._is_container(new):
            return
        if "sig" in roles:
            self.add("signature_changed", L.MODIFIED, num)
            return
        # The first role that has a judge of its own decides; the order is the precedence.
        for role, judge in (
            ("catalog", self._judge_catalog),
            ("page", self._judge_page),
            ("annots", self._judge_annots),
            ("acroform", self._judge_acroform),
            ("fields_array", self._judge_fields_array),
            ("field", self._judge_field),
            ("widget", self._judge_field),
        ):
            if role in roles:
                judge(num, old, new)
                return
        if "appearance" in roles and "page_content" not in roles:
            owner = self.roles.appearance_owner.get(num)
            if owner is not None and owner.ft != "Sig":
                self.add("form_filled", L.FORM_FILLED, num)
            elif owner is not None and not owner.signed:
                self.add("signature_added", L.SIGNATURE_ADDED, num)
            else:
                self.add("signature_changed", L.MODIFIED, num)
            return
        if roles & {"metadata", "dss", "info"} and not roles - {"metadata", "dss", "info"}:
            self.add("bookkeeping", L.SIGNATURE_ADDED, num)
            return
        if "page_content" in roles:
            self.add("page_content_changed", L.MODIFIED, num)
            return
        if "annotation" in roles:
            self.add("annotation_changed", L.MODIFIED, num)
            return
        self.add("object_changed", L.MODIFIED, num, self._describe(old))

    @staticmethod
    def _describe(val: Any) -> str:
        d = val.dict if isinstance(val, PdfStream) else val
        if isinstance(d, dict):
            t = d.get("Type") or d.get("Subtype")
            kind = "stream" if isinstance(val, PdfStream) else "dict"
            return f"{kind} /{t}" if t else kind
        return type(val).__name__

    def _judge_catalog(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)) or isinstance(new, PdfStream):
            self.add("catalog_changed", L.MODIFIED, num)
            return
        for key in sorted(_changed_keys(old, new)):
            if key in _CATALOG_BOOKKEEPING:
                self.add("bookkeeping", L.SIGNATURE_ADDED, num, f"/{key}")
            elif key == "AcroForm":
                ov, nv = old.get(key), new.get(key)
                if isinstance(ov, Ref) and isinstance(nv, Ref) and ov == nv:
                    continue
                if ov is None:
                    # A form created after signing: only signature fields may be in it.
                    nacro = self.new.resolve(nv)
                    if not isinstance(nacro, dict):
                        self.add("acroform_changed", L.MODIFIED, num)
                        continue
                    self._judge_acroform_dicts(num, PdfDict(), nacro)
                elif isinstance(ov, Ref) or isinstance(nv, Ref):
                    self._judge_acroform_dicts(num, self.old.resolve(ov), self.new.resolve(nv))
                else:
                    self._judge_acroform_dicts(num, ov, nv)
            else:
                self.add("catalog_changed", L.MODIFIED, num, f"/{key}")

    def _judge_page(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)) or isinstance(new, PdfStream):
            self.add("page_changed", L.MODIFIED, num)
            return
        for key in sorted(_changed_keys(old, new)):
            if key == "Annots":
                self._judge_annot_lists(num, self.old.resolve(old.get(key)), self.new.resolve(new.get(key)))
            elif key == "Contents":
                self.add("page_content_changed", L.MODIFIED, num, "/Contents")
            else:
                self.add("page_changed", L.MODIFIED, num, f"/{key}")

    def _judge_annots(self, num: int, old: Any, new: Any) -> None:
        self._judge_annot_lists(num, old, new)

    def _judge_annot_lists(self, num: int, old: Any, new: Any) -> None:
        old_l = old if isinstance(old, list) else []
        new_l = new if isinstance(new, list) else []
        if new is not None and not isinstance(new, list):
            self.add("page_changed", L.MODIFIED, num, "/Annots")
            return
        remaining = list(new_l)
        for item in old_l:
            idx = next((i for i, x in enumerate(remaining) if same_value(x, item)), None)
            if idx is None:
                self.add("annotation_removed", L.MODIFIED, num)
                return
            remaining.pop(idx)
        for item in remaining:
            self._judge_new_annotation(num, item)

    def _judge_new_annotation(self, page_num: int, item: Any) -> None:
        if not isinstance(item, Ref):
            self.add("annotation_added", L.MODIFIED, page_num, "inline annotation")
            return
        node = self.new.get(item.num)
        if not isinstance(node, dict) or node.get("Subtype") != "Widget":
            self.add("annotation_added", L.MODIFIED, item.num)
            return
        info = self.new.field_info(node, item.num)
        if info.ft != "Sig":
            self.add("field_added", L.MODIFIED, item.num)
            return
        # The widget's field must be new or a previously unsigned signature field.
        parent = node.get("Parent")
        if isinstance(parent, Ref) and parent.num in self.roles.fields:
            old_info = self.roles.fields[parent.num]
            if old_info.ft != "Sig" or old_info.signed:
                self.add("signature_changed", L.MODIFIED, item.num)
                return
        self.add("signature_added", L.SIGNATURE_ADDED, item.num)

    def _judge_acroform(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add("acroform_changed", L.MODIFIED, num)
            return
        self._judge_acroform_dicts(num, old, new)

    def _judge_acroform_dicts(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add("acroform_changed", L.MODIFIED, num)
            return
        for key in sorted(_changed_keys(old, new)):
            if key == "Fields":
                self._judge_field_lists(num, self.old.resolve(old.get(key)), self.new.resolve(new.get(key)))
            elif key in _ACRO_SIG_KEYS:
                self.add("signature_added", L.SIGNATURE_ADDED, num, f"/AcroForm /{key}")
            elif key in _ACRO_FILL_KEYS:
                self.add("form_filled", L.FORM_FILLED, num, f"/AcroForm /{key}")
            else:
                self.add("acroform_changed", L.MODIFIED, num, f"/{key}")

    def _judge_fields_array(self, num: int, old: Any, new: Any) -> None:
        self._judge_field_lists(num, old, new)

    def _judge_field_lists(self, num: int, old: Any, new: Any) -> None:
        if not isinstance(new, list) or (old is not None and not isinstance(old, list)):
            self.add("acroform_changed", L.MODIFIED, num, "/Fields")
            return
        old_nums = _ref_nums(old or [])
        new_nums = _ref_nums(new)
        if any(n not in new_nums for n in old_nums):
            self.add("field_removed", L.MODIFIED, num)
        if len(new_nums) != len(new):
            self.add("acroform_changed", L.MODIFIED, num, "direct objects in /Fields")
        for n in new_nums:
            if n in old_nums:
                continue
            node = self.new.get(n)
            info = self.new.field_info(node, n) if isinstance(node, dict) else None
            if info is None or info.ft != "Sig":
                self.add("field_added", L.MODIFIED, n)
            elif n in self.roles.fields and self.roles.fields[n].signed:
                self.add("signature_changed", L.MODIFIED, n)
            else:
                self.add("signature_added", L.SIGNATURE_ADDED, n)

    def _judge_field(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)) or isinstance(new, PdfStream):
            self.add("object_changed", L.MODIFIED, num, "field")
            return
        info = self.roles.fields.get(num) or self.old.field_info(old, num)
        changed = _changed_keys(old, new)
        if "Kids" in changed:
            self._judge_kids(num, info, old.get("Kids"), new.get("Kids"))
            changed.discard("Kids")
        if not changed:
            return
        if info.ft == "Sig":
            if info.signed or not changed <= _SIG_FIELD_SIGN_KEYS:
                self.add("signature_changed", L.MODIFIED, num, ",".join(sorted(changed)))
            else:
                self.add("signature_added", L.SIGNATURE_ADDED, num)
        elif changed <= _FIELD_FILL_KEYS:
            self.add("form_filled", L.FORM_FILLED, num)
        else:
            self.add("object_changed", L.MODIFIED, num, "field " + ",".join(sorted(changed)))

    def _judge_kids(self, num: int, info: _FieldInfo, old: Any, new: Any) -> None:
        old_nums = _ref_nums(self.old.resolve(old) or [])
        new_nums = _ref_nums(self.new.resolve(new) or [])
        if any(n not in new_nums for n in old_nums):
            self.add("field_removed", L.MODIFIED, num, "/Kids")
            return
        if new_nums != old_nums:
            if info.ft == "Sig" and not info.signed:
                self.add("signature_added", L.SIGNATURE_ADDED, num, "/Kids")
            else:
                self.add("field_added", L.MODIFIED, num, "/Kids")


def analyse_changes(s: PdfStructure, signed: Revision, *, docmdp_p: int | None = None) -> ChangeReport:
    """Compare revision ``signed`` with the final revision of ``s`` (see module doc)."""
    return _Analyser(s, signed, docmdp_p).run()


def worst(levels: Iterable[ModificationLevel]) -> ModificationLevel:
    out = L.NONE
    for lv in levels:
        if out < lv:
            out = lv
    return out

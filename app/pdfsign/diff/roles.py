"""The role every object played in a revision: catalog, page, content, annotation,
form field, widget, appearance, signature, metadata...

A changed object is judged by the role it had in the *signed* revision, so an
attacker cannot make a page content stream look like an allowed appearance stream
by rewiring references later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.pdfsign.diff.values import ref_nums
from app.pdfsign.pdfstructure import (
    PdfDict,
    PdfStream,
    PdfString,
    PdfStructure,
    Ref,
    Revision,
)

__all__ = ["FieldInfo", "Roles", "View", "collect_roles"]


@dataclass
class FieldInfo:
    num: int | None
    #: field type, inherited through /Parent (``Sig``, ``Tx``, ``Btn``, ``Ch``)
    ft: str | None
    #: a /V is set (on the node or inherited)
    signed: bool
    #: fully qualified field name (``a.b.c``)
    name: str | None = None
    #: a non-signature field whose value is not empty (not ``()``, ``[]`` or ``/Off``)
    has_value: bool = False
    #: the object number of the /V value when it is a reference (a signature's /Sig)
    value_num: int | None = None


@dataclass
class Roles:
    roles: dict[int, set[str]] = field(default_factory=dict)
    #: field info for fields and widgets (by object number)
    fields: dict[int, FieldInfo] = field(default_factory=dict)
    #: appearance stream object -> owning widget's field info
    appearance_owner: dict[int, FieldInfo] = field(default_factory=dict)
    #: page object number -> page number (1-based)
    page_index: dict[int, int] = field(default_factory=dict)
    #: annotation or widget object number -> page number (1-based)
    annot_page: dict[int, int] = field(default_factory=dict)

    def add(self, num: int, role: str) -> None:
        self.roles.setdefault(num, set()).add(role)

    def of(self, num: int) -> set[str]:
        return self.roles.get(num, set())


def _empty_value(v: Any) -> bool:
    return v is None or v == "Off" or (isinstance(v, bytes | list | dict) and len(v) == 0)


class View:
    """Object access in one revision with cheap cycle-safe helpers."""

    def __init__(self, s: PdfStructure, rev: Revision) -> None:
        self.s = s
        self.rev = rev

    def get(self, num: int) -> Any:
        return self.s.get(num, self.rev)

    def resolve(self, value: Any) -> Any:
        return self.s.resolve(value, self.rev)

    def field_info(self, node: Any, num: int | None) -> FieldInfo:
        """FT, /V, value and full name (inherited through /Parent) for a field or widget."""
        ft: str | None = None
        value: Any = None
        has_v = False
        names: list[str] = []
        cur = node
        seen: set[int] = set()
        depth = 0
        while isinstance(cur, dict) and depth < 32:
            if ft is None and "FT" in cur:
                ft = str(cur["FT"])
            if not has_v and "V" in cur and cur["V"] is not None:
                has_v, value = True, cur["V"]
            t = cur.get("T")
            if isinstance(t, PdfString):
                names.append(t.text())
            parent = cur.get("Parent")
            if not isinstance(parent, Ref) or parent.num in seen:
                break
            seen.add(parent.num)
            cur = self.get(parent.num)
            depth += 1
        name = ".".join(reversed(names)) if names else None
        resolved = self.resolve(value) if isinstance(value, Ref) and ft != "Sig" else value
        return FieldInfo(num, ft, has_v, name,
                         has_value=ft != "Sig" and has_v and not _empty_value(resolved),
                         value_num=value.num if isinstance(value, Ref) else None)


def collect_roles(view: View) -> Roles:
    out = Roles()
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
        for n in ref_nums(root.get(key)):
            out.add(n, role)
    dss = view.resolve(root.get("DSS"))
    if isinstance(dss, dict):
        for v in dss.values():
            for n in ref_nums(v):
                out.add(n, "dss")
    # pages
    for num, node, leaf in s.walk_pages(root.get("Pages"), rev):
        if not leaf:
            out.add(num, "pages")
            continue
        out.add(num, "page")
        page_no = out.page_index.setdefault(num, len(out.page_index) + 1)
        for n in ref_nums(node.get("Contents")):
            out.add(n, "page_content")
        contents = node.get("Contents")
        if isinstance(contents, Ref):
            arr = view.get(contents.num)
            if isinstance(arr, list):
                for n in ref_nums(arr):
                    out.add(n, "page_content")
        annots_val = node.get("Annots")
        if isinstance(annots_val, Ref):
            out.add(annots_val.num, "annots")
        annots = view.resolve(annots_val)
        if isinstance(annots, list):
            for a in annots:
                if isinstance(a, Ref):
                    out.annot_page.setdefault(a.num, page_no)
                    annotation_roles(view, out, a.num)
    # fields
    acro = view.resolve(root.get("AcroForm"))
    if isinstance(acro, dict):
        fields_val = acro.get("Fields")
        if isinstance(fields_val, Ref):
            out.add(fields_val.num, "fields_array")
        todo = [(r, 0) for r in ref_nums(view.resolve(fields_val))]
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
                todo.extend((k, depth + 1) for k in ref_nums(kids))
            if node.get("Subtype") == "Widget":
                appearance_roles(view, out, node, info)
    return out


def annotation_roles(view: View, out: Roles, num: int) -> None:
    if not view.s.may_have(num, "Subtype", "Widget", view.rev):
        out.add(num, "annotation")  # provably not a widget: its role needs no parse
        return
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
        appearance_roles(view, out, node, info)
    else:
        out.add(num, "annotation")


def appearance_roles(view: View, out: Roles, widget: dict[str, Any], info: FieldInfo) -> None:
    ap = view.resolve(widget.get("AP"))
    if not isinstance(ap, dict):
        return
    for v in ap.values():
        nums = ref_nums(v)
        sub = view.resolve(v) if not nums or isinstance(v, Ref) else None
        if isinstance(sub, dict) and not isinstance(sub, PdfStream):
            nums += [n for vv in sub.values() for n in ref_nums(vv)]
        for n in nums:
            out.add(n, "appearance")
            out.appearance_owner.setdefault(n, info)


def rect_of(node: Any) -> tuple[float, float, float, float] | None:
    """An annotation's /Rect as four numbers, or None."""
    r = node.get("Rect") if isinstance(node, dict) else None
    if isinstance(r, list) and len(r) == 4 and all(isinstance(x, int | float) and not isinstance(x, bool)
                                                   for x in r):
        return (float(r[0]), float(r[1]), float(r[2]), float(r[3]))
    return None


def draws(view: View, node: Any) -> bool:
    """Whether an annotation paints anything: a /Rect with an area, not hidden or
    NoView, and a normal appearance (or, for non-widgets, a type viewers draw anyway)."""
    if not isinstance(node, dict):
        return False
    rect = rect_of(node)
    if rect is None or abs(rect[2] - rect[0]) < 0.01 or abs(rect[3] - rect[1]) < 0.01:
        return False
    flags = node.get("F")
    if isinstance(flags, int) and flags & (2 | 32):  # Hidden, NoView
        return False
    ap = view.resolve(node.get("AP"))
    normal = view.resolve(ap.get("N")) if isinstance(ap, dict) else None
    if isinstance(normal, PdfStream):
        return True
    if isinstance(normal, PdfDict):
        return any(isinstance(view.resolve(v), PdfStream) for v in normal.values())
    # no appearance: a widget is then drawn only by regenerating viewers; other
    # annotation types (FreeText, Square...) are drawn by most viewers without one
    return node.get("Subtype") != "Widget"

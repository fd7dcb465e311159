"""Finding every /Sig value of a revision once, however it is reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.pdfsign.pdfstructure import (
    PdfDict,
    PdfString,
    PdfStructure,
    Ref,
    Revision,
)

# -- finding signatures --------------------------------------------------------------------------


@dataclass
class FoundSignature:
    """A /Sig value and how it is reached."""

    sig_num: int
    field_name: str | None = None
    field_num: int | None = None
    widget_nums: list[int] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    docmdp_p: int | None = None
    via_perms: bool = False
    #: The revision whose view the signature was found in (None: the final one).
    #: A signature only found in an earlier revision was removed later.
    found_in: Revision | None = None

    @property
    def removed(self) -> bool:
        return self.found_in is not None


def _text(value: Any) -> str | None:
    if isinstance(value, PdfString):
        return value.text()
    if isinstance(value, bytes):
        return PdfString(value).text()
    return None


def _page_list(s: PdfStructure, rev: Revision | None = None) -> list[int]:
    root = s.resolve(s.trailer(rev).get("Root"), rev)
    if not isinstance(root, dict):
        return []
    return [num for num, _node, leaf in s.walk_pages(root.get("Pages"), rev) if leaf]


def find_signatures(s: PdfStructure, rev: Revision | None = None) -> list[FoundSignature]:
    """Every /Sig value of revision ``rev`` (default: the final one), once, with
    field name, widgets and pages."""

    def get(num: int) -> Any:
        return s.get(num, rev)

    def resolve(value: Any) -> Any:
        return s.resolve(value, rev)

    pages = _page_list(s, rev)
    annot_page: dict[int, int] = {}
    page_annots: list[list[int]] = []
    for idx, pnum in enumerate(pages):
        page = get(pnum)
        annots = resolve(page.get("Annots")) if isinstance(page, dict) else None
        nums = [a.num for a in annots if isinstance(a, Ref)] if isinstance(annots, list) else []
        page_annots.append(nums)
        for n in nums:
            annot_page.setdefault(n, idx + 1)
    page_index = {pnum: i + 1 for i, pnum in enumerate(pages)}

    found: dict[int, FoundSignature] = {}

    def page_of(widget_num: int, widget: dict[str, Any]) -> int | None:
        if widget_num in annot_page:
            return annot_page[widget_num]
        p = widget.get("P")
        return page_index.get(p.num) if isinstance(p, Ref) else None

    def ancestors(node: dict[str, Any]) -> list[dict[str, Any]]:
        out = [node]
        seen: set[int] = set()
        cur: Any = node
        while len(out) < 32:
            parent = cur.get("Parent")
            if not isinstance(parent, Ref) or parent.num in seen:
                break
            seen.add(parent.num)
            cur = get(parent.num)
            if not isinstance(cur, dict):
                break
            out.append(cur)
        return out

    def full_name(node: dict[str, Any]) -> str | None:
        parts = [t for t in (_text(n.get("T")) for n in ancestors(node)) if t is not None]
        return ".".join(reversed(parts)) if parts else None

    def inherited_ft(node: dict[str, Any]) -> str | None:
        return next((str(n["FT"]) for n in ancestors(node) if "FT" in n), None)

    def widgets_of(num: int, node: dict[str, Any], depth: int = 0) -> list[int]:
        out = [num] if node.get("Subtype") == "Widget" else []
        kids = resolve(node.get("Kids"))
        if isinstance(kids, list) and depth < 8:
            for k in kids:
                if not isinstance(k, Ref):
                    continue
                kid = get(k.num)
                if isinstance(kid, dict) and "T" not in kid and "V" not in kid:
                    out.extend(widgets_of(k.num, kid, depth + 1))
        return out

    def record(field_num: int, node: dict[str, Any]) -> None:
        v = node.get("V")
        if not isinstance(v, Ref) or inherited_ft(node) != "Sig":
            return
        fs = found.get(v.num)
        if fs is None:
            fs = found[v.num] = FoundSignature(v.num, full_name(node), field_num)
        for w in widgets_of(field_num, node):
            if w not in fs.widget_nums:
                fs.widget_nums.append(w)

    # 1. the AcroForm field tree
    root = resolve(s.trailer(rev).get("Root"))
    root = root if isinstance(root, dict) else PdfDict()
    acro = resolve(root.get("AcroForm"))
    if isinstance(acro, dict):
        fields = resolve(acro.get("Fields"))
        todo = [(f.num, 0) for f in fields if isinstance(f, Ref)] if isinstance(fields, list) else []
        seen: set[int] = set()
        while todo:
            num, depth = todo.pop(0)
            if num in seen or depth > 32:
                continue
            seen.add(num)
            node = get(num)
            if not isinstance(node, dict):
                continue
            record(num, node)
            kids = resolve(node.get("Kids"))
            if isinstance(kids, list):
                todo.extend((k.num, depth + 1) for k in kids if isinstance(k, Ref))
    # 2. signature widgets on pages that the field tree does not list
    for nums in page_annots:
        for n in nums:
            if not s.may_have(n, "Subtype", "Widget", rev):
                continue  # provably not a widget: not parsed at all
            node = get(n)
            if not isinstance(node, dict) or node.get("Subtype") != "Widget":
                continue
            cur, cur_num = node, n
            for _ in range(32):
                if "V" in cur or not isinstance(cur.get("Parent"), Ref):
                    break
                cur_num = cur["Parent"].num
                parent = get(cur_num)
                if not isinstance(parent, dict):
                    break
                cur = parent
            record(cur_num, cur)
            v = cur.get("V")
            if isinstance(v, Ref) and v.num in found and n not in found[v.num].widget_nums:
                found[v.num].widget_nums.append(n)
    # 3. /Perms /DocMDP (a certification signature)
    perms = resolve(root.get("Perms"))
    if isinstance(perms, dict):
        ref = perms.get("DocMDP")
        if isinstance(ref, Ref):
            fs = found.setdefault(ref.num, FoundSignature(ref.num))
            fs.via_perms = True
    for fs in found.values():
        pages_set: list[int] = []
        for w in fs.widget_nums:
            node = get(w)
            if isinstance(node, dict):
                p = page_of(w, node)
                if p is not None and p not in pages_set:
                    pages_set.append(p)
        fs.pages = sorted(pages_set)
        fs.found_in = rev
    return list(found.values())


def _docmdp_p(sig: dict[str, Any], s: PdfStructure, rev: Revision | None) -> int | None:
    refs = s.resolve(sig.get("Reference"), rev)
    if not isinstance(refs, list):
        return None
    for r in refs:
        r = s.resolve(r, rev)
        if isinstance(r, dict) and r.get("TransformMethod") == "DocMDP":
            params = s.resolve(r.get("TransformParams"), rev)
            p = params.get("P", 2) if isinstance(params, dict) else 2
            return p if isinstance(p, int) and p in (1, 2, 3) else 2
    return None

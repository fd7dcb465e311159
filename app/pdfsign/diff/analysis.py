"""Comparing a signed revision with the final one, object by object."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.pdfsign.diff.model import (
    AddedWidget,
    ChangeReport,
    FieldLock,
    ModificationLevel,
    change,
)
from app.pdfsign.diff.references import referenced_numbers
from app.pdfsign.diff.roles import FieldInfo, Roles, View, collect_roles, draws, rect_of
from app.pdfsign.diff.values import ref_nums, same_value
from app.pdfsign.pdfstructure import (
    PdfDict,
    PdfStream,
    PdfStructure,
    PdfStructureError,
    Ref,
    Revision,
)

L = ModificationLevel

_FIELD_FILL_KEYS = frozenset({"V", "AP", "AS"})
_SIG_FIELD_SIGN_KEYS = frozenset({"V", "AP", "AS", "MK", "DA", "Lock", "SV"})
_CATALOG_BOOKKEEPING = frozenset({"DSS", "Metadata", "Extensions", "Version"})
_ACRO_SIG_KEYS = frozenset({"Fields", "SigFlags"})
#: /AcroForm keys that only matter when a viewer regenerates field appearances
_ACRO_REGEN_KEYS = frozenset({"DR", "DA"})
_TRAILER_IGNORED = frozenset({"Size", "Prev", "XRefStm", "Index", "W", "Filter", "DecodeParms",
                              "Length", "Type", "ID", "Info", "DL"})


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    keys = set(old) | set(new)
    return {k for k in keys if k not in old or k not in new or not same_value(old[k], new[k])}


def _is_container(val: Any) -> bool:
    return isinstance(val, PdfStream) and val.dict.get("Type") in ("ObjStm", "XRef")


def _describe(val: Any) -> str:
    d = val.dict if isinstance(val, PdfStream) else val
    if isinstance(d, dict):
        t = d.get("Type") or d.get("Subtype")
        kind = "stream" if isinstance(val, PdfStream) else "dict"
        return f"{kind} /{t}" if t else kind
    return type(val).__name__


class Analyser:
    """One signed revision against the final revision (see :func:`analyse_changes`)."""

    def __init__(self, s: PdfStructure, signed: Revision, docmdp_p: int | None,
                 lock: FieldLock | None) -> None:
        self.s = s
        self.old = View(s, signed)
        self.new = View(s, s.revisions[-1])
        self.report = ChangeReport(revisions_after=len(s.revisions) - 1 - signed.index)
        ps = [p for p in (docmdp_p, lock.p if lock else None) if p is not None]
        #: the strictest /P that applies (DocMDP of a certification, a /Lock's /P)
        self.p = min(ps) if ps else None
        #: form filling is allowed only when a certification permits it (P 2 or 3)
        self.form_fill_allowed = docmdp_p in (2, 3) and self.p in (2, 3)
        self.lock = lock
        self.roles = Roles()
        self._final_pages: dict[int, int] | None = None

    # -- recording ---------------------------------------------------------------------
    def add(self, code: str, level: ModificationLevel, obj: int | None = None, extra: str = "",
            **details: Any) -> None:
        if level is L.FORM_FILLED and not self.form_fill_allowed:
            code, level = "form_changed", L.MODIFIED
        if self.p == 1 and level in (L.SIGNATURE_ADDED, L.FORM_FILLED):
            self.report.add(change("docmdp_forbids", L.MODIFIED, obj))
        self.report.add(change(code, level, obj, extra, **details))

    def _field_change(self, info: FieldInfo | None, num: int, extra: str = "") -> None:
        """A non-signature field's value or appearance changed (form filling)."""
        if self.lock is not None and self.lock.locks(info.name if info else None):
            self.add("field_locked", L.MODIFIED, num, (info.name if info and info.name else extra),
                     field=info.name if info else None)
        else:
            self.add("form_filled", L.FORM_FILLED, num, extra, field=info.name if info else None)

    def _page_of(self, num: int | None) -> int | None:
        """Page number (final revision) of a page object, or of the object holding a page's /Annots."""
        if num is None:
            return None
        if num in self.roles.page_index:
            return self.roles.page_index[num]
        if self._final_pages is None:
            self._final_pages = {}
            try:
                root = self.new.resolve(self.s.trailer(self.new.rev).get("Root"))
                if isinstance(root, dict):
                    idx = 0
                    for pnum, node, leaf in self.s.walk_pages(root.get("Pages"), self.new.rev):
                        if leaf:
                            idx += 1
                            self._final_pages[pnum] = idx
                            if isinstance(node.get("Annots"), Ref):
                                self._final_pages.setdefault(node["Annots"].num, idx)
            except PdfStructureError:
                pass
        return self._final_pages.get(num)

    # -- the run -----------------------------------------------------------------------------
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
            self.roles = collect_roles(self.old)
            for num, page in self.roles.annot_page.items():
                self.roles.page_index.setdefault(num, page)
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
        # object streams that were replaced: their members change with the same xref entry
        replaced_streams = {
            loc.offset for loc in old_map.values()
            if loc.kind == "c" and old_map.get(loc.offset) != new_map.get(loc.offset)
        }
        defined_later: list[int] = []
        for num in sorted(set(old_map) | set(new_map)):
            a, b = old_map.get(num), new_map.get(num)
            if a == b and not (a is not None and a.kind == "c" and a.offset in replaced_streams):
                continue
            old_val = self.old.get(num) if a is not None and a.kind != "f" else None
            new_val = self.new.get(num) if b is not None and b.kind != "f" else None
            if old_val is None:
                if new_val is not None:
                    defined_later.append(num)  # new: judged where something points to it
                continue
            if new_val is None:
                if _is_container(old_val):
                    continue
                self.add("object_deleted", L.MODIFIED, num)
                continue
            if same_value(old_val, new_val):
                continue
            if a == b:
                self.add("object_stream_changed", L.MODIFIED, num, _describe(old_val))
                continue
            self._judge(num, old_val, new_val)
        # A number the signed revision referred to but did not define: whatever is
        # defined there now changes what the signed objects resolve to.
        for num in sorted(referenced_numbers(self.s, self.old.rev, defined_later)):
            self.add("dangling_reference_defined", L.MODIFIED, num, _describe(self.new.get(num)))

    # -- one changed object -----------------------------------------------------------
    def _judge(self, num: int, old: Any, new: Any) -> None:
        roles = self.roles.of(num)
        if _is_container(old) and _is_container(new):
            return
        if "sig" in roles:
            self.add("signature_changed", L.MODIFIED, num)
            return
        # The first role that has a judge of its own decides; the order is the precedence.
        for role, judge in (
            ("catalog", self._judge_catalog),
            ("page", self._judge_page),
            ("annots", self._judge_annot_lists),
            ("acroform", self._judge_acroform),
            ("fields_array", self._judge_field_lists),
            ("field", self._judge_field),
            ("widget", self._judge_field),
        ):
            if role in roles:
                judge(num, old, new)
                return
        if "appearance" in roles and "page_content" not in roles:
            owner = self.roles.appearance_owner.get(num)
            if owner is not None and owner.ft != "Sig":
                self._field_change(owner, num, "appearance")
            elif owner is not None and not owner.signed:
                self.add("signature_added", L.SIGNATURE_ADDED, num)
                if owner.num is not None:
                    self._added_widget(owner.num)
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
            self.add("annotation_changed", L.MODIFIED, num, **self._where(num, self.new.get(num)))
            return
        self.add("object_changed", L.MODIFIED, num, _describe(old))

    def _where(self, num: int, node: Any) -> dict[str, Any]:
        """kind, page and rectangle of an annotation, for the report."""
        page = self.roles.annot_page.get(num)
        if page is None and isinstance(node, dict) and isinstance(node.get("P"), Ref):
            page = self._page_of(node["P"].num)
        rect = rect_of(node)
        kind = str(node.get("Subtype")) if isinstance(node, dict) and node.get("Subtype") is not None else None
        return {"kind": kind, "page": page, "rect": list(rect) if rect else None}

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
                self.add("page_content_changed", L.MODIFIED, num, "/Contents", page=self._page_of(num))
            else:
                self.add("page_changed", L.MODIFIED, num, f"/{key}", page=self._page_of(num))

    def _judge_annot_lists(self, num: int, old: Any, new: Any) -> None:
        old_l = old if isinstance(old, list) else []
        new_l = new if isinstance(new, list) else []
        if new is not None and not isinstance(new, list):
            self.add("page_changed", L.MODIFIED, num, "/Annots")
            return
        # A multiset difference: references by number (a page may list 65,000 of them),
        # inline annotations by value.
        refs_left = Counter(x.num for x in new_l if isinstance(x, Ref))
        inline_left = [x for x in new_l if not isinstance(x, Ref)]
        for item in old_l:
            if isinstance(item, Ref) and refs_left[item.num] > 0:
                refs_left[item.num] -= 1
                continue
            idx = None if isinstance(item, Ref) else next(
                (i for i, x in enumerate(inline_left) if same_value(x, item)), None)
            if idx is None:
                self.add("annotation_removed", L.MODIFIED, num, page=self._page_of(num))
                return
            inline_left.pop(idx)
        for item in new_l:
            if isinstance(item, Ref) and refs_left[item.num] > 0:
                refs_left[item.num] -= 1
                self._judge_new_annotation(num, item)
        for item in inline_left:
            self._judge_new_annotation(num, item)

    def _judge_new_annotation(self, holder: int, item: Any) -> None:
        page = self._page_of(holder)
        if not isinstance(item, Ref):
            self.add("annotation_added", L.MODIFIED, holder, "inline annotation", page=page)
            return
        node = self.new.get(item.num)
        where = self._where(item.num, node)
        where["page"] = where["page"] or page
        if not isinstance(node, dict) or node.get("Subtype") != "Widget":
            self.add("annotation_added", L.MODIFIED, item.num, **where)
            return
        info = self.new.field_info(node, item.num)
        if info.ft != "Sig":
            self.add("field_added", L.MODIFIED, item.num, **where)
            return
        # The widget's field must be new or a previously unsigned signature field.
        parent = node.get("Parent")
        if isinstance(parent, Ref) and parent.num in self.roles.fields:
            old_info = self.roles.fields[parent.num]
            if old_info.ft != "Sig" or old_info.signed:
                self.add("signature_changed", L.MODIFIED, item.num, **where)
                return
        self.add("signature_added", L.SIGNATURE_ADDED, item.num)
        self._added_widget(item.num, page)

    def _added_widget(self, num: int, page: int | None = None) -> None:
        """Remember a signature widget that appeared or got drawn after signing; the
        verifier later requires a valid signature of its own for it."""
        if any(w.num == num for w in self.report.added_widgets):
            return
        try:
            node = self.new.get(num)
            if not isinstance(node, dict):
                return
            kids = self.new.resolve(node.get("Kids"))
            if node.get("Subtype") != "Widget" and isinstance(kids, list):
                for k in ref_nums(kids):
                    self._added_widget(k, page)
                return
            info = self.new.field_info(node, num)
            loc = self.s.locate(num)
            at = loc.offset if loc is not None else 0
            if loc is not None and loc.kind == "c":
                stm = self.s.locate(loc.offset)
                at = stm.offset if stm is not None else self.s.size
            where = self._where(num, node)
            self.report.added_widgets.append(AddedWidget(
                num=num, sig_num=info.value_num, page=where["page"] or page,
                rect=tuple(where["rect"]) if where["rect"] else None,
                visible=draws(self.new, node), revision=self.s.revision_containing(at).index,
            ))
        except PdfStructureError:
            self.add("unreadable", L.MODIFIED, num)

    def _judge_acroform(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add("acroform_changed", L.MODIFIED, num)
            return
        self._judge_acroform_dicts(num, old, new)

    def _judge_acroform_dicts(self, num: int, old: Any, new: Any) -> None:
        if not (isinstance(old, dict) and isinstance(new, dict)):
            self.add("acroform_changed", L.MODIFIED, num)
            return
        regenerating = new.get("NeedAppearances") is True
        for key in sorted(_changed_keys(old, new)):
            if key == "Fields":
                self._judge_field_lists(num, self.old.resolve(old.get(key)), self.new.resolve(new.get(key)))
            elif key in _ACRO_SIG_KEYS:
                self.add("signature_added", L.SIGNATURE_ADDED, num, f"/AcroForm /{key}")
            elif key in _ACRO_REGEN_KEYS:
                # Default resources and appearance only shape appearances a viewer
                # regenerates: harmless unless the final form asks viewers to.
                if regenerating:
                    self._field_change(None, num, f"/AcroForm /{key}")
                else:
                    self.add("bookkeeping", L.SIGNATURE_ADDED, num, f"/AcroForm /{key}")
            elif key == "NeedAppearances":
                self._judge_need_appearances(num, old.get(key) is True, regenerating)
            else:
                self.add("acroform_changed", L.MODIFIED, num, f"/{key}")

    def _judge_need_appearances(self, num: int, was: bool, now: bool) -> None:
        """Turning regeneration on redraws every field from its value (form filling);
        turning it off shows the stored appearances instead of the regenerated values,
        which is harmless only when no field had a value to regenerate."""
        if now and not was:
            self._field_change(None, num, "/NeedAppearances true")
        elif was and not now:
            if any(f.has_value for f in self.roles.fields.values()):
                self.add("need_appearances_changed", L.MODIFIED, num)
            else:
                self.add("bookkeeping", L.SIGNATURE_ADDED, num, "/AcroForm /NeedAppearances")

    def _judge_field_lists(self, num: int, old: Any, new: Any) -> None:
        if not isinstance(new, list) or (old is not None and not isinstance(old, list)):
            self.add("acroform_changed", L.MODIFIED, num, "/Fields")
            return
        old_nums = set(ref_nums(old or []))
        new_list = ref_nums(new)
        new_nums = set(new_list)
        if old_nums - new_nums:
            self.add("field_removed", L.MODIFIED, num)
        if len(new_list) != len(new):
            self.add("acroform_changed", L.MODIFIED, num, "direct objects in /Fields")
        for n in dict.fromkeys(new_list):
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
                self._added_widget(n)

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
            elif self.lock is not None and self.lock.locks(info.name):
                self.add("field_locked", L.MODIFIED, num, info.name or "", field=info.name)
            else:
                self.add("signature_added", L.SIGNATURE_ADDED, num)
                self._added_widget(num)
        elif changed <= _FIELD_FILL_KEYS:
            self._field_change(info, num, ",".join(sorted(changed)))
        else:
            self.add("object_changed", L.MODIFIED, num, "field " + ",".join(sorted(changed)))

    def _judge_kids(self, num: int, info: FieldInfo, old: Any, new: Any) -> None:
        old_nums = ref_nums(self.old.resolve(old) or [])
        new_nums = ref_nums(self.new.resolve(new) or [])
        old_set, new_set = set(old_nums), set(new_nums)
        if old_set - new_set:
            self.add("field_removed", L.MODIFIED, num, "/Kids")
            return
        if new_nums != old_nums:
            if info.ft == "Sig" and not info.signed:
                self.add("signature_added", L.SIGNATURE_ADDED, num, "/Kids")
                for n in new_nums:
                    if n not in old_set:
                        self._added_widget(n)
            else:
                self.add("field_added", L.MODIFIED, num, "/Kids")


def analyse_changes(s: PdfStructure, signed: Revision, *, docmdp_p: int | None = None,
                    lock: FieldLock | None = None) -> ChangeReport:
    """Compare revision ``signed`` with the final revision of ``s`` (see the package doc).

    ``docmdp_p`` is the /P of a certification signature (None for an approval
    signature); ``lock`` what the signature locks (FieldMDP, /Lock)."""
    return Analyser(s, signed, docmdp_p, lock).run()

"""Which object numbers the signed revision refers to without defining them.

A signed revision may mention ``N 0 R`` while object N is free or missing: a
dangling reference resolves to null, so nothing of it is shown when signing. If a
later update defines N, the unchanged signed objects suddenly resolve to new content
(a shadow document prepared before signing and revealed afterwards). Whether the
signed revision refers to a number is answered without parsing the whole document:
a regular expression finds candidate ``N G R`` texts in the signed bytes (and in the
decoded object streams the signed revision uses), and only the objects around the
candidates are parsed to confirm that a real reference is there.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

from app.pdfsign.diff.values import refs_in
from app.pdfsign.pdfstructure import PdfStructure, PdfStructureError, Revision

__all__ = ["referenced_numbers"]


def _pattern(nums: Iterable[int]) -> re.Pattern[bytes]:
    alts = b"|".join(str(n).encode() for n in sorted(set(nums)))
    return re.compile(rb"(?<![0-9.+-])(" + alts + rb")[\x00\t\n\x0c\r ]+\d{1,5}[\x00\t\n\x0c\r ]+R(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")


def _candidates(data: object, wanted: set[int], pattern: re.Pattern[bytes], end: int) -> Iterator[re.Match[bytes]]:
    """Matches of ``pattern`` in ``data[:end]``, found by searching each wanted number's
    digits (a fast substring search) instead of trying the pattern at every byte."""
    for n in wanted:
        digits = str(n).encode()
        i = data.find(digits, 0, end)  # type: ignore[attr-defined]
        while i >= 0:
            m = pattern.match(data, i, end)  # type: ignore[call-overload]
            if m is not None:
                yield m
            i = data.find(digits, i + 1, end)  # type: ignore[attr-defined]


def referenced_numbers(s: PdfStructure, rev: Revision, nums: Iterable[int]) -> set[int]:
    """The members of ``nums`` that some object of revision ``rev`` (or its trailer)
    refers to. Raises :class:`PdfStructureError` when the revision cannot be read."""
    wanted = set(nums)
    if not wanted:
        return set()
    found: set[int] = set()
    pattern = _pattern(wanted)
    found |= {r.num for r in refs_in(s.trailer(rev)) if r.num in wanted}
    omap = s.object_map(rev)
    # uncompressed objects: candidates in the revision's bytes, confirmed by parsing the
    # object the candidate lies in (an old, overridden copy or an xref section is not one)
    starts = sorted((loc.offset, num) for num, loc in omap.items() if loc.kind == "n")
    offsets = [o for o, _ in starts]
    checked: set[int] = set()
    for m in _candidates(s.src.raw, wanted, pattern, rev.end):
        num = int(m.group(1))
        if num in found:
            continue
        i = bisect.bisect_right(offsets, m.start()) - 1
        if i < 0 or starts[i][1] in checked:
            continue
        obj_num = starts[i][1]
        checked.add(obj_num)
        try:
            value = s.get(obj_num, rev)
        except PdfStructureError:
            continue  # unreadable here: not something a reader of this revision saw
        found |= {r.num for r in refs_in(value) if r.num in wanted}
        if found >= wanted:
            return found
    # compressed objects: candidates in each object stream's decoded data
    containers = sorted({loc.offset for loc in omap.values() if loc.kind == "c"})
    checked_c: set[tuple[int, int]] = set()
    for stm_num in containers:
        try:
            stream = s._objstm(stm_num, rev)
        except PdfStructureError:
            continue
        member_starts = sorted((off, num) for num, off in stream.offsets.items())
        member_offsets = [o for o, _ in member_starts]
        for m in _candidates(stream.source.raw, wanted, pattern, stream.source.size):
            if int(m.group(1)) in found:
                continue
            i = bisect.bisect_right(member_offsets, m.start() - stream.first) - 1
            if i < 0 or (stm_num, member_starts[i][1]) in checked_c:
                continue
            obj_num = member_starts[i][1]
            checked_c.add((stm_num, obj_num))
            if omap.get(obj_num) is None or omap[obj_num].offset != stm_num:
                continue  # a copy this revision does not use
            try:
                value = stream.get(obj_num)
            except PdfStructureError:
                continue
            found |= {r.num for r in refs_in(value) if r.num in wanted}
            if found >= wanted:
                return found
    return found

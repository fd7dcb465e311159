"""Comparing parsed PDF values, and the references inside them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.pdfsign.pdfstructure import PdfStream, Ref

__all__ = ["ref_nums", "refs_in", "same_value"]

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


def ref_nums(value: Any) -> list[int]:
    """Object numbers of a reference or of the references directly in an array."""
    if isinstance(value, Ref):
        return [value.num]
    if isinstance(value, list):
        return [v.num for v in value if isinstance(v, Ref)]
    return []


def refs_in(value: Any, depth: int = 0) -> Iterator[Ref]:
    """Every reference anywhere inside ``value`` (a stream's dictionary included)."""
    if depth > 64:
        return
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, PdfStream):
        yield from refs_in(value.dict, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from refs_in(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from refs_in(v, depth + 1)

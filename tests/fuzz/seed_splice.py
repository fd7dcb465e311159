"""The mutation both fuzz targets start from: pick a real seed file and splice the
fuzzer's bytes into it, so the fuzzer begins deep inside a valid structure instead of
having to discover the format's header first."""

from __future__ import annotations

from collections.abc import Sequence


def splice_into_seed(seeds: Sequence[bytes], data: bytes, pos_bytes: int) -> bytes:
    """``data[0]`` picks the seed, ``data[1]`` the mode (overwrite / insert / delete / raw),
    the next ``pos_bytes`` bytes the position; the rest is what is spliced in."""
    head = 2 + pos_bytes
    if len(data) < head:
        return data
    s = seeds[data[0] % len(seeds)]
    mode = data[1] % 4
    pos = int.from_bytes(data[2:head], "big") % (len(s) + 1)
    tail = data[head:]
    if mode == 0:  # overwrite
        return s[:pos] + tail + s[pos + len(tail):]
    if mode == 1:  # insert
        return s[:pos] + tail + s[pos:]
    if mode == 2:  # delete
        return s[:pos] + s[pos + len(tail):]
    return data  # raw input (the corpus holds whole seed files too)

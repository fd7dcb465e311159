"""Secrets in memory: overwrite what Python lets us overwrite.

PINs, admin keys and key blobs are kept in ``bytearray`` buffers so they can be
zeroed as soon as they have been handed on (to the token host, to a C buffer).
Python ``str`` and ``bytes`` are immutable and cannot be wiped, which is why every
layer converts a secret to a bytearray once and wipes that copy. One helper for
every layer (a shared base module like :mod:`app.errors`).
"""

from __future__ import annotations


def wipe(buf: bytearray | memoryview) -> None:
    """Overwrite ``buf`` with zero bytes in place (its length is kept)."""
    view = memoryview(buf).cast("B")
    view[:] = bytes(len(view))

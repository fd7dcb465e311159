"""One progress convention for every engine (sealing, batch, verification, envelopes).

Every long operation takes ``progress(done, total, stage)``:

* ``done`` / ``total`` are non-negative integers in the operation's own unit (bytes
  for hashing and envelopes, per-mille steps for sealing and batches); ``total`` is
  never zero and ``done <= total``. A front end shows ``done / total``.
* ``stage`` is a :class:`Stage`, a stable code (a ``str``), never a formatted human
  sentence: the CLI, the GUI and the helper translate it themselves, so the engines
  stay free of presentation and language.

Callbacks run on the engine's (worker) thread; a GUI forwards them as signals. A
callback must be quick and must not raise.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Stage(StrEnum):
    """What an engine is doing; the codes are part of the public API."""

    CHECK = "check"          # reading and checking the input
    COPY = "copy"            # copying the original to the temporary output
    PREPARE = "prepare"      # placing seals, reserving the signature
    DIGEST = "digest"        # hashing what will be signed
    SIGN = "sign"            # the one device (or software) signature
    TIMESTAMP = "timestamp"  # asking the time-stamp authority
    PATCH = "patch"          # writing the signature into the output
    VERIFY = "verify"        # verifying the output (or a document) from disk
    FINISH = "finish"        # renaming into place
    ENCRYPT = "encrypt"      # envelope records being encrypted
    DECRYPT = "decrypt"      # envelope records being decrypted
    DONE = "done"            # the operation has finished (done == total)


Progress = Callable[[int, int, Stage], None]

#: Sealing and batches report fractions on this scale.
PERMILLE = 1000


def report_fraction(progress: Progress | None, fraction: float, stage: Stage) -> None:
    """Report ``fraction`` (0..1) of a step-based operation on the :data:`PERMILLE` scale."""
    if progress is not None:
        progress(min(max(int(fraction * PERMILLE), 0), PERMILLE), PERMILLE, stage)

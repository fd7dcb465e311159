"""Fuzz target for the envelope header/recipient parser.

With atheris (``pip install atheris``)::

    python tests/fuzz/fuzz_envelope_parser.py [-atheris_runs=200000] [corpus_dir]

The property: :func:`app.envelope.format.parse_header` (and the preamble reader)
either returns a header that re-encodes to exactly the input, or raises
:class:`EnvelopeFormatError`, for any bytes. Any other exception is a finding.
Seeds are real headers (one and several recipients); the first bytes of the input
choose a seed and the rest mutate it, so the fuzzer starts deep inside valid DER.

Without atheris, ``tests/envelope/test_fuzz_parser.py`` runs the same property with
hypothesis for a bounded number of examples on every test run.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.envelope import format as fmt  # noqa: E402
from app.envelope.errors import EnvelopeFormatError  # noqa: E402
from tests.fuzz.seed_splice import splice_into_seed  # noqa: E402


@lru_cache(maxsize=1)
def seeds() -> tuple[bytes, ...]:
    """Real headers: one recipient, two recipients, all optional fields absent."""
    import dataclasses
    from datetime import UTC, datetime

    from app.demo.pki import demo_pki
    from app.envelope.recipients import make_entry

    pki = demo_pki()
    fk, fid = bytes(range(16)), bytes(range(16, 32))
    e1 = make_entry(pki.enc_cert, fk, fid)
    e2 = make_entry(pki.emergency_cert, fk, fid)
    base = fmt.Header(file_id=fid, chunk_size=1 << 20, plaintext_size=12345,
                      file_name="投标文件.pdf", created_at=datetime(2026, 5, 1, tzinfo=UTC),
                      project_id="SYGC-2026-0042", unit_code="91210100MA0Y8B6K24",
                      recipients=(e1, e2))
    bare = dataclasses.replace(base, project_id=None, unit_code=None, recipients=(
        dataclasses.replace(e1, ski=None, unit_name=None, common_name=None, unit_code=None),))
    return (fmt.encode_header(base), fmt.encode_header(bare),
            fmt.encode_header(dataclasses.replace(base, recipients=(e1,))))


def check(data: bytes) -> None:
    """The fuzz property for one input."""
    try:
        header = fmt.parse_header(data)
    except EnvelopeFormatError:
        return
    assert fmt.encode_header(header) == data, "accepted a non-canonical header"


def mutate_from_seed(data: bytes) -> bytes:
    """Use the first bytes of ``data`` to pick a seed and splice the rest into it."""
    return splice_into_seed(seeds(), data, pos_bytes=2)


def test_one_input(data: bytes) -> None:
    check(mutate_from_seed(data))


def main() -> None:
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

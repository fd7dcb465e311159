"""Bounded mutation fuzzing of the header parser on every test run (the atheris target
in tests/fuzz/fuzz_envelope_parser.py runs the same property for longer)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location(
    "fuzz_envelope_parser",
    Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_envelope_parser.py")
assert _spec and _spec.loader
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_parser_on_seed_mutations(data):
    fuzz.test_one_input(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parser_on_raw_bytes_with_valid_preamble(data):
    import struct

    from app.envelope import format as fmt

    fuzz.check(struct.pack(">8sHHI", fmt.MAGIC, 1, 0, len(data)) + data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_parser_on_byte_flips(data):
    seed = fuzz.seeds()[data.draw(st.integers(0, len(fuzz.seeds()) - 1))]
    buf = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        buf[data.draw(st.integers(0, len(buf) - 1))] ^= data.draw(st.integers(1, 255))
    fuzz.check(bytes(buf))


def test_seeds_are_valid():
    for s in fuzz.seeds():
        fuzz.check(s)

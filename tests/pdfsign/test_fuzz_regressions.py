"""The PDF parser fuzz property (tests/fuzz/fuzz_pdf_parser.py) on every test run,
bounded, with hypothesis; and every input the coverage-guided fuzzer ever crashed on,
kept as a regression test."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location(
    "fuzz_pdf_parser", Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_pdf_parser.py")
assert _spec and _spec.loader
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=5, max_size=300))
def test_parser_on_seed_splices(data: bytes) -> None:
    fuzz.test_one_input(data)


_HEAD = b"%PDF-1.7\n"
_TAIL = b"\nstartxref\n9\n%%EOF\n"

#: Inputs that broke (or would break) the parser: what the coverage-guided fuzzer and
#: the random-damage property found, kept so they stay fixed. Each: (name, bytes).
FINDINGS: list[tuple[str, bytes]] = [
    ("10k_digit_number", _HEAD + b"1 0 obj\n<</Type/XRef/Size " + b"9" * 10_000 + b">>\nendobj" + _TAIL),
    ("xref_stream_huge_w", _HEAD + b"1 0 obj\n<</Type/XRef/Size 1/W[1 99999999 1]/Length 0>>\nstream\n"
                           b"\nendstream\nendobj" + _TAIL),
    ("xref_stream_huge_index", _HEAD + b"1 0 obj\n<</Type/XRef/Size 1/W[1 2 1]/Index[0 4000000000]/Length 0>>"
                               b"\nstream\n\nendstream\nendobj" + _TAIL),
    ("objstm_bad_header", _HEAD + b"1 0 obj\n<</Type/XRef/Size 3/W[1 1 1]/Index[1 2]/Length 6>>\nstream\n"
                          b"\x01\x09\x00\x02\x01\x00\nendstream\nendobj\n2 0 obj\n<</Type/ObjStm/N 5/First 3/Length 3>>"
                          b"\nstream\nx y\nendstream\nendobj" + _TAIL),
    ("deep_array", _HEAD + b"1 0 obj\n" + b"[" * 5000 + b"\nendobj" + _TAIL),
    ("prev_loop", _HEAD + b"xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 1/Prev 9>>" + _TAIL),
]


@pytest.mark.parametrize("data", [d for _n, d in FINDINGS], ids=[n for n, _d in FINDINGS])
def test_fuzzer_findings_stay_fixed(data: bytes) -> None:
    fuzz.check(data)  # raises if anything but a BidSealError escapes

"""The host wire format: any JSON-able value with bytes survives a frame round trip."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.token import protocol

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20) | st.binary(max_size=64),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8).filter(lambda k: not k.startswith("$")), children, max_size=4),
    max_leaves=12,
)


@given(values)
def test_frame_round_trip(value: Any) -> None:
    buf = io.BytesIO()
    protocol.write_frame(buf, {"id": 1, "ok": value})
    buf.seek(0)
    msg = protocol.read_frame(buf)
    assert msg is not None
    assert protocol.decode(msg["ok"]) == value
    assert protocol.read_frame(buf) is None  # clean end of stream


def test_truncated_frame_is_end_of_stream() -> None:
    buf = io.BytesIO()
    protocol.write_frame(buf, {"id": 1, "ok": b"x" * 100})
    assert protocol.read_frame(io.BytesIO(buf.getvalue()[:-5])) is None


def test_bytes_can_be_decoded_mutable_for_wiping() -> None:
    enc = protocol.encode([b"1234"])
    pin = protocol.decode(enc, mutable=True)[0]
    assert isinstance(pin, bytearray)

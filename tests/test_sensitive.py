"""The one wipe() helper every layer uses for PINs and key blobs."""

from __future__ import annotations

import pytest

from app.sensitive import wipe


@pytest.mark.parametrize("size", [0, 1, 8, 4097])
def test_wipe_zeroes_in_place(size: int) -> None:
    buf = bytearray(b"\xa5" * size)
    alias = memoryview(buf)
    wipe(buf)
    assert buf == bytes(size) and len(buf) == size
    assert alias.tobytes() == bytes(size)  # the same memory, not a copy


def test_wipe_takes_a_memoryview_slice() -> None:
    buf = bytearray(b"PIN=12345678;")
    wipe(memoryview(buf)[4:12])
    assert buf == b"PIN=" + bytes(8) + b";"


def test_wipe_refuses_immutable_bytes() -> None:
    with pytest.raises(TypeError):
        wipe(b"12345678")  # type: ignore[arg-type]


def test_cli_and_token_use_the_same_helper() -> None:
    from app.cli import common
    from app.token import device, host

    assert common.wipe is wipe and device.wipe is wipe and host.wipe is wipe

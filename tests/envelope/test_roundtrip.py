"""Encrypt then decrypt gives the plaintext back, for every size class and every recipient."""

from __future__ import annotations

import pytest

from app.envelope import (
    CancelToken,
    EnvelopeCancelled,
    EnvelopeIOError,
    decrypt_file,
    encrypt_file,
    read_info,
)
from app.envelope import format as fmt
from app.gm.sm3 import sm3

from .conftest import layout, leftovers

CHUNK = 4096
SIZES = [0, 1, 15, 16, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_every_size_class(size, pki, bidder, make_file, tmp_path):
    src = make_file(size)
    env, out = tmp_path / "bid.env", tmp_path / "bid.out"
    info = encrypt_file(src, env, [pki.enc_cert], chunk_size=CHUNK)
    assert info.plaintext_size == size and info.authenticated
    assert env.stat().st_size == info.envelope_size == layout(env).trailer + fmt.TRAILER_SIZE
    opened = decrypt_file(env, out, bidder)
    assert out.read_bytes() == src.read_bytes()
    assert opened.plaintext_sm3 == info.plaintext_sm3 == sm3(src.read_bytes()).hex()
    assert opened.opened_by == 0
    assert leftovers(tmp_path, {"bid.bin", "bid.env", "bid.out"}) == []


@pytest.mark.parametrize("size", [fmt.DEFAULT_CHUNK_SIZE - 1, fmt.DEFAULT_CHUNK_SIZE,
                                  fmt.DEFAULT_CHUNK_SIZE + 1, 3 * fmt.DEFAULT_CHUNK_SIZE + 5])
def test_round_trip_default_chunk_boundaries(size, pki, bidder, make_file, tmp_path):
    src = make_file(size)
    env, out = tmp_path / "bid.env", tmp_path / "bid.out"
    encrypt_file(src, env, [pki.enc_cert])
    decrypt_file(env, out, bidder)
    assert out.read_bytes() == src.read_bytes()


def test_each_recipient_can_decrypt(pki, make_file, tmp_path):
    src = make_file(10_000)
    env = tmp_path / "bid.env"
    info = encrypt_file(src, env, [pki.enc_cert, pki.emergency_cert], chunk_size=CHUNK,
                        project_id="SYGC-2026-0042", unit_code=pki.subject.unit_code)
    assert [r.unit_name for r in info.recipients] == [pki.subject.unit_name,
                                                      "沈阳市公共资源交易中心"]
    for idx, unwrapper in enumerate([pki.unwrapper(), pki.emergency_unwrapper()]):
        out = tmp_path / f"out{idx}"
        opened = decrypt_file(env, out, unwrapper)
        assert opened.opened_by == idx
        assert out.read_bytes() == src.read_bytes()


def test_list_of_unwrappers_uses_the_matching_one(pki, other_pki, make_file, tmp_path):
    src = make_file(100)
    env, out = tmp_path / "bid.env", tmp_path / "out"
    encrypt_file(src, env, [pki.emergency_cert])
    opened = decrypt_file(env, out, [other_pki.unwrapper(), pki.emergency_unwrapper()])
    assert opened.opened_by == 0 and out.read_bytes() == src.read_bytes()


def test_duplicate_recipients_are_merged(pki, make_file, tmp_path):
    info = encrypt_file(make_file(5), tmp_path / "e", [pki.enc_cert, pki.enc_cert])
    assert len(info.recipients) == 1


def test_read_info_needs_no_key(pki, make_file, tmp_path):
    src = make_file(1234, "投标文件.pdf")
    env = tmp_path / "bid.env"
    encrypt_file(src, env, [pki.enc_cert, pki.emergency_cert], project_id="P-7",
                 unit_code="91210100MA0Y8B6K24", chunk_size=CHUNK)
    info = read_info(env)
    assert not info.authenticated and info.plaintext_sm3 is None
    assert info.file_name == "投标文件.pdf" and info.plaintext_size == 1234
    assert info.project_id == "P-7" and info.unit_code == "91210100MA0Y8B6K24"
    assert info.chunk_size == CHUNK
    assert [r.serial_hex for r in info.recipients] == [pki.enc_cert.serial_hex,
                                                       pki.emergency_cert.serial_hex]
    d = info.to_dict()
    assert d["recipients"][1]["unit_code"] == pki.emergency_cert.unit_code


def test_progress_reports_plaintext_bytes(pki, bidder, make_file, tmp_path):
    src = make_file(3 * CHUNK + 1)
    env, out = tmp_path / "e", tmp_path / "o"
    seen: list[tuple[int, int, str]] = []
    encrypt_file(src, env, [pki.enc_cert], chunk_size=CHUNK, progress=lambda d, t, s: seen.append((d, t, s)))
    size = 3 * CHUNK + 1
    assert seen[0] == (0, size, "encrypt") and seen[-1] == (size, size, "encrypt")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    seen.clear()
    decrypt_file(env, out, bidder, progress=lambda d, t, s: seen.append((d, t, s)))
    assert seen[-1] == (size, size, "decrypt")


def test_progress_of_an_empty_file_never_divides_by_zero(pki, bidder, make_file, tmp_path):
    seen: list[tuple[int, int, str]] = []
    encrypt_file(make_file(0), tmp_path / "e", [pki.enc_cert], progress=lambda d, t, s: seen.append((d, t, s)))
    assert seen and all(t >= 1 and 0 <= d <= t for d, t, _ in seen)


@pytest.mark.parametrize("op", ["encrypt", "decrypt"])
def test_cancel_midway_leaves_nothing(op, pki, bidder, make_file, tmp_path):
    src = make_file(10 * CHUNK)
    env = tmp_path / "bid.env"
    if op == "decrypt":
        encrypt_file(src, env, [pki.enc_cert], chunk_size=CHUNK)
    token = CancelToken()

    def progress(done, total, stage):
        if done >= 4 * CHUNK:
            token.cancel()

    target = tmp_path / "out"
    with pytest.raises(EnvelopeCancelled):
        if op == "encrypt":
            encrypt_file(src, target, [pki.enc_cert], chunk_size=CHUNK, progress=progress,
                         cancel=token)
        else:
            decrypt_file(env, target, bidder, progress=progress, cancel=token)
    assert leftovers(tmp_path, {"bid.bin", "bid.env"}) == []


def test_exception_in_progress_callback_leaves_nothing(pki, bidder, make_file, tmp_path):
    src = make_file(5 * CHUNK)

    def boom(done, total, stage):
        if done > CHUNK:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encrypt_file(src, tmp_path / "e", [pki.enc_cert], chunk_size=CHUNK, progress=boom)
    assert leftovers(tmp_path, {"bid.bin"}) == []


def test_existing_output_is_replaced_only_on_success(pki, bidder, make_file, tmp_path):
    src = make_file(100)
    env, out = tmp_path / "bid.env", tmp_path / "out"
    encrypt_file(src, env, [pki.enc_cert])
    out.write_bytes(b"previous")
    data = bytearray(env.read_bytes())
    data[-1] ^= 1
    bad = tmp_path / "bad.env"
    bad.write_bytes(bytes(data))
    with pytest.raises(Exception):  # noqa: B017 - any refusal; content checked below
        decrypt_file(bad, out, bidder)
    assert out.read_bytes() == b"previous"
    decrypt_file(env, out, bidder)
    assert out.read_bytes() == src.read_bytes()


def test_input_is_never_touched_and_output_must_differ(pki, bidder, make_file, tmp_path):
    src = make_file(100)
    before = (src.read_bytes(), src.stat().st_mtime_ns)
    with pytest.raises(EnvelopeIOError):
        encrypt_file(src, src, [pki.enc_cert])
    env = tmp_path / "bid.env"
    encrypt_file(src, env, [pki.enc_cert])
    assert (src.read_bytes(), src.stat().st_mtime_ns) == before
    with pytest.raises(EnvelopeIOError):
        decrypt_file(env, env, bidder)


def test_missing_input_is_an_io_error(pki, tmp_path):
    with pytest.raises(EnvelopeIOError) as ei:
        encrypt_file(tmp_path / "nope", tmp_path / "e", [pki.enc_cert])
    assert ei.value.code == "ERR_IO"


def test_output_folder_missing_is_an_io_error(pki, make_file, tmp_path):
    with pytest.raises(EnvelopeIOError):
        encrypt_file(make_file(3), tmp_path / "no" / "such" / "dir" / "e", [pki.enc_cert])


@pytest.mark.parametrize("workers", [1, 3])
def test_round_trip_with_other_worker_counts(workers, pki, bidder, make_file, tmp_path):
    src = make_file(7 * CHUNK + 3)
    env, out = tmp_path / "bid.env", tmp_path / "bid.out"
    encrypt_file(src, env, [pki.enc_cert], chunk_size=CHUNK, workers=workers)
    decrypt_file(env, out, bidder, workers=workers)
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("op", ["encrypt", "decrypt"])
def test_disk_full_leaves_nothing(op, pki, bidder, make_file, tmp_path, monkeypatch):
    import errno
    import io
    import os

    src = make_file(10 * CHUNK)
    env = tmp_path / "bid.env"
    if op == "decrypt":
        encrypt_file(src, env, [pki.enc_cert], chunk_size=CHUNK)

    class Full(io.FileIO):
        def write(self, b):
            if self.tell() > 3 * CHUNK:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(b)

    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", buffering=-1: Full(fd, "wb")
                        if mode == "wb" else real_fdopen(fd, mode, buffering))
    with pytest.raises(EnvelopeIOError) as ei:
        if op == "encrypt":
            encrypt_file(src, tmp_path / "out", [pki.enc_cert], chunk_size=CHUNK)
        else:
            decrypt_file(env, tmp_path / "out", bidder)
    assert ei.value.details["errno"] == errno.ENOSPC
    assert leftovers(tmp_path, {"bid.bin", "bid.env"}) == []

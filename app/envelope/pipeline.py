"""The chunk pipeline behind encrypt_file/decrypt_file: constant memory, all cores.

OpenSSL (through ``cryptography``) releases the GIL in SM4-GCM and SM3, and file
reads/writes release it too, so threads give real parallelism:

* the calling thread reads chunk i into a slot's input buffer;
* a pool of cipher workers runs SM4-GCM on independent chunks (nonce and AAD depend
  only on the index), each into its slot's output buffer with ``update_into``;
* one hashing thread feeds SM3 in order, one writing thread writes in order.

A slot (input + output buffer, one chunk each) is reused only after its jobs have
finished, so memory is ``depth x 2 x chunk`` whatever the file size. On decryption
the hashing and writing jobs of a chunk first wait for its tag check, so nothing
unauthenticated is written or hashed. Any failure aborts: queued jobs are
cancelled, running ones finish, and the first error is raised.

Measured on the 2-core CI machine (1 MiB chunks, page cache): SM4-GCM 128 MiB/s on
one core, SM3 353 MiB/s; see ``tests/benchmarks/bench_envelope.py`` for the totals.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import IO, Any

from app.envelope.errors import EnvelopeIntegrityError
from app.gm import sm4
from app.gm.errors import GMError
from app.gm.sm3 import SM3

TAG_SIZE = sm4.GCM_TAG_SIZE


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Slot:
    """Reusable buffers for one chunk in flight, and the jobs still using them."""

    __slots__ = ("inbuf", "outbuf", "jobs")

    def __init__(self, chunk_size: int) -> None:
        self.inbuf = bytearray(chunk_size + TAG_SIZE)
        self.outbuf = bytearray(chunk_size + sm4.BLOCK_SIZE)
        self.jobs: list[Future[Any]] = []


class Pipeline:
    """Cipher pool + ordered hashing and writing threads; use as a context manager."""

    def __init__(self, chunk_size: int, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # enough chunks in flight that every worker and the SM3/write threads stay busy
        self.slots = [Slot(chunk_size) for _ in range(self.workers * 2 + 2)]
        self._cipher = ThreadPoolExecutor(self.workers, thread_name_prefix="bidseal-sm4")
        self._hash = ThreadPoolExecutor(1, thread_name_prefix="bidseal-sm3")
        self._write = ThreadPoolExecutor(1, thread_name_prefix="bidseal-write")
        self._closed = False

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(abort=exc_type is not None)

    def slot(self, i: int) -> Slot:
        """The slot for chunk i, after waiting for (and checking) its previous jobs."""
        s = self.slots[i % len(self.slots)]
        self._finish(s)
        return s

    def drain(self) -> None:
        """Wait for every job; raises the first failure."""
        for s in self.slots:
            self._finish(s)

    @staticmethod
    def _finish(s: Slot) -> None:
        jobs, s.jobs = s.jobs, []
        for job in jobs:
            job.result()

    def close(self, abort: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        # cipher first: cancelled cipher jobs release the hash/write jobs waiting on them
        for pool in (self._cipher, self._hash, self._write):
            pool.shutdown(wait=True, cancel_futures=abort)

    # -- encryption ----------------------------------------------------------------------

    def encrypt(self, s: Slot, length: int, key: bytes, nonce: bytes, aad: bytes,
                hasher: SM3, out: IO[bytes]) -> None:
        """Queue chunk (plaintext already in ``s.inbuf[:length]``): SM3, SM4-GCM, write."""
        view = memoryview(s.inbuf)[:length]
        hashed = self._hash.submit(hasher.update, view)
        sealed = self._cipher.submit(_seal, view, s.outbuf, key, nonce, aad)
        written = self._write.submit(_write_sealed, sealed, s.outbuf, out)
        s.jobs = [hashed, sealed, written]

    # -- decryption ----------------------------------------------------------------------

    def decrypt(self, s: Slot, length: int, key: bytes, nonce: bytes, aad: bytes,
                hasher: SM3, out: IO[bytes], index: int) -> None:
        """Queue record (ciphertext || tag already in ``s.inbuf[:length + 16]``): verify,
        then SM3 and write the verified plaintext."""
        record = memoryview(s.inbuf)[: length + TAG_SIZE]
        opened = self._cipher.submit(_open, record, length, s.outbuf, key, nonce, aad, index)
        plain = memoryview(s.outbuf)[:length]
        hashed = self._hash.submit(_after(opened, hasher.update), plain)
        written = self._write.submit(_after(opened, out.write), plain)
        s.jobs = [opened, hashed, written]


def _seal(view: memoryview, outbuf: bytearray, key: bytes, nonce: bytes,
          aad: bytes) -> tuple[int, bytes]:
    enc = sm4.GCMEncryptStream(key, nonce, aad)
    k = enc.update_into(view, outbuf) if len(view) else 0
    return k, enc.finalize()


def _write_sealed(sealed: Future[tuple[int, bytes]], outbuf: bytearray, out: IO[bytes]) -> None:
    try:
        k, tag = sealed.result()
    except CancelledError:
        return
    out.write(memoryview(outbuf)[:k])
    out.write(tag)


def _open(record: memoryview, length: int, outbuf: bytearray, key: bytes, nonce: bytes,
          aad: bytes, index: int) -> None:
    try:
        dec = sm4.GCMDecryptStream(key, nonce, bytes(record[length:]), aad)
        if length:
            dec.update_into(record[:length], outbuf)
        dec.finalize()
    except GMError as exc:
        raise EnvelopeIntegrityError(
            "信封完整性校验失败：文件已被篡改、损坏或截断，未输出任何明文。",
            "Envelope integrity check failed: the file was altered, damaged or truncated; no "
            "plaintext was released.",
            reason="chunk_tag", chunk=index,
        ) from exc


def _after(gate: Future[Any], fn: Callable[[memoryview], Any]) -> Callable[[memoryview], None]:
    """``fn(data)`` only once ``gate`` succeeded (a failed or cancelled gate skips it; the
    gate's own error is what the pipeline reports)."""

    def run(data: memoryview) -> None:
        try:
            failed = gate.exception() is not None
        except CancelledError:
            return
        if not failed:
            fn(data)

    return run

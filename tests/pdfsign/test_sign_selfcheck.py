"""The sealing self-check's fast path still rejects outputs that differ from what was signed.

The input is read once (copied and hashed from the same buffer); before success
the output's original part is re-read from disk and compared with the input byte
for byte, and each new signature's ranges are re-hashed from disk; the full
verifier reuses those digests. These tests corrupt the temporary output at the
worst moments and require that no output appears: each would pass if the
self-check were skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.gm import sm3 as sm3_mod
from app.gm.keyops import DigestSigner
from app.pdfsign import RectPlacement, Seal, SealOptions, byterange, seal_pdf
from app.pdfsign import prepare as prepare_mod
from app.pdfsign import signer as signer_mod
from app.pdfsign.errors import SelfVerificationError


def _flip(path: str | os.PathLike[str], offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def _no_output(tmp_path: Path, out: Path) -> None:
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bidseal-")]


def _seal_is_refused(tmp_path: Path, bid_pdf: Path, signer: DigestSigner, seal_png: bytes, verify: bool) -> None:
    """Sealing fails its self-check and leaves neither the output nor a temporary file."""
    out = tmp_path / "sealed.pdf"
    with pytest.raises(SelfVerificationError):
        seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(0, (100, 100, 200, 200)), seal_png)],
                 options=SealOptions(verify=verify))
    _no_output(tmp_path, out)


@pytest.mark.parametrize("full_verify", [True, False])
def test_prefix_changed_by_the_incremental_save_is_rejected(tmp_path, bid_pdf, signer, seal_png, monkeypatch,
                                                            full_verify):
    real = prepare_mod.prepare_revision

    def corrupting(base, *args, **kwargs):
        rev = real(base, *args, **kwargs)
        _flip(base.path, rev.prev_len // 2)  # inside the original bytes
        return rev

    monkeypatch.setattr(signer_mod, "prepare_revision", corrupting)
    _seal_is_refused(tmp_path, bid_pdf, signer, seal_png, full_verify)


@pytest.mark.parametrize("full_verify", [True, False])
def test_new_revision_changed_after_signing_is_rejected(tmp_path, bid_pdf, signer, seal_png, monkeypatch,
                                                        full_verify):
    real = byterange.patch_contents

    def corrupting(path, ph, der):
        real(path, ph, der)
        _flip(path, ph.contents_end + 2)  # signed bytes of the new /Sig dictionary, after /Contents

    monkeypatch.setattr(byterange, "patch_contents", corrupting)
    _seal_is_refused(tmp_path, bid_pdf, signer, seal_png, full_verify)


def test_input_changed_while_sealing_is_rejected(tmp_path, bid_pdf, signer, seal_png, monkeypatch):
    real = byterange.copy_and_hash

    def copy_then_touch_input(src, fd, *args, **kwargs):
        running = real(src, fd, *args, **kwargs)
        _flip(src, 10)
        return running

    monkeypatch.setattr(byterange, "copy_and_hash", copy_then_touch_input)
    _seal_is_refused(tmp_path, bid_pdf, signer, seal_png, False)


def test_copy_that_differs_from_the_input_is_rejected(tmp_path, bid_pdf, signer, seal_png, monkeypatch):
    """Bytes hashed and bytes on disk must agree: a copy that writes something else fails."""
    real = byterange.copy_and_hash

    def bad_copy(src, fd, *args, **kwargs):
        running = real(src, fd, *args, **kwargs)
        os.pwrite(fd, b"%PDF-1.9", 0)  # the temp file now differs from what was hashed
        return running

    monkeypatch.setattr(byterange, "copy_and_hash", bad_copy)
    _seal_is_refused(tmp_path, bid_pdf, signer, seal_png, False)


def test_self_check_reads_the_input_once_and_compares_from_disk(tmp_path, bid_pdf, signer, seal_png, monkeypatch):
    """One SM3 pass over the input (the copy), then a byte comparison of the output's prefix."""
    hashed: list[str] = []
    compared: list[tuple[str, str, int]] = []
    real_copy = byterange.copy_and_hash
    real_cmp = byterange.files_have_same_prefix

    def spy_copy(src, fd, *args, **kwargs):
        hashed.append(os.fspath(src))
        return real_copy(src, fd, *args, **kwargs)

    def spy_cmp(original, output, length, *args, **kwargs):
        compared.append((os.fspath(original), os.fspath(output), length))
        return real_cmp(original, output, length, *args, **kwargs)

    monkeypatch.setattr(byterange, "copy_and_hash", spy_copy)
    monkeypatch.setattr(byterange, "files_have_same_prefix", spy_cmp)
    out = tmp_path / "sealed.pdf"
    res = seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(0, (100, 100, 200, 200)), seal_png)])
    size = bid_pdf.stat().st_size
    assert hashed == [os.fspath(bid_pdf)]
    assert len(compared) == 1 and compared[0][0] == os.fspath(bid_pdf) and compared[0][2] == size
    assert compared[0][1] != os.fspath(bid_pdf)  # the temporary output
    assert res.verification is not None
    assert all(s.status != "invalid" for s in res.verification.signatures)
    assert out.read_bytes()[:size] == bid_pdf.read_bytes()


def test_sm3_backends_agree():
    data = os.urandom(5000)
    ref = sm3_mod._CryptographyCtx()
    ref.update(memoryview(bytearray(data)))
    branch = ref.copy()
    h = sm3_mod.SM3()
    h.update(memoryview(bytearray(data)))
    assert ref.digest() == h.digest() == branch.digest() == sm3_mod.sm3(data)

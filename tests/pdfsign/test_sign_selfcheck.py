"""The sealing self-check's fast path still rejects outputs that differ from what was signed.

The self-check re-reads the written file from disk with a fresh SM3 (on a worker
thread) instead of trusting the signing pass, and the full verifier reuses those
digests. These tests corrupt the temporary output at the worst moments and
require that no output appears: each would pass if the self-check were skipped.
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

    def corrupting(path, *args, **kwargs):
        rev = real(path, *args, **kwargs)
        _flip(path, rev.prev_len // 2)  # inside the original bytes
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
    real = byterange.copy_file

    def copy_then_touch_input(src, fd, *args, **kwargs):
        n = real(src, fd, *args, **kwargs)
        _flip(src, 10)
        return n

    monkeypatch.setattr(byterange, "copy_file", copy_then_touch_input)
    _seal_is_refused(tmp_path, bid_pdf, signer, seal_png, False)


def test_self_check_rehashes_from_disk(tmp_path, bid_pdf, signer, seal_png, monkeypatch):
    """The file is read twice in SM3 jobs: the input, then the output from disk."""
    seen: list[tuple[str, int, int]] = []
    real = byterange.FileHashJob.__init__

    def spy(self, path, start, end, *args, **kwargs):
        seen.append((os.fspath(path), start, end))
        real(self, path, start, end, *args, **kwargs)

    monkeypatch.setattr(byterange.FileHashJob, "__init__", spy)
    out = tmp_path / "sealed.pdf"
    res = seal_pdf(bid_pdf, out, signer, [Seal(RectPlacement(0, (100, 100, 200, 200)), seal_png)])
    size = bid_pdf.stat().st_size
    assert seen[0] == (os.fspath(bid_pdf), 0, size)
    assert seen[1][1:] == (0, size) and seen[1][0] != os.fspath(bid_pdf)  # the temporary output
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

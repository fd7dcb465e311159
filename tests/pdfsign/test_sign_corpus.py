"""The committed part of the real-world corpus (tests/pdfsign/corpus/files), each file sealed
twice and checked independently of BidSeal's verifier (see corpus/checks.py): OpenSSL for
SM3/SM2, pyHanko's coverage and diff analysis, poppler renders, JSON-only stdout, clean
refusals. The whole corpus (300+ files) runs with corpus/run_corpus.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.pdfsign.corpus import build_corpus
from tests.pdfsign.corpus.checks import KeyMaterial, check_file

COMMITTED = sorted(e["name"] for e in build_corpus.load_manifest() if (build_corpus.COMMITTED / e["name"]).is_file())

#: Outcomes that must not drift: a refusal with its code, or "pass".
EXPECTED = {
    "pyhanko--minimal-two-fields-signed-twice.pdf": "pass",  # two earlier signatures stay intact
    "pyhanko--pades-with-old-style-signing-cert-attr.pdf": "pass",
    "pyhanko--minimal-hybrid-xref.pdf": "pass",
    "pyhanko--uncompressed-objstream-sample.pdf": "pass",
    "qpdf--lin5.pdf": "pass",  # linearized
    "qpdf--pound-in-name.pdf": "pass",
    "debian--fontconfig--fontconfig-user.pdf": "pass",
    "pyhanko--certified-with-indirect-refs-in-dir.pdf": "ERR_PDF_CERTIFIED_LOCKED",
    "pyhanko--circular-page-tree.pdf": "ERR_PDF_UNSUPPORTED",
    "pyhanko--page-tree-direct-kid.pdf": "ERR_PDF_UNSUPPORTED",
    "pyhanko--broken-objstream4.pdf": "ERR_PDF_DAMAGED",
    "pyhanko--minimal-pubkey-aes256.pdf": "ERR_PDF_ENCRYPTED",
    "pyhanko--minimal-aes256.pdf": "ERR_PDF_ENCRYPTED",
    "qpdf--form-no-need-appearances-filled.pdf": "ERR_PDF_UNSUPPORTED",
}


@pytest.fixture(scope="module")
def key(tmp_path_factory, seal_png) -> KeyMaterial:
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    return KeyMaterial.create(tmp_path_factory.mktemp("corpus-key"), seal_png)


def test_the_committed_corpus_is_small_and_in_the_manifest():
    files = sorted(p.name for p in build_corpus.COMMITTED.iterdir())
    assert files == COMMITTED and len(files) >= 30
    assert sum((build_corpus.COMMITTED / f).stat().st_size for f in files) < 3 * 1024 * 1024
    assert set(EXPECTED) <= set(COMMITTED)


@pytest.mark.parametrize("name", COMMITTED)
def test_real_world_pdf_sealed_twice(name, key, tmp_path):
    out = check_file(Path(build_corpus.COMMITTED / name), key, tmp_path / "work", name)
    assert out.status != "fail", out.to_dict()
    want = EXPECTED.get(name)
    if want == "pass":
        assert out.status == "pass", out.to_dict()
    elif want is not None:
        assert (out.status, out.code) == ("refused", want), out.to_dict()

"""Coverage-guided fuzz target for the verifier's PDF parser (and what sits on it).

With atheris (``pip install atheris``), niced because it runs for hours::

    nice -n 19 python tests/fuzz/fuzz_pdf_parser.py -timeout=20 -rss_limit_mb=2048 \
        -max_len=65536 -artifact_prefix=fuzz-pdf- CORPUS_DIR

The first run writes the seed files into ``CORPUS_DIR`` when it is empty.

The property, for any bytes: :func:`app.pdfsign.verify.verify_pdf` returns a report
or raises a :class:`~app.errors.BidSealError` (a structure error, "not a PDF"...);
then every object every revision maps is loaded and every stream decoded, again
with nothing but BidSealError. Any other exception (IndexError, RecursionError,
MemoryError, ...) is a finding, and so is a run that exceeds ``-timeout`` or
``-rss_limit_mb`` (a decompression bomb or a quadratic loop). Seeds are real signed
files: one and two signatures (classic xref tables) and a signed file rewritten with
object streams and an xref stream; the first bytes of an input choose a seed and a
splice (overwrite / insert / delete) so the fuzzer starts deep inside valid PDF.

Every crash found is kept as a regression test in ``tests/pdfsign/test_fuzz_regressions.py``,
which also runs this property with hypothesis for a bounded number of examples on every
test run.
"""

from __future__ import annotations

import contextlib
import sys
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz.seed_splice import splice_into_seed  # noqa: E402

#: Objects touched per input after verification (keeps one input well under a second).
MAX_OBJECTS = 400


@lru_cache(maxsize=1)
def seeds() -> tuple[bytes, ...]:
    """Small real signed PDFs: one signature, two, and one rewritten with object streams."""
    import pymupdf

    from tests.pdfsign import verify_fixtures as vf

    one = vf.sign_pdf(vf.make_pdf(pages=1), None, vf.SignOptions())
    two = vf.sign_pdf(one, None, vf.SignOptions(field_name="Sig2"))
    doc = pymupdf.open(stream=one, filetype="pdf")
    compressed = doc.tobytes(use_objstms=1, garbage=1, deflate=True)
    doc.close()
    return one, two, compressed


@lru_cache(maxsize=1)
def _roots() -> tuple[object, ...]:
    from tests.pdfsign import verify_fixtures as vf

    return (vf.pki().root_cert,)


def check(data: bytes) -> None:
    """The fuzz property for one input (see the module docstring)."""
    from app.errors import BidSealError
    from app.pdfsign.pdfstructure import PdfSource, PdfStream, PdfStructure
    from app.pdfsign.verify import verify_pdf

    with contextlib.suppress(BidSealError):
        verify_pdf(data, trust_roots=_roots())  # type: ignore[arg-type]
    try:
        s = PdfStructure(PdfSource(data))
    except BidSealError:
        return
    touched = 0
    for rev in s.revisions:
        for num in list(s.object_map(rev))[:MAX_OBJECTS]:
            touched += 1
            if touched > MAX_OBJECTS:
                return
            try:
                val = s.get(num, rev)
                if isinstance(val, PdfStream):
                    val.decoded()
            except BidSealError:
                continue


def mutate_from_seed(data: bytes) -> bytes:
    """Use the first bytes of ``data`` to pick a seed and splice the rest into it."""
    return splice_into_seed(seeds(), data, pos_bytes=3)


def test_one_input(data: bytes) -> None:
    check(mutate_from_seed(data))


def write_seed_corpus(folder: Path) -> None:
    """Put the seed files (raw-input form) into an empty corpus folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    for i, seed in enumerate(seeds()):
        # mode byte 3 = raw input: the fuzzer mutates the whole file
        (folder / f"seed-{i}").write_bytes(bytes([i, 3, 0, 0, 0]) + seed)
        (folder / f"raw-{i}").write_bytes(seed)


def main() -> None:
    import atheris

    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for folder in corpus:
        write_seed_corpus(Path(folder))
    seeds()
    _roots()
    with atheris.instrument_imports():
        import app.pdfsign.diff  # noqa: F401
        import app.pdfsign.pdfstructure  # noqa: F401
        import app.pdfsign.verify  # noqa: F401
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

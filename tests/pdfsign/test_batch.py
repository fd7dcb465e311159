"""Batch sealing: one signer for many files; one bad file leaves the others done."""

from __future__ import annotations

import pytest

from app.pdfsign import CancelToken, KeywordPlacement, Seal, plan_batch, seal_batch
from app.pdfsign.errors import OutputIsInputError, PdfOpenError
from tests.pdfsign.conftest import KEYWORD, make_pdf, sha256


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    make_pdf(d / "01-bid.pdf")
    make_pdf(d / "02-no-keyword.pdf", keyword_pages=())
    (d / "03-broken.pdf").write_bytes(b"%PDF-1.7\nnot really")
    make_pdf(d / "04-bid.pdf")
    (d / "notes.txt").write_text("ignored")
    return d


def test_batch_continues_after_failures(tmp_path, folder, counting_signer, seal_png):
    hashes = {p.name: sha256(p) for p in folder.iterdir()}
    items = plan_batch(folder, tmp_path / "out", suffix="-signed")
    assert [i.input_path.name for i in items] == ["01-bid.pdf", "02-no-keyword.pdf", "03-broken.pdf", "04-bid.pdf"]
    seen = []
    progress = []
    summary = seal_batch(items, counting_signer, [Seal(KeywordPlacement(KEYWORD), seal_png)],
                         on_file=seen.append, progress=lambda d, t, s: progress.append((d / t, s)))
    assert [o.ok for o in summary.outcomes] == [True, False, False, True]
    assert [o.error.code for o in summary.failed] == ["ERR_KEYWORD_NOT_FOUND", "ERR_PDF_OPEN"] or \
        [o.error.code for o in summary.failed][0] == "ERR_KEYWORD_NOT_FOUND"
    assert len(seen) == 4
    assert len(counting_signer.calls) == 2  # one device operation per sealed file, one signer for all
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["01-bid-signed.pdf", "04-bid-signed.pdf"]
    assert {p.name: sha256(p) for p in folder.iterdir()} == hashes
    d = summary.to_dict()
    assert (d["total"], d["succeeded"], d["failed"]) == (4, 2, 2)
    assert progress[-1] == (1.0, "done") and all(0 <= f <= 1 for f, _ in progress)
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)


def test_batch_cancel_skips_the_rest(tmp_path, folder, signer, seal_png):
    token = CancelToken()
    items = plan_batch(folder, tmp_path / "out")

    def on_file(outcome):
        token.cancel()

    summary = seal_batch(items, signer, [Seal(KeywordPlacement(KEYWORD), seal_png)], cancel=token, on_file=on_file)
    assert summary.outcomes[0].ok
    assert all(o.skipped and o.error.code == "ERR_CANCELLED" for o in summary.outcomes[1:])


def test_batch_fatal_device_error_stops(tmp_path, folder, signer, seal_png):
    from app.errors import BidSealError

    class Unplugged:
        certificate = signer.certificate

        def sign_digest(self, e: bytes) -> bytes:
            raise BidSealError("UKey 已拔出。", "The UKey was removed.", code="ERR_TOKEN_REMOVED")

    items = [i for i in plan_batch(folder, tmp_path / "out") if "bid" in i.input_path.name]
    summary = seal_batch(items, Unplugged(), [Seal(KeywordPlacement(KEYWORD), seal_png)])
    assert summary.outcomes[0].error.code == "ERR_TOKEN_REMOVED"
    assert summary.outcomes[1].skipped
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_plan_batch_refuses_overwriting_inputs(tmp_path, folder):
    with pytest.raises(OutputIsInputError):
        plan_batch(folder, folder)
    assert plan_batch(folder, folder, suffix="-signed")[0].output_path.name == "01-bid-signed.pdf"
    with pytest.raises(PdfOpenError):
        plan_batch(tmp_path / "missing", tmp_path / "out")


def test_scan_ignores_hidden_and_appledouble_and_reports_subfolders(tmp_path, folder):
    from app.pdfsign import scan_batch

    (folder / "._01-bid.pdf").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    (folder / ".hidden.pdf").write_bytes(b"%PDF-1.7\n")
    sub = folder / "sub"
    sub.mkdir()
    make_pdf(sub / "05-bid.pdf")
    plan = scan_batch(folder, tmp_path / "out")
    assert [i.input_path.name for i in plan.items] == ["01-bid.pdf", "02-no-keyword.pdf", "03-broken.pdf",
                                                       "04-bid.pdf"]
    reasons = {s.path.name: s.reason for s in plan.skipped}
    assert reasons == {"._01-bid.pdf": "hidden", ".hidden.pdf": "hidden", "sub": "folder"}
    assert [s.path.name for s in plan.reported()] == ["sub"]
    assert "--recursive" in plan.reported()[0].zh and "--recursive" in plan.reported()[0].en


def test_recursive_batch_keeps_the_folder_layout(tmp_path, folder, signer, seal_png):
    from app.pdfsign import scan_batch

    sub = folder / "lot2"
    sub.mkdir()
    make_pdf(sub / "05-bid.pdf")
    (sub / "._05-bid.pdf").write_bytes(b"\x00\x05\x16\x07")
    plan = scan_batch(folder, tmp_path / "out", suffix="-signed", recursive=True)
    outs = [i.output_path.relative_to(tmp_path / "out").as_posix() for i in plan.items]
    assert outs == ["01-bid-signed.pdf", "02-no-keyword-signed.pdf", "03-broken-signed.pdf",
                    "04-bid-signed.pdf", "lot2/05-bid-signed.pdf"]
    summary = seal_batch([i for i in plan.items if "bid" in i.input_path.name and "broken" not in i.input_path.name],
                         signer, [Seal(KeywordPlacement(KEYWORD), seal_png)])
    assert summary.all_ok and (tmp_path / "out" / "lot2" / "05-bid-signed.pdf").is_file()


def test_rerun_in_the_same_folder_never_seals_outputs_again(tmp_path, signer, seal_png):
    from app.pdfsign import scan_batch

    d = tmp_path / "bids"
    d.mkdir()
    make_pdf(d / "a.pdf")
    make_pdf(d / "b.pdf")
    seals = [Seal(KeywordPlacement(KEYWORD), seal_png)]
    first = scan_batch(d, d, suffix="-signed", already_sealed_by=signer.certificate)
    assert seal_batch(list(first.items), signer, seals).all_ok
    # a sealed copy without the suffix (renamed by hand) is recognised by its signature
    (d / "c.pdf").write_bytes((d / "a-signed.pdf").read_bytes())
    again = scan_batch(d, d, suffix="-signed", already_sealed_by=signer.certificate)
    assert again.items == ()
    reasons = {s.path.name: s.reason for s in again.skipped}
    assert reasons == {"a-signed.pdf": "has_suffix", "b-signed.pdf": "has_suffix", "c.pdf": "already_sealed",
                       "a.pdf": "done", "b.pdf": "done"}
    (d / "b-signed.pdf").unlink()  # an output removed by hand is made again
    assert [i.input_path.name for i in scan_batch(d, d, suffix="-signed",
                                                  already_sealed_by=signer.certificate).items] == ["b.pdf"]
    # another key's seal does not count as "already sealed by this key"
    from app.demo.pki import demo_pki
    from tests.pdfsign.conftest import issue_signer

    other = issue_signer(demo_pki())
    assert [i.input_path.name for i in scan_batch(d, tmp_path / "o", already_sealed_by=other.certificate).items] \
        == ["a-signed.pdf", "a.pdf", "b.pdf", "c.pdf"]

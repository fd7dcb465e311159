"""``bidseal sign`` with a software key (the UKey path is in test_sign_token.py)."""

from __future__ import annotations

import json

import pytest

from app.cli.commands.sign import SignUsageError, parse_pages, parse_rect
from app.cli.main import main
from tests.pdfsign.conftest import KEYWORD, make_pdf, sha256


@pytest.fixture
def soft_key(tmp_path, pki, seal_png):
    key = tmp_path / "key.pem"
    cert = tmp_path / "cert.pem"
    png = tmp_path / "seal.png"
    key.write_bytes(pki.sign_key.to_pem())
    cert.write_bytes(pki.sign_cert.pem)
    png.write_bytes(seal_png)
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root_cert.pem)
    return ["--soft-key", str(key), "--cert", str(cert), "--seal-image", str(png), "--trust-root", str(root)]


def test_cli_keyword_and_cross_page(tmp_path, soft_key, capsys):
    src = make_pdf(tmp_path / "bid.pdf", pages=3)
    out = tmp_path / "out.pdf"
    rc = main(["sign", str(src), "-o", str(out), "--keyword", KEYWORD, "--cross-page", *soft_key,
               "--reason", "投标", "--location", "沈阳"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert out.is_file() and str(out) in cap.out
    assert cap.out.count("BidSeal") == 2  # one summary line per seal
    assert "软件密钥" in cap.err or "software key" in cap.err


def test_cli_rect_json(tmp_path, soft_key, capsys):
    src = make_pdf(tmp_path / "bid.pdf", pages=2)
    out = tmp_path / "out.pdf"
    rc = main(["sign", str(src), "-o", str(out), "--page", "2", "--rect", "100,100,200,200", "--json", *soft_key])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["ok"] and data["output"] == str(out) and len(data["seals"]) == 1


def test_cli_refusal_exit_2_and_no_output(tmp_path, soft_key, capsys):
    src = make_pdf(tmp_path / "bid.pdf", pages=1)
    before = sha256(src)
    out = tmp_path / "out.pdf"
    rc = main(["sign", str(src), "-o", str(out), "--keyword", "没有这个词", *soft_key])
    err = capsys.readouterr().err
    assert rc == 2 and "ERR_KEYWORD_NOT_FOUND" in err and not out.exists() and sha256(src) == before


@pytest.mark.parametrize("extra", [[], ["--page", "1"], ["--page", "1", "--rect", "1,2,3"],
                                   ["--keyword", "x", "--occurrence", "first"]])
def test_cli_usage_errors(tmp_path, soft_key, capsys, extra):
    src = make_pdf(tmp_path / "bid.pdf", pages=1)
    rc = main(["sign", str(src), "-o", str(tmp_path / "o.pdf"), *extra, *soft_key])
    assert rc == 2 and "ERR_USAGE" in capsys.readouterr().err


def test_cli_output_equals_input(tmp_path, soft_key, capsys):
    src = make_pdf(tmp_path / "bid.pdf", pages=1)
    rc = main(["sign", str(src), "-o", str(src), "--keyword", KEYWORD, *soft_key])
    assert rc == 2 and "ERR_OUTPUT_IS_INPUT" in capsys.readouterr().err


def test_cli_batch_summary(tmp_path, soft_key, capsys):
    indir, outdir = tmp_path / "in", tmp_path / "out"
    indir.mkdir()
    make_pdf(indir / "a.pdf")
    make_pdf(indir / "b.pdf", keyword_pages=())  # keyword missing -> fails
    make_pdf(indir / "c.pdf")
    rc = main(["sign", "--batch", str(indir), "-o", str(outdir), "--keyword", KEYWORD, "--json", *soft_key])
    data = json.loads(capsys.readouterr().out)
    assert rc == 2
    assert (data["total"], data["succeeded"], data["failed"]) == (3, 2, 1)
    assert sorted(p.name for p in outdir.iterdir()) == ["a.pdf", "c.pdf"]
    bad = next(f for f in data["files"] if not f["ok"])
    assert bad["error"]["code"] == "ERR_KEYWORD_NOT_FOUND"


def test_parse_helpers():
    assert parse_pages("1-3,5") == (0, 1, 2, 4)
    assert parse_pages("all") is None and parse_pages(None) is None
    assert parse_rect("1, 2,3,4") == (1.0, 2.0, 3.0, 4.0)
    with pytest.raises(SignUsageError):
        parse_pages("0")


def test_cli_batch_suffix_dash_value_recursive_and_rerun(tmp_path, soft_key, capsys):
    d = tmp_path / "bids"
    d.mkdir()
    make_pdf(d / "a.pdf")
    (d / "._a.pdf").write_bytes(b"\x00\x05\x16\x07")
    sub = d / "lot2"
    sub.mkdir()
    make_pdf(sub / "b.pdf")
    args = ["sign", "--batch", str(d), "-o", str(d), "--suffix", "-signed", "--keyword", KEYWORD, *soft_key]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (d / "a-signed.pdf").is_file() and not (sub / "b-signed.pdf").exists()
    assert "lot2" in out and "--recursive" in out and "._a.pdf" not in out
    # the re-run seals nothing again and says why
    before = {p.name: sha256(p) for p in d.iterdir() if p.is_file()}
    assert main(args + ["--recursive", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [f["input"] for f in report["files"]] == [str(sub / "b.pdf")]
    assert {(s["path"], s["reason"]) for s in report["skipped"]} == {(str(d / "a-signed.pdf"), "has_suffix"),
                                                                     (str(d / "a.pdf"), "done")}
    assert {p.name: sha256(p) for p in d.iterdir() if p.is_file()} == before
    assert (sub / "b-signed.pdf").is_file()


def test_cli_rect_with_negative_numbers_is_parsed(tmp_path, soft_key, capsys):
    src = make_pdf(tmp_path / "bid.pdf", pages=1)
    out = tmp_path / "out.pdf"
    rc = main(["sign", str(src), "-o", str(out), "--page", "1", "--rect", "-10,20,60,90", *soft_key])
    cap = capsys.readouterr()
    # argparse accepted the value; the engine refuses a seal that sticks out of the page
    assert rc != 0 and "expected one argument" not in cap.err
    assert "ERR_SEAL_OUTSIDE_PAGE" in cap.out + cap.err and not out.exists()
    assert parse_rect("-10,20,60,90") == (-10.0, 20.0, 60.0, 90.0)

"""Sealing with the virtual UKey (native/softskf) through app.token: one PIN entry,
one session, seal images read from the key, and the CLI's UKey path."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from app.pdfsign import CrossPagePlacement, KeywordPlacement, Seal, plan_batch, seal_batch, seal_pdf
from tests.pdfsign.conftest import KEYWORD, LEGAL_KEYWORD, make_pdf

REPO = Path(__file__).resolve().parents[2]
USER_PIN = "11223344"


@pytest.fixture(scope="module")
def ukey(tmp_path_factory):
    """A provisioned virtual key in a temporary store; yields (identity, library, label, root cert)."""
    proc = subprocess.run(["make", "-C", str(REPO / "native" / "softskf")], capture_output=True, text=True,
                          timeout=300)
    lib = REPO / "native" / "softskf" / "build" / "libsoftskf.so"
    assert proc.returncode == 0 and lib.is_file(), "native/softskf could not be built:\n" + proc.stderr
    from app.token import host_client
    from app.token.device import find_identity
    from app.token.softkey import init_softkey

    store = tmp_path_factory.mktemp("softskf-store")
    pki_dir = tmp_path_factory.mktemp("softskf-pki")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOFTSKF_STORE", str(store))
    mp.setenv("BIDSEAL_SKF_LIB", str(lib))
    mp.setenv("BIDSEAL_CONFIG", str(store / "no-config.json"))
    mp.delenv("SOFTSKF_FAULTS", raising=False)
    host_client.configure()
    try:
        info = init_softkey(store, "SEAL-KEY", USER_PIN, "admin-9876", pki_dir)
        identity = find_identity(str(lib), info.label)
        yield identity, str(lib), info.label, info.root_certificate
    finally:
        host_client.configure()
        mp.undo()


def test_seal_with_virtual_ukey_one_session(tmp_path, ukey, validate_pyhanko):
    from app.token import open_session

    identity, _lib, _label, root = ukey
    assert {"company", "legal"} <= set(identity.seals)
    src = make_pdf(tmp_path / "bid.pdf", pages=3)
    out = tmp_path / "out.pdf"
    with open_session(identity, USER_PIN) as session:
        res = seal_pdf(src, out, session.signer, [
            Seal(KeywordPlacement(KEYWORD), identity.seals["company"]),
            Seal(KeywordPlacement(LEGAL_KEYWORD, size_mm=20), identity.seals["legal"]),
            Seal(CrossPagePlacement(), identity.seals["company"]),
        ])
    assert len(res.seals) == 3
    results = validate_pyhanko(out, [root])
    assert all(r["intact"] and r["valid"] and r["trusted"] for r in results), results
    from app.pdfsign.verify import verify_pdf

    report = verify_pdf(out, trust_roots=[root])
    assert [s.status for s in report.signatures] == ["valid"] * 3


def test_batch_with_virtual_ukey(tmp_path, ukey):
    from app.token import open_session

    identity, *_ = ukey
    indir = tmp_path / "in"
    indir.mkdir()
    for n in range(3):
        make_pdf(indir / f"{n}.pdf", pages=2)
    with open_session(identity, USER_PIN) as session:
        summary = seal_batch(plan_batch(indir, tmp_path / "out"), session.signer,
                             [Seal(KeywordPlacement(KEYWORD), identity.seals["company"])])
    assert summary.all_ok and len(summary.succeeded) == 3


def test_cli_with_virtual_ukey_pin_stdin(tmp_path, ukey, monkeypatch, capsys):
    from app.cli.main import main

    _identity, lib, label, root = ukey
    rootf = tmp_path / "root.pem"
    rootf.write_bytes(root.pem)
    src = make_pdf(tmp_path / "bid.pdf", pages=2)
    out = tmp_path / "out.pdf"
    monkeypatch.setattr("sys.stdin", io.StringIO(USER_PIN + "\n"))
    rc = main(["sign", str(src), "-o", str(out), "--keyword", LEGAL_KEYWORD, "--seal", "legal", "--size-mm", "20",
               "--cross-page", "--lib", lib, "--device", label, "--pin-stdin", "--trust-root", str(rootf)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert out.is_file() and cap.out.count("BidSeal") == 2


def test_cli_wrong_pin_exit_2_no_output(tmp_path, ukey, monkeypatch, capsys):
    from app.cli.main import main

    _identity, lib, label, _root = ukey
    src = make_pdf(tmp_path / "bid.pdf", pages=2)
    out = tmp_path / "out.pdf"
    monkeypatch.setattr("sys.stdin", io.StringIO("99999999\n"))
    rc = main(["sign", str(src), "-o", str(out), "--keyword", KEYWORD, "--lib", lib, "--device", label,
               "--pin-stdin"])
    assert rc == 2 and "ERR_PIN" in capsys.readouterr().err and not out.exists()
    # restore the retry counter by a correct login
    from app.token import open_session

    with open_session(_identity, USER_PIN):
        pass


@pytest.mark.parametrize("origin", ["libreoffice", "objstm", "form", "rotated-cropped", "history"])
def test_pdfs_of_several_origins_with_virtual_ukey(tmp_path, ukey, origin, form_pdf, validate_pyhanko):
    import pymupdf

    from app.pdfsign import RectPlacement
    from app.token import open_session
    from tests.pdfsign.conftest import FIXTURES

    identity, _lib, _label, root = ukey
    if origin == "libreoffice":
        src = tmp_path / "lo.pdf"
        src.write_bytes((FIXTURES / "libreoffice-bid.pdf").read_bytes())
    elif origin == "objstm":
        src = make_pdf(tmp_path / "o.pdf", use_objstms=True)
    elif origin == "form":
        src = form_pdf
    elif origin == "rotated-cropped":
        src = make_pdf(tmp_path / "r.pdf", rotations={0: 90, 1: 270}, cropboxes={1: (30, 40, 560, 800)})
    else:
        src = make_pdf(tmp_path / "h.pdf")
        d = pymupdf.open(src)
        d[0].insert_text((72, 300), "later edit")
        d.save(src, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
        d.close()
    before = src.read_bytes()
    out = tmp_path / "out.pdf"
    with open_session(identity, USER_PIN) as session:
        seal_pdf(src, out, session.signer, [
            Seal(KeywordPlacement(KEYWORD), identity.seals["company"]),
            Seal(RectPlacement(0, (20, 20, 100, 100)), identity.seals["legal"]),
        ])
    assert out.read_bytes().startswith(before)
    results = validate_pyhanko(out, [root])
    assert len(results) == 2 and all(r["intact"] and r["valid"] and r["trusted"] for r in results), results

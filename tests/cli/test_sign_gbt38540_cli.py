"""``bidseal sign --format gbt38540``: a GB/T 38540 seal from an .esl file with a software
key; a seal of another holder is refused before anything is signed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo.pki import CertificateAuthority
from app.demo.ses_maker import make_demo_seal
from app.gm.x509 import Certificate
from app.pdfsign.verify import verify_pdf
from tests.pdfsign.conftest import make_seal_png

from .conftest import KEYWORD, bidseal, make_bid


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pki") / "pki"
    assert bidseal("pki", "demo", "--out", out).returncode == 0
    (out / "seal.png").write_bytes(make_seal_png())
    return out


def _sign(tmp_path: Path, demo: Path, esl: Path, *extra: str):
    bid = make_bid(tmp_path / "bid.pdf")
    return bidseal("sign", bid, "-o", tmp_path / "out.pdf", "--keyword", KEYWORD, "--soft-key", demo / "sign-key.pem",
                   "--cert", demo / "sign-cert.pem", "--seal-image", demo / "seal.png", "--format", "gbt38540",
                   "--ses-seal", esl, "--json", *extra)


def test_cli_seals_in_gbt38540_format(tmp_path: Path, demo: Path) -> None:
    maker = CertificateAuthority.create_root(name="演示制章系统")
    holder = Certificate.load((demo / "sign-cert.pem").read_bytes())
    esl = tmp_path / "seal.esl"
    esl.write_bytes(make_demo_seal(maker, [holder], make_seal_png()).der)
    res = _sign(tmp_path, demo, esl)
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["ok"] is True
    out = tmp_path / "out.pdf"
    assert b"/SubFilter/GM.sm2seal" in out.read_bytes()
    (s,) = verify_pdf(out, trust_roots=[maker.certificate]).signatures
    assert s.integrity and s.sub_filter == "GM.sm2seal" and "SES_MAKER_UNTRUSTED" not in {r.code for r in s.reasons}


def test_cli_refuses_a_seal_of_another_holder(tmp_path: Path, demo: Path) -> None:
    maker = CertificateAuthority.create_root(name="演示制章系统")
    other = CertificateAuthority.create_root(name="someone else").certificate
    esl = tmp_path / "seal.esl"
    esl.write_bytes(make_demo_seal(maker, [other], make_seal_png()).der)
    res = _sign(tmp_path, demo, esl)
    assert res.returncode != 0
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "ERR_SES_BINDING" and err["zh"] and err["en"]
    assert not (tmp_path / "out.pdf").exists()


def test_ses_seal_without_format_is_a_usage_error(tmp_path: Path, demo: Path) -> None:
    bid = make_bid(tmp_path / "bid.pdf")
    res = bidseal("sign", bid, "-o", tmp_path / "out.pdf", "--keyword", KEYWORD, "--soft-key",
                  demo / "sign-key.pem", "--cert", demo / "sign-cert.pem", "--seal-image", demo / "seal.png",
                  "--ses-seal", tmp_path / "x.esl", "--json")
    assert res.returncode != 0 and "--format gbt38540" in json.loads(res.stdout)["error"]["en"]

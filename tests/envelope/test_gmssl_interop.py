"""GM/T 0010 EnvelopedData against GmSSL 3, the independent implementation bidders' tools use.

* Structure (always): ``export_cms(profile="gmssl")`` writes what GmSSL's
  ``cms_recipient_info_from_der`` demands (RecipientInfo version 1, key encryption
  1.2.156.10197.1.301.2 without parameters, GM content types, SM4-CBC with an IV);
  the standard profile keeps version 0 and 301.3; both import back, DER or PEM.
* Empty or truncated CMS gives the CMS format error (GmSSL's own files included).
* Live, against GmSSL 3 itself: its ``cmsdecrypt`` opens our gmssl-profile export
  (and refuses the standard one), and our ``import-cms`` / ``decrypt`` open what its
  ``cmsencrypt`` wrote. GmSSL is not a Debian package: the test builds the vendored
  source (``native/third_party/build-gmssl.sh``, github.com/guanzhi/GmSSL 3.3.0-dev,
  about 20 s once, then cached); ``BIDSEAL_GMSSL`` points at another build.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import pem as asn1_pem

from app.cli.main import main
from app.demo.pki import DemoPKI
from app.envelope import EnvelopeFormatError, export_cms, import_cms, read_cms_info
from app.envelope.cms_bridge import to_pem
from app.gm import oids, sm4
from app.gm.sm2 import PrivateKey

REPO = Path(__file__).resolve().parents[2]


def _ktri(der: bytes) -> tuple[asn1_cms.ContentInfo, list[asn1_cms.KeyTransRecipientInfo]]:
    ci = asn1_cms.ContentInfo.load(der)
    return ci, [ri.chosen for ri in ci["content"]["recipient_infos"]]


def test_gmssl_profile_structure(pki: DemoPKI, tmp_path: Path) -> None:
    plain = tmp_path / "bid.txt"
    plain.write_bytes("投标文件 / bid".encode() * 100)
    out = tmp_path / "bid.p7"
    export_cms(plain, out, [pki.enc_cert, pki.emergency_cert], profile="gmssl")
    ci, infos = _ktri(out.read_bytes())
    assert ci["content_type"].dotted == oids.GM_ENVELOPED_DATA
    ed = ci["content"]
    assert ed["version"].native == "v1"
    eci = ed["encrypted_content_info"]
    assert eci["content_type"].dotted == oids.GM_DATA
    assert eci["content_encryption_algorithm"]["algorithm"].dotted == oids.SM4_CBC
    assert len(eci["content_encryption_algorithm"]["parameters"].native) == 16
    assert len(infos) == 2
    for k in infos:
        assert k["version"].native == "v1"
        alg = k["key_encryption_algorithm"]
        assert alg["algorithm"].dotted == "1.2.156.10197.1.301.2" and alg["parameters"].native is None
        assert alg.dump() == bytes.fromhex("300b06092a811ccf5501822d02")  # SEQUENCE { OID } and nothing else
    assert import_cms(out, tmp_path / "a", pki.enc_key) == plain.stat().st_size
    assert (tmp_path / "a").read_bytes() == plain.read_bytes()
    assert read_cms_info(out).profile == "gmssl"


def test_standard_profile_and_pem(pki: DemoPKI, tmp_path: Path) -> None:
    plain = tmp_path / "bid.txt"
    plain.write_bytes(b"standard")
    out = tmp_path / "bid.pem"
    export_cms(plain, out, [pki.enc_cert], pem=True)
    assert out.read_bytes().startswith(b"-----BEGIN CMS-----")
    _label, _h, der = asn1_pem.unarmor(out.read_bytes())
    _ci, (k,) = _ktri(der)
    assert k["version"].native == "v0" and k["key_encryption_algorithm"]["algorithm"].dotted == oids.SM2_ENCRYPT
    info = read_cms_info(out)
    assert info.profile == "standard" and info.recipients[0].serial_hex == format(pki.enc_cert.serial_number, "X")
    import_cms(out, tmp_path / "plain", pki.enc_key)
    assert (tmp_path / "plain").read_bytes() == b"standard"


@pytest.mark.parametrize("content", [b"", b"\x30", b"\x30\x82\x01\x00\x06", b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n"])
def test_empty_or_truncated_cms_is_the_format_error(pki: DemoPKI, tmp_path: Path, content: bytes,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "broken.p7"
    src.write_bytes(content)
    with pytest.raises(EnvelopeFormatError) as exc:
        import_cms(src, tmp_path / "out", pki.enc_key)
    assert "CMS" in exc.value.zh and "malformed CMS" in exc.value.en
    (tmp_path / "k.pem").write_bytes(pki.enc_key.to_pem())
    (tmp_path / "c.pem").write_bytes(pki.enc_cert.pem)
    soft = ["--soft-key", str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem")]
    for argv in (["envelope", "import-cms", str(src), "-o", str(tmp_path / "out")],
                 ["decrypt", str(src), "-o", str(tmp_path / "out")], ["envelope", "info", str(src)]):
        assert main(argv + (soft if argv[-1] == str(tmp_path / "out") else [])) == 2
        err = capsys.readouterr().err
        assert "ERR_ENVELOPE_FORMAT" in err and "UnboundLocalError" not in err and "CMS" in err
    assert not (tmp_path / "out").exists()


def test_envelope_info_recognises_what_decrypt_accepts(pki: DemoPKI, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "bid.txt"
    plain.write_bytes(b"x" * 1000)
    for profile in ("standard", "gmssl"):
        out = tmp_path / f"{profile}.p7"
        export_cms(plain, out, [pki.enc_cert], profile=profile)  # type: ignore[arg-type]
        assert main(["envelope", "info", str(out)]) == 0
        text = capsys.readouterr().out
        assert "GM/T 0010" in text and profile in text and format(pki.enc_cert.serial_number, "X") in text
        assert main(["envelope", "info", str(out), "--json"]) == 0
        assert '"format": "gmt0010"' in capsys.readouterr().out


# -- live GmSSL 3 -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gmssl() -> str:
    """The ``gmssl`` command line: ``BIDSEAL_GMSSL``, else the vendored source built once."""
    if os.environ.get("BIDSEAL_GMSSL"):
        return os.environ["BIDSEAL_GMSSL"]
    res = subprocess.run(["bash", str(REPO / "native/third_party/build-gmssl.sh")], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, f"GmSSL 3 could not be built from native/third_party: {res.stderr}"
    return res.stdout.strip().splitlines()[-1]


def _gmssl_key(pem: bytes, password: bytes) -> PrivateKey:
    """A GmSSL ``sm2keygen`` key (PBES2: PBKDF2-HMAC-SM3, SM4-CBC) as a BidSeal key."""
    _label, _h, der = asn1_pem.unarmor(pem)
    epki = core.Sequence.load(der)
    params = epki[0][1]
    kdf, scheme = params[0][1], params[1]
    salt, iterations = kdf[0].native, kdf[1].native
    assert kdf[-1][0].dotted == "1.2.156.10197.1.401.2" and scheme[0].dotted == oids.SM4_CBC
    key = hashlib.pbkdf2_hmac("sm3", password, bytes(salt), int(iterations), 16)
    return PrivateKey.from_der(sm4.cbc_decrypt(key, bytes(scheme[1].native), bytes(epki[1].native)))


def test_live_gmssl_both_ways(tmp_path: Path, gmssl: str) -> None:
    run = lambda *a: subprocess.run([gmssl, *a], capture_output=True, text=True, timeout=60)  # noqa: E731
    assert run("sm2keygen", "-pass", "P", "-out", str(tmp_path / "k.pem")).returncode == 0
    res = run("certgen", "-C", "CN", "-O", "GmSSL 接收方", "-CN", "GmSSL Recipient", "-serial_len", "12", "-days",
              "365", "-key", str(tmp_path / "k.pem"), "-pass", "P", "-key_usage", "keyEncipherment",
              "-out", str(tmp_path / "c.pem"))
    assert res.returncode == 0, res.stderr
    plain = tmp_path / "bid.txt"
    plain.write_bytes("投标文件 for GmSSL\n".encode() * 50)

    def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli.main", *map(str, args)], capture_output=True,
                              text=True, cwd=REPO, timeout=120)

    # BidSeal -> GmSSL: the gmssl profile opens, the standard one is refused by GmSSL
    for profile, opens in (("gmssl", True), ("standard", False)):
        out = tmp_path / f"{profile}.pem"
        assert cli("envelope", "export-cms", plain, "-o", out, "--to", tmp_path / "c.pem", "--profile", profile,
                   "--pem").returncode == 0
        res = run("cmsdecrypt", "-key", str(tmp_path / "k.pem"), "-pass", "P", "-cert", str(tmp_path / "c.pem"),
                  "-in", str(out), "-out", str(tmp_path / f"{profile}.out"))
        assert (res.returncode == 0) is opens, res.stderr
        if opens:
            assert (tmp_path / f"{profile}.out").read_bytes() == plain.read_bytes()
    # GmSSL -> BidSeal: import-cms and decrypt open cmsencrypt's PEM output
    res = run("cmsencrypt", "-rcptcert", str(tmp_path / "c.pem"), "-in", str(plain), "-out",
              str(tmp_path / "from-gmssl.pem"))
    assert res.returncode == 0, res.stderr
    (tmp_path / "k-bidseal.pem").write_bytes(_gmssl_key((tmp_path / "k.pem").read_bytes(), b"P").to_pem())
    soft = ["--soft-key", tmp_path / "k-bidseal.pem", "--cert", tmp_path / "c.pem"]
    assert cli("envelope", "info", tmp_path / "from-gmssl.pem").returncode == 0
    for cmd in (["envelope", "import-cms"], ["decrypt"]):
        out = tmp_path / f"{cmd[-1]}.out"
        res = cli(*cmd, tmp_path / "from-gmssl.pem", "-o", out, *soft)
        assert res.returncode == 0, res.stderr
        assert out.read_bytes() == plain.read_bytes()
    truncated = tmp_path / "truncated.pem"
    truncated.write_bytes(to_pem(asn1_pem.unarmor((tmp_path / "from-gmssl.pem").read_bytes())[2][:120]))
    res = cli("decrypt", truncated, "-o", tmp_path / "t.out", *soft)
    assert res.returncode == 2 and "ERR_ENVELOPE_FORMAT" in res.stderr and not (tmp_path / "t.out").exists()

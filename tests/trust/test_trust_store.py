"""The trust store (app.trust) and ``bidseal trust`` / ``bidseal verify`` trust options."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli.main import main as cli_main
from app.demo.pki import CertificateAuthority
from app.gm.x509 import Certificate
from app.pdfsign.verify import verify_pdf
from app.trust import TrustStore, TrustStoreError, is_demo_root, trusted_roots
from tests.pdfsign import verify_fixtures as vf
from tests.support import softkey as virtual_ukey

softskf_lib = virtual_ukey.softskf_lib
store_dir = virtual_ukey.store


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own BidSeal folders, so the default store starts empty."""
    home = tmp_path / "home"
    monkeypatch.setenv("BIDSEAL_HOME", str(home))
    return home


@pytest.fixture
def store(tmp_path: Path) -> TrustStore:
    return TrustStore(tmp_path / "trust", shipped=tmp_path / "shipped")


def _other_root(name: str = "Other Test Root") -> Certificate:
    return CertificateAuthority.create_root(name=name).certificate


def _p256_ca(tmp_path: Path) -> Path:
    """A valid CA certificate with a NIST P-256 key (not SM2), made with cryptography."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "P-256 Root")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / "p256.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_add_list_remove_round_trip(store: TrustStore) -> None:
    root = _other_root()
    assert store.list() == []
    entry = store.add(root)
    assert entry.source == "user" and not entry.demo and entry.path.is_file()
    assert store.roots() == [root]
    assert store.add(root).path == entry.path and len(store.list()) == 1  # idempotent
    removed = store.remove(entry.fingerprint[:12])
    assert [e.certificate for e in removed] == [root]
    assert store.list() == [] and not entry.path.exists()


def test_remove_by_certificate_file_and_unknown(store: TrustStore, tmp_path: Path) -> None:
    root = _other_root()
    store.add(root)
    pem = tmp_path / "r.pem"
    pem.write_bytes(root.pem)
    assert [e.certificate for e in store.remove(pem)] == [root]
    with pytest.raises(TrustStoreError) as ei:
        store.remove(pem)
    assert "No trusted root" in ei.value.en
    with pytest.raises(TrustStoreError) as ei:
        store.remove("xyz")
    assert "fingerprint" in ei.value.en


def test_end_entity_certificate_is_refused(store: TrustStore) -> None:
    with pytest.raises(TrustStoreError) as ei:
        store.add(vf.pki().sign_cert)
    assert ei.value.code == "ERR_TRUST_STORE" and "not a CA certificate" in ei.value.en
    assert store.list() == []


def test_non_sm2_root_is_refused(store: TrustStore, tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError) as ei:
        store.add_file(_p256_ca(tmp_path))
    assert "SM2" in ei.value.en and store.list() == []


def test_root_with_broken_self_signature_is_refused(store: TrustStore) -> None:
    der = bytearray(_other_root().der)
    der[-5] ^= 0x01  # inside the signature value
    with pytest.raises(TrustStoreError) as ei:
        store.add(Certificate.from_der(bytes(der)))
    assert "self-signature" in ei.value.en


def test_bundle_is_all_or_nothing(store: TrustStore, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(_other_root("A").pem + vf.pki().sign_cert.pem)
    with pytest.raises(TrustStoreError):
        store.add_file(bundle)
    assert store.list() == []
    bundle.write_bytes(_other_root("A").pem + _other_root("B").pem)
    assert len(store.add_file(bundle)) == 2 and len(store.list()) == 2


def test_shipped_roots_are_listed_and_cannot_be_removed(store: TrustStore) -> None:
    shipped = _other_root("Approved CA Root")
    store.shipped.mkdir(parents=True)
    (store.shipped / "approved.pem").write_bytes(shipped.pem)
    (store.shipped / "README.md").write_text("not a certificate")
    (store.shipped / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    (entry,) = store.list()
    assert entry.source == "shipped" and entry.certificate == shipped
    assert [p.path.name for p in store.problems()] == ["broken.pem"]
    with pytest.raises(TrustStoreError) as ei:
        store.remove(entry.fingerprint)
    assert "ships with the application" in ei.value.en
    assert store.list() == [entry]


def test_demo_roots_are_marked_and_the_mark_moves(store: TrustStore) -> None:
    root = _other_root("Softkey Root")
    store.add(root, demo=True)
    assert store.is_demo(root) and is_demo_root(root, store=store)
    store.add(root)  # re-added as an ordinary root: moved, never in both places
    assert not store.is_demo(root) and len(store.list()) == 1
    store.add(root, demo=True)
    assert store.is_demo(root) and len(store.list()) == 1


def test_demo_ca_name_is_demo_even_outside_the_store(store: TrustStore) -> None:
    assert is_demo_root(vf.pki().root_cert, store=store)
    assert not is_demo_root(_other_root(), store=store)


def test_trusted_roots_default_extra_and_no_default(private_home: Path) -> None:
    user, extra = _other_root("User Root"), _other_root("Extra Root")
    TrustStore().add(user)
    assert trusted_roots() == [user]
    assert trusted_roots([extra, user]) == [user, extra]
    assert trusted_roots([extra], use_default=False) == [extra]
    assert (private_home / "data" / "trust" / "roots").is_dir()


# -- the CLI --------------------------------------------------------------------------------


def test_cli_trust_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _other_root("CLI Root")
    pem = tmp_path / "root.pem"
    pem.write_bytes(root.pem)
    assert cli_main(["trust", "list"]) == 0
    assert "没有受信任的根证书" in capsys.readouterr().out  # the shipped folder holds only its README
    assert cli_main(["trust", "add", str(pem), "--json"]) == 0
    (added,) = json.loads(capsys.readouterr().out)
    assert added["common_name"] == "CLI Root" and added["demo"] is False
    assert cli_main(["trust", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["fingerprint_sm3"] for r in listed["roots"]] == [added["fingerprint_sm3"]]
    assert cli_main(["trust", "remove", added["fingerprint_sm3"][:10]]) == 0
    assert "CLI Root" in capsys.readouterr().out
    assert cli_main(["trust", "remove", added["fingerprint_sm3"][:10]]) == 2
    assert "ERR_TRUST_STORE" in capsys.readouterr().err


def test_cli_trust_add_refuses_a_signing_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pem = tmp_path / "leaf.pem"
    pem.write_bytes(vf.pki().sign_cert.pem)
    assert cli_main(["trust", "add", str(pem)]) == 2
    err = capsys.readouterr().err
    assert "不是 CA 证书" in err and "ERR_TRUST_STORE" in err


def test_cli_verify_uses_the_store_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(vf.signed_pdf())
    root = tmp_path / "root.pem"
    root.write_bytes(vf.pki().root_cert.pem)
    assert cli_main(["verify", str(pdf), "--json"]) == 1  # empty store: untrusted
    assert json.loads(capsys.readouterr().out)["status"] == "untrusted"
    assert cli_main(["trust", "add", str(root)]) == 0
    capsys.readouterr()
    assert cli_main(["verify", str(pdf), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "valid"
    assert cli_main(["verify", str(pdf), "--no-default-trust"]) == 1
    assert cli_main(["verify", str(pdf), "--no-default-trust", "--trust", str(root)]) == 0


def test_signature_under_a_demo_root_is_reported_as_demo(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A root added as demo (what ``softkey init`` does): valid, and every output says demo."""
    from app.gm import sm2
    from app.gm.keyops import SoftwareSigner

    ca = CertificateAuthority.create_root(name="Virtual Key Root")
    key = sm2.PrivateKey.generate()
    signer = SoftwareSigner(ca.issue(key.public_key, vf.pki().subject, "sign"), key)
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(vf.sign_pdf(vf.make_pdf(), signer))
    ordinary = verify_pdf(pdf, trust_roots=[ca.certificate])
    assert ordinary.status == "valid" and not ordinary.demo  # not in the store as demo
    TrustStore().add(ca.certificate, demo=True)
    report = verify_pdf(pdf, trust_roots=trusted_roots())
    (sig,) = report.signatures
    assert report.status == "valid" and sig.demo and report.demo
    assert "DEMO_CERTIFICATE" in {r.code for r in sig.reasons}
    assert cli_main(["verify", str(pdf), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["demo"] is True and d["signatures"][0]["demo"] is True
    assert cli_main(["verify", str(pdf), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "(DEMO certificate)" in out and "demo CA" in out


def test_softkey_init_trusts_its_demo_root_as_demo(tmp_path: Path, softskf_lib: str, store_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pki = tmp_path / "pki"
    rc = cli_main(["softkey", "init", "--store", str(store_dir), "--label", "TRUST-KEY", "--pki", str(pki),
                   "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["demo_root"]["demo"] is True
    (entry,) = TrustStore().list()
    assert entry.demo and entry.certificate == Certificate.load((pki / "root.pem").read_bytes())
    assert is_demo_root(entry.certificate)

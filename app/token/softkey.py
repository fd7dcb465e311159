"""The virtual UKey (libsoftskf): plug, unplug and provision it like a CA would.

:func:`init_softkey` goes through the real issuance flow with nothing but SKF
calls, through the same loader and token host as a vendor key:

1. plug the device (``<store>/<label>/present``), ``SKF_ConnectDev``;
2. device authentication: ``SKF_GenRandom`` + ``SKF_DevAuth(SM4-ECB(auth key, random))``
   (factory key ``"1234567812345678"``);
3. ``SKF_CreateApplication`` (admin/user PIN), ``SKF_VerifyPIN``, ``SKF_CreateContainer``;
4. ``SKF_GenECCKeyPair(SGD_SM2_1)`` - the signing key is born in the key;
5. a PKCS#10 request signed BY THE KEY (``SKF_ECCSignData`` of e), issued by the
   demo CA (persisted in ``pki_dir``) -> ``SKF_ImportCertificate(TRUE)``;
6. the encryption key pair made on the CA side (key-management centre), sent as a
   GM/T 0092 SM2EnvelopedKey protected by the container's signing public key ->
   ENVELOPEDKEYBLOB -> ``SKF_ImportECCKeyPair``, ``SKF_ImportCertificate(FALSE)``;
7. seal images written as application files (``seal_company.png``,
   ``seal_legal.png``; see :mod:`app.token.identity`).

The virtual key is a demo key: key discovery offers it only once it was enabled on
purpose (:func:`init_softkey`/:func:`plug` record that; see
:func:`app.token.registry.softkey_enabled`), and :attr:`Identity.is_demo` marks it.

Defaults: store = ``SOFTSKF_STORE`` or the library's default
(``$XDG_DATA_HOME/bidseal/softskf``, ``~/.local/share/bidseal/softskf``,
``%APPDATA%\\BidSeal\\softskf``); PKI = ``app.paths.data_dir()/demo-pki``.
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.demo.pki import (
    DEMO_LEGAL_ID,
    DEMO_UNIT_CODE,
    CertificateAuthority,
    Subject,
    build_csr,
    enveloped_key_for,
    skf_enveloped_key_blob,
)
from app.gm import sm2, sm4
from app.gm.x509 import Certificate
from app.sensitive import wipe
from app.token.access import acquire
from app.token.device import PinLike, close_quietly, pin_bytes
from app.token.errors import TokenError
from app.token.host_client import TokenHost
from app.token.identity import SEAL_COMPANY, SEAL_LEGAL, seal_file_name
from app.token.registry import enable_softkey, softskf_path
from app.token.skf_ffi import SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT, SGD_SM2_1, USER_TYPE

DEFAULT_LABEL = "BIDSEAL-SOFTKEY"
DEFAULT_APPLICATION = "BIDSEAL"
DEFAULT_CONTAINER = "BIDSEAL-SM2"
DEFAULT_USER_PIN = "12345678"
DEFAULT_ADMIN_PIN = "admin12345"
FACTORY_AUTH_KEY = b"1234567812345678"
USER_RETRIES = 6
ADMIN_RETRIES = 10
DEFAULT_UNIT = "辽宁示例建设工程有限公司"
DEFAULT_LEGAL = "张三"


def default_store() -> Path:
    env = os.environ.get("SOFTSKF_STORE")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", ".")) / "BidSeal" / "softskf"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "bidseal" / "softskf"


def default_pki_dir() -> Path:
    """Where the demo CA is kept (BidSeal's data folder, :func:`app.paths.data_dir`)."""
    from app import paths

    return paths.data_dir() / "demo-pki"


def plug(store: str | os.PathLike[str] | None = None, label: str = DEFAULT_LABEL, *, enable: bool = True) -> Path:
    """Insert the virtual key: create ``<store>/<label>/present``. ``enable`` (default)
    also records that the user enabled the virtual key (:func:`app.token.registry.enable_softkey`),
    so key discovery offers it from now on."""
    d = Path(store or default_store()) / label
    d.mkdir(parents=True, exist_ok=True)
    (d / "present").touch()
    if enable:
        enable_softkey("bidseal softkey plug", store)
    return d


def unplug(store: str | os.PathLike[str] | None = None, label: str = DEFAULT_LABEL) -> None:
    """Remove the virtual key: delete ``<store>/<label>/present``."""
    (Path(store or default_store()) / label / "present").unlink(missing_ok=True)


def load_demo_ca(pki_dir: str | os.PathLike[str] | None = None) -> CertificateAuthority:
    """The demo root CA kept in ``pki_dir`` (``root.pem`` + ``root.key.pem``), created on first use."""
    d = Path(pki_dir or default_pki_dir())
    cert_p, key_p = d / "root.pem", d / "root.key.pem"
    if cert_p.exists() and key_p.exists():
        return CertificateAuthority(Certificate.load(cert_p.read_bytes()), sm2.PrivateKey.from_pem(key_p.read_bytes()))
    d.mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority.create_root()
    fd = os.open(key_p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(ca.key.to_pem())
    cert_p.write_bytes(ca.certificate.pem)
    return ca


@dataclass(frozen=True)
class SoftkeyInfo:
    store: str
    label: str
    library: str
    application: str
    container: str
    sign_certificate: Certificate
    enc_certificate: Certificate
    root_certificate: Certificate
    seals: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "label": self.label, "library": self.library,
                "application": self.application, "container": self.container,
                "sign_certificate": self.sign_certificate.summary(),
                "enc_certificate": self.enc_certificate.summary(),
                "root_certificate": self.root_certificate.subject.rfc4514(), "seals": list(self.seals)}


def init_softkey(
    store: str | os.PathLike[str] | None = None,
    label: str = DEFAULT_LABEL,
    user_pin: PinLike = DEFAULT_USER_PIN,
    admin_pin: PinLike = DEFAULT_ADMIN_PIN,
    pki_dir: str | os.PathLike[str] | None = None,
    *,
    subject: Subject | None = None,
    library: str | os.PathLike[str] | None = None,
    application: str = DEFAULT_APPLICATION,
    container: str = DEFAULT_CONTAINER,
    seals: bool = True,
    ses_seal: str | None = None,
    force: bool = False,
    auth_key: bytes = FACTORY_AUTH_KEY,
    timeout: float | None = None,
    enable: bool = True,
) -> SoftkeyInfo:
    """Provision a blank virtual key (see the module docstring for the flow).

    ``enable`` (default) records that the user enabled the virtual key, so key discovery
    offers it from now on (``bidseal softkey init``); ``bidseal demo`` enables it for its
    own run only. ``ses_seal`` names an application file to hold a demo GB/T 38540 SESeal
    (made by the demo CA for the signing certificate, the company seal as picture), as a
    CA key with seals from a seal-making system carries; e.g. ``seal_company.esl``."""
    store_p = Path(store or default_store())
    lib = str(library or softskf_path())
    subject = subject or Subject(unit_name=DEFAULT_UNIT, unit_code=DEMO_UNIT_CODE, legal_name=DEFAULT_LEGAL,
                                 legal_id=DEMO_LEGAL_ID)
    subject.validate()
    ca = load_demo_ca(pki_dir)
    plug(store_p, label, enable=False)
    user, admin = pin_bytes(user_pin), pin_bytes(admin_pin)
    host = TokenHost(lib, env={"SOFTSKF_STORE": str(store_p)}, timeout=timeout)
    hdev = happ = hcon = None
    lease = acquire(label, "provisioning the virtual key")
    try:
        hdev = host.call("connect_dev", label)
        rnd = host.call("gen_random", hdev, 8)
        host.call("dev_auth", hdev, sm4.ecb_encrypt(auth_key, rnd.ljust(16, b"\0")))
        with suppress(TokenError):
            host.call("set_label", hdev, label[:31])
        if application in host.call("enum_application", hdev):
            if not force:
                raise TokenError(
                    f"虚拟 UKey「{label}」已经初始化过。如需重新初始化（将删除其中的证书），请加 --force。",
                    f"The virtual key '{label}' is already initialised. Use --force to re-initialise it "
                    "(its certificates will be deleted).",
                    code="ERR_SOFTKEY_EXISTS", label=label, store=str(store_p),
                )
            host.call("delete_application", hdev, application)
        happ = host.call("create_application", hdev, application, admin, ADMIN_RETRIES, user, USER_RETRIES,
                         SECURE_ANYONE_ACCOUNT)
        host.call("verify_pin", happ, USER_TYPE, user)
        hcon = host.call("create_container", happ, container)
        sign_pub = sm2.PublicKey.from_skf_blob(host.call("gen_ecc_key_pair", hcon, SGD_SM2_1))
        con_handle = hcon

        def key_signs(e: bytes) -> bytes:
            blob = host.call("ecc_sign_data", con_handle, e)
            return sm2.signature_to_der(*sm2.signature_from_skf_blob(blob))

        csr = build_csr(subject, sign_pub, key_signs)
        sign_cert = ca.issue_from_csr(csr, "sign")
        host.call("import_certificate", hcon, True, sign_cert.der)
        enc_key = sm2.PrivateKey.generate()
        enc_cert = ca.issue(enc_key.public_key, subject, "enc")
        blob = bytearray(skf_enveloped_key_blob(enveloped_key_for(enc_key, sign_pub)))
        try:
            host.call("import_ecc_key_pair", hcon, blob)
        finally:
            wipe(blob)
        del enc_key
        host.call("import_certificate", hcon, False, enc_cert.der)
        written: list[str] = []
        if seals:
            from app.token.seal_images import company_seal, legal_seal

            images = {SEAL_COMPANY: company_seal(subject.unit_name, code=subject.unit_code)}
            if subject.legal_name:
                images[SEAL_LEGAL] = legal_seal(subject.legal_name)
            for kind, png in images.items():
                name = seal_file_name(kind)
                host.call("create_file", happ, name, len(png), SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT)
                host.call("write_file_all", happ, name, png)
                written.append(name)
        if ses_seal:
            from app.demo.ses_maker import make_demo_seal
            from app.token.seal_images import company_seal

            der = make_demo_seal(ca, [sign_cert], company_seal(subject.unit_name, code=subject.unit_code),
                                 name=f"{subject.unit_name}投标专用章").der
            host.call("create_file", happ, ses_seal, len(der), SECURE_ANYONE_ACCOUNT, SECURE_USER_ACCOUNT)
            host.call("write_file_all", happ, ses_seal, der)
            written.append(ses_seal)
        host.call("clear_secure_state", happ)
        if enable:
            enable_softkey("bidseal softkey init", store_p)
        return SoftkeyInfo(str(store_p), label, lib, application, container, sign_cert, enc_cert,
                           ca.certificate, tuple(written))
    finally:
        wipe(user)
        wipe(admin)
        for hid in (hcon, happ, hdev):
            close_quietly(host, hid)
        host.close()
        lease.release()

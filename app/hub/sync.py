"""Interfaces 1-2 as one engine entry point: push the UKey's data to the hub.

:func:`prepare` does everything that can fail without the PIN (reads the key,
builds and checks the payload, finds the secret or checks the hub is reachable) and
returns a :class:`PreparedSync`; :meth:`PreparedSync.send` then signs and posts it.
The CLI asks for the PIN between the two, so a command that cannot succeed fails
before the PIN is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from app.errors import BidSealError
from app.gm.keyops import DigestSigner
from app.gm.x509 import Certificate
from app.hub import credentials, signing
from app.hub.client import HubClient
from app.hub.interfaces import Interface, interface
from app.hub.payload import Overrides, build_cert_payload

AUTH_HMAC = "hmac"
AUTH_SM2 = "sm2"


class SyncAuthError(BidSealError):
    code = "ERR_HUB_AUTH"


@dataclass
class PreparedSync:
    """A checked payload waiting for its ``sign``."""

    client: HubClient
    interface: Interface
    fields: dict[str, str]
    auth: str
    sign_certificate: Certificate
    secret: str | None = field(default=None, repr=False)

    @property
    def needs_pin(self) -> bool:
        return self.auth == AUTH_SM2

    def summary(self) -> dict[str, Any]:
        """What is about to be sent, without the bulky certificate and image fields."""
        skip = {"signCert", "encCert", "signature"}
        return {k: v for k, v in self.fields.items() if k not in skip} | {
            "interface": self.interface.path, "auth": self.auth,
            "signatureBytes": len(self.fields["signature"]) * 3 // 4}

    def send(self, signer: DigestSigner | None = None) -> dict[str, Any]:
        """Sign (HMAC with the saved secret, or SM2 with the UKey's signing key through
        ``signer``, which must hold the payload's signing certificate) and post."""
        if self.auth == AUTH_SM2:
            if signer is None:
                raise SyncAuthError("SM2 签名需要 UKey 会话。", "SM2 signing needs a UKey session.")
            if signer.certificate != self.sign_certificate:
                raise SyncAuthError("UKey 的签名证书与同步数据不一致。",
                                    "The UKey's signing certificate differs from the data being sent.")
            pub = self.sign_certificate.public_key

            def sign(path: str, fields: Mapping[str, str]) -> str:
                return signing.sign_sm2(path, fields, pub, signer.sign_digest, alg=signing.SM2_CERT)
        else:
            secret = self.secret or ""

            def sign(path: str, fields: Mapping[str, str]) -> str:
                return signing.sign_hmac(path, fields, secret)
        return self.client.call(self.interface, self.fields, sign)


def prepare(client: HubClient, ca_unit_id: str, sign_cert: Certificate | None, enc_cert: Certificate | None,
            seals: Mapping[str, bytes], *, pa_type: str | None = None, auth: str | None = None,
            overrides: Overrides | None = None,
            probe: Callable[[HubClient], None] | None = None) -> PreparedSync:
    """Build and check the userSynchro (``pa_type`` None) or changeCert payload and pick
    the authentication: ``hmac`` when a secret for this caUnitId and hub is in the
    keyring (or ``auth="hmac"`` demands it), else ``sm2`` (the UKey signs)."""
    if sign_cert is None:
        raise SyncAuthError("UKey 中没有签名证书。", "The UKey holds no signing certificate.",
                            code="ERR_HUB_PAYLOAD")
    iface = interface("userSynchro" if pa_type is None else "changeCert")
    fields = build_cert_payload(ca_unit_id, sign_cert, enc_cert, seals, overrides, pa_type=pa_type)
    secret = None
    if auth in (None, AUTH_HMAC):
        try:
            secret = credentials.load_secret(ca_unit_id, client.base_url)
        except credentials.CredentialStoreError:
            if auth == AUTH_HMAC:
                raise
        if secret is None and auth == AUTH_HMAC:
            raise SyncAuthError(
                f"密钥环中没有 caUnitId {ca_unit_id} 在该平台的密钥：请先运行 bidseal hub secret set。",
                f"No secret for caUnitId {ca_unit_id} at this hub in the keyring: run "
                "`bidseal hub secret set` first.", details={"caUnitId": ca_unit_id})
    chosen = AUTH_HMAC if secret is not None else AUTH_SM2
    prepared = PreparedSync(client, iface, fields, chosen, sign_cert, secret)
    if prepared.needs_pin:
        (probe or check_reachable)(client)
    return prepared


def check_reachable(client: HubClient) -> None:
    """Connect once (TLS verified) before a PIN is asked: any HTTP answer will do."""
    assert client.session is not None
    try:
        client.session.get(client.base_url, timeout=(client.connect_timeout, client.connect_timeout),
                           verify=client.ca_bundle or True, allow_redirects=False)
    except requests.exceptions.SSLError as exc:
        raise client.tls_error(exc) from exc
    except requests.exceptions.RequestException as exc:
        raise client.unreachable(interface("userSynchro"), exc, sent=False) from exc

"""``decrypt``: (a) a short GM/T 0010 ciphertext -> plaintext to the calling origin, or
(b) a BidSeal envelope head -> the file key re-wrapped to the hub (no key to the page).

Both refuse before consent (and so before any PIN) what cannot be this key's: a
ciphertext or envelope not addressed to an inserted key's **encryption** certificate
(``ERR_CERT_MISMATCH``). For (b) also: the envelope's project must equal the project the
page names and match the calling hub's configured project patterns, and the hub's
encryption certificate comes from the helper's configuration for that origin, never
from the request (``ERR_PROJECT_MISMATCH``). The consent dialog shows the project, the
file, the unit and every recipient of the envelope; the header MAC is checked with the
unwrapped key before anything is re-wrapped (:mod:`app.envelope.rewrap`).
"""

from __future__ import annotations

from app.envelope import format as envelope_format
from app.envelope.recipients import check_recipient, matches
from app.envelope.rewrap import rewrap_file_key, split_head
from app.errors import BidSealError
from app.gm import cms
from app.helper.consent import Fact
from app.helper.errors import HelperError, from_exception
from app.helper.guard import Caller
from app.helper.keys import KeyIdentity, KeySession
from app.helper.service import HelperServices, Reply, b64, key_operation, unb64


async def handle(services: HelperServices, caller: Caller) -> Reply:
    if caller.params["kind"] == "cms":
        return await _cms(services, caller)
    return await _envelope(services, caller)


def _task_facts(caller: Caller) -> list[Fact]:
    facts = []
    if caller.params.get("project"):
        facts.append(Fact("项目/标段（网页提供）", "Project / section (as the page says)", caller.params["project"]))
    if caller.params.get("taskId"):
        facts.append(Fact("解密任务", "Decryption task", caller.params["taskId"]))
    return facts


async def _cms(services: HelperServices, caller: Caller) -> Reply:
    der = unb64(caller.params["ciphertext"], "ciphertext")
    try:
        recipients = cms.recipient_ids(der)
    except BidSealError as exc:
        raise HelperError("ERR_INVALID_DATA", reason="not a GM/T 0010 EnvelopedData") from exc

    def addressed(identity: KeyIdentity) -> bool:
        return identity.enc_certificate is not None and any(r.matches(identity.enc_certificate) for r in recipients)

    def work(session: KeySession) -> bytes:
        return cms.open_envelope(der, session.unwrapper)

    facts = [*_task_facts(caller), Fact("数据大小", "Data size", f"{len(der)} B")]
    plain, state = await key_operation(services, caller, "decrypt", "enc", facts, work,
                                       project=caller.params.get("project"), accept=addressed)
    return Reply({"kind": "cms", "plaintext": b64(plain)}, serial=state.serial)


async def _envelope(services: HelperServices, caller: Caller) -> Reply:
    head = unb64(caller.params["head"], "head")
    try:
        header, _mac = split_head(head)
    except BidSealError as exc:
        raise HelperError("ERR_INVALID_DATA", reason="not a BidSeal envelope head") from exc
    hub = caller.hub
    project = caller.params["project"]
    if header.project_id != project or not hub.allows_project(header.project_id):
        raise HelperError("ERR_PROJECT_MISMATCH", envelopeProject=header.project_id, requested=project)
    hub_cert = hub.encryption_certificate
    if hub_cert is None:
        raise HelperError("ERR_PROJECT_MISMATCH", zh="本平台没有配置用于开标的加密证书，无法转封装文件密钥。",
                          en="No encryption certificate is configured for this platform, so the file key "
                             "cannot be re-wrapped to it.", reason="no hub certificate")
    try:
        check_recipient(hub_cert)
    except BidSealError as exc:
        raise from_exception(exc) from exc

    def addressed(identity: KeyIdentity) -> bool:
        cert = identity.enc_certificate
        return cert is not None and any(matches(e, cert) for e in header.recipients)

    def work(session: KeySession) -> bytes:
        return rewrap_file_key(head, session.unwrapper, hub_cert)

    recipients = "；".join(f"{r.unit_name or r.common_name or '?'}（{r.serial_hex}）" for r in header.recipients)
    facts = [
        Fact("项目/标段", "Project / section", header.project_id or ""),
        Fact("文件", "File", f"{header.file_name} ({header.plaintext_size} B)"),
        Fact("投标单位代码", "Bidder's unit code", header.unit_code or "-"),
        Fact("信封接收者", "Envelope recipients", recipients),
        Fact("文件密钥转交给", "File key handed to", f"{hub.name or hub.origin} · {hub_cert.serial_hex}"),
    ]
    if caller.params.get("taskId"):
        facts.append(Fact("解密任务", "Decryption task", caller.params["taskId"]))
    rewrapped, state = await key_operation(services, caller, "decrypt", "enc", facts, work,
                                           project=header.project_id, accept=addressed)
    assert len(rewrapped) < envelope_format.MAX_HEADER_SIZE
    return Reply({"kind": "envelope-head", "rewrappedKey": b64(rewrapped),
                  "hubCertificateSerial": hub_cert.serial_hex}, serial=state.serial)

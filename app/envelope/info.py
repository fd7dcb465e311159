"""What an envelope says about itself: :class:`EnvelopeInfo` and :class:`RecipientInfo`.

``read_info`` gives these from the header alone (no key, nothing authenticated yet:
``authenticated`` is False). After ``encrypt_file`` or a successful ``decrypt_file``
they are authenticated and carry the plaintext SM3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.envelope import format as fmt
from app.envelope.recipients import describe_entry


@dataclass(frozen=True)
class RecipientInfo:
    """One recipient of an envelope, as named in its header."""

    index: int
    issuer: str
    serial_hex: str
    ski_hex: str | None
    unit_name: str | None
    common_name: str | None
    unit_code: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "issuer": self.issuer,
            "serial": self.serial_hex,
            "ski": self.ski_hex,
            "unit_name": self.unit_name,
            "common_name": self.common_name,
            "unit_code": self.unit_code,
        }


@dataclass(frozen=True)
class EnvelopeInfo:
    """Metadata and recipients of an envelope.

    ``authenticated`` is True only when the header MAC was checked with the file key
    (after encryption or a complete, verified decryption); ``plaintext_sm3`` is then
    the hex SM3 of the plaintext, and ``opened_by`` the index of the recipient entry
    that was used to decrypt.
    """

    version: int
    file_id: str
    file_name: str
    plaintext_size: int
    chunk_size: int
    created_at: datetime
    project_id: str | None
    unit_code: str | None
    recipients: tuple[RecipientInfo, ...]
    envelope_size: int
    payload_algorithm: str = "SM4-GCM"
    authenticated: bool = False
    plaintext_sm3: str | None = None
    opened_by: int | None = None

    @classmethod
    def from_header(cls, header: fmt.Header, **extra: Any) -> EnvelopeInfo:
        recipients = []
        for i, entry in enumerate(header.recipients):
            d = describe_entry(entry)
            recipients.append(RecipientInfo(
                index=i,
                issuer=d["issuer"],
                serial_hex=entry.serial_hex,
                ski_hex=d["ski"],
                unit_name=entry.unit_name,
                common_name=entry.common_name,
                unit_code=entry.unit_code,
            ))
        return cls(
            version=fmt.VERSION,
            file_id=header.file_id.hex(),
            file_name=header.file_name,
            plaintext_size=header.plaintext_size,
            chunk_size=header.chunk_size,
            created_at=header.created_at,
            project_id=header.project_id,
            unit_code=header.unit_code,
            recipients=tuple(recipients),
            envelope_size=header.envelope_size,
            **extra,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "bidseal-envelope",
            "version": self.version,
            "file_id": self.file_id,
            "file_name": self.file_name,
            "plaintext_size": self.plaintext_size,
            "chunk_size": self.chunk_size,
            "created_at": self.created_at.isoformat(),
            "project_id": self.project_id,
            "unit_code": self.unit_code,
            "payload_algorithm": self.payload_algorithm,
            "envelope_size": self.envelope_size,
            "recipients": [r.to_dict() for r in self.recipients],
            "authenticated": self.authenticated,
            "plaintext_sm3": self.plaintext_sm3,
            "opened_by": self.opened_by,
        }

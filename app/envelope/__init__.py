"""The bid-file digital envelope: encrypt to certificates, decrypt with the UKey.

Design (normative spec: ``resources/docs/envelope-format.md``)
----------------------------------------------------------------
* **Key hierarchy.** A random 16-byte file key FK never leaves the host. Per
  recipient a random session key SK_i is SM2-encrypted to the recipient's
  ENCRYPTION certificate (GM/T 0009 SM2Cipher DER) and FK is wrapped as
  SM4-ECB(SK_i, FK || KCV). A UKey opens it with standard SKF calls only:
  ``SKF_ImportSessionKey`` (SK_i stays in the key) then one 32-byte ``SKF_Decrypt``
  (:class:`app.gm.keyops.SessionKeyUnwrapper`); bulk data never passes through the
  key, so decryption runs at the host's speed.
* **Payload.** Kp || Km = GM/T 0003 KDF(FK || fileId || label). The plaintext is cut
  into fixed chunks (default 1 MiB); record i is SM4-GCM under Kp with nonce
  0^32 || u64(i) and AAD = SM3(header) || u64(i) || kind (data / last / trailer), so
  reordering, truncation, splicing from another envelope and any header or
  recipient change fail the tag. The header is also MACed (HMAC-SM3 under Km) and
  checked before any record is touched.
* **Plaintext SM3** travels in an authenticated, encrypted trailer record after the
  last chunk. A pre-pass would read the whole file twice (measured: SM3 over 1 GiB in
  the page cache 2.9-3.0 s, vs 6-9 s for the whole envelope pass, so +35-50 %); the
  trailer costs nothing in one pass, and hashing runs on its own thread in parallel
  with SM4-GCM (:mod:`app.envelope.pipeline`).
* **Encoding.** A fixed 16-byte preamble (magic, version, flags, header length)
  followed by a DER header (asn1crypto), accepted only in canonical form.

Entry points: :func:`encrypt_file`, :func:`decrypt_file`, :func:`read_info`
(plus :func:`export_cms` / :func:`import_cms` / :func:`read_cms_info` for GM/T 0010
EnvelopedData).
"""

from app.cancel import CancelToken
from app.envelope.cms_bridge import (
    CmsInfo,
    cms_recipients,
    export_cms,
    import_cms,
    is_cms,
    read_cms_info,
)
from app.envelope.engine import (
    check_metadata,
    decrypt_file,
    encrypt_file,
    is_envelope,
    read_info,
    recipient_entries,
)
from app.envelope.errors import (
    EnvelopeArgumentError,
    EnvelopeCancelled,
    EnvelopeError,
    EnvelopeFormatError,
    EnvelopeIntegrityError,
    EnvelopeIOError,
    NotARecipientError,
    RecipientCertificateError,
    UnwrapError,
)
from app.envelope.format import DEFAULT_CHUNK_SIZE
from app.envelope.info import EnvelopeInfo, RecipientInfo
from app.envelope.recipients import check_recipient

__all__ = [
    "DEFAULT_CHUNK_SIZE", "CancelToken", "CmsInfo", "EnvelopeArgumentError", "EnvelopeCancelled", "EnvelopeError",
    "EnvelopeFormatError", "EnvelopeIOError", "EnvelopeInfo", "EnvelopeIntegrityError",
    "NotARecipientError", "RecipientCertificateError", "RecipientInfo", "UnwrapError",
    "check_metadata", "check_recipient", "cms_recipients", "decrypt_file", "encrypt_file", "export_cms",
    "import_cms", "is_cms", "is_envelope", "read_cms_info", "read_info", "recipient_entries",
]

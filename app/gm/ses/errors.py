"""Errors of the electronic-seal checks: each a :class:`GMError` with its own code, so a
report can say which check failed (format, maker, validity, binding, signer, data)."""

from __future__ import annotations

from app.gm.errors import GMError


class SESFormatError(GMError):
    """Not a readable SESeal / SES_Signature, or a version this reader does not know."""

    code = "ERR_SES_FORMAT"


class SESMakerSignatureError(GMError):
    """The seal maker's signature over the seal does not verify."""

    code = "ERR_SES_MAKER_SIGNATURE"


class SESValidityError(GMError):
    """The seal is outside its validity period at the time asked."""

    code = "ERR_SES_VALIDITY"


class SESBindingError(GMError):
    """The signer's certificate is not in the seal's certificate list."""

    code = "ERR_SES_BINDING"


class SESSignatureError(GMError):
    """The signer's signature over TBS_Sign does not verify."""

    code = "ERR_SES_SIGNATURE"


class SESDataHashError(GMError):
    """The signed data hash does not match the document."""

    code = "ERR_SES_DATA_HASH"

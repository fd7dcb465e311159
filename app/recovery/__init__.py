"""The recovery key file: a passphrase-protected, offline recipient for bid envelopes.

The seed's emergency plan asks what happens when "解密现场无法解密": the UKey is lost,
broken, locked, or its encryption certificate was renewed after the bid was encrypted.
A recovery key is the bidder's own answer, next to the trading centre's emergency
certificate: a software SM2 key whose self-issued encryption certificate is added to
the envelope as one more recipient, and whose private key is kept in a file sealed
with a passphrase (PKCS#8 PBES2, scrypt + SM4-CBC; spec and test vector in
``resources/docs/recovery-key-format.md``).

Entry points::

    from app import recovery
    rk = recovery.new_recovery_key(passphrase, unit_name=..., unit_code=...)
    recovery.save(rk, "bidder.bsrk")
    rk = recovery.load("bidder.bsrk")     # no passphrase needed to encrypt to rk.certificate
    unwrapper = rk.unlock(passphrase)    # app.gm.keyops.SessionKeyUnwrapper for decrypt_file
"""

from app.recovery.certificate import RECOVERY_OU, is_recovery_certificate, make_certificate
from app.recovery.errors import RecoveryError, RecoveryFormatError, WeakPassphrase, WrongPassphrase
from app.recovery.keyfile import (
    MIN_PASSPHRASE,
    SUFFIX,
    RecoveryKey,
    check_passphrase,
    load,
    new_recovery_key,
    save,
)
from app.recovery.pbes2 import DEFAULT_PARAMS, ScryptParams

__all__ = [
    "DEFAULT_PARAMS", "MIN_PASSPHRASE", "RECOVERY_OU", "SUFFIX", "RecoveryError", "RecoveryFormatError",
    "RecoveryKey", "ScryptParams", "WeakPassphrase", "WrongPassphrase", "check_passphrase",
    "is_recovery_certificate", "load", "make_certificate", "new_recovery_key", "save",
]

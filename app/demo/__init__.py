"""Demo and test material that is not part of the GM/T algorithms: the demo CA.

:mod:`app.demo.pki` builds an in-memory SM2 PKI (root CA, CSRs, dual certificates,
CRLs, GB/T 35276 key envelopes) for ``bidseal demo``, ``bidseal pki demo``, the
virtual UKey's provisioning and the tests. It lives outside :mod:`app.gm` so that the
algorithm layer stays pure (no clock- or randomness-driven issuance policy, nothing a
real bidder's key depends on).
"""

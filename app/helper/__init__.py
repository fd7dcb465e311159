"""The localhost helper: the hub's login, decrypt and sign pages reach the UKey through it.

Qt-free. Layout (one concern per module, like web-eid-app's command handlers):

* :mod:`.server` - binds 127.0.0.1 (fixed port + two fallbacks), runs uvicorn on its own
  thread; :mod:`.protocol` - header deadline and connection eviction;
* :mod:`.guard` - **every caller check**, before any work (peer, Host, Origin allowlist,
  method, protocol header, sizes, timeouts, JSON schema, no PIN field);
* :mod:`.dispatch` - the Starlette app and the operation table; :mod:`.ops` - one module
  per operation: ``status``, ``certificates``, ``login``, ``decrypt``, ``sign-pdf``;
* :mod:`.service` - the shared key-operation flow (slot, consent, PIN, audit);
* interfaces the front ends implement: :class:`~.consent.Consent`,
  :class:`~.pins.PinSource`, :class:`~.review.SignReview`; terminal versions in
  :mod:`.terminal`;
* :mod:`.keys` - the only module calling ``app.token``; :mod:`.config` + :mod:`.hublist` -
  the hub allowlist (user file, signed operator lists); :mod:`.audit` - the request log.

Entry point: :func:`app.helper.app.create_helper` (wires services from the
configuration) and :class:`~.server.HelperServer`. Web pages use ``resources/web/bidseal.js``;
API: ``resources/api/helper-openapi.json``; security notes: ``resources/docs/helper.md``.
"""

"""Wiring: build :class:`~app.helper.service.HelperServices` from the configuration and
the front end's implementations of the interfaces.

::

    services = create_services(consent=TerminalConsent(), pins=TerminalPinSource(),
                               review=TerminalSignReview())        # bidseal helper serve
    server = HelperServer(services); port = server.start()

The desktop app passes its Qt consent dialog (``app.ui.consent_dialog.QtConsent``), its own
PIN dialog and the sealing workspace's review adapter instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.helper.audit import AuditLog
from app.helper.config import load_config
from app.helper.consent import Consent
from app.helper.keys import KeyAccess, TokenKeys
from app.helper.pins import PinSource
from app.helper.review import SignReview
from app.helper.service import HelperServices


def create_services(*, consent: Consent, pins: PinSource, review: SignReview, keys: KeyAccess | None = None,
                    allow_http: bool = False, ports: Sequence[int] | None = None) -> HelperServices:
    config = load_config(allow_http=allow_http, ports=ports)
    return HelperServices(config=config, keys=keys or TokenKeys(), consent=consent, pins=pins, review=review,
                          audit=AuditLog())

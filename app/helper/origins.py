"""How an origin is shown to the bidder: punycode host with the registrable domain
(eTLD+1, from the Public Suffix List bundled in ``publicsuffixlist``, no download)
singled out, so ``hub.example.cn.evil.com`` reads as *evil.com* and an IDN homograph
stays visibly ``xn--``. Parsing and the allowlist rules live in :mod:`app.authtoken.origin`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from app.authtoken.origin import parse_origin


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@dataclass(frozen=True)
class OriginDisplay:
    """An origin cut into what a dialog shows: ``prefix`` + **``domain``** + ``suffix``."""

    origin: str
    scheme: str
    host: str
    port: int
    domain: str  # registrable domain (or the whole host for IPs / bare suffixes)

    @property
    def parts(self) -> tuple[str, str, str]:
        """(text before the domain, the domain, text after it) of ``origin``."""
        head = f"{self.scheme}://"
        host_prefix = self.host[: len(self.host) - len(self.domain)]
        tail = self.origin[len(head) + len(self.host):]
        return head + host_prefix, self.domain, tail


def display(origin: str, *, allow_http: bool = False) -> OriginDisplay:
    scheme, host, port = parse_origin(origin, allow_http=allow_http)
    domain = host
    if not host.replace(".", "").isdigit():
        domain = _psl().privatesuffix(host) or host
    return OriginDisplay(origin=origin, scheme=scheme, host=host, port=port, domain=domain)

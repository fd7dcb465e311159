"""Which URLs the update channel may fetch: https, or http only to this computer.

Signatures protect the content, but a plain-http request still tells every network in
between which version a bidder runs and lets it stall or swap the answer; https is
required. http is accepted for 127.0.0.1 / ::1 / localhost only, so tests and a local
mirror can run a plain server.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from app.update.errors import UpdateRefused

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def check_url(url: str) -> str:
    """``url`` if the channel may fetch it, else :class:`UpdateRefused` (``insecure-url``)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a malformed port raises here
    except ValueError:
        host = None
        parts = None
    ok = parts is not None and bool(host) and not parts.username and not parts.password and (
        parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS))
    if not ok:
        raise UpdateRefused(
            "insecure-url",
            f"更新地址必须是 https 网址（本机测试可用 http://127.0.0.1）：{url}",
            f"An update address must be an https URL (http only for 127.0.0.1 tests): {url}",
            url=url)
    return url


def signature_url(manifest_url: str) -> str:
    """Where the signature of ``manifest_url`` is: the same URL with ``.sig`` added to its
    path (the query, if any, is kept)."""
    p = urlsplit(manifest_url)
    return urlunsplit((p.scheme, p.netloc, p.path + ".sig", p.query, ""))


def redirect_target(base: str, location: str) -> str:
    """The absolute URL of a redirect (checked by the caller like any other)."""
    return urljoin(base, location)

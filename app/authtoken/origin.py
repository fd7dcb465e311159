"""Web origins, parsed strictly (the Web eID rules): the one definition the helper, the
login token and the hub share.

An origin is exactly what a browser puts into the ``Origin`` header: ``scheme://host``
or ``scheme://host:port``, lower-case ASCII (internationalised names in punycode), no
default port, no path, query, fragment, user info or trailing dot, at most 255
characters. Anything else is refused rather than "normalised": a page cannot make the
helper or a hub see an origin its browser did not send. Configuration files written by
people go through :func:`normalize_origin` first (lower-casing, IDNA encoding).
"""

from __future__ import annotations

import re

MAX_ORIGIN_LENGTH = 255
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = rf"(?:{_LABEL}\.)*{_LABEL}"
_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
_ORIGIN_RE = re.compile(rf"^(https|http)://({_IPV4}|{_HOST})(?::([1-9][0-9]{{0,4}}))?$")
DEFAULT_PORTS = {"https": 443, "http": 80}


class OriginError(ValueError):
    """Not a canonical web origin (the message says why, in English, for logs)."""


def parse_origin(value: str, *, allow_http: bool = False) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a canonical origin, or :class:`OriginError`.

    ``http`` is accepted only with ``allow_http`` (a development flag); ``null``,
    ``file:``, ``data:`` and every non-canonical spelling are refused.
    """
    if not isinstance(value, str) or not value:
        raise OriginError("missing origin")
    if len(value) > MAX_ORIGIN_LENGTH:
        raise OriginError("origin longer than 255 characters")
    m = _ORIGIN_RE.fullmatch(value)
    if m is None:
        raise OriginError("not a canonical scheme://host[:port] origin")
    scheme, host, port_text = m.group(1), m.group(2), m.group(3)
    if scheme == "http" and not allow_http:
        raise OriginError("http origins are refused (https only)")
    if port_text is None:
        return scheme, host, DEFAULT_PORTS[scheme]
    port = int(port_text)
    if port > 65535 or port == DEFAULT_PORTS[scheme]:
        raise OriginError("port out of range or the scheme's default port written out")
    return scheme, host, port


def is_canonical_origin(value: str, *, allow_http: bool = False) -> bool:
    try:
        parse_origin(value, allow_http=allow_http)
    except OriginError:
        return False
    return True


def normalize_origin(value: str, *, allow_http: bool = False) -> str:
    """The canonical origin for a person-written one: trims, lower-cases the scheme and
    host, IDNA-encodes a Unicode host, drops a trailing slash, a trailing dot and a default
    port. Raises :class:`OriginError` when it still is not an origin."""
    text = value.strip()
    if text.endswith("/"):
        text = text[:-1]
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise OriginError("no scheme")
    host, _, port = rest.rpartition(":") if re.search(r":\d+$", rest) else (rest, "", "")
    host = host.rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if any(ord(c) > 127 for c in host) else host
    except UnicodeError as exc:
        raise OriginError("host is not a valid internationalised domain name") from exc
    scheme = scheme.lower()
    if port and DEFAULT_PORTS.get(scheme) == int(port):
        port = ""
    canonical = f"{scheme}://{host}" + (f":{int(port)}" if port else "")
    parse_origin(canonical, allow_http=allow_http)
    return canonical

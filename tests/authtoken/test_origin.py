"""Origins are accepted only in the exact form a browser sends (Web eID rules)."""

from __future__ import annotations

import pytest

from app.authtoken import OriginError, is_canonical_origin, normalize_origin, parse_origin


@pytest.mark.parametrize("origin", [
    "https://hub.example.cn", "https://hub.example.cn:8443", "https://xn--fiqs8s.cn", "https://127.0.0.1:9443",
    "https://a-b.c-d.example",
])
def test_canonical_origins_are_accepted(origin: str) -> None:
    assert is_canonical_origin(origin)


@pytest.mark.parametrize("origin", [
    "", "null", "http://hub.example.cn", "HTTPS://hub.example.cn", "https://HUB.example.cn",
    "https://hub.example.cn.", "https://hub.example.cn/", "https://hub.example.cn/login",
    "https://hub.example.cn?x=1", "https://hub.example.cn#f", "https://user@hub.example.cn",
    "https://hub.example.cn:443", "https://hub.example.cn:0", "https://hub.example.cn:65536",
    "https://hub..example.cn", "https://-hub.example.cn", "https://中国.cn", "file://", "data:text/html,x",
    "https://hub.example.cn ", " https://hub.example.cn", "https://hub.example.cn:08443",
    "https://" + "a" * 64 + ".cn", "https://" + ("a" * 60 + ".") * 5 + "cn", "ws://hub.example.cn",
    "https://[::1]", "https://hub.example.cn\n",
])
def test_non_canonical_origins_are_refused(origin: str) -> None:
    assert not is_canonical_origin(origin)
    with pytest.raises(OriginError):
        parse_origin(origin)


def test_http_only_with_the_development_flag() -> None:
    assert parse_origin("http://localhost:8080", allow_http=True) == ("http", "localhost", 8080)
    with pytest.raises(OriginError):
        parse_origin("http://localhost:8080")


@pytest.mark.parametrize(("written", "canonical"), [
    ("https://Hub.Example.CN/", "https://hub.example.cn"),
    ("https://hub.example.cn.:443", "https://hub.example.cn"),
    ("  https://中国.cn  ", "https://xn--fiqs8s.cn"),
    ("https://hub.example.cn:8443", "https://hub.example.cn:8443"),
])
def test_person_written_origins_are_normalised(written: str, canonical: str) -> None:
    assert normalize_origin(written) == canonical


@pytest.mark.parametrize("written", ["hub.example.cn", "https://hub.example.cn/path", "http://hub.example.cn"])
def test_normalising_does_not_invent_origins(written: str) -> None:
    with pytest.raises(OriginError):
        normalize_origin(written)

"""The update check against a real local server: the good case, then every way an
attacker (or a broken server) can try to make BidSeal offer something it must not.
Each refusal must be "not offered" plus one log line, never an exception."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from app import __version__
from app.gm import sm2
from app.gm.sm2 import PrivateKey
from app.gm.sm3 import sm3
from app.update import Package, check_for_update, sign_manifest
from app.update.check import MAX_MANIFEST
from tests.support.update_server import PLATFORM, Channel


def check(channel: Channel, url: str | None = None, **kw):
    kw.setdefault("keys", [channel.key.public_key])
    kw.setdefault("timeout", 2.0)
    return check_for_update(url or channel.url, **kw)


def refused(result, reason: str, caplog: pytest.LogCaptureFixture, status: str = "rejected") -> None:
    assert not result.offered and result.package is None
    assert (result.status, result.reason) == (status, reason), result
    lines = [r.getMessage() for r in caplog.records if r.name == "bidseal.update"]
    assert any(f"[{reason}]" in line for line in lines), lines


@pytest.fixture(autouse=True)
def _log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bidseal.update")


def test_signed_newer_manifest_is_offered(channel: Channel, caplog) -> None:
    data = channel.manifest(page="https://updates.example.cn/bidseal/")
    channel.publish(data)
    result = check(channel)
    assert result.offered and result.status == "offered"
    assert result.manifest.version == "9.0.0" and result.package.platform == PLATFORM
    assert result.manifest.page == "https://updates.example.cn/bidseal/"
    assert json.loads(json.dumps(result.to_dict()))["package"]["sm3"] == result.package.sm3
    assert any("offered" in r.getMessage() for r in caplog.records)


def test_unsigned_manifest(channel: Channel, caplog) -> None:
    channel.publish(channel.manifest(), sign=False)
    refused(check(channel), "unsigned", caplog)


def test_signature_by_another_key(channel: Channel, caplog) -> None:
    data = channel.manifest()
    channel.publish(data, sign_manifest(PrivateKey.generate(), data))
    refused(check(channel), "signature", caplog)


def test_one_byte_altered_after_signing(channel: Channel, caplog) -> None:
    data = channel.manifest()
    sig = sign_manifest(channel.key, data)
    altered = data.replace(b"9.0.0", b"9.0.1", 1)
    assert len(altered) == len(data) and altered != data
    channel.publish(altered, sig)
    refused(check(channel), "signature", caplog)


def test_signature_of_another_manifest_swapped_in(channel: Channel, caplog) -> None:
    old = channel.manifest(version="8.0.0")
    new = channel.manifest(version="9.0.0")
    channel.publish(new, sign_manifest(channel.key, old))
    refused(check(channel), "signature", caplog)


def test_bare_digest_signature_without_z_is_refused(channel: Channel, caplog) -> None:
    data = channel.manifest()
    no_z = sm2.sign_digest(channel.key, sm3(data))  # e = SM3(M) instead of SM3(Z || M)
    assert sm2.verify_digest(channel.key.public_key, sm3(data), no_z)
    channel.publish(data, no_z)
    refused(check(channel), "signature", caplog)


def test_garbage_signature(channel: Channel, caplog) -> None:
    channel.publish(channel.manifest(), b"\x30\x06\x02\x01\x01\x02\x01\x01" + b"junk")
    refused(check(channel), "signature", caplog)


@pytest.mark.parametrize("version", ["0.0.9", __version__, __version__ + ".0"])
def test_older_or_equal_version_is_never_offered(channel: Channel, caplog, version: str) -> None:
    channel.publish(channel.manifest(version=version))
    result = check(channel)
    assert result.status == "up-to-date" and not result.offered and result.package is None
    refused(result, "not-newer", caplog, status="up-to-date")


def test_expired_manifest(channel: Channel, caplog) -> None:
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    channel.publish(channel.manifest(published=published, valid=timedelta(days=30)))
    refused(check(channel), "expired", caplog)


def test_manifest_published_in_the_future(channel: Channel, caplog) -> None:
    published = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    channel.publish(channel.manifest(published=published))
    refused(check(channel), "future", caplog)


def test_validity_longer_than_allowed(channel: Channel, caplog) -> None:
    channel.publish(channel.manifest(valid=timedelta(days=3650)))
    refused(check(channel), "validity", caplog)


def test_other_product(channel: Channel, caplog) -> None:
    channel.publish(channel.manifest(product="other-client"))
    refused(check(channel), "product", caplog)


def test_no_package_for_this_platform(channel: Channel, caplog) -> None:
    pkg = channel.package(b"x", name="BidSeal-9.0.0.pkg", platform="macos-arm64-pkg")
    channel.publish(channel.manifest(packages=[pkg]))
    result = check(channel)
    assert result.manifest is not None and result.manifest.version == "9.0.0"
    refused(result, "platform", caplog, status="no-package")


@pytest.mark.parametrize("with_length", [True, False])
def test_oversized_manifest(channel: Channel, caplog, with_length: bool) -> None:
    data = channel.manifest()
    big = data[:-2] + b" " * (MAX_MANIFEST + 1) + data[-2:]
    channel.publish(big)
    if not with_length:  # no Content-Length: stopped while streaming
        channel.server.routes[channel.path].mode = "endless"
    refused(check(channel), "too-large", caplog)


def test_hanging_server_times_out(channel: Channel, caplog) -> None:
    channel.server.put(channel.path, mode="hang")
    start = time.monotonic()
    result = check(channel, timeout=0.5)
    assert time.monotonic() - start < 5
    refused(result, "timeout", caplog, status="unreachable")


def test_slow_drip_is_cut_off_by_the_overall_deadline(channel: Channel, caplog) -> None:
    channel.publish(channel.manifest())
    channel.server.routes[channel.path].mode = "drip"  # 10 bytes/s: each read is quick, the whole is not
    start = time.monotonic()
    result = check(channel, timeout=0.5)
    assert time.monotonic() - start < 4
    refused(result, "timeout", caplog, status="unreachable")


def test_http_to_a_remote_host_is_not_fetched(channel: Channel, caplog) -> None:
    result = check(channel, "http://updates.example.cn/stable.json")
    refused(result, "insecure-url", caplog)
    assert channel.server.hits == []


def test_redirect_to_plain_http_is_not_followed(channel: Channel, caplog) -> None:
    channel.publish(channel.manifest())
    moved = channel.server.put("/moved.json", mode="redirect", location="http://updates.example.cn/stable.json")
    refused(check(channel, moved), "insecure-url", caplog)


def test_redirect_within_policy_is_followed(channel: Channel) -> None:
    channel.publish(channel.manifest())
    moved = channel.server.put("/moved.json", mode="redirect", location=channel.path)
    # the signature is looked up beside the URL asked for: serve it there too
    channel.server.put("/moved.json.sig", channel.server.routes[channel.path + ".sig"].body)
    assert check(channel, moved).offered


def test_malformed_json_even_if_signed(channel: Channel, caplog) -> None:
    channel.publish(b'{"format": "bidseal-update-manifest/1", "version": ')
    refused(check(channel), "malformed", caplog)


def test_signed_manifest_with_http_package_url(channel: Channel, caplog) -> None:
    data = channel.manifest()
    obj = json.loads(data)
    obj["packages"][0]["url"] = "http://mirror.example.cn/bidseal.deb"
    channel.publish(json.dumps(obj).encode())
    refused(check(channel), "insecure-url", caplog)


def test_server_down(channel: Channel, caplog) -> None:
    result = check(channel, "http://127.0.0.1:9/stable.json")
    refused(result, "network", caplog, status="unreachable")


def test_missing_manifest(channel: Channel, caplog) -> None:
    refused(check(channel), "http-status", caplog, status="unreachable")


def test_no_url_means_no_check(channel: Channel) -> None:
    result = check_for_update(None, keys=[channel.key.public_key])
    assert result.status == "disabled" and channel.server.hits == []


def test_package_entries_are_strict() -> None:
    from app.update import UpdateRefused, build_manifest

    now = datetime.now(UTC)
    bad = Package(PLATFORM, "https://x.example/a.deb", 10, "AB" * 32, "a.deb")  # upper-case hex
    with pytest.raises(UpdateRefused):
        build_manifest(version="9.0", published=now, expires=now + timedelta(days=1), packages=[bad],
                       notes_zh="", notes_en="")

"""Downloading the offered installer: kept only when size and SM3 match the signed
manifest; any mismatch, overrun or broken connection leaves nothing in the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.atomic import OutputExists
from app.gm.sm3 import sm3
from app.update import PackageMismatch, UpdateError, check_for_update, download_package
from tests.support.update_server import Channel

PAYLOAD = os.urandom(300_000)


def offered(channel: Channel, data: bytes = PAYLOAD):
    pkg = channel.package(data)
    channel.publish(channel.manifest(packages=[pkg]))
    result = check_for_update(channel.url, keys=[channel.key.public_key], timeout=2)
    assert result.offered
    return result.package


def test_good_download(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    seen: list[tuple[int, int]] = []
    path = download_package(pkg, tmp_path, timeout=2, progress=lambda d, t, s: seen.append((d, t)))
    assert path == tmp_path / pkg.name and path.read_bytes() == PAYLOAD
    assert sm3(path.read_bytes()).hex() == pkg.sm3
    assert os.listdir(tmp_path) == [pkg.name] and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    hits = len(channel.server.hits)
    assert download_package(pkg, tmp_path, timeout=2) == path  # already there: not fetched again
    assert len(channel.server.hits) == hits


def test_altered_byte_leaves_nothing(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    route = channel.server.routes[f"/pkg/{pkg.name}"]
    route.body = PAYLOAD[:1000] + bytes([PAYLOAD[1000] ^ 1]) + PAYLOAD[1001:]
    with pytest.raises(PackageMismatch) as err:
        download_package(pkg, tmp_path, timeout=2)
    assert err.value.reason == "sm3" and err.value.code == "ERR_INTEGRITY"
    assert os.listdir(tmp_path) == []


def test_longer_than_declared_is_aborted(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    channel.server.routes[f"/pkg/{pkg.name}"].mode = "endless"  # would never stop on its own
    with pytest.raises(PackageMismatch) as err:
        download_package(pkg, tmp_path, timeout=2)
    assert err.value.reason == "size"
    assert os.listdir(tmp_path) == []


def test_longer_with_honest_content_length_is_refused_before_reading(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    channel.server.routes[f"/pkg/{pkg.name}"].body = PAYLOAD + b"trailer"
    with pytest.raises(PackageMismatch):
        download_package(pkg, tmp_path, timeout=2)
    assert os.listdir(tmp_path) == []


def test_interrupted_download_leaves_nothing(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    channel.server.routes[f"/pkg/{pkg.name}"].mode = "truncate"
    with pytest.raises(UpdateError) as err:
        download_package(pkg, tmp_path, timeout=2)
    assert err.value.reason in ("network", "size"), err.value
    assert os.listdir(tmp_path) == []


def test_short_body_leaves_nothing(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    channel.server.routes[f"/pkg/{pkg.name}"].body = PAYLOAD[:-10]
    with pytest.raises(PackageMismatch) as err:
        download_package(pkg, tmp_path, timeout=2)
    assert err.value.reason == "size" and os.listdir(tmp_path) == []


def test_another_file_with_that_name_is_not_replaced(channel: Channel, tmp_path: Path) -> None:
    pkg = offered(channel)
    (tmp_path / pkg.name).write_bytes(b"mine")
    with pytest.raises(OutputExists):
        download_package(pkg, tmp_path, timeout=2)
    assert (tmp_path / pkg.name).read_bytes() == b"mine" and os.listdir(tmp_path) == [pkg.name]


def test_cancel_leaves_nothing(channel: Channel, tmp_path: Path) -> None:
    from app.cancel import CancelToken, OperationCancelled

    pkg = offered(channel)
    token = CancelToken()
    with pytest.raises(OperationCancelled):
        download_package(pkg, tmp_path, timeout=2, progress=lambda d, t, s: token.cancel(), cancel=token)
    assert os.listdir(tmp_path) == []

"""The identity cache follows plug/unplug events and never scans per request.

Counted three ways: the cache's own counters, the token-host calls made on the
enumeration host (EnumDev would show a rescan), and identities appearing/disappearing
with the hot-plug events of libsoftskf (SKF_WaitForDevEvent in the monitor host).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.token.cache import IdentityCache
from app.token.errors import TokenNotFound
from app.token.host_client import HostPool
from app.token.softkey import SoftkeyInfo, plug, unplug

from .conftest import make_key


def _until(cond: Callable[[], bool], timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def _spy(pool: HostPool, library: str) -> Counter[str]:
    """Count every call made on the pool's enumeration host for ``library``."""
    calls: Counter[str] = Counter()
    host = pool.get(library)
    real = host.call

    def call(op: str, *args: Any, **kw: Any) -> Any:
        calls[op] += 1
        return real(op, *args, **kw)

    host.call = call  # type: ignore[method-assign]
    return calls


@pytest.fixture
def cache(softkey: SoftkeyInfo, softskf_lib: str, pool: HostPool) -> Iterator[IdentityCache]:
    c = IdentityCache([softskf_lib], pool=pool)
    try:
        yield c.start()
    finally:
        c.stop()


def test_plug_and_unplug_update_the_cache_without_rescans(softkey: SoftkeyInfo, store: Path, pki_dir: Path,
                                                          softskf_lib: str, pool: HostPool) -> None:
    hot = make_key(store, pki_dir, "HOT-KEY")  # provisioned, then taken out before the cache watches
    unplug(store, hot.label)
    cache = IdentityCache([softskf_lib], pool=pool).start()
    try:
        _watch(cache, softkey, hot, store, softskf_lib, pool)
    finally:
        cache.stop()


def _watch(cache: IdentityCache, softkey: SoftkeyInfo, hot: SoftkeyInfo, store: Path, softskf_lib: str,
           pool: HostPool) -> None:
    assert cache.full_scans == 1 and cache.device_scans == 0
    changes: list[int] = []
    cache.add_listener(lambda snap: changes.append(len(snap.identities)))
    calls = _spy(pool, softskf_lib)

    # many requests: memory only
    for _ in range(50):
        assert cache.find(device=softkey.label).device == softkey.label
        assert [i.device for i in cache.identities()] == [softkey.label]
    assert sum(calls.values()) == 0 and cache.device_scans == 0

    plug(store, hot.label)  # inserted: only that key is read
    assert _until(lambda: any(i.device == hot.label for i in cache.identities()))
    ident = cache.find(device=hot.label)
    assert ident.sign_certificate == hot.sign_certificate and set(ident.seals) == {"company", "legal"}
    assert cache.device_scans == 1 and cache.full_scans == 1 and calls["enum_dev"] == 0
    assert calls["connect_dev"] == 1  # the new key only, not KEY-A again

    unplug(store, hot.label)  # removed: no device call at all
    assert _until(lambda: all(i.device != hot.label for i in cache.identities()))
    assert cache.device_scans == 1 and cache.full_scans == 1 and calls["connect_dev"] == 1
    with pytest.raises(TokenNotFound):
        cache.find(device=hot.label)
    assert changes[-1] == 1 and max(changes) == 2

    before = sum(calls.values())
    for _ in range(20):
        cache.identities()
    assert sum(calls.values()) == before


def test_the_snapshot_is_a_copy(cache: IdentityCache) -> None:
    snap = cache.snapshot()
    snap.libraries[0].devices.clear()
    assert cache.snapshot().devices


def test_a_library_that_cannot_load_is_reported_once(tmp_path: Path, pool: HostPool) -> None:
    c = IdentityCache([tmp_path / "libmissing.so"], pool=pool).start()
    try:
        assert c.identities() == []
        assert c.errors and c.errors[0].code == "ERR_LIBRARY_MISSING"  # the monitor could not start
        failure = c.snapshot().driver_failure()
        assert failure is not None and failure.details["function"] == "LoadLibrary"
        assert c.full_scans == 1
    finally:
        c.stop()

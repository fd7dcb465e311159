"""Bounded HTTP for the update channel: short timeouts, capped sizes, checked redirects.

Whatever the network answers is hostile until its signature is checked, so reading it
must not be able to hurt: every read is streamed and stops at a byte limit (an endless
body cannot fill memory), a server that stops talking is dropped after ``timeout``
seconds per read and ``deadline`` seconds overall (a slow drip cannot hold a worker
thread), and redirects are followed by hand (at most :data:`MAX_REDIRECTS`), each
target checked by :func:`app.update.urls.check_url` *before* it is requested, so an
https address cannot be bounced to plain http. TLS certificates are verified and
proxies come from the environment, both as requests does by default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import urllib3

from app import __version__
from app.cancel import Cancel, OperationCancelled, is_cancelled
from app.update.errors import UpdateRefused, UpdateUnreachable
from app.update.urls import check_url, redirect_target

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = f"BidSeal/{__version__} (update check)"


def _unreachable(url: str, exc: BaseException | None = None, status: int | None = None) -> UpdateUnreachable:
    if status is not None:
        why_zh, why_en, reason = f"服务器返回 HTTP {status}", f"the server answered HTTP {status}", "http-status"
    elif isinstance(exc, requests.Timeout | TimeoutError | urllib3.exceptions.TimeoutError):
        why_zh, why_en, reason = "服务器未及时响应", "the server did not answer in time", "timeout"
    else:
        why_zh, why_en, reason = "无法连接服务器", "the server cannot be reached", "network"
    return UpdateUnreachable(reason, f"无法获取更新信息：{why_zh}（{url}）。",
                             f"Cannot get the update information: {why_en} ({url}).",
                             url=url, status=status, problem=type(exc).__name__ if exc else None)


@contextmanager
def open_stream(url: str, *, timeout: float) -> Iterator[requests.Response]:
    """A streamed 200 response for ``url`` (redirects followed and checked); closed on exit."""
    session = requests.Session()
    try:
        current = check_url(url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                resp = session.get(current, stream=True, timeout=(timeout, timeout), allow_redirects=False,
                                   headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
            except requests.RequestException as exc:
                raise _unreachable(current, exc) from None
            if resp.is_redirect and resp.headers.get("Location"):
                resp.close()
                current = check_url(redirect_target(current, resp.headers["Location"]))
                continue
            if resp.status_code != 200:
                resp.close()
                raise _unreachable(current, status=resp.status_code)
            try:
                yield resp
            finally:
                resp.close()
            return
        raise _unreachable(url, status=310)
    finally:
        session.close()


def too_large(url: str, limit: int) -> UpdateRefused:
    return UpdateRefused("too-large", f"服务器返回的数据超过 {limit} 字节，已忽略（{url}）。",
                         f"The server sent more than {limit} bytes; ignored ({url}).", url=url, limit=limit)


def _chunks(resp: requests.Response) -> Iterator[bytes]:
    """What has arrived, as soon as it arrives (``read1``): a body dripping in a byte at a
    time must come back to the caller between bytes, or no deadline could be checked."""
    raw = resp.raw
    if not hasattr(raw, "read1"):  # urllib3 < 2.3
        yield from resp.iter_content(CHUNK)
        return
    while chunk := raw.read1(CHUNK):
        yield chunk


def iter_body(resp: requests.Response, url: str, *, limit: int, deadline: float | None = None,
              cancel: Cancel | None = None) -> Iterator[bytes]:
    """The body of ``resp`` in chunks, refusing more than ``limit`` bytes (also when the
    declared Content-Length says so, before reading) and a body still arriving at
    ``deadline`` (``time.monotonic()``)."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(url, limit)
    got = 0
    try:
        for chunk in _chunks(resp):
            if is_cancelled(cancel):
                raise OperationCancelled()
            got += len(chunk)
            if got > limit:
                raise too_large(url, limit)
            if deadline is not None and time.monotonic() > deadline:
                raise _unreachable(url, TimeoutError())
            yield chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _unreachable(url, exc) from None


def fetch_bytes(url: str, *, limit: int, timeout: float) -> bytes:
    """The whole body of ``url`` (at most ``limit`` bytes, within ``3 * timeout`` seconds)."""
    deadline = time.monotonic() + 3 * timeout
    with open_stream(url, timeout=timeout) as resp:
        return b"".join(iter_body(resp, url, limit=limit, deadline=deadline))

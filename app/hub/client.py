"""Calling a platform interface over HTTP: signed JSON POST with requests.

* timeouts on connect and read (defaults 5 s / 30 s);
* TLS certificate verification always on; ``ca_bundle`` adds a CA file or folder
  (a hub with a private CA), never ``verify=False``;
* proxies from the environment (``HTTPS_PROXY``/``NO_PROXY``: requests' ``trust_env``);
* retries with exponential backoff only where repeating is safe: a connection that
  could not be made (nothing was sent) is retried for every interface; a read
  timeout or a 502/503/504 only for interfaces that leave the same state when
  repeated (:attr:`Interface.idempotent`). Every attempt is signed anew: the hub
  refuses a reused nonce;
* a non-200 ``code`` becomes :class:`HubRefused` carrying the hub's ``msg`` and
  ``errData``, with a Chinese and an English sentence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from app.errors import BidSealError
from app.hub.interfaces import Interface

#: fields -> ``sign`` value (a closure over the caller's key: HMAC secret or SM2 signer)
SignFn = Callable[[str, Mapping[str, str]], str]

USER_AGENT = "BidSeal-hub-client/1"
RETRY_STATUSES = (502, 503, 504)


class HubClientError(BidSealError):
    code = "ERR_HUB_UNREACHABLE"


class HubRefused(BidSealError):
    """The hub answered with a non-200 ``code``."""

    code = "ERR_HUB_REFUSED"

    def __init__(self, hub_code: int, msg: str, err_data: str | None, interface: Interface) -> None:
        super().__init__(
            f"互认平台拒绝了“{interface.zh}”请求（代码 {hub_code}）：{msg}",
            f"The hub refused the {interface.en} request (code {hub_code}): {msg}",
            details={"code": hub_code, "msg": msg, "errData": err_data, "interface": interface.path},
        )
        self.hub_code = hub_code
        self.hub_msg = msg
        self.err_data = err_data


@dataclass
class HubClient:
    """A hub (or business system, or CA service) base URL and how to reach it."""

    base_url: str
    ca_bundle: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise HubClientError(f"互认平台地址无效：{self.base_url}（应以 https:// 开头）。",
                                 f"Invalid hub URL: {self.base_url} (expected https://...).",
                                 code="ERR_HUB_URL")
        if self.session is None:
            self.session = requests.Session()
            self.session.trust_env = True  # proxies and REQUESTS_CA_BUNDLE from the environment
            self.session.headers["User-Agent"] = USER_AGENT

    def url(self, interface: Interface) -> str:
        return self.base_url.rstrip("/") + interface.path

    def call(self, interface: Interface, fields: Mapping[str, str], sign: SignFn) -> dict[str, Any]:
        """POST ``fields`` plus a fresh ``sign`` to ``interface``; the JSON answer when its
        ``code`` is 200 (or, for the seed's bare answers of 5 and 7, when there is no code)."""
        assert self.session is not None
        attempt = 0
        while True:
            body = dict(fields)
            body["sign"] = sign(interface.path, fields)
            try:
                resp = self.session.post(
                    self.url(interface), data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                    headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
                    timeout=(self.connect_timeout, self.read_timeout),
                    verify=self.ca_bundle if self.ca_bundle else True, allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise self.tls_error(exc) from exc
            except requests.exceptions.RequestException as exc:
                sent = not _nothing_sent(exc)
                transient = isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))
                if transient and attempt < self.retries and (not sent or interface.idempotent):
                    attempt = self._sleep(attempt)
                    continue
                raise self.unreachable(interface, exc, sent=sent) from exc
            if resp.status_code in RETRY_STATUSES and interface.idempotent and attempt < self.retries:
                attempt = self._sleep(attempt)
                continue
            return self._answer(interface, resp)

    def async_client(self) -> Any:
        """An httpx.AsyncClient with this client's timeouts, TLS and proxy settings; keep
        it for many calls (making one builds a TLS context)."""
        import httpx

        return httpx.AsyncClient(timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                                 verify=self.ca_bundle or True, trust_env=True, follow_redirects=False,
                                 headers={"User-Agent": USER_AGENT},
                                 limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

    async def call_async(self, interface: Interface, fields: Mapping[str, str], sign: SignFn,
                         client: Any = None) -> dict[str, Any]:
        """:meth:`call` for an event loop (httpx): the hub's callbacks use it so that no
        worker thread waits on the receiving system. Only a connection that could not be
        made is retried (the callbacks 4, 7 and 9 are not idempotent). ``client``: an
        :meth:`async_client` to reuse (else one is made for this call)."""
        import asyncio
        import contextlib

        import httpx

        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(self.async_client())
            attempt = 0
            while True:
                body = dict(fields)
                body["sign"] = sign(interface.path, fields)
                try:
                    resp = await client.post(self.url(interface),
                                             content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                             headers={"Content-Type": "application/json; charset=utf-8"})
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    if attempt < self.retries:
                        await asyncio.sleep(self.backoff * (2 ** attempt))
                        attempt += 1
                        continue
                    raise self.unreachable(interface, exc, sent=False) from exc
                except httpx.HTTPError as exc:
                    raise self.unreachable(interface, exc, sent=True) from exc
                return self._answer(interface, resp)  # type: ignore[arg-type]

    def _sleep(self, attempt: int) -> int:
        time.sleep(self.backoff * (2 ** attempt))
        return attempt + 1

    def _answer(self, interface: Interface, resp: requests.Response) -> dict[str, Any]:
        """The checked JSON answer (``resp``: a requests or httpx response)."""
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise HubClientError(
                f"互认平台的应答不是 JSON（HTTP {resp.status_code}）：请检查地址是否正确。",
                f"The hub's answer is not JSON (HTTP {resp.status_code}): check the URL.",
                code="ERR_HUB_PROTOCOL", details={"status": resp.status_code, "url": self.url(interface)})
        code = data.get("code")
        if code is None and interface.bare_response and resp.status_code == 200:
            return data
        if code != 200 and str(code) != "200":
            msg = str(data.get("msg") or f"HTTP {resp.status_code}")
            err = data.get("errData")
            raise HubRefused(_int(code, resp.status_code), msg, None if err is None else str(err), interface)
        return data

    def unreachable(self, interface: Interface, exc: Exception, *, sent: bool) -> HubClientError:
        if sent:
            return HubClientError(
                f"互认平台在规定时间内没有应答（{interface.zh}）：请求可能已送达，请先查询结果再决定是否重试。",
                f"The hub did not answer in time ({interface.en}): the request may have arrived; "
                "check the result before retrying.",
                code="ERR_HUB_TIMEOUT", details={"url": self.url(interface), "error": type(exc).__name__})
        return HubClientError(
            f"无法连接互认平台 {self.base_url}：请检查网络、代理设置（HTTPS_PROXY）和地址。",
            f"Cannot connect to the hub at {self.base_url}: check the network, the proxy "
            "settings (HTTPS_PROXY) and the URL.",
            details={"url": self.url(interface), "error": type(exc).__name__})

    def tls_error(self, exc: Exception) -> HubClientError:
        return HubClientError(
            "互认平台的 TLS 证书验证失败：连接已中止。如平台使用自建 CA，请用 --ca-bundle 指定其根证书。",
            "The hub's TLS certificate did not verify: the connection was stopped. If the hub uses "
            "its own CA, pass its root certificate with --ca-bundle.",
            code="ERR_HUB_TLS", details={"url": self.base_url, "error": str(exc)[:200]})


def _nothing_sent(exc: Exception) -> bool:
    """True when the request never left: connect timeout, refused or unresolvable host."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    text = repr(exc)
    return any(s in text for s in ("NewConnectionError", "ConnectionRefused", "NameResolution",
                                   "Failed to establish", "getaddrinfo"))


def _int(code: Any, fallback: int) -> int:
    try:
        return int(code)
    except (TypeError, ValueError):
        return fallback

"""Fetching pages politely: an honest user agent, per-host limits, conditional requests,
retries on 429/503 honouring Retry-After, timeouts and a size cap."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from . import __version__
from .config import FetchConfig
from .errors import FetchError, HTTPStatusError, NotHTML

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_REDIRECTS = 10
MAX_RETRY_AFTER = 120.0


def user_agent(contact: str = "") -> str:
    """Who we are, and where a site owner can reach whoever runs this archive."""
    contact = contact or "https://github.com/archiver-news/archiver"
    return f"archiver/{__version__} (news change archive; +{contact})"


@dataclass(frozen=True)
class Response:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    redirected: bool = False

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'") or None
        return None


Sleep = Callable[[float], Awaitable[None]]


class HostGate:
    """At most `per_host` requests at once to one host, `min_delay` seconds apart."""

    def __init__(self, per_host: int, min_delay: float, sleep: Sleep = asyncio.sleep) -> None:
        self.per_host = max(1, per_host)
        self.min_delay = min_delay
        self._sleep = sleep
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    async def enter(self, host: str, min_delay: float | None = None) -> None:
        await self._slots.setdefault(host, asyncio.Semaphore(self.per_host)).acquire()
        delay = self.min_delay if min_delay is None else min_delay
        async with self._locks.setdefault(host, asyncio.Lock()):
            wait = self._last.get(host, -1e9) + delay - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            self._last[host] = time.monotonic()

    def leave(self, host: str) -> None:
        self._slots[host].release()


class Fetcher:
    """Fetches pages with one shared async HTTP client."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: FetchConfig,
        agent: str,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.client = client
        self.settings = settings
        self.agent = agent
        self.gate = HostGate(settings.per_host, settings.min_delay, sleep)
        self._sleep = sleep

    async def fetch(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        agent: str | None = None,
        min_delay: float | None = None,
        accept: tuple[str, ...] = HTML_TYPES,
        max_bytes: int | None = None,
    ) -> Response:
        """The page at `url`; a 304 Response when the validators still hold.

        Raises FetchError (or a subclass) naming the URL and what went wrong."""
        headers = {"User-Agent": agent or self.agent, "Accept": _accept(accept)}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for attempt in range(self.settings.retries + 1):
            response = await self._request(url, headers, min_delay, max_bytes)
            if response.status not in (429, 503) or attempt == self.settings.retries:
                break
            await self._sleep(_retry_delay(response, attempt, url))
        return _checked(response, accept)

    async def _request(
        self, url: str, headers: dict[str, str], min_delay: float | None, max_bytes: int | None
    ) -> Response:
        current, redirected = url, False
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(current).netloc
            await self.gate.enter(host, min_delay)
            try:
                response = await self._once(url, current, headers, max_bytes)
            finally:
                self.gate.leave(host)
            if response.status not in (301, 302, 303, 307, 308):
                return Response(**{**response.__dict__, "redirected": redirected})
            location = response.headers.get("location")
            if not location:
                raise HTTPStatusError(
                    url, response.status, f"redirect ({response.status}) without a Location"
                )
            current = str(httpx.URL(current).join(location))
            if urlsplit(current).scheme not in ("http", "https"):
                raise FetchError(url, f"redirects to a non-http(s) URL: {current[:200]}")
            redirected = True
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects (a redirect loop?)")

    async def _once(
        self, url: str, current: str, headers: dict[str, str], max_bytes: int | None
    ) -> Response:
        cap = max_bytes or self.settings.max_bytes
        try:
            async with self.client.stream(
                "GET",
                current,
                headers=headers,
                timeout=self.settings.timeout,
                follow_redirects=False,
            ) as reply:
                declared = reply.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(
                        url, f"page larger than the size cap ({int(declared)} > {cap} bytes)"
                    )
                chunks, size = [], 0
                if reply.status_code < 300:
                    async for chunk in reply.aiter_bytes():
                        size += len(chunk)
                        if size > cap:
                            raise FetchError(url, f"page larger than the size cap ({cap} bytes)")
                        chunks.append(chunk)
                return Response(
                    url=url,
                    final_url=current,
                    status=reply.status_code,
                    headers={k.lower(): v for k, v in reply.headers.items()},
                    body=b"".join(chunks),
                )
        except httpx.TimeoutException:
            raise FetchError(url, f"timed out after {self.settings.timeout:g} s") from None
        except httpx.DecodingError as err:
            raise FetchError(url, f"response body cannot be decoded ({err})") from None
        except (httpx.TransportError, httpx.InvalidURL) as err:
            raise FetchError(url, f"cannot fetch: {_describe(err)}") from None


def _checked(response: Response, accept: tuple[str, ...]) -> Response:
    if response.not_modified:
        return response
    if response.status >= 400:
        raise HTTPStatusError(response.url, response.status, f"HTTP {response.status}")
    if response.status >= 300:
        raise HTTPStatusError(response.url, response.status, f"unexpected HTTP {response.status}")
    if accept and response.content_type and response.content_type not in accept:
        if accept == HTML_TYPES:
            reason = f"not an HTML page (content type {response.content_type})"
        else:
            reason = f"unexpected content type {response.content_type} (expected {accept[0]})"
        raise NotHTML(response.url, reason)
    return response


def _accept(types: tuple[str, ...]) -> str:
    return ", ".join(types) + ", */*;q=0.1" if types else "*/*"


def _retry_delay(response: Response, attempt: int, url: str) -> float:
    """Seconds to wait before retrying: Retry-After when given, else exponential backoff."""
    value = response.headers.get("retry-after", "").strip()
    delay = 2.0**attempt
    if value.isdigit():
        delay = float(value)
    elif value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            delay = max(0.0, (when.astimezone(UTC) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            pass  # an unreadable Retry-After: keep the backoff
    if delay > MAX_RETRY_AFTER:
        raise HTTPStatusError(
            url, response.status, f"HTTP {response.status}, retry after {delay:.0f} s"
        )
    return delay


def _describe(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:200]

"""Fetching pages politely: an honest user agent, per-host limits, conditional requests,
retries on 429/503 honouring Retry-After, timeouts and a size cap.

Limits are per host and hold on every hop of a redirect: each hop waits for its own host's
turn, and a caller's `Hop` check (robots.txt, see capture.Checker) may refuse a hop's URL
or name its host's delay. A 429 or 503 pauses its host, not just the request that got it:
no request of this run goes to that host until Retry-After (or the backoff) has passed.

The HTTP client is aiohttp (its response parser is C): a check answered 304 is most of
what an unchanged sync does, and aiohttp reusing connections spends about an eighth of the
CPU httpx did on one (benchmarks/http_bench.py). Connections are kept and reused, at most
`per_host` to a host. aiohttp is imported when a run opens its session, so commands that
fetch nothing don't load it.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archiver import __version__
from archiver.config import FetchConfig
from archiver.errors import FetchError, HTTPStatusError, NotHTML

if TYPE_CHECKING:
    import aiohttp

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_REDIRECTS = 10
MAX_RETRY_AFTER = 120.0
ENCODINGS = "gzip, deflate"  # inflated here, under the size cap: see _Inflater
MAX_HEADER_LINE = 65_536  # news sites send long Set-Cookie and Link headers


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


@dataclass(frozen=True)
class Exchange:
    """One request and its response as they crossed the wire, kept when a fetch is asked
    to record them (a capture: see store.captures). The body is as served, its
    content-encoding kept; chunking is undone (and Transfer-Encoding not kept), as web
    archives store responses."""

    url: str  # the URL requested on this hop
    request: tuple[tuple[str, str], ...]  # the header lines sent, in order
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # the header lines received, in order
    body: bytes = b""
    version: str = "1.1"


Sleep = Callable[[float], Awaitable[None]]
# Called with each URL a fetch is about to request (the first and every redirect's): raises
# an ArticleError to refuse it, else returns the seconds its host wants between requests.
Hop = Callable[[str], Awaitable[float | None]]


class HostGate:
    """At most `per_host` requests at once to one host, `min_delay` seconds apart, none
    while the host is paused (after a 429 or 503)."""

    def __init__(self, per_host: int, min_delay: float, sleep: Sleep = asyncio.sleep) -> None:
        self.per_host = max(1, per_host)
        self.min_delay = min_delay
        self._sleep = sleep
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self._paused: dict[str, float] = {}  # host: time.monotonic() it may be asked again

    async def enter(self, host: str, min_delay: float | None = None) -> None:
        slot = self._slots.setdefault(host, asyncio.Semaphore(self.per_host))
        await slot.acquire()
        delay = self.min_delay if min_delay is None else min_delay
        try:
            async with self._locks.setdefault(host, asyncio.Lock()):
                # Looked at again after each wait: a pause may begin while this one waits.
                while (wait := self._ready(host, delay) - time.monotonic()) > 0:
                    await self._sleep(wait)
                self._last[host] = time.monotonic()
        except BaseException:
            slot.release()
            raise

    def leave(self, host: str) -> None:
        self._slots[host].release()

    def pause(self, host: str, seconds: float) -> None:
        """No request to `host` for `seconds` from now (a longer pause already set stays)."""
        until = time.monotonic() + seconds
        self._paused[host] = max(self._paused.get(host, 0.0), until)

    def paused_for(self, host: str) -> float:
        """Seconds left of the host's pause (0 when it is not paused)."""
        return max(0.0, self._paused.get(host, 0.0) - time.monotonic())

    async def refresh(self, host: str) -> None:
        """Learn the host's pause from whoever else shares it (no one here: see
        archiver.cluster.gate, where other processes do)."""

    def _ready(self, host: str, delay: float) -> float:
        return max(self._last.get(host, -1e9) + delay, self._paused.get(host, 0.0))


def new_session(settings: FetchConfig, proxy: str | None = None) -> aiohttp.ClientSession:
    """The HTTP client of one run, made inside its event loop. Kept-alive connections are
    reused, at most `per_host` to one host (as many as HostGate lets requests through).
    Proxies come only from `proxy`, never from the environment; bodies arrive as sent, to
    be inflated under the size cap."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, limit_per_host=max(1, settings.per_host))
    return aiohttp.ClientSession(
        connector=connector,
        proxy=proxy,
        trust_env=False,
        auto_decompress=False,
        max_line_size=MAX_HEADER_LINE,
        max_field_size=MAX_HEADER_LINE,
    )


class Fetcher:
    """Fetches pages with one shared async HTTP client."""

    def __init__(
        self,
        client: aiohttp.ClientSession,
        settings: FetchConfig,
        agent: str,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        import aiohttp

        self.client = client
        self.settings = settings
        self.agent = agent
        self.gate = HostGate(settings.per_host, settings.min_delay, sleep)
        # The whole request, body included: a site that trickles bytes cannot hold a slot.
        self._timeout = aiohttp.ClientTimeout(total=settings.timeout)
        # Connection and protocol failures; yarl's ValueError for a URL it cannot send.
        self._errors = (aiohttp.ClientError, ValueError)

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
        hop: Hop | None = None,
        record: list[Exchange] | None = None,
    ) -> Response:
        """The page at `url`; a 304 Response when the validators still hold. `hop`, when
        given, is asked about every URL requested (see Hop); else `min_delay` holds for
        every host. `record`, when given, receives the exchange of every hop of the last
        attempt, error answers included (kept even when this raises).

        Raises FetchError (or a subclass) naming the URL and what went wrong."""
        headers = {
            "User-Agent": agent or self.agent,
            "Accept": _accept(accept),
            "Accept-Encoding": ENCODINGS,
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for attempt in range(self.settings.retries + 1):
            if record is not None:
                record.clear()  # a retried attempt's exchanges are not the capture
            response = await self._request(url, headers, min_delay, max_bytes, hop, record)
            if response.status not in (429, 503):
                break
            delay = _retry_delay(response, attempt)
            # The whole host waits, not only this request: its other requests are as unwelcome.
            self.gate.pause(urlsplit(response.final_url).netloc, delay)
            if delay > MAX_RETRY_AFTER:
                raise HTTPStatusError(
                    url, response.status, f"HTTP {response.status}, retry after {delay:.0f} s"
                )
            if attempt == self.settings.retries:
                break
        return _checked(response, accept)

    async def _request(
        self,
        url: str,
        headers: dict[str, str],
        min_delay: float | None,
        max_bytes: int | None,
        hop: Hop | None,
        record: list[Exchange] | None,
    ) -> Response:
        current, redirected = url, False
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(current).netloc
            delay = await hop(current) if hop else min_delay
            await self.gate.refresh(host)
            if (left := self.gate.paused_for(host)) > MAX_RETRY_AFTER:
                raise FetchError(url, f"{host} asked for a pause ({left:.0f} s left): not fetching")
            await self.gate.enter(host, delay)
            try:
                response = await self._once(url, current, headers, max_bytes, record)
            finally:
                self.gate.leave(host)
            if response.status not in (301, 302, 303, 307, 308):
                return Response(**{**response.__dict__, "redirected": redirected})
            location = response.headers.get("location")
            if not location:
                raise HTTPStatusError(
                    url, response.status, f"redirect ({response.status}) without a Location"
                )
            current = _join(url, current, location)
            if urlsplit(current).scheme not in ("http", "https"):
                raise FetchError(url, f"redirects to a non-http(s) URL: {current[:200]}")
            redirected = True
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects (a redirect loop?)")

    async def _once(
        self,
        url: str,
        current: str,
        headers: dict[str, str],
        max_bytes: int | None,
        record: list[Exchange] | None,
    ) -> Response:
        cap = max_bytes or self.settings.max_bytes
        try:
            async with self.client.get(
                current, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as reply:
                declared = reply.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(
                        url, f"page larger than the size cap ({int(declared)} > {cap} bytes)"
                    )
                body = raw = b""
                if reply.status < 300 or record is not None:
                    inflate = reply.status < 300  # only a page's body is read as a page
                    body, raw = await _read(url, reply, cap, inflate, keep=record is not None)
                if record is not None:
                    record.append(_exchange(current, reply, raw))
                return Response(url, current, reply.status, _headers(reply), body)
        except TimeoutError:  # aiohttp's own timeouts are TimeoutErrors too
            raise FetchError(url, f"timed out after {self.settings.timeout:g} s") from None
        except self._errors as err:
            raise FetchError(url, f"cannot fetch: {_describe(err)}") from None


@asynccontextmanager
async def open_fetcher(
    settings: FetchConfig, agent: str, proxy: str | None = None
) -> AsyncIterator[Fetcher]:
    """A Fetcher with its own session, closed on the way out."""
    async with new_session(settings, proxy) as session:
        yield Fetcher(session, settings, agent)


async def _read(
    url: str, reply: aiohttp.ClientResponse, cap: int, inflate: bool = True, keep: bool = False
) -> tuple[bytes, bytes]:
    """The body inflated as its Content-Encoding says (when `inflate`), and as served
    (when `keep`); refused once either passes `cap` bytes."""
    encoding = reply.headers.get("content-encoding", "") if inflate else ""
    inflater = _Inflater(url, encoding, cap)
    raw: list[bytes] = []
    size = 0
    async for chunk in reply.content.iter_any():
        if keep:
            size += len(chunk)
            if size > cap:
                raise FetchError(url, f"page larger than the size cap ({cap} bytes)")
            raw.append(chunk)
        if inflate:
            inflater.feed(chunk)
    return (inflater.finish() if inflate else b""), b"".join(raw)


def _exchange(current: str, reply: aiohttp.ClientResponse, body: bytes) -> Exchange:
    """What crossed the wire on one hop, header lines in the order they came."""
    sent = tuple((str(k), str(v)) for k, v in reply.request_info.headers.items())
    received = tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in reply.raw_headers
        if name.lower() != b"transfer-encoding"  # the body is kept de-chunked
    )
    version = f"{reply.version.major}.{reply.version.minor}" if reply.version else "1.1"
    return Exchange(current, sent, reply.status, reply.reason or "", received, body, version)


class _Inflater:
    """gzip and deflate bodies inflated chunk by chunk, never more than the cap allows at a
    time: a small compressed body that inflates to gigabytes (a gzip bomb) is refused at
    `cap` bytes, not held in memory first."""

    def __init__(self, url: str, encoding: str, cap: int) -> None:
        self.url = url
        self.cap = cap
        self.size = 0
        self.chunks: list[bytes] = []
        self.encoding = encoding.strip().lower()
        if self.encoding in ("", "identity"):
            self._zlib = None
        elif self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj()  # zlib-wrapped; raw deflate is tried below
        else:
            raise FetchError(url, f"unsupported content encoding {self.encoding[:40]}")
        self._first = True

    def feed(self, data: bytes) -> None:
        if self._zlib is None:
            self._keep(data)
            return
        first, self._first = self._first, False
        try:
            self._inflate(data)
        except zlib.error as err:
            if not (first and self.encoding == "deflate"):
                raise FetchError(self.url, f"response body cannot be decoded ({err})") from None
            # Many servers send raw deflate, without zlib's header: start again as that.
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            self.feed(data)

    def finish(self) -> bytes:
        if self._zlib is not None:
            try:
                self._keep(self._zlib.flush())
            except zlib.error as err:
                raise FetchError(self.url, f"response body cannot be decoded ({err})") from None
        return b"".join(self.chunks)

    def _inflate(self, data: bytes) -> None:
        assert self._zlib is not None
        while data:
            # At most one byte past what the cap still allows: enough to know it is passed.
            out = self._zlib.decompress(data, self.cap - self.size + 1)
            self._keep(out)
            data = self._zlib.unconsumed_tail

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise FetchError(self.url, f"page larger than the size cap ({self.cap} bytes)")
        if data:
            self.chunks.append(data)


def _headers(reply: aiohttp.ClientResponse) -> dict[str, str]:
    """Lower-case names; a repeated header's values joined with commas, as HTTP allows."""
    headers: dict[str, str] = {}
    for name, value in reply.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _join(url: str, current: str, location: str) -> str:
    """Where a redirect points, percent-encoded as a request would send it."""
    from yarl import URL

    try:
        return str(URL(current).join(URL(location)))
    except ValueError as err:
        raise FetchError(url, f"redirects to an invalid URL ({_describe(err)})") from None


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


def _retry_delay(response: Response, attempt: int) -> float:
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
    return delay


def _describe(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:200]

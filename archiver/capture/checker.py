"""Checking an article, up to what is written: robots.txt (on every hop of its
redirects), the fetch, extraction in a worker process, the URL to record it under, and
the refusal of captures that are broken pages rather than edits.

Fetching is concurrent (async HTTP), extraction runs in warm worker processes on every
core, and checks come back in the order the articles were given, so the same captures
make the same commits. A redirect to another site is followed (each hop obeying its own
host's robots.txt and limits); the article stays under the address it was found at.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from archiver.archive import Archive
from archiver.capture.model import Checked, Failure, Fetched, Target
from archiver.capture.worker import extraction_job
from archiver.config import SourceConfig
from archiver.errors import ArticleError, CaptureError, Disallowed, ExtractionError, FetchError
from archiver.extract.page import Page
from archiver.fetch.client import Exchange, Fetcher, Hop, Response
from archiver.fetch.robots import Robots
from archiver.store.captures import read_response
from archiver.store.format import CaptureRef
from archiver.store.history import BlobReader
from archiver.store.state import ArticleState
from archiver.urls import canonical_url

IN_FLIGHT = 64  # articles fetched or extracted at once
SHRINK_LIMIT = 0.25  # a capture below this share of the last version's text is truncated


class StoredTexts:
    """Stored versions' text, read through one `git cat-file` started when first needed."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._reader: BlobReader | None = None

    def read(self, blob: str) -> str | None:
        if self._reader is None:
            self._reader = BlobReader(self.archive.repo.git_dir)
        data = self._reader.read(blob)
        return data.decode("utf-8") if data is not None else None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


@dataclass
class Checker:
    """What one run needs to check articles: the fetcher, robots.txt, extraction workers,
    and the stored texts the workers compare captures with."""

    archive: Archive
    fetcher: Fetcher
    robots: Robots
    executor: Executor | None = None
    stored: StoredTexts | None = None
    reformat: bool = False  # full fetches (a 304 would hide an edit) and selector effects
    in_flight: int = IN_FLIGHT
    # A reformat reads these articles' current versions from their captures, not the web.
    replays: dict[str, CaptureRef] = field(default_factory=dict)

    async def check(self, target: Target) -> Checked:
        ref = self.replays.get(target.url) if self.reformat else None
        if ref is not None:
            return await self.replay(target, ref)
        source = self.archive.config.source(target.source)
        stored = self.stored

        def stored_text(blob: str) -> str | None:
            return stored.read(blob) if stored else None

        page_check = PageCheck(
            self.fetcher,
            self.robots,
            self.executor,
            self.reformat,
            keep_exchanges=self.archive.config.captures != "none",
            now=self.archive.clock.now,
        )
        return await page_check.check(target, source, stored_text)

    async def replay(self, target: Target, ref: CaptureRef) -> Checked:
        """The article's current version read again from the response it was made from
        (extracted with today's rules): the page as it was, not as it may be now."""
        state = target.state
        assert state is not None and state.blob
        source = self.archive.config.source(target.source)
        started = time.perf_counter()
        try:
            response = read_response(self.archive.root, ref)
        except CaptureError as err:
            failure = Failure("FetchError", target.url, f"broken capture: {err}")
            return Checked(target, failure=failure, url=target.url)
        validators = {"etag": state.etag, "last-modified": state.last_modified}
        fetched = Fetched(
            url=target.url,
            final_url=response.url or target.url,
            status=response.status,
            headers={name: value for name, value in validators.items() if value},
            redirected=bool(response.url) and response.url != target.url,
            from_capture=True,
        )
        try:
            extracted = await asyncio.get_running_loop().run_in_executor(
                self.executor,
                extraction_job,
                response.body,
                response.charset,
                target.url,
                source,
                self.stored.read(state.blob) if self.stored else None,
                state.blob,
                True,
            )
        except ArticleError as err:
            return Checked(target, failure=Failure.of(err), url=target.url)
        seconds = time.perf_counter() - started
        return Checked(
            target, fetched, extracted, None, target.url, 0.0, seconds, fetched_at=response.date
        )

    async def check_all(self, targets: Iterable[Target]) -> AsyncIterator[Checked]:
        """Results in the order of `targets`, with at most `in_flight` checks under way."""
        pending: deque[asyncio.Future[Checked]] = deque()
        try:
            for target in targets:
                pending.append(asyncio.ensure_future(self.check(target)))
                if len(pending) >= self.in_flight:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()
        finally:
            for task in pending:
                task.cancel()


@dataclass
class PageCheck:
    """One article's check without the archive: all it needs of the store comes along (the
    source's settings, the stored text), so it runs in the syncing process or on a cluster
    worker alike."""

    fetcher: Fetcher
    robots: Robots
    executor: Executor | None = None
    reformat: bool = False
    keep_exchanges: bool = False  # the exchanges as received, for the run's captures
    # When a fetch began; without it the writer takes its own time (a worker's clock may
    # differ from the syncing process's).
    now: Callable[[], datetime] | None = None

    async def check(
        self, target: Target, source: SourceConfig, stored_text: Callable[[str], str | None]
    ) -> Checked:
        state = target.state
        started = time.perf_counter()
        fetched: Fetched | None = None
        # The exchanges as received, when the run keeps captures (an error answer's too).
        record: list[Exchange] | None = [] if self.keep_exchanges else None
        at = self.now() if self.now is not None else None
        try:
            stored = state is not None and bool(state.blob) and not state.removed
            conditional = stored and not self.reformat
            response = await self.fetcher.fetch(
                target.url,
                etag=state.etag if conditional and state else None,
                last_modified=state.last_modified if conditional and state else None,
                agent=source.user_agent or None,
                hop=self._hop(target.url, source),
                record=record,
            )
            fetched = Fetched.of(response)
            fetch_seconds = time.perf_counter() - started
            checked = Checked(
                target,
                fetched,
                url=target.url,
                fetch_seconds=fetch_seconds,
                exchanges=tuple(record or ()),
                fetched_at=at,
            )
            if response.not_modified or checked.gone:
                return checked
            url = target.url if state else _canonical(target.url, response)
            blob = state.blob if state and state.blob else ""
            extracted = await asyncio.get_running_loop().run_in_executor(
                self.executor,
                extraction_job,
                response.body,
                response.charset,
                url,
                source,
                stored_text(blob) if blob else None,
                blob,
                self.reformat,
            )
            if state is None and (declared := _declared_canonical(url, extracted.page)) != url:
                url = declared
                extracted = extracted.with_url(url)
            validate(extracted.page, state, target.url)
            extract_seconds = time.perf_counter() - started - fetch_seconds
            return replace(checked, extracted=extracted, url=url, extract_seconds=extract_seconds)
        except ArticleError as err:
            failure = Failure.of(err)
            return Checked(
                target,
                failure=failure,
                url=target.url,
                fetch_seconds=_since(started),
                exchanges=tuple(record or ()),
                fetched_at=at,
            )

    def _hop(self, url: str, source: SourceConfig) -> Hop:
        """The check of each URL a fetch of `url` requests, its redirects' included: what
        robots.txt of its host says, and that host's delay (the source's, or Crawl-delay)."""
        agent = source.user_agent or self.fetcher.agent

        async def check(current: str) -> float | None:
            verdict = await self.robots.allowed(current, agent)
            if not verdict.allowed:
                hop = "" if current == url else f"redirects to {current[:200]}; "
                if verdict.reachable:
                    raise Disallowed(url, hop + verdict.reason)
                raise FetchError(url, f"not fetched: {hop}{verdict.reason}")
            delays = [d for d in (source.min_delay, self.robots.crawl_delay(current, agent)) if d]
            return max(delays) if delays else source.min_delay

        return check


def _since(started: float) -> float:
    return time.perf_counter() - started


def _canonical(url: str, response: Response) -> str:
    """A new article is recorded under the address it ends at after redirects on its own
    site; one that leads to another site stays under the address it was found at."""
    if not response.redirected or not _same_site(url, response.final_url):
        return url
    try:
        return canonical_url(response.final_url)
    except ArticleError:
        return url


def _declared_canonical(url: str, page: Page) -> str:
    """The page's <link rel=canonical>, when it names a URL on the same site."""
    if not page.canonical:
        return url
    try:
        declared = canonical_url(urljoin(url, page.canonical))
    except ArticleError:
        return url
    return declared if _same_site(url, declared) else url


def _same_site(a: str, b: str) -> bool:
    """Same host, ignoring "www." (a page may not claim another site's article)."""
    host_a = (urlsplit(a).hostname or "").removeprefix("www.")
    host_b = (urlsplit(b).hostname or "").removeprefix("www.")
    return host_a == host_b


def validate(page: Page, state: ArticleState | None, url: str) -> None:
    """Refuse captures that are broken pages rather than edits."""
    if state is None or not state.blob:
        return
    lost = state.signals - page.signals
    if lost:
        names = ", ".join(sorted(lost))
        raise ExtractionError(url, f"page lost the headline metadata its versions had ({names})")
    size = len(page.document.body)
    if state.chars and size < state.chars * SHRINK_LIMIT:
        raise ExtractionError(
            url, f"extracted text shrank from {state.chars} to {size} characters (truncated?)"
        )


def source_for(url: str, sources: Iterable[SourceConfig]) -> str:
    """The configured source whose feeds, sitemaps or pages share the URL's host, else a
    name made from the host ("www.example.co.uk" → "example-co-uk")."""
    host = urlsplit(url).hostname or ""
    for source in sources:
        hosts = {urlsplit(u).hostname for u in (*source.feeds, *source.sitemaps, *source.pages)}
        if host in hosts:
            return source.name
    name = host.removeprefix("www.").replace(".", "-").replace("_", "-")
    return name[:40].strip("-") or "web"

"""A run over articles: fetch → extract/normalize → store, one commit per detected change.

Fetching is concurrent (async HTTP), extraction runs in warm worker processes on every
core, and commits are written in the order the articles were given, so the same captures
make the same commits. A failing article is reported and never commits.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

import httpx

from .archive import Archive
from .clock import isoformat
from .config import SourceConfig
from .document import Document, parse_document
from .errors import ArticleError, ExtractionError, FetchError
from .extract import Page, decode_html, extract_page
from .fetch import Fetcher, Response, user_agent
from .history import BlobReader
from .schedule import next_check
from .state import ArticleState
from .store import Change, CommitStream, blob_id, subject_line
from .urls import article_path, canonical_url

IN_FLIGHT = 64  # articles fetched or extracted at once
SHRINK_LIMIT = 0.25  # a capture below this share of the last version's text is truncated


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Target:
    """An article to check: a URL, its source, and what the store knows of it."""

    url: str
    source: str
    state: ArticleState | None = None


@dataclass(frozen=True)
class Result:
    url: str
    source: str
    outcome: Outcome
    reason: str = ""
    version: int = 0


@dataclass
class RunReport:
    results: list[Result] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def checked(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]


Progress = Callable[[Result], None]


@dataclass(frozen=True)
class _Checked:
    """What one article's check found, before anything is written."""

    target: Target
    response: Response | None = None
    page: Page | None = None
    error: ArticleError | None = None


def extraction_job(body: bytes, charset: str | None, url: str, source: str, min_chars: int) -> Page:
    """Runs in a worker process."""
    return extract_page(decode_html(body, charset, url), url, source, min_chars)


def make_executor(jobs: int) -> Executor | None:
    """Warm worker processes for extraction; none when one article or one core is all."""
    workers = min(jobs, os.cpu_count() or 1)
    if workers < 2:
        return None
    import multiprocessing

    # Forked workers inherit the imported extractor: no cold start per process.
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_ignore_interrupts
    )


def _ignore_interrupts() -> None:
    # Ctrl-C is for the parent, which stops the run in order; workers just finish their page.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_checks(
    archive: Archive,
    targets: list[Target],
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Check each target once and store what changed; the archive must be locked."""
    executor = make_executor(len(targets))
    try:
        return asyncio.run(_run(archive, targets, client, executor, progress))
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)


async def _run(
    archive: Archive,
    targets: list[Target],
    client: httpx.AsyncClient | None,
    executor: Executor | None,
    progress: Progress | None,
) -> RunReport:
    owns_client = client is None
    client = client or httpx.AsyncClient(http2=False, trust_env=False)
    fetcher = Fetcher(client, archive.config.fetch, _agent(archive))
    report = RunReport()
    writer = _Writer(archive)
    window = asyncio.Semaphore(IN_FLIGHT)
    try:
        with CommitStream(archive.repo) as stream:
            writer.stream = stream
            tasks = [
                asyncio.ensure_future(_bounded(window, _check(fetcher, archive, t, executor)))
                for t in targets
            ]
            try:
                for task in tasks:  # in order: the same captures make the same commits
                    result = writer.apply(await task)
                    report.results.append(result)
                    if progress:
                        progress(result)
            finally:
                for task in tasks:
                    task.cancel()
                writer.flush()
                writer.close()
    finally:
        if owns_client:
            await client.aclose()
    return report


async def _bounded(window: asyncio.Semaphore, job: object) -> _Checked:
    async with window:
        return await job  # type: ignore[misc]


def _agent(archive: Archive) -> str:
    return archive.config.fetch.user_agent or user_agent(archive.config.contact)


async def _check(
    fetcher: Fetcher, archive: Archive, target: Target, executor: Executor | None
) -> _Checked:
    source = archive.config.source(target.source)
    state = target.state
    try:
        response = await fetcher.fetch(
            target.url,
            etag=state.etag if state and state.blob else None,
            last_modified=state.last_modified if state and state.blob else None,
            agent=source.user_agent or None,
            min_delay=source.min_delay,
        )
        if response.not_modified:
            return _Checked(target, response)
        loop = asyncio.get_running_loop()
        page = await loop.run_in_executor(
            executor,
            extraction_job,
            response.body,
            response.charset,
            target.url,
            target.source,
            source.min_chars,
        )
        _validate(page, state, target.url)
        return _Checked(target, response, page)
    except ArticleError as err:
        return _Checked(target, error=err)


def _validate(page: Page, state: ArticleState | None, url: str) -> None:
    """Refuse captures that are broken pages rather than edits."""
    if state is None or not state.blob:
        return
    lost = state.signals - page.signals
    if lost:
        raise ExtractionError(
            url,
            f"page lost the headline metadata its earlier versions had ({', '.join(sorted(lost))})",
        )
    size = len(page.document.body)
    if state.chars and size < state.chars * SHRINK_LIMIT:
        raise ExtractionError(
            url,
            f"extracted text shrank from {state.chars} to {size} characters (a truncated page?)",
        )


class _Writer:
    """Turns check results into commits and state updates, in order."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.stream: CommitStream | None = None
        self.pending: list[ArticleState] = []
        self._reader: BlobReader | None = None

    def _blobs(self) -> BlobReader:
        if self._reader is None:
            self._reader = BlobReader(self.archive.repo)
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def apply(self, checked: _Checked) -> Result:
        now = self.archive.clock.now()
        target, state = checked.target, checked.target.state
        schedule = self.archive.config.source(target.source).schedule
        if checked.error is not None:
            return self._failed(target, now, checked.error)
        response = checked.response
        assert response is not None
        if checked.page is None:  # 304 Not Modified
            assert state is not None
            self._keep(_checked_unchanged(state, now, schedule, response))
            return Result(target.url, target.source, Outcome.UNCHANGED, version=state.versions)
        document = checked.page.document
        text = document.render()
        blob = blob_id(text)
        base = state or ArticleState(
            url=target.url,
            source=target.source,
            path=article_path(target.source, now, target.url),
            first_seen=now,
        )
        base = base.update(
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            last_status=response.status,
            signals=checked.page.signals,
            chars=len(document.body),
            failures=0,
            last_error=None,
        )
        if state is not None and state.blob and self._reads_the_same(state.blob, blob, document):
            self._keep(_checked_unchanged(base, now, schedule, response))
            return Result(target.url, target.source, Outcome.UNCHANGED, version=state.versions)
        version = base.versions + 1
        assert self.stream is not None
        self.stream.commit(
            Change(
                source=target.source,
                subject=subject_line(target.source, document.title),
                trailers=_trailers(target, version, response, now, checked.page),
                when=now,
                files={base.path: text},
            )
        )
        self._keep(
            base.update(
                versions=version,
                blob=blob,
                last_checked=now,
                last_changed=now,
                next_check=next_check(now, now, schedule),
            )
        )
        self.archive.state.record_check(
            target.url, target.source, now, "changed", response.status, len(document.body)
        )
        outcome = Outcome.NEW if state is None or not state.blob else Outcome.CHANGED
        return Result(target.url, target.source, outcome, version=version)

    def _reads_the_same(self, stored_blob: str, blob: str, document: Document) -> bool:
        if stored_blob == blob:
            return True
        stored = parse_document(self._blobs().read(stored_blob).decode("utf-8"), document.url)
        return stored.same_reading(document)

    def _failed(self, target: Target, now: datetime, error: ArticleError) -> Result:
        state = target.state
        status = getattr(error, "status", None)
        self.archive.state.record_check(
            target.url, target.source, now, "failed", status, None, error.reason
        )
        if state is not None:
            schedule = self.archive.config.source(target.source).schedule
            failures = state.failures + 1
            self._keep(
                state.update(
                    last_checked=now,
                    failures=failures,
                    last_error=error.reason,
                    last_status=status,
                    next_check=next_check(
                        now, state.last_changed or state.first_seen, schedule, failures
                    ),
                )
            )
        return Result(target.url, target.source, Outcome.FAILED, reason=error.reason)

    def _keep(self, article: ArticleState) -> None:
        self.pending.append(article)
        if len(self.pending) >= 256 and self.stream is not None:
            self.flush()

    def flush(self) -> None:
        """Publish commits, then record state: state never runs ahead of git."""
        if self.stream is not None:
            self.stream.checkpoint()
        self.archive.state.put_many(self.pending)
        self.archive.state.commit()
        self.pending.clear()


def _checked_unchanged(
    state: ArticleState, now: datetime, schedule: object, response: Response
) -> ArticleState:
    headers = response.headers
    return state.update(
        last_checked=now,
        etag=headers.get("etag") or state.etag,
        last_modified=headers.get("last-modified") or state.last_modified,
        last_status=response.status,
        failures=0,
        last_error=None,
        unchanged=state.unchanged + 1,
        next_check=next_check(now, state.last_changed or state.first_seen, schedule),  # type: ignore[arg-type]
    )


def _trailers(
    target: Target, version: int, response: Response, now: datetime, page: Page
) -> dict[str, str]:
    trailers = {
        "Archiver-URL": target.url,
        "Archiver-Source": target.source,
        "Archiver-Version": str(version),
        "Archiver-Status": str(response.status),
        "Archiver-Fetched": isoformat(now),
        "Archiver-Extractor": page.document.extractor,
    }
    if page.updated:
        trailers["Archiver-Page-Updated"] = page.updated
    if page.signals:
        trailers["Archiver-Signals"] = ",".join(sorted(page.signals))
    if response.final_url != target.url:
        trailers["Archiver-Final-URL"] = response.final_url
    return trailers


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


def targets_for_urls(
    archive: Archive, urls: Iterable[str], source: str | None = None
) -> tuple[list[Target], list[Result]]:
    """Targets for URLs given by hand; invalid URLs become failed results, not exceptions."""
    targets: dict[str, Target] = {}
    invalid: list[Result] = []
    for raw in urls:
        try:
            url = canonical_url(raw)
        except ArticleError as err:
            invalid.append(Result(raw, source or "", Outcome.FAILED, reason=err.reason))
            continue
        name = source or source_for(url, archive.config.sources.values())
        state = archive.state.get(url)
        targets.setdefault(url, Target(url, state.source if state else name, state))
    return list(targets.values()), invalid


__all__ = [
    "FetchError",
    "Outcome",
    "Result",
    "RunReport",
    "Target",
    "run_checks",
    "targets_for_urls",
]

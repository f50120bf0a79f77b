"""Checking articles: fetch → extract/normalize/compare → store, one commit per detected
change.

Fetching is concurrent (async HTTP), extraction runs in warm worker processes on every
core, and results are written in the order the articles were given, so the same captures
make the same commits. A worker also renders the page as it would be stored and compares
it with the stored version sent along (change counts, minor or not): that is extraction's
work, and it leaves the process that fetches and writes free to do just that. A failing
article is reported and never commits; a page that is gone for good (404/410 across
several checks spanning hours, or a redirect to the home page) is recorded as removed,
and its return as returned.

Outcomes are failures only when something did not work: a URL robots.txt disallows (on
any hop of its redirects) is skipped, and its verdict kept so it is neither fetched nor
reported again before robots.txt is asked again; a stored article answering 404/410 is
gone, on its way to being recorded as removed. A new article that fails is held back from
discovery for a while, longer after each failure in a row (as tracked articles back off),
so a feed listing a page that cannot be stored does not fail every run.

A redirect to another site is followed (each hop obeying its own host's robots.txt and
limits); the article stays under the address it was found at, and each commit names where
the fetch ended (`Archiver-Redirect`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

from archiver.archive import Archive
from archiver.clock import isoformat
from archiver.config import SourceConfig
from archiver.errors import ArticleError, Disallowed, ExtractionError, FetchError, HTTPStatusError
from archiver.extract.boilerplate import rules_fingerprint
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.extract.page import (
    EXTRACTOR,
    Page,
    extract_page,
    rerender,
    selector_drops,
)
from archiver.fetch.charset import decode_html
from archiver.fetch.client import Fetcher, Hop, Response
from archiver.fetch.robots import VERDICT_TTL, Robots
from archiver.processes import worker_started
from archiver.schedule import next_check
from archiver.store import format as trailer
from archiver.store.commits import Change, CommitStream, blob_id, subject_line
from archiver.store.document import Document, parse_document
from archiver.store.history import BlobReader, head_commit
from archiver.store.replay import HEAD_KEY
from archiver.store.state import ArticleState, Held
from archiver.urls import canonical_url

log = logging.getLogger(__name__)

IN_FLIGHT = 64  # articles fetched or extracted at once
SHRINK_LIMIT = 0.25  # a capture below this share of the last version's text is truncated
GONE_STATUSES = (404, 410)
GONE_CHECKS = 3  # a removal is recorded after this many "gone" answers in a row …
GONE_HOURS = 6  # … spanning at least this many hours


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    RETURNED = "returned"
    REFORMATTED = "reformatted"
    GONE = "gone"  # answers 404/410 (or leads home), not yet for long enough to be removed
    SKIPPED = "skipped"  # robots.txt disallows it: policy, not a failure
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
    repeated: bool = False  # skipped for the very reason already reported for this URL


@dataclass(frozen=True)
class SourceRun:
    """What discovery made of one source's feeds, sitemaps and pages in a run."""

    read: int = 0  # documents fetched and read
    errors: tuple[ArticleError, ...] = ()


@dataclass
class RunReport:
    results: list[Result] = field(default_factory=list)
    discovered: int = 0
    source_errors: list[ArticleError] = field(default_factory=list)
    sources: dict[str, SourceRun] = field(default_factory=dict)  # when discovery ran

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def failed(self) -> int:
        """Articles and source documents that failed."""
        return len(self.failures) + len(self.source_errors)

    @property
    def worked(self) -> int:
        """Source documents read and articles checked without failing (skips are neither):
        none, while something failed, means everything tried failed."""
        read = sum(run.read for run in self.sources.values())
        return read + sum(r.outcome not in (Outcome.FAILED, Outcome.SKIPPED) for r in self.results)

    @property
    def checked(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]


class Progress:
    """What a run tells as it goes; the CLI draws a progress bar from it."""

    def planned(self, articles: int) -> None:
        """How many articles the run will check (known after discovery)."""

    def checked(self, result: Result) -> None:
        """One article is done."""


@dataclass(frozen=True)
class Comparison:
    """A capture against the stored version it may become the next version of."""

    blob: str  # the stored version's blob: the comparison holds for that version only
    same_reading: bool
    change: dict[str, str] = field(default_factory=dict)  # its trailers, when not the same


@dataclass(frozen=True)
class Extracted:
    """What an extraction worker hands back."""

    page: Page
    text: str  # page.document as stored: the file's text
    comparison: Comparison | None = None  # when a stored version was sent along
    dropped: tuple[str, ...] = ()  # for a reformat: the paragraphs the source's selectors drop

    @classmethod
    def of(cls, page: Page, stored: str | None = None, stored_blob: str = "") -> Extracted:
        text = page.document.render()
        if stored is None or blob_id(text) == stored_blob:
            return cls(page, text)  # nothing stored, or the very same text: no comparing
        previous = parse_document(stored, page.document.url)
        return cls(page, text, compare(previous, page.document, stored_blob))

    def with_url(self, url: str) -> Extracted:
        """The capture recorded under another URL (the page's declared canonical one)."""
        page = replace(self.page, document=replace(self.page.document, url=url))
        return Extracted(page, page.document.render())


@dataclass(frozen=True)
class _Checked:
    """What one article's check found, before anything is written."""

    target: Target
    response: Response | None = None
    extracted: Extracted | None = None
    error: ArticleError | None = None
    url: str = ""  # the canonical URL to record the article under

    @property
    def page(self) -> Page | None:
        return self.extracted.page if self.extracted else None

    @property
    def gone(self) -> bool:
        """The page answers as a removed article does: 404/410, or a home-page redirect."""
        if isinstance(self.error, HTTPStatusError):
            return self.error.status in GONE_STATUSES
        response = self.response
        return bool(response and response.redirected and _is_home(response.final_url))


def _is_home(url: str) -> bool:
    return urlsplit(url).path in ("", "/")


def extraction_job(
    body: bytes,
    charset: str | None,
    url: str,
    source: SourceConfig,
    stored: str | None = None,
    stored_blob: str = "",
    reformat: bool = False,
) -> Extracted:
    """Runs in a worker process: the page extracted, rendered, and compared with the stored
    version (its text and blob) when one is given; for a reformat, also what the source's
    selectors drop from it."""
    text = decode_html(body, charset, url)
    rules = (source.min_chars, source.drop_selectors, source.drop_lines)
    page = extract_page(text, url, source.name, *rules)
    extracted = Extracted.of(page, stored, stored_blob)
    return replace(extracted, dropped=selector_drops(page, text, *rules)) if reformat else extracted


def compare(stored: Document, document: Document, stored_blob: str) -> Comparison:
    """Whether a reader sees the same article, and if not how the new text differs from
    the stored one: NewsEdits-style counts, and minor or not."""
    if stored.same_reading(document):
        return Comparison(stored_blob, same_reading=True)
    old, new = stored.version(), document.version()
    return Comparison(stored_blob, same_reading=False, change=trailer.change_trailers(old, new))


def fingerprint(source: SourceConfig) -> str:
    """What shaped a version's text besides the page: extractor, normalizer, rules."""
    rules = rules_fingerprint(source.drop_selectors, source.drop_lines)
    return f"{EXTRACTOR}; normalizer {NORMALIZER_VERSION}; rules {rules}"


def make_executor(jobs: int) -> Executor | None:
    """Warm worker processes for extraction; none when one article or one core is all."""
    workers = min(jobs, os.cpu_count() or 1)
    if workers < 2:
        return None
    import multiprocessing

    # Forked workers inherit the imported extractor: no cold start per process.
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=worker_started,
        initargs=(os.getpid(),),
    )


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

    async def check(self, target: Target) -> _Checked:
        source = self.archive.config.source(target.source)
        state = target.state
        try:
            stored = state is not None and bool(state.blob) and not state.removed
            conditional = stored and not self.reformat
            response = await self.fetcher.fetch(
                target.url,
                etag=state.etag if conditional and state else None,
                last_modified=state.last_modified if conditional and state else None,
                agent=source.user_agent or None,
                hop=self._hop(target.url, source),
            )
            checked = _Checked(target, response, url=target.url)
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
                self.stored.read(blob) if self.stored and blob else None,
                blob,
                self.reformat,
            )
            if state is None and (declared := _declared_canonical(url, extracted.page)) != url:
                url = declared
                extracted = extracted.with_url(url)
            _validate(extracted.page, state, target.url)
            return _Checked(target, response, extracted, url=url)
        except ArticleError as err:
            return _Checked(target, error=err, url=target.url)

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

    async def check_all(self, targets: Iterable[Target]) -> AsyncIterator[_Checked]:
        """Results in the order of `targets`, with at most IN_FLIGHT checks under way."""
        pending: deque[asyncio.Future[_Checked]] = deque()
        try:
            for target in targets:
                pending.append(asyncio.ensure_future(self.check(target)))
                if len(pending) >= IN_FLIGHT:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()
        finally:
            for task in pending:
                task.cancel()


def _canonical(url: str, response: Response) -> str:
    """A new article is recorded under the address it ends at after redirects on its own
    site; one that leads to another site stays under the address it was found at."""
    if not response.redirected or not _same_site(url, response.final_url):
        return url
    try:
        return canonical_url(response.final_url)
    except ArticleError:
        return url


def _redirect_trailer(url: str, response: Response) -> dict[str, str]:
    """Where the fetch ended, when a redirect led elsewhere than the article's address."""
    if not response.redirected:
        return {}
    try:
        final = canonical_url(response.final_url)
    except ArticleError:
        final = response.final_url
    return {} if final == url else {trailer.REDIRECT: response.final_url}


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


def _validate(page: Page, state: ArticleState | None, url: str) -> None:
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


class Writer:
    """Turns check results into commits and state updates, in order."""

    def __init__(
        self, archive: Archive, stream: CommitStream, stored: StoredTexts | None = None
    ) -> None:
        self.archive = archive
        self.stream = stream
        self.pending: list[ArticleState] = []
        self.created: dict[str, ArticleState] = {}  # articles first stored in this run
        self.reformat = False  # record new extractions of unchanged pages as reformats
        self._owns_stored = stored is None
        self.stored = stored or StoredTexts(archive)

    def apply(self, checked: _Checked) -> Result:
        now = self.archive.clock.now()
        result = self._apply(checked, now)
        status = checked.response.status if checked.response else None
        status = status or getattr(checked.error, "status", None)
        chars = len(checked.page.document.body) if checked.page else None
        self.archive.state.record_check(
            result.url,
            result.source,
            now,
            result.outcome.value,
            status,
            chars,
            result.reason or None,
        )
        log.info("%s %s %s", result.outcome.value, result.url, result.reason)
        return result

    def _apply(self, checked: _Checked, now: datetime) -> Result:
        target, state = checked.target, checked.target.state
        schedule = self.archive.config.source(target.source).schedule
        if isinstance(checked.error, Disallowed):
            return self._skipped(target, now, checked.error)
        if checked.gone and state is not None and state.blob:
            return self._gone(checked, state, now)
        if checked.error is not None:
            return self._failed(target, now, checked.error)
        response = checked.response
        assert response is not None
        if checked.page is None:  # 304 Not Modified
            assert state is not None
            self._keep(_checked_unchanged(state, now, schedule, response))
            return Result(target.url, target.source, Outcome.UNCHANGED, version=state.versions)
        if state is None:
            known = self.created.get(checked.url) or self.archive.state.get(checked.url)
            if checked.url != target.url:
                self.archive.state.add_alias(target.url, checked.url)
            if known is not None:  # another address of an article already tracked
                return Result(checked.url, known.source, Outcome.UNCHANGED, version=known.versions)
        return self._store(checked, response, state, now)

    def _store(
        self, checked: _Checked, response: Response, state: ArticleState | None, now: datetime
    ) -> Result:
        target, extracted = checked.target, checked.extracted
        assert extracted is not None
        page = extracted.page
        schedule = self.archive.config.source(target.source).schedule
        document = page.document
        text = extracted.text
        blob = blob_id(text)
        base = state or ArticleState(
            url=checked.url,
            source=target.source,
            path=trailer.article_path(target.source, now, checked.url),
            first_seen=now,
        )
        base = base.update(
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            last_status=response.status,
            signals=page.signals,
            chars=len(document.body),
            failures=0,
            last_error=None,
            gone_since=None,
        )
        returned = bool(state and state.removed)
        rules = fingerprint(self.archive.config.source(target.source))
        if self.reformat and state is not None:
            return self._reformat(checked, response, base, rules, now)
        if state is not None and state.blob == blob and not returned:
            self._keep(_checked_unchanged(base.update(rules=rules), now, schedule, response))
            return Result(base.url, target.source, Outcome.UNCHANGED, version=base.versions)
        comparison = self._comparison(extracted, state)
        trailers = _trailers(base.url, target.source, 0, response, now, page)
        if comparison is not None and comparison.same_reading:
            if not returned:
                self._keep(_checked_unchanged(base, now, schedule, response))
                return Result(base.url, target.source, Outcome.UNCHANGED, version=base.versions)
            version, blob = base.versions, base.blob or blob  # back with the text it had
            stored = self._stored(state)
            assert stored is not None
            text = stored.render()
        elif comparison is not None and base.rules and base.rules != rules:
            # The text differs, but so do the rules that made it: never an edit by guesswork.
            reason = f"extraction changed since version {base.versions} (run `archiver reformat`)"
            return self._failed(target, now, ExtractionError(base.url, reason))
        else:
            version = base.versions + 1
            trailers.update(_change_trailers(comparison, blob, base.blobs))
        trailers[trailer.VERSION] = str(version)
        trailers[trailer.RULES] = rules
        if returned:
            trailers[trailer.EVENT] = "returned"
        self.stream.commit(
            Change(
                source=target.source,
                subject=subject_line(target.source, document.title),
                trailers=trailers,
                when=now,
                files={base.path: text},
            )
        )
        stored_state = base.update(
            versions=version,
            blob=blob,
            blobs=base.blobs if blob in base.blobs[-1:] else (*base.blobs, blob),
            rules=rules,
            removed=False,
            last_checked=now,
            last_changed=now,
            next_check=next_check(now, now, schedule),
        )
        self._keep(stored_state)
        if state is None:
            self.created[stored_state.url] = stored_state
            self.archive.state.release(target.url)  # nothing held against it any more
        if returned:
            outcome = Outcome.RETURNED
        else:
            outcome = Outcome.NEW if state is None or not state.blob else Outcome.CHANGED
        return Result(base.url, target.source, outcome, version=version)

    def _reformat(
        self, checked: _Checked, response: Response, base: ArticleState, rules: str, now: datetime
    ) -> Result:
        """Today's extraction of the page, recorded as the current version's new form: a
        reformat commit, not a version. When the page also changed since its last version
        (its validators differ and today's text is not the stored text under today's
        rules), that form of the stored text is the reformat, and today's text the next
        version. An extractor or normalizer upgrade cannot be redone on stored text: then
        the page is taken as unedited, as `archiver reformat` says when it is run."""
        extracted = checked.extracted
        assert extracted is not None
        blob = blob_id(extracted.text)
        schedule = self.archive.config.source(base.source).schedule
        if blob == base.blob or self._reads_the_same(extracted, base):
            self._keep(_checked_unchanged(base.update(rules=rules), now, schedule, response))
            return Result(base.url, base.source, Outcome.UNCHANGED, version=base.versions)
        edited = self._edited_since(checked, base, rules)
        if edited is None:
            self._commit_reformat(extracted.page, response, base, rules, now)
            return Result(base.url, base.source, Outcome.REFORMATTED, version=base.versions)
        previous = base
        if edited.render() != self.stored.read(base.blob or ""):
            reformatted = Page(edited, signals=extracted.page.signals)
            previous = self._commit_reformat(reformatted, response, base, rules, now)
        previous = previous.update(rules=rules)
        stored_blob = previous.blob or ""
        comparison = compare(edited, extracted.page.document, stored_blob)
        target = replace(checked.target, state=previous)
        edit = replace(checked, target=target, extracted=replace(extracted, comparison=comparison))
        self.reformat = False  # the edit is a version like any other
        try:
            return self._store(edit, response, previous, now)
        finally:
            self.reformat = True

    def _edited_since(self, checked: _Checked, base: ArticleState, rules: str) -> Document | None:
        """The stored version under today's rules, when today's capture is an edit of it;
        None when the capture is that version in a new form."""
        state, extracted = checked.target.state, checked.extracted
        assert state is not None and extracted is not None
        if _same_validators(state, checked.response) or _tooling(state.rules) != _tooling(rules):
            return None
        stored = self._stored(base)
        if stored is None:
            return None
        source = self.archive.config.source(base.source)
        rerendered = rerender(stored, source.drop_lines, extracted.dropped)
        return None if rerendered.same_reading(extracted.page.document) else rerendered

    def _commit_reformat(
        self, page: Page, response: Response, base: ArticleState, rules: str, now: datetime
    ) -> ArticleState:
        """A reformat commit of the current version's text in a new form, and its state."""
        text = page.document.render()
        trailers = _trailers(base.url, base.source, base.versions, response, now, page)
        trailers.update({trailer.EVENT: "reformat", trailer.RULES: rules})
        self.stream.commit(
            Change(
                source=base.source,
                subject=subject_line(base.source, f"reformat: {page.document.title}"),
                trailers=trailers,
                when=now,
                files={base.path: text},
            )
        )
        blob = blob_id(text)
        reformatted = base.update(
            blob=blob, blobs=(*base.blobs[:-1], blob), rules=rules, last_checked=now
        )
        self._keep(reformatted)
        return reformatted

    def _gone(self, checked: _Checked, state: ArticleState, now: datetime) -> Result:
        """404/410 or a home-page redirect: a removal once it persists, never at once."""
        status = checked.response.status if checked.response else checked.error.status  # type: ignore[union-attr]
        reason = checked.error.reason if checked.error else "redirects to the home page"
        schedule = self.archive.config.source(state.source).schedule
        if state.removed:
            self._keep(state.update(last_checked=now, last_status=status))
            return Result(state.url, state.source, Outcome.UNCHANGED, reason, state.versions)
        gone_since = state.gone_since or now
        failures = state.failures + 1
        persistent = failures >= GONE_CHECKS and now - gone_since >= timedelta(hours=GONE_HOURS)
        if not persistent:
            self._keep(
                state.update(
                    last_checked=now,
                    failures=failures,
                    gone_since=gone_since,
                    last_status=status,
                    last_error=reason,
                    next_check=next_check(now, state.last_changed or now, schedule, failures),
                )
            )
            return Result(state.url, state.source, Outcome.GONE, f"{reason} (not yet removed)")
        title = self._title(state)
        self.stream.commit(
            Change(
                source=state.source,
                subject=subject_line(state.source, f"removed: {title}"),
                trailers={
                    trailer.URL: state.url,
                    trailer.SOURCE: state.source,
                    trailer.VERSION: str(state.versions),
                    trailer.STATUS: str(status),
                    trailer.FETCHED: isoformat(now),
                    trailer.EVENT: "removed",
                    trailer.GONE_SINCE: isoformat(gone_since),
                    **(_redirect_trailer(state.url, checked.response) if checked.response else {}),
                },
                when=now,
                deletions=(state.path,),
            )
        )
        self._keep(
            state.update(
                removed=True,
                last_checked=now,
                last_changed=now,
                failures=0,
                last_status=status,
                last_error=None,
                next_check=next_check(now, now, schedule),
            )
        )
        return Result(state.url, state.source, Outcome.REMOVED, reason, state.versions)

    def _comparison(self, extracted: Extracted, state: ArticleState | None) -> Comparison | None:
        """The capture against the article's stored version (None when it has none): as the
        worker made it, or made here when the worker was not sent that version's text."""
        if state is None or not state.blob:
            return None
        made = extracted.comparison
        if made is not None and made.blob == state.blob:
            return made
        stored = self._stored(state)
        return compare(stored, extracted.page.document, state.blob) if stored else None

    def _reads_the_same(self, extracted: Extracted, state: ArticleState) -> bool:
        comparison = self._comparison(extracted, state)
        return comparison is not None and comparison.same_reading

    def _stored(self, state: ArticleState | None) -> Document | None:
        """The stored text of an article, when it has one."""
        if state is None or not state.blob:
            return None
        text = self.stored.read(state.blob)
        return parse_document(text, state.url) if text else None

    def _title(self, state: ArticleState) -> str:
        text = self.stored.read(state.blob or "")
        return parse_document(text).title if text else state.url

    def _skipped(self, target: Target, now: datetime, error: Disallowed) -> Result:
        """robots.txt disallows the URL: remembered, so that discovery passes it over and
        nobody is told again, until the verdict is due to be asked for again."""
        state = target.state
        earlier = self.archive.state.held(target.url)
        told = earlier is not None and earlier.kind == "skipped"
        repeated = told and earlier is not None and earlier.reason == error.reason
        held = Held("skipped", error.reason, 1, now + VERDICT_TTL)
        self.archive.state.hold(target.url, target.source, held)
        if state is not None:  # tracked, now refused: asked about again when the verdict is
            self._keep(state.update(next_check=now + VERDICT_TTL))
        version = state.versions if state else 0
        return Result(target.url, target.source, Outcome.SKIPPED, error.reason, version, repeated)

    def _failed(self, target: Target, now: datetime, error: ArticleError) -> Result:
        state = target.state
        if state is None:
            self._hold_new(target, now, error)
        else:
            schedule = self.archive.config.source(target.source).schedule
            failures = state.failures + 1
            changed = state.last_changed or state.first_seen
            self._keep(
                state.update(
                    last_checked=now,
                    failures=failures,
                    last_error=error.reason,
                    last_status=getattr(error, "status", None),
                    next_check=next_check(now, changed, schedule, failures),
                )
            )
        return Result(target.url, target.source, Outcome.FAILED, reason=error.reason)

    def _hold_new(self, target: Target, now: datetime, error: ArticleError) -> None:
        """A new article that failed is tried again after the source's shortest interval,
        twice that after a second failure in a row, and so on up to its longest."""
        earlier = self.archive.state.held(target.url)
        tries = earlier.tries + 1 if earlier and earlier.kind == "failed" else 1
        schedule = self.archive.config.source(target.source).schedule
        minutes = min(schedule.min_interval * 2 ** min(tries - 1, 16), schedule.max_interval)
        held = Held("failed", error.reason, tries, now + timedelta(minutes=minutes))
        self.archive.state.hold(target.url, target.source, held)

    def _keep(self, article: ArticleState) -> None:
        self.pending.append(article)
        if len(self.pending) >= 256:
            self.flush()

    def flush(self) -> None:
        """Publish commits, then record state and the commit it is recorded up to: state
        never runs ahead of git, and what git holds beyond it is replayed on the next run."""
        self.stream.checkpoint()
        self.archive.state.put_many(self.pending)
        self.archive.state.set_meta(HEAD_KEY, head_commit(self.archive.repo) or "")
        self.archive.state.commit()
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        if self._owns_stored:
            self.stored.close()


def _same_validators(state: ArticleState, response: Response | None) -> bool:
    """Whether the server vouches that the page is the one the stored state saw."""
    headers = response.headers if response else {}
    etag, modified = headers.get("etag"), headers.get("last-modified")
    return bool((etag and etag == state.etag) or (modified and modified == state.last_modified))


def _tooling(rules: str | None) -> str:
    """The extractor and normalizer part of a rules fingerprint: what no stored text can
    be re-rendered under."""
    return (rules or "").rpartition("; rules ")[0]


def _checked_unchanged(
    state: ArticleState, now: datetime, schedule: object, response: Response
) -> ArticleState:
    headers = response.headers
    changed = state.last_changed or state.first_seen
    return state.update(
        last_checked=now,
        etag=headers.get("etag") or state.etag,
        last_modified=headers.get("last-modified") or state.last_modified,
        last_status=response.status,
        failures=0,
        last_error=None,
        gone_since=None,
        unchanged=state.unchanged + 1,
        next_check=next_check(now, changed, schedule),  # type: ignore[arg-type]
    )


def _change_trailers(
    comparison: Comparison | None, blob: str, blobs: tuple[str, ...]
) -> dict[str, str]:
    """How a new version differs from the last: NewsEdits-style counts, minor or not (from
    the comparison), and whether it brings back an earlier version's text (an A/B headline
    flipping back)."""
    if comparison is None:
        return {trailer.CHANGE: "new"}
    trailers = dict(comparison.change)
    if blob in blobs[:-1]:
        trailers[trailer.REVERT_OF] = str(blobs.index(blob) + 1)
    return trailers


def _trailers(
    url: str, source: str, version: int, response: Response, now: datetime, page: Page
) -> dict[str, str]:
    trailers = {
        trailer.URL: url,
        trailer.SOURCE: source,
        trailer.VERSION: str(version),
        trailer.STATUS: str(response.status),
        trailer.FETCHED: isoformat(now),
        trailer.EXTRACTOR: page.document.extractor,
    }
    if page.updated:
        trailers[trailer.PAGE_UPDATED] = page.updated
    if page.signals:
        trailers[trailer.SIGNALS] = ",".join(sorted(page.signals))
    trailers.update(_redirect_trailer(url, response))
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

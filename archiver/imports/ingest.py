"""One capture made elsewhere (a WARC record, a replay server's original) into the archive,
by the very path a sync's fetch takes: extracted by the extraction job, refused as a sync
refuses broken pages, decided by capture.decide and written by the run's Recorder, with
the capture's time as the decision's clock. Its version's commit is dated by the capture,
names it (`Archiver-Origin`) and, with captures on, the copy kept in captures/.

A capture the archive already holds (the same origin, or the same payload at the same time
for the same article) is skipped, so importing or backfilling again adds nothing.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from archiver.archive import Archive
from archiver.capture.checker import StoredTexts, validate
from archiver.capture.model import Checked, Fetched, Outcome, Result, Target
from archiver.capture.recorder import Recorder
from archiver.capture.worker import Extracted, extraction_job, extraction_workers
from archiver.clock import isoformat
from archiver.config import SourceConfig
from archiver.errors import ArticleError, ExtractionError
from archiver.fetch.client import Exchange
from archiver.store import format as fmt
from archiver.store.captures import content_decoded, payload_digest
from archiver.store.commits import Change, CommitStream, blob_id
from archiver.store.document import parse_document
from archiver.store.history import article_versions, iter_commits
from archiver.store.state import ArticleState
from archiver.urls import canonical_url

# Why a record made no version (the summary's words).
NOT_HTML = "not HTML"
ERROR_STATUS = "error status (4xx/5xx)"
REDIRECT = "redirect"
REVISIT = "revisit (a payload captured before)"
CUT_SHORT = "cut short"
FAILED = "failed extraction"
UNCHANGED = "same text as the version before"
KNOWN = "already in the archive"
FILTERED = "left out by --include/--exclude"
OUT_OF_RANGE = "outside --since/--until"
BAD_URL = "not an article URL"
LATER_TEXT = "same text as the version after"


@dataclass(frozen=True)
class Capture:
    """A response captured elsewhere, as the capture writer and extraction take it."""

    url: str  # as captured
    when: datetime  # when it was captured (WARC-Date, a CDX timestamp)
    status: int
    reason: str
    protocol: str  # "1.1"
    headers: tuple[tuple[str, str], ...]
    payload: bytes  # the HTTP body as served: content-encoding kept
    origin: fmt.Origin

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), "")


@dataclass
class ImportReport:
    records: int = 0  # HTML responses taken through the pipeline
    versions: int = 0  # versions stored
    articles: set[str] = field(default_factory=set)  # articles given a version
    skipped: Counter[str] = field(default_factory=Counter)  # reason → records
    problems: list[str] = field(default_factory=list)  # one line each, for the user
    results: list[Result] = field(default_factory=list)

    def skip(self, reason: str, problem: str = "") -> None:
        self.skipped[reason] += 1
        if problem:
            self.problems.append(problem)


class Ingest:
    """Feeds captures to one run's Recorder; a capture at a time, each article's in order."""

    def __init__(
        self,
        archive: Archive,
        stream: CommitStream,
        report: ImportReport,
        batch: int | None = None,
    ) -> None:
        self.archive = archive
        self.report = report
        self.texts = RunTexts(archive)
        self.recorder = Recorder(archive, stream, self.texts, batch=batch)
        self.known = known_captures(archive)

    def add(self, capture: Capture, source: str) -> Result | None:
        """Stores the capture as the article's next version, or counts why not."""
        prepared = self._prepare(capture, source, None)
        return self._store(prepared) if prepared is not None else None

    def add_all(self, captures: Iterable[tuple[Capture, str]], workers: Executor | None) -> None:
        """Stores each capture (with its source) as `add` does, in order, each extracted by
        `workers` a few captures ahead: the extraction runs beside this process's reading,
        deciding and writing instead of after it, in a process whose caches it has alone."""
        ahead: deque[_Prepared] = deque()
        for capture, source in captures:
            prepared = self._prepare(capture, source, workers)
            if prepared is not None:
                ahead.append(prepared)
            if len(ahead) > AHEAD:
                self._store(ahead.popleft())
        while ahead:
            self._store(ahead.popleft())

    def _prepare(self, capture: Capture, source: str, workers: Executor | None) -> _Prepared | None:
        """The capture on its way to being stored, its extraction started (in `workers`,
        else when it is needed); None, counted, when it can be no version."""
        try:
            url = canonical_url(capture.url)
        except ArticleError:
            self.report.skip(BAD_URL)
            return None
        if not _html(capture):
            self.report.skip(NOT_HTML)
            return None
        digest = payload_digest(capture.payload)  # once: the capture writer takes it too
        if self._known(url, capture, digest):
            self.report.skip(KNOWN)
            return None
        state = self.recorder.state_of(url)
        config = self.archive.config.source(source if state is None else state.source)
        job = (capture.payload, capture.header("content-encoding"), _charset(capture), url, config)
        if workers is None:
            return _Prepared(capture, source, url, digest, lambda: _extraction(*job))
        return _Prepared(capture, source, url, digest, workers.submit(_extraction, *job).result)

    def _store(self, prepared: _Prepared) -> Result | None:
        capture, url, digest = prepared.capture, prepared.url, prepared.digest
        if self._known(url, capture, digest):  # an earlier capture of this run was the same
            self.report.skip(KNOWN)
            return None
        self.report.records += 1
        state = self.recorder.state_of(url)
        if state is not None and state.last_changed and capture.when <= state.last_changed:
            return self._earlier(prepared, state)
        source = prepared.source if state is None else state.source
        checked = self._checked(prepared, source, state)
        if checked is None:
            return None
        origin = fmt.origin_trailer(capture.origin)
        result = self.recorder.apply(checked, capture.when, origin, digest)
        if checked.extracted is not None and result.outcome in (Outcome.NEW, Outcome.CHANGED):
            self.texts.remember(url, checked.extracted.text)
        self._count(result, capture)
        return result

    def _earlier(self, prepared: _Prepared, state: ArticleState) -> Result | None:
        """A capture older than the article's latest version: decided against the version
        before it in capture order, and, when it is a version, committed with the current
        text written back after it (readers order versions by their capture times)."""
        capture, digest = prepared.capture, prepared.digest
        self.recorder.flush()  # the run's commits readable by the history read
        versions = article_versions(self.archive.repo, state.path)
        fetched = isoformat(capture.when)
        if any(v.trailers.get(fmt.FETCHED) == fetched for v in versions):
            self.report.skip(KNOWN)
            return None
        before = [v for v in versions if v.trailers.get(fmt.FETCHED, "") < fetched]
        after = [v for v in versions if v.trailers.get(fmt.FETCHED, "") > fetched]
        prior = before[-1].blob if before else None
        then = state.update(
            blob=prior,
            versions=len(before),
            blobs=tuple(v.blob for v in before if v.blob),
            removed=False,
            last_changed=capture.when if before else None,
        )
        checked = self._checked(prepared, state.source, then)
        if checked is None:
            return None
        assert checked.extracted is not None
        if after and blob_id(checked.extracted.text) == after[0].blob:
            self.report.skip(LATER_TEXT)
            return None
        origin = fmt.origin_trailer(capture.origin)
        result = self.recorder.apply(checked, capture.when, origin, digest)
        now = state
        if result.outcome in (Outcome.NEW, Outcome.CHANGED):
            now = state.update(
                versions=state.versions + 1, first_seen=min(state.first_seen, capture.when)
            )
            self.recorder.record_commit(self._restore(now), Outcome.REFORMATTED)
        self.recorder.set_state(now)  # the article is as it was, one version richer
        self._count(result, capture)
        return result

    def _restore(self, state: ArticleState) -> Change:
        """The commit writing the article's current text back after an older version (a
        removed article's file deleted again)."""
        assert state.blob and state.last_changed
        text = None if state.removed else self.texts.read(state.blob)
        assert state.removed or text is not None, f"{state.url}: its current text is missing"
        title = parse_document(text, state.url).title if text else state.url
        trailers = {
            fmt.URL: state.url,
            fmt.SOURCE: state.source,
            fmt.VERSION: str(state.versions),
            fmt.STATUS: str(state.last_status or 200),
            fmt.FETCHED: isoformat(state.last_changed),
            fmt.EVENT: fmt.EVENT_RESTORED,
            fmt.RULES: state.rules,
        }
        if state.signals:
            trailers[fmt.SIGNALS] = ",".join(sorted(state.signals))
        return Change(
            source=state.source,
            subject=fmt.subject_line(state.source, f"restored: {title}"),
            trailers=trailers,
            when=state.last_changed,
            files={state.path: text} if text is not None else {},
            deletions=() if text is not None else (state.path,),
        )

    def _checked(
        self, prepared: _Prepared, source: str, state: ArticleState | None
    ) -> Checked | None:
        capture, url = prepared.capture, prepared.url
        blob = state.blob if state and state.blob and not state.removed else ""
        stored = self.recorder.stored.read(blob) if blob else None
        try:
            extracted = prepared.extracted().compared(stored, blob)
            validate(extracted.page, state, url)
        except ArticleError as err:
            self.report.skip(FAILED, f"{url} ({capture.origin.value}): {err.reason}")
            return None
        kept = {
            name: value for name in ("etag", "last-modified") if (value := capture.header(name))
        }
        exchange = Exchange(
            url=capture.url,
            request=(),
            status=capture.status,
            reason=capture.reason,
            headers=capture.headers,
            body=capture.payload,
            version=capture.protocol,
        )
        return Checked(
            Target(url, source, state),
            Fetched(url, url, capture.status, kept),
            extracted,
            url=url,
            exchanges=(exchange,),
            fetched_at=capture.when,
        )

    def _known(self, url: str, capture: Capture, digest: str) -> bool:
        return (
            capture.origin.value in self.known
            or (url, digest, isoformat(capture.when)) in self.known
        )

    def _count(self, result: Result, capture: Capture) -> None:
        self.report.results.append(result)
        if result.outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.RETURNED):
            self.report.versions += 1
            self.report.articles.add(result.url)
            self.known.add(capture.origin.value)
        elif result.outcome is Outcome.FAILED:
            self.report.skip(FAILED, f"{result.url} ({capture.origin.value}): {result.reason}")
        else:
            self.report.skip(UNCHANGED)

    def close(self) -> None:
        self.recorder.close()
        self.texts.close()


AHEAD = 8  # captures read and being extracted ahead of the one being stored


@dataclass(frozen=True)
class _Prepared:
    """A capture that may be a version: its article, its payload's digest, and what gives
    its extraction (ArticleError when the page has none), started already or not."""

    capture: Capture
    source: str  # the source its article goes under if it is new
    url: str  # the article's
    digest: str  # the payload's, `sha256:<hex>`
    extracted: Callable[[], Extracted]


def import_workers() -> AbstractContextManager[Executor | None]:
    """The processes an import extracts in: one a core beside this one's (which reads,
    decides and writes meanwhile); none on one core, where it extracts as it goes."""
    return extraction_workers((os.cpu_count() or 1) - 1, fewest=1)


def _extraction(
    payload: bytes, encoding: str, charset: str | None, url: str, config: SourceConfig
) -> Extracted:
    """Runs in an extraction worker: the payload decoded and extracted, not yet compared
    (the version it is compared with may be one this run has yet to store)."""
    return extraction_job(_decoded(payload, encoding, url), charset, url, config)


class RunTexts(StoredTexts):
    """Stored texts, and those of the versions this run wrote: an import stores several
    versions of an article in one run, before the commit stream makes them readable.
    Each article's latest only: that is the version the next capture is compared with."""

    def __init__(self, archive: Archive) -> None:
        super().__init__(archive)
        self._written: dict[str, str] = {}  # blob → text
        self._latest: dict[str, str] = {}  # url → blob

    def remember(self, url: str, text: str) -> None:
        blob = blob_id(text)
        earlier = self._latest.get(url)
        if earlier is not None and earlier != blob:
            self._written.pop(earlier, None)
        self._latest[url] = blob
        self._written[blob] = text

    def read(self, blob: str) -> str | None:
        return self._written.get(blob) or super().read(blob)


def known_captures(archive: Archive) -> set[object]:
    """What the archive's versions were made from: each origin trailer's value, and each
    captured version's (URL, payload digest, fetch time)."""
    known: set[object] = set()
    for commit in iter_commits(archive.repo):
        trailers = commit.trailers
        if origin := trailers.get(fmt.ORIGIN):
            known.add(origin.strip())
        try:
            ref = fmt.read_capture(trailers)
        except ValueError:
            continue
        if ref is not None and commit.url:
            known.add((commit.url, ref.digest, trailers.get(fmt.FETCHED, "")))
    return known


def _html(capture: Capture) -> bool:
    content_type = capture.header("content-type").lower()
    if content_type:
        return "html" in content_type
    start = capture.payload[:256].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _charset(capture: Capture) -> str | None:
    for part in capture.header("content-type").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _decoded(payload: bytes, encoding: str, url: str) -> bytes:
    """The body with its content-encoding undone, for extraction."""
    try:
        return content_decoded(payload, encoding)
    except ValueError as err:
        raise ExtractionError(url, str(err)) from None

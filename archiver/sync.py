"""The library API of the commands that write: `add` URLs, `sync` sources and due articles.

A run holds the archive's lock, discovers new articles from the sources' feeds, sitemaps
and section pages, checks new and due articles (at most each source's per-run cap), and
stores every detected change as one commit.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor
from datetime import datetime

from archiver.archive import Archive
from archiver.capture.checker import Checker, StoredTexts, source_for
from archiver.capture.model import Observer, Outcome, Result, RunReport, SourceRun, Target
from archiver.capture.recorder import Recorder
from archiver.capture.rereading import (
    VersionForm,
    current_capture,
    needs_history,
    reread_history,
    version_forms,
)
from archiver.capture.worker import extraction_workers, fingerprint
from archiver.config import check_scheduler
from archiver.discover import Discovery, discover
from archiver.errors import ArticleError, Interrupted
from archiver.fetch.client import Fetcher, open_fetcher, user_agent
from archiver.fetch.robots import Robots
from archiver.health import record_sources
from archiver.notify import WAIT, open_notifier
from archiver.processes import objects_frozen, signals_cancel, stop_signal, terminate_stops
from archiver.store.captures import CaptureReader
from archiver.store.commits import CommitStream
from archiver.urls import canonical_url

Job = Callable[[Checker], Awaitable[RunReport]]


def add(
    archive: Archive,
    urls: Iterable[str],
    source: str | None = None,
    progress: Observer | None = None,
) -> RunReport:
    """Track URLs and capture them now."""
    with archive.writing():
        report = RunReport()
        targets = _targets_for_urls(archive, urls, source, report)
        job = lambda checker: _check(checker, targets, report, progress)  # noqa: E731
        return _run(archive, job, len(targets))


def sync(
    archive: Archive,
    check_all: bool = False,
    progress: Observer | None = None,
    discover_new: bool = True,
    proxy: str | None = None,
    scheduler: str | None = None,
) -> RunReport:
    """Discover new articles, then check them and the tracked articles that are due (every
    tracked article with check_all). Requests go through `proxy` when one is given. The
    checks run on the Dask cluster of `scheduler` (else of [cluster] scheduler) when set."""
    scheduler = scheduler or archive.config.cluster.scheduler or None
    if scheduler:
        check_scheduler(scheduler, "--scheduler")
    with archive.writing():
        report = RunReport()

        async def job(checker: Checker) -> RunReport:
            started = archive.clock.now()
            found = await _discover(archive, checker.fetcher, report) if discover_new else {}
            targets = plan(archive, found, check_all)
            await _check(checker, targets, report, progress)
            _record_runs(archive, started, found, report)
            return report

        jobs = 1 if scheduler else os.cpu_count() or 1  # a cluster extracts: no local workers
        return _run(archive, job, jobs, proxy, scheduler)


def reformat(
    archive: Archive,
    progress: Observer | None = None,
    history: bool = False,
) -> RunReport:
    """Re-extract every article whose stored text came from another extractor, normalizer
    or rules, and record each new form as a reformat commit (not a version). The current
    version is read from the capture it was made from; an article with no capture of it
    (stored before captures were kept) is fetched in full instead (a 304 would leave an edit
    made since to be taken for a reformat later), and a page edited since its last version
    gets the reformat of that version, then the edit as the next version.

    With `history`, every version of each article is read again from its capture and the
    whole history recorded in the new form (see capture.rereading); an article with a
    version that has no capture is left as it is (a skipped result)."""
    with archive.writing():
        forms = version_forms(archive.repo)
        if history:
            return _reformat_history(archive, forms, progress)
        report = RunReport()
        targets = [
            Target(a.url, a.source, a)
            for a in archive.state.all()
            if a.blob and not a.removed and a.rules != fingerprint(archive.config.source(a.source))
        ]
        replays = {
            target.url: ref
            for target in targets
            if target.state
            and (ref := current_capture(target.state, forms.get(target.state.path, ())))
        }
        report.refetched = len(targets) - len(replays)

        def job(checker: Checker) -> Awaitable[RunReport]:
            checker.reformat = True
            checker.replays = replays
            return _check(checker, targets, report, progress, reformat=True)

        return _run(archive, job, len(targets))


def _reformat_history(
    archive: Archive, forms: dict[str, list[VersionForm]], progress: Observer | None
) -> RunReport:
    report = RunReport()
    rules = {name: fingerprint(archive.config.source(name)) for name in archive.config.sources}
    targets = []
    for article in archive.state.all():
        if not article.blob or article.removed:
            continue
        rule = rules.get(article.source) or fingerprint(archive.config.source(article.source))
        rules[article.source] = rule
        if needs_history(forms.get(article.path, ()), rule):
            targets.append(article)
    if progress:
        progress.planned(len(targets))
    reader = CaptureReader(archive.root)
    with terminate_stops(), CommitStream(archive.repo) as stream:
        recorder = Recorder(archive, stream, observers=(progress,) if progress else ())
        try:
            for article in targets:
                source = archive.config.source(article.source)
                now = archive.clock.now()
                found = forms.get(article.path, [])
                decision = reread_history(reader, article, found, source, rules[source.name], now)
                result = recorder.record(decision)
                report.results.append(result)
                if progress:
                    progress.checked(result)
        finally:
            recorder.close()
    return report


def plan(archive: Archive, found: dict[str, list[str]], check_all: bool = False) -> list[Target]:
    """New articles first, then due ones, each source capped at its max_per_run."""
    now = archive.clock.now()
    taken: Counter[str] = Counter()
    targets: list[Target] = []

    def take(target: Target) -> None:
        cap = archive.config.source(target.source).schedule.max_per_run
        if check_all or taken[target.source] < cap:
            taken[target.source] += 1
            targets.append(target)

    for name, urls in found.items():
        for url in urls:
            take(Target(url, name))
    for article in archive.state.all() if check_all else archive.state.due(now):
        take(Target(article.url, article.source, article))
    return targets


def _run(
    archive: Archive, job: Job, jobs: int, proxy: str | None = None, scheduler: str | None = None
) -> RunReport:
    with terminate_stops(), objects_frozen(), extraction_workers(jobs) as executor:
        try:
            return asyncio.run(_session(archive, job, executor, proxy, scheduler))
        except asyncio.CancelledError:
            signum = stop_signal()
            if signum is None:
                raise
            raise Interrupted(signum) from None  # the session stored what it had captured


async def _session(
    archive: Archive,
    job: Job,
    executor: Executor | None,
    proxy: str | None,
    scheduler: str | None = None,
) -> RunReport:
    agent = archive.config.fetch.user_agent or user_agent(archive.config.contact)
    stored = StoredTexts(archive)  # read by the checks for the workers, and by the writer
    try:
        with signals_cancel(asyncio.current_task()):
            async with open_fetcher(archive.config.fetch, agent, proxy) as fetcher:
                if scheduler:  # Dask is imported on this path only
                    from archiver.cluster import cluster_checker

                    cluster = cluster_checker(archive, fetcher, stored, scheduler, agent, proxy)
                    async with cluster as checker:
                        return await job(checker)
                return await job(Checker(archive, fetcher, Robots(fetcher), executor, stored))
    finally:
        stored.close()


async def _check(
    checker: Checker,
    targets: list[Target],
    report: RunReport,
    progress: Observer | None,
    reformat: bool = False,
) -> RunReport:
    archive = checker.archive
    if progress:
        progress.planned(len(targets))
    # Sent from threads of its own as the run goes; at the end the run waits at most WAIT
    # seconds for what is still being sent (none when stopped), and the outbox keeps the rest.
    notifier = open_notifier(archive)
    wait = 0.0
    with CommitStream(archive.repo) as stream:
        observers = tuple(o for o in (progress, notifier) if o)
        recorder = Recorder(archive, stream, checker.stored, observers)
        recorder.reformat = reformat
        recorder.replays = checker.replays
        try:
            async for checked in checker.check_all(targets):  # in order: reproducible commits
                result = recorder.apply(checked)
                report.results.append(result)
                if progress:
                    progress.checked(result)
            wait = WAIT
        finally:
            recorder.close()
            if notifier:
                notifier.close(wait)
    return report


async def _discover(archive: Archive, fetcher: Fetcher, report: RunReport) -> dict[str, list[str]]:
    """New article URLs per source; a source whose feed fails is reported, others go on."""
    sources = list(archive.config.sources.values())
    results: list[Discovery] = await asyncio.gather(*(discover(s, fetcher) for s in sources))
    found: dict[str, list[str]] = {}
    for source, discovery in zip(sources, results, strict=True):
        urls = [c.url for c in discovery.urls]
        known = archive.state.known(urls, archive.clock.now())
        found[source.name] = [u for u in urls if u not in known]
        report.discovered += len(found[source.name])
        report.source_errors.extend(_named(source.name, e) for e in discovery.errors)
        report.sources[source.name] = SourceRun(discovery.read, tuple(discovery.errors))
    return found


def _named(source: str, error: ArticleError) -> ArticleError:
    return ArticleError(error.url, f"{error.reason} (source {source})")


def _record_runs(
    archive: Archive, started: datetime, found: dict[str, list[str]], report: RunReport
) -> None:
    by_source: dict[str, Counter[str]] = {name: Counter() for name in archive.config.sources}
    for result in report.results:
        counts = by_source.setdefault(result.source, Counter())
        counts["checked"] += 1
        counts["changed"] += result.outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.RETURNED)
        counts["failed"] += result.outcome is Outcome.FAILED
        counts["extracted"] += result.outcome in (Outcome.NEW, Outcome.CHANGED, Outcome.UNCHANGED)
    for name, counts in by_source.items():
        counts["discovered"] = len(found.get(name, []))
        errors = [e.reason for e in report.source_errors if e.reason.endswith(f"(source {name})")]
        archive.state.record_run(started, name, counts, errors)
    record_sources(archive, started, report)
    archive.state.commit()


def _targets_for_urls(
    archive: Archive, urls: Iterable[str], source: str | None, report: RunReport
) -> list[Target]:
    """Targets for URLs given by hand; invalid URLs become failed results, not exceptions."""
    targets: dict[str, Target] = {}
    for raw in urls:
        try:
            url = canonical_url(raw)
        except ArticleError as err:
            report.results.append(Result(raw, source or "", Outcome.FAILED, reason=err.reason))
            continue
        state = archive.state.get(url)
        name = state.source if state else source or source_for(url, archive.config.sources.values())
        targets.setdefault(url, Target(url, name, state))
    return list(targets.values())

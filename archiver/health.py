"""How each source is doing: what `archiver status` shows, and the warnings that reveal a
site redesign (nothing extracted for several runs, or extraction failing across articles)
or a discovery that has stopped finding articles.

What a source's health rests on is kept in the state store, not only in the last day's
checks: when it last worked (a feed, sitemap or page read, or an article checked without
failing) and, while its discovery fails, its last error and since when.

Discovery is quiet when a source's newest article is older than QUIET_FACTOR times the
usual gap between its new articles (the median gap between the last QUIET_SAMPLE times
new articles were stored), and at least QUIET_FLOOR old: a source that gives an article
an hour is flagged after two days without one, one that gives one a week after three
weeks. Sources with fewer than QUIET_MIN_GAPS gaps yet are never flagged.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from archiver.archive import Archive
from archiver.capture.model import RunReport

QUIET_RUNS = 3  # runs that checked articles, none extracted, before a source is flagged
BROKEN_SHARE = 0.5  # share of a day's checks failing as broken pages before a warning
BROKEN_MIN = 3
_BROKEN = ("shrank", "lost the headline", "too short", "no article text")
QUIET_FACTOR = 3
QUIET_FLOOR = timedelta(days=2)
QUIET_SAMPLE = 50
QUIET_MIN_GAPS = 4
_NOT_FETCHED = ("failed", "skipped")  # outcomes of checks that fetched nothing usable


@dataclass
class SourceHealth:
    name: str
    tracked: int = 0
    due: int = 0
    removed: int = 0
    checked_24h: int = 0
    changed_24h: int = 0
    last_success: datetime | None = None
    source_error: str | None = None  # discovery's last error, while it fails
    failing_since: datetime | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    warnings: list[str] = field(default_factory=list)


def record_sources(archive: Archive, at: datetime, report: RunReport) -> None:
    """What a run tells of each source whose discovery it ran: whether it worked, and its
    discovery's first error (one line) while it fails."""
    worked = {r.source for r in report.results if r.outcome.value not in _NOT_FETCHED}
    for name, run in report.sources.items():
        error = None
        if run.errors:
            first, more = run.errors[0], len(run.errors) - 1
            error = f"{first}" + (f" (and {more} more)" if more else "")
            error = " ".join(error.split())[:500]
        archive.state.record_source(name, at, bool(run.read) or name in worked, error)


def source_health(archive: Archive) -> list[SourceHealth]:
    now = archive.clock.now()
    sources: dict[str, SourceHealth] = {n: SourceHealth(n) for n in archive.config.sources}
    checked_ok = archive.state.last_checked_ok()
    for name, (success, error, since) in archive.state.sources().items():
        health = sources.setdefault(name, SourceHealth(name))
        health.last_success, health.source_error, health.failing_since = success, error, since
    for name, when in checked_ok.items():
        health = sources.setdefault(name, SourceHealth(name))
        health.last_success = max(health.last_success or when, when)
    for article in archive.state.all():
        health = sources.setdefault(article.source, SourceHealth(article.source))
        health.tracked += 1
        health.removed += article.removed
        health.due += bool(article.next_check and article.next_check <= now)
        if article.last_error:
            health.failures.append((article.url, article.last_error))
    broken: Counter[str] = Counter()
    for check in archive.state.checks_since(now - timedelta(hours=24)):
        health = sources.setdefault(check["source"], SourceHealth(check["source"]))
        health.checked_24h += 1
        health.changed_24h += check["outcome"] in ("new", "changed", "returned", "removed")
        if check["outcome"] not in _NOT_FETCHED:
            at = datetime.fromisoformat(check["at"].replace("Z", "+00:00"))
            health.last_success = max(health.last_success or at, at)
        elif any(word in (check["error"] or "") for word in _BROKEN):
            broken[check["source"]] += 1
    for health in sources.values():
        health.warnings += _warnings(archive, health, broken[health.name])
    return sorted(sources.values(), key=lambda h: h.name)


def _warnings(archive: Archive, health: SourceHealth, broken: int) -> list[str]:
    warnings = []
    # Runs that checked nothing (none of its articles due) say nothing of extraction.
    runs = archive.state.recent_runs(health.name, QUIET_RUNS, checked=True)
    if len(runs) == QUIET_RUNS and not any(run["extracted"] for run in runs):
        errors = next((run["errors"] for run in runs if run["errors"]), "")
        cause = f": {errors.splitlines()[0]}" if errors else ""
        warnings.append(f"no article extracted in the last {QUIET_RUNS} runs{cause}")
    if broken >= BROKEN_MIN and broken >= BROKEN_SHARE * max(health.checked_24h, 1):
        warnings.append(
            f"{broken} of {health.checked_24h} checks in 24 h gave broken or shrunken "
            "extractions: has the site been redesigned?"
        )
    if quiet := _quiet_discovery(archive, health.name):
        warnings.append(quiet)
    return warnings


def _quiet_discovery(archive: Archive, name: str) -> str | None:
    """A warning when the source's discovery has found nothing new for longer than usual."""
    source = archive.config.sources.get(name)
    if source is None or not (source.feeds or source.sitemaps or source.pages):
        return None
    seen = archive.state.first_seen_times(name, QUIET_SAMPLE)
    if len(seen) <= QUIET_MIN_GAPS:
        return None
    gaps = sorted(newer - older for newer, older in itertools.pairwise(seen))
    usual = gaps[len(gaps) // 2]
    quiet = archive.clock.now() - seen[0]
    if quiet <= max(QUIET_FACTOR * usual, QUIET_FLOOR):
        return None
    return (
        f"no new article for {_span(quiet)} (usually one every {_span(usual)}): "
        "has its discovery stopped working?"
    )


def _span(length: timedelta) -> str:
    hours = length.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    return f"{hours:.1f} hours" if hours >= 1 else f"{hours * 60:.0f} minutes"

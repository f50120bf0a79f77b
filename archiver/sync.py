"""The library API of the commands that write: add URLs, sync due articles."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from .archive import Archive
from .capture import Progress, RunReport, Target, run_checks, targets_for_urls


def add(
    archive: Archive,
    urls: Iterable[str],
    source: str | None = None,
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Track URLs and capture them now."""
    with archive.writing():
        targets, invalid = targets_for_urls(archive, urls, source)
        report = run_checks(archive, targets, client, progress)
        report.results[:0] = invalid
        return report


def due_targets(archive: Archive, check_all: bool = False) -> list[Target]:
    """Articles to re-check now, at most each source's per-run cap of them."""
    now = archive.clock.now()
    candidates = archive.state.all() if check_all else archive.state.due(now)
    taken: dict[str, int] = {}
    targets = []
    for article in candidates:
        if article.removed and not check_all:
            continue
        cap = archive.config.source(article.source).schedule.max_per_run
        if not check_all and taken.get(article.source, 0) >= cap:
            continue
        taken[article.source] = taken.get(article.source, 0) + 1
        targets.append(Target(article.url, article.source, article))
    return targets


def sync(
    archive: Archive,
    check_all: bool = False,
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Re-check the tracked articles that are due (all of them with check_all)."""
    with archive.writing():
        return run_checks(archive, due_targets(archive, check_all), client, progress)

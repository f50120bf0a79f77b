"""How each source is doing: what `archiver status` shows, and the warnings that reveal a
site redesign (nothing extracted for several runs, or extraction failing across articles)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .archive import Archive
from .errors import UnknownArticle
from .state import ArticleState
from .urls import canonical_url

QUIET_RUNS = 3  # runs without one successful extraction before a source is flagged
BROKEN_SHARE = 0.5  # share of a day's checks failing as broken pages before a warning
BROKEN_MIN = 3
_BROKEN = ("shrank", "lost the headline", "too short", "no article text")


@dataclass
class SourceHealth:
    name: str
    tracked: int = 0
    due: int = 0
    removed: int = 0
    checked_24h: int = 0
    changed_24h: int = 0
    last_success: datetime | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    warnings: list[str] = field(default_factory=list)


def source_health(archive: Archive) -> list[SourceHealth]:
    now = archive.clock.now()
    sources: dict[str, SourceHealth] = {n: SourceHealth(n) for n in archive.config.sources}
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
        if check["outcome"] != "failed":
            at = datetime.fromisoformat(check["at"].replace("Z", "+00:00"))
            health.last_success = max(health.last_success or at, at)
        elif any(word in (check["error"] or "") for word in _BROKEN):
            broken[check["source"]] += 1
    for health in sources.values():
        health.warnings += _warnings(archive, health, broken[health.name])
    return sorted(sources.values(), key=lambda h: h.name)


def _warnings(archive: Archive, health: SourceHealth, broken: int) -> list[str]:
    warnings = []
    runs = archive.state.recent_runs(health.name, QUIET_RUNS)
    if len(runs) == QUIET_RUNS and not any(run["extracted"] for run in runs):
        errors = next((run["errors"] for run in runs if run["errors"]), "")
        cause = f": {errors.splitlines()[0]}" if errors else ""
        warnings.append(f"no article extracted in the last {QUIET_RUNS} runs{cause}")
    if broken >= BROKEN_MIN and broken >= BROKEN_SHARE * max(health.checked_24h, 1):
        warnings.append(
            f"{broken} of {health.checked_24h} checks in 24 h gave broken or shrunken "
            "extractions: has the site been redesigned?"
        )
    return warnings


def article_status(archive: Archive, url: str) -> ArticleState:
    state = archive.state.get(canonical_url(url))
    if state is None:
        raise UnknownArticle(f"{url}: not tracked in {archive.root}")
    return state

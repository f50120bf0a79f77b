"""Trying a source's feeds, sitemaps and pages once, as `archiver source add` does: what
each lists today, or why it lists nothing, so a mistyped URL or a page given as a feed
shows at setup rather than as a sync that quietly finds nothing.

Each URL is read the way a sync reads it (the discovery methods' parsers, the archive's fetch
settings and user agent), after robots.txt of its host is asked, as for any fetch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from archiver.archive import Archive
from archiver.config import SourceConfig
from archiver.discover import METHODS, discover
from archiver.fetch.client import Fetcher, open_fetcher, user_agent
from archiver.fetch.robots import Robots

# "feed": "items", …: one unit per discovery method, named by its kind.
UNITS = {method.kind: method.unit for method in METHODS.values()}


@dataclass(frozen=True)
class Probe:
    """What one feed, sitemap or page listed, or why it could not be read."""

    url: str
    kind: str  # a discovery method's kind: feed, sitemap or page
    articles: int = 0  # article URLs the source would take (after include/exclude)
    filtered: int = 0  # URLs include/exclude left out
    problem: str = ""  # why it gave nothing usable; empty when it did

    def describe(self) -> str:
        if self.problem:
            return f"{self.url}: {self.problem}"
        left_out = f" ({self.filtered} more left out by include/exclude)" if self.filtered else ""
        return f"{self.url}: {self.kind} with {self.articles} {UNITS[self.kind]}{left_out}"


def probe_source(
    archive: Archive, source: SourceConfig, urls: dict[str, list[str]], proxy: str | None = None
) -> list[Probe]:
    """Try each of `urls` ({"feed": [...], "sitemap": [...], "page": [...]}) once, with the
    source's rules; one Probe per URL, in that order."""
    jobs = [(url, kind) for kind in UNITS for url in urls.get(kind, [])]
    if not jobs:
        return []
    agent = archive.config.fetch.user_agent or user_agent(archive.config.contact)
    return asyncio.run(_probe_all(archive, source, jobs, agent, proxy))


async def _probe_all(
    archive: Archive,
    source: SourceConfig,
    jobs: list[tuple[str, str]],
    agent: str,
    proxy: str | None,
) -> list[Probe]:
    async with open_fetcher(archive.config.fetch, agent, proxy) as fetcher:
        robots = Robots(fetcher)
        return list(
            await asyncio.gather(
                *(_probe(fetcher, robots, source, url, kind, agent) for url, kind in jobs)
            )
        )


async def _probe(
    fetcher: Fetcher, robots: Robots, source: SourceConfig, url: str, kind: str, agent: str
) -> Probe:
    verdict = await robots.allowed(url, source.user_agent or agent)
    if not verdict.allowed:
        return Probe(url, kind, problem=verdict.reason)
    lists = {name: (url,) if m.kind == kind else () for name, m in METHODS.items()}
    found = await discover(replace(source, **lists), fetcher)  # type: ignore[arg-type]
    if found.errors:
        return Probe(url, kind, problem=found.errors[0].reason)
    if kind == "page" and not found.urls and not found.filtered:
        return Probe(url, kind, problem="page with no article links (is it a section page?)")
    return Probe(url, kind, len(found.urls), found.filtered)

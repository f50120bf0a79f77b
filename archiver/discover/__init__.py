"""Discovery: the article URLs a source's feeds, sitemaps and section pages list today.

Every feed, sitemap and page of a source is fetched at once (the Fetcher keeps each host's
limits); one that fails is reported in `Discovery.errors`, named by its URL, and the others
still count (`Discovery.read` counts those read: a source works while one is).

Each method has its module (feeds.py, sitemaps.py, pages.py, see their docstrings), which
ends in its METHOD, and one entry in METHODS, keyed by the SourceConfig field listing its
URLs: a new method is a new module, its line here and its field in SourceConfig.

Then, for candidates from every method: each URL is made canonical (canonical_url: no
tracking parameters, no fragment); URLs that cannot be are skipped and counted in
`invalid`; the source's include patterns (at least one must match, when given) and exclude
patterns (none may match) are searched in the canonical URL, and those left out are
counted in `filtered`. One URL found several times is one candidate: the first place it
was found wins (feeds, then sitemaps, then pages, each in configured order, each in
document order), with the first title found and the earliest published date.

Order: by published date, oldest first, then by URL; undated candidates come last, by URL.
So the same documents give the same list however the fetches interleave, and articles
captured in this order are committed in the order they were published.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from archiver.config import SourceConfig
from archiver.discover import feeds, pages, sitemaps
from archiver.discover.base import Candidate, Method, Reader, _Found
from archiver.errors import ArticleError, InvalidURL
from archiver.fetch.client import Fetcher
from archiver.urls import canonical_url

__all__ = ["METHODS", "Candidate", "Discovery", "Method", "discover"]

# In this order: a URL listed by several methods is first found by the earliest.
METHODS: dict[str, Method] = {
    "feeds": feeds.METHOD,
    "sitemaps": sitemaps.METHOD,
    "pages": pages.METHOD,
}
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass
class Discovery:
    urls: list[Candidate] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    invalid: int = 0  # URLs skipped because they have no canonical form
    filtered: int = 0  # URLs left out by the source's include/exclude patterns
    read: int = 0  # feeds, sitemaps and pages fetched and read (child sitemaps included)


async def discover(source: SourceConfig, fetcher: Fetcher) -> Discovery:
    """The article URLs listed by the source's feeds, sitemaps and section pages."""
    reader = Reader(fetcher, source.user_agent or None, source.min_delay, not source.include)
    found = await asyncio.gather(
        *(
            method.read(reader, url)
            for name, method in METHODS.items()
            for url in getattr(source, name)
        )
    )
    return _merge(found, _Patterns.of(source))


# Merging


@dataclass(frozen=True)
class _Patterns:
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, source: SourceConfig) -> _Patterns:
        return cls(
            tuple(re.compile(p) for p in source.include),
            tuple(re.compile(p) for p in source.exclude),
        )

    def admit(self, url: str) -> bool:
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)


def _merge(found: Iterable[_Found], patterns: _Patterns) -> Discovery:
    result = Discovery()
    merged: dict[str, Candidate] = {}
    for part in found:
        result.errors += part.errors
        result.invalid += part.invalid
        result.read += part.read
        for candidate in part.candidates:
            try:
                url = canonical_url(candidate.url)
            except (InvalidURL, ValueError):  # ValueError: urlsplit's, on a malformed host
                result.invalid += 1
                continue
            if not patterns.admit(url):
                result.filtered += 1
                continue
            merged[url] = _combine(merged.get(url), replace(candidate, url=url))
    result.urls = sorted(merged.values(), key=lambda c: (c.published or FAR_FUTURE, c.url))
    return result


def _combine(first: Candidate | None, again: Candidate) -> Candidate:
    if first is None:
        return again
    dates = [d for d in (first.published, again.published) if d is not None]
    return replace(first, title=first.title or again.title, published=min(dates) if dates else None)

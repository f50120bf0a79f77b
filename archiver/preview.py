"""`archiver extract` in an archive: what a sync would store for one page, stored nowhere.

The page's source is found as a sync finds it (the tracked article's, else the configured
source for the URL's host), and its rules and fetch settings apply: drop selectors and
lines, minimum length, user agent and delays, robots.txt.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from archiver.archive import Archive
from archiver.capture.checker import Checker, source_for
from archiver.capture.model import Target
from archiver.capture.worker import extraction_job
from archiver.errors import ArticleError
from archiver.fetch.client import open_fetcher, user_agent
from archiver.fetch.robots import Robots
from archiver.store.document import Document
from archiver.urls import canonical_url


def source_of(archive: Archive, url: str, source: str | None = None) -> str:
    """The source a sync records the URL under: a tracked article's own, else `source`,
    else the configured source for its host."""
    state = archive.state.get(url)
    if state is not None:
        return state.source
    return source or source_for(url, archive.config.sources.values())


def extract_url(archive: Archive, url: str, source: str | None = None) -> Document:
    """The document a sync would store for the page at `url`, fetched now: under the URL
    the article is tracked as, or for a new one the URL it redirects to or declares."""
    url = canonical_url(url)
    document = asyncio.run(_check(archive, Target(url, source_of(archive, url, source))))
    tracked = archive.state.get(url)
    return replace(document, url=tracked.url) if tracked else document


def extract_file(archive: Archive, body: bytes, url: str, source: str | None = None) -> Document:
    """The document a sync would store for a page saved as `body`, fetched from `url` (an
    http(s) URL; a file's own URI takes the rules of `source` only)."""
    if url.startswith(("http://", "https://")):
        url = canonical_url(url)
        source = source_of(archive, url, source)
    settings = archive.config.source(source or "local")
    return extraction_job(body, None, url, settings).page.document


async def _check(archive: Archive, target: Target) -> Document:
    agent = archive.config.fetch.user_agent or user_agent(archive.config.contact)
    async with open_fetcher(archive.config.fetch, agent) as fetcher:
        checked = await Checker(archive, fetcher, Robots(fetcher)).check(target)
    if checked.failure is not None:
        raise checked.failure.error()
    if checked.extracted is None:  # a redirect to the home page: a sync stores nothing
        raise ArticleError(target.url, "redirects to the home page, not to an article")
    return checked.extracted.page.document

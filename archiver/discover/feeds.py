"""Feeds: RSS 0.9x/1.0/2.0 and Atom, read by feedparser. A feed with no entries that
feedparser cannot read either is an error; a readable but empty feed is not."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime

import feedparser

from archiver.discover.base import Candidate, Method, Reader, _clean, _Found, _join, _one_line
from archiver.errors import ArticleError
from archiver.fetch.client import Response

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)


async def discover_feed(reader: Reader, url: str) -> _Found:
    """The entries of one feed, or the error that it cannot be fetched or read."""
    try:
        response = await reader.get(url, FEED_TYPES)
        # Parsing a large document takes a while: off the loop, so other fetches go on.
        return _Found(await asyncio.to_thread(feed_candidates, response, url))
    except ArticleError as err:
        return _Found(errors=[err], read=0)


def feed_candidates(response: Response, url: str) -> list[Candidate]:
    """The entries of an RSS or Atom feed; ArticleError if it is neither."""
    parsed = feedparser.parse(
        # A stream, never bytes or str: feedparser opens those as a path or URL when it can.
        io.BytesIO(response.body),
        response_headers={"content-type": response.headers.get("content-type", "")},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    candidates = [_entry(entry, response.final_url, url) for entry in parsed.entries]
    # feedparser recovers what it can from a broken feed; broken and nothing usable is an error.
    if not any(c.url for c in candidates) and (parsed.bozo or not parsed.version):
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise ArticleError(url, f"feed is not valid RSS/Atom ({_one_line(problem)})")
    return candidates


def _entry(entry: feedparser.FeedParserDict, base: str, found_in: str) -> Candidate:
    # FeedBurner rewrites links to its click counter and keeps the real one aside.
    link = entry.get("feedburner_origlink") or entry.get("link") or ""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return Candidate(
        _join(base, link),
        found_in,
        _clean(entry.get("title")),
        _from_struct(stamp),
    )


def _from_struct(stamp: time.struct_time | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime(*stamp[:6], tzinfo=UTC)  # feedparser normalizes to UTC
    except (TypeError, ValueError):
        return None


METHOD: Method = Method(discover_feed, kind="feed", unit="items")

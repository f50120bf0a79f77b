"""Atom feeds (RFC 4287) of changes: everything, per source, per article.

Each entry is one change, its content the diff as escaped HTML, its id made from the commit
so readers never see an entry twice. Minor changes and first captures are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .sitehtml import inline_rows
from .sitepages import DiffRow, changed_only, iso_time, render

FEED_LENGTH = 50


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: str
    href: str
    author: str
    summary: str
    content: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    updated: str
    author: str
    self_href: str
    alternate: str
    entries: Sequence[Entry]


def entry_id(sha: str, article_dir: str) -> str:
    """Stable across rebuilds: the commit that recorded the change, and the article."""
    return f"urn:archiver:change:{sha}:{article_dir.rsplit('-', 1)[-1]}"


def feed_id(kind: str, name: str = "") -> str:
    return f"urn:archiver:feed:{kind}" + (f":{name}" if name else "")


def entry_content(rows: list[DiffRow], summary: str, minor: bool, revert_of: int | None) -> str:
    """The change as an HTML fragment: what changed, word by word, one column."""
    changed = inline_rows(changed_only(rows))
    return render("entry.html", rows=changed, summary=summary, minor=minor, revert_of=revert_of)


def link(base_url: str, from_dir: str, target: str) -> str:
    """An href from a feed in `from_dir` (relative to the site root) to `target`: absolute
    when the site's address is configured, else relative to the feed."""
    if base_url:
        return f"{base_url.rstrip('/')}/{target}"
    depth = from_dir.count("/") + 1 if from_dir else 0
    return "../" * depth + target


def render_feed(feed: Feed) -> str:
    return render("feed.xml", feed=feed)


def updated(times: Sequence[int], fallback: int) -> str:
    return iso_time(max(times) if times else fallback)

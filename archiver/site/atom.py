"""Atom feeds (RFC 4287) of changes: everything, per source, per article.

Each entry is one change, its content the diff as escaped HTML, its id made from the commit
so readers never see an entry twice. Minor changes and first captures are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import escape

from archiver.site.buildstate import VersionRow
from archiver.site.html import inline_rows
from archiver.site.templates import render
from archiver.site.views import DiffRow, changed_only, iso_time

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
    entries: Sequence[str]  # each entry's XML (entry_xml); kept as text, as an entry never
    # changes once written: an article's feed takes its older ones from the last build's


def entry_id(sha: str, article_dir: str) -> str:
    """Stable across rebuilds: the commit that recorded the change, and the article."""
    return f"urn:archiver:change:{sha}:{article_dir.rsplit('-', 1)[-1]}"


def feed_id(kind: str, name: str = "") -> str:
    return f"urn:archiver:feed:{kind}" + (f":{name}" if name else "")


def change_entry(row: VersionRow, article_dir: str, href: str, content: str) -> Entry:
    """The entry of the change that made version `row`, in any feed that lists it."""
    return Entry(
        id=entry_id(row.sha, article_dir),
        title=f"{row.title or 'Untitled'} (version {row.number})",
        updated=iso_time(row.time),
        href=href,
        author=row.source,
        summary=row.summary,
        content=content,
    )


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
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<id>{escape(feed.id)}</id>\n<title>{escape(feed.title)}</title>\n"
        f"<updated>{escape(feed.updated)}</updated>\n"
        f"<author><name>{escape(feed.author)}</name></author>\n"
        f'<link rel="self" type="application/atom+xml" href="{escape(feed.self_href)}"/>\n'
        f'<link rel="alternate" type="text/html" href="{escape(feed.alternate)}"/>\n'
        f"{''.join(feed.entries)}</feed>\n"
    )


def entry_xml(entry: Entry) -> str:
    return (
        f"{_ENTRY}<id>{escape(entry.id)}</id>\n<title>{escape(entry.title)}</title>\n"
        f"<updated>{escape(entry.updated)}</updated>\n"
        f'<link rel="alternate" type="text/html" href="{escape(entry.href)}"/>\n'
        f"<author><name>{escape(entry.author)}</name></author>\n"
        f"<summary>{escape(entry.summary)}</summary>\n"
        f'<content type="html">{escape(entry.content)}</content>\n{_ENTRY_END}'
    )


def feed_entries(xml: str) -> dict[str, str]:
    """Escaped id → entry, as text, of a feed render_feed wrote. Every text in it is
    escaped, so its own markup is the only "<entry>" it can hold."""
    found = {}
    for chunk in xml.split(_ENTRY)[1:]:
        end = chunk.find(_ENTRY_END)
        id_end = chunk.find("</id>")
        if chunk.startswith("<id>") and 0 < id_end < end:
            found[chunk[4:id_end]] = _ENTRY + chunk[: end + len(_ENTRY_END)]
    return found


_ENTRY, _ENTRY_END = "<entry>\n", "</entry>\n"


def xml_id(entry_id: str) -> str:
    """An entry id as feed_entries keys it."""
    return str(escape(entry_id))


def updated(times: Sequence[int], fallback: int) -> str:
    return iso_time(max(times) if times else fallback)

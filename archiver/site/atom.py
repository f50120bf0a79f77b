"""Atom feeds (RFC 4287) of changes: everything, per source, per article.

Each entry is one change, its content the diff as escaped HTML, its id made from the commit
so readers never see an entry twice. Minor changes and first captures are left out.

Feed readers drop a site's stylesheet and keep basic HTML with inline styles, so an entry's
content carries its own colours, no text meant only for screen readers (hidden by CSS, it
would run into the words), and changes widened to whole words: "updated 2025-03-05" →
"2025-03-07", never "2025-03-0507".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from archiver.diff import Span
from archiver.site.buildstate import VersionRow
from archiver.site.model import REMOVED
from archiver.site.templates import render
from archiver.site.views import DiffRow, changed_only, format_time, iso_time

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


def row_entry_id(row: VersionRow, article_dir: str) -> str:
    """A change's entry id; a return's differs from that of the version its commit made."""
    if row.event:
        return f"urn:archiver:{row.event}:{row.sha}:{article_dir.rsplit('-', 1)[-1]}"
    return entry_id(row.sha, article_dir)


def change_entry(row: VersionRow, article_dir: str, href: str, content: str) -> Entry:
    """The entry of the change that made version `row` (or of a removal or return), in any
    feed that lists it."""
    what = row.summary if row.event else f"version {row.number}"
    return Entry(
        id=row_entry_id(row, article_dir),
        title=f"{row.title or 'Untitled'} ({what})",
        updated=iso_time(row.time),
        href=href,
        author=row.source,
        summary=row.summary,
        content=content,
    )


def entry_content(rows: list[DiffRow], summary: str, minor: bool, revert_of: int | None) -> str:
    """The change as an HTML fragment a feed reader shows as it is: a one-line summary, the
    headline change if any, then each changed paragraph with its deletions and insertions."""
    changed = changed_only(rows)
    headline = next((row for row in changed if row.label == "Headline"), None)
    return render(
        "entry.html",
        summary=summary,
        minor=minor,
        revert_of=revert_of,
        headline=_headline(headline) if headline is not None else Markup(),
        rows=Markup("".join(_entry_row(row) for row in changed if row is not headline)),
    )


def event_content(row: VersionRow) -> str:
    """A removal's or a return's entry: when, and which text the archive shows."""
    when = format_time(row.time)
    if row.event == REMOVED:
        return (
            f"<p><strong>Removed from its address on {when}.</strong> The last text captured,"
            f" version {row.number}, stays readable in the archive.</p>\n"
        )
    return f"<p><strong>Back at its address on {when}</strong>, as version {row.number}.</p>\n"


# Colours that read on a light or a dark reader background, and a line or underline for
# readers that drop colours too.
_MARK = {
    "delete": '<del style="background-color:#fbe0e0;color:#7a1616;text-decoration:line-through">',
    "insert": '<ins style="background-color:#d9f2df;color:#0f4d22;text-decoration:underline">',
}
_UNMARK = {"delete": "</del>", "insert": "</ins>"}
_TRAILING_WORD = re.compile(r"\S*$")
_LEADING_WORD = re.compile(r"\S*")


def _marked(op: str, text: str) -> str:
    return f"{_MARK[op]}{escape(text)}{_UNMARK[op]}"


def _headline(row: DiffRow) -> Markup:
    """The old headline and the new, whole: a reader reads a headline as one thing."""
    old = "".join(s.text for s in row.old.spans) if row.old else ""
    new = "".join(s.text for s in row.new.spans) if row.new else ""
    change = f"{_marked('delete', old)} → {_marked('insert', new)}"
    return Markup(f"<p><strong>Headline:</strong> {change}</p>\n")


def _entry_row(row: DiffRow) -> str:
    if row.kind == "moved-away":
        return ""  # the paragraph shows once, where it moved to
    if row.label:
        start = f"<p><strong>{escape(row.label)}:</strong> "
    elif row.note:
        start = f"<p><em>{escape(row.note)}:</em> "
    else:
        start = "<p>"
    return f"{start}{words_html(row.inline)}</p>\n"


def words_html(spans: Iterable[Span]) -> str:
    """A word diff as marked-up text, each change widened to whole words and its deletion
    and insertion apart, so the text content reads right with no style at all."""
    parts = []
    for piece in whole_words(spans):
        if isinstance(piece, str):
            parts.append(str(escape(piece)))
            continue
        old, new = piece
        apart = old and new and not old[-1].isspace() and not new[0].isspace()
        marks = [_marked(op, text) for op, text in (("delete", old), ("insert", new)) if text]
        parts.append((" " if apart else "").join(marks))
    return "".join(parts)


def whole_words(spans: Iterable[Span]) -> list[str | tuple[str, str]]:
    """The spans as unchanged text and (old, new) changes, each change taking in the rest
    of the words it cuts into, and changes joined when only a part of a word is between."""
    pieces: list[str | list[str]] = []
    for span in spans:
        if span.op == "equal":
            pieces.append(span.text)
            continue
        last = pieces[-1] if pieces else None
        if not isinstance(last, list):
            earlier = pieces[-2] if len(pieces) >= 2 else None
            if isinstance(last, str) and isinstance(earlier, list) and not _has_space(last):
                pieces.pop()  # only part of a word between two changes: one change
                earlier[0] += last
                earlier[1] += last
            else:
                pieces.append(["", ""])
        change = pieces[-1]
        assert isinstance(change, list)
        change[0 if span.op == "delete" else 1] += span.text
    for index, piece in enumerate(pieces):
        if isinstance(piece, list):
            _widen(pieces, index)
    return [p if isinstance(p, str) else (p[0], p[1]) for p in pieces]


def _has_space(text: str) -> bool:
    return any(c.isspace() for c in text)


def _widen(pieces: list[str | list[str]], index: int) -> None:
    """Move the rest of a word the change at `index` cuts into into it: a change that starts
    or ends with punctuation ends a word rather than cutting into it."""
    change = pieces[index]
    assert isinstance(change, list)
    after = pieces[index + 1] if index + 1 < len(pieces) else None
    if isinstance(after, str) and after[:1].isalnum() and any(t[-1:].isalnum() for t in change):
        tail = _LEADING_WORD.match(after)
        assert tail is not None
        pieces[index + 1] = after[tail.end() :]
        change[:] = [change[0] + tail.group(), change[1] + tail.group()]
    before = pieces[index - 1] if index > 0 else None
    if isinstance(before, str) and before[-1:].strip() and any(t[:1].isalnum() for t in change):
        head = _TRAILING_WORD.search(before)
        assert head is not None
        pieces[index - 1] = before[: head.start()]
        change[:] = [head.group() + change[0], head.group() + change[1]]


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

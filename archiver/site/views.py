"""What the site's pages show, as plain data for the templates (see site.templates).

Article text reaches HTML only escaped: this module hands the templates strings and spans,
never markup, and the hottest fragments (diff, text and list rows) are built by site.html,
which escapes every text with what Jinja2's autoescape uses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from archiver.diff import ChangeStats, Row, Span, align, compact, replaced_count, word_diff
from archiver.site.model import Captured, as_version, compared, date_line, origin_of
from archiver.store.document import Document
from archiver.store.format import article_page, version_page

PAGE_SIZE = 50

_HEADING = re.compile(r"^(#{1,6}) +")
_ORDERED = re.compile(r"^(\d{1,9})\. +")
_NOT_IN_LINKS = re.compile(r"[\s\x00-\x1f]")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")


# --- formatting -----------------------------------------------------------------------------


# A version's time shows on its own pages, its article's, its feeds and lists: each is
# formatted once (strftime was 4 % of a build).
@lru_cache(maxsize=1 << 12)
def format_time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


@lru_cache(maxsize=1 << 12)
def iso_time(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def next_check_text(value: str | None) -> str | None:
    """The state store's next check as shown: None when the store does not know it."""
    if value is None:
        return None
    if value == "":
        return "none scheduled"
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def time_text(value: str | None) -> str:
    """An ISO time from the state store as pages show it; "" for none or one unreadable."""
    if not value:
        return ""
    return next_check_text(value) or ""


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def later(seconds: int) -> str:
    """How long after the previous version, as a reader would say it."""
    minutes = seconds // 60
    if minutes < 1:
        return "moments later"
    if minutes < 60:
        return f"{plural(minutes, 'minute')} later"
    hours = round(seconds / 3600)
    if hours < 48:
        return f"about {plural(hours, 'hour')} later"
    return f"about {plural(round(seconds / 86400), 'day')} later"


def web_link(url: str) -> bool:
    """Only plain http(s) addresses become links; anything else is shown as text."""
    if _NOT_IN_LINKS.search(url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class OriginNote(NamedTuple):
    """A version from a web archive, as the site names it."""

    holder: str  # "the Internet Archive", a replay server's host, or a WARC/WACZ file's name
    link: str  # the capture on its server, "" when there is none (a file's record)


def origin_note(value: str) -> OriginNote | None:
    """The origin a version row keeps, as the site tells it; None for a version archiver
    fetched itself. The value comes from the archive's commits, written from WARC files and
    servers' answers: only a plain http(s) address becomes a link."""
    origin = origin_of(value)
    if origin is None or not origin.holder:
        return None
    return OriginNote(origin.holder, origin.replay if web_link(origin.replay) else "")


def language(document: Document) -> str:
    lang = (document.language or "").lower()
    return lang if _LANGUAGE.fullmatch(lang) else ""


# --- the article body as blocks -------------------------------------------------------------


class Block(NamedTuple):
    """One block of the body: kind is h3…h6, p, quote, ul or ol (lists carry items)."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    start: int = 1


def blocks(body: str) -> list[Block]:
    """Normalized markdown → blocks; consecutive list items share one list."""
    out: list[Block] = []
    for raw in body.replace("\r\n", "\n").split("\n\n"):
        text = raw.strip()
        if not text:
            continue
        kind, rest, number = _classify(text)
        if kind in ("ul", "ol"):
            previous = out[-1] if out else None
            if previous is not None and previous.kind == kind:
                out[-1] = Block(kind, items=(*previous.items, rest), start=previous.start)
            else:
                out.append(Block(kind, items=(rest,), start=number))
        else:
            out.append(Block(kind, rest))
    return out


def _classify(text: str) -> tuple[str, str, int]:
    if match := _HEADING.match(text):
        # The page's h1 is the title and its sections use h2: body headings start at h3.
        return f"h{min(6, len(match.group(1)) + 1)}", text[match.end() :], 1
    if text.startswith("- "):
        return "ul", text[2:], 1
    if match := _ORDERED.match(text):
        return "ol", text[match.end() :], int(match.group(1))
    if text.startswith("> "):
        return "quote", text[2:], 1
    return "p", " ".join(text.split("\n")), 1


# --- diffs ----------------------------------------------------------------------------------


class Cell(NamedTuple):
    """One side of a row: spans (equal plus delete on the old side, insert on the new)."""

    spans: tuple[Span, ...] = ()
    style: str = "p"  # p, h, li, quote: how the block reads
    number: int | None = None  # paragraph number, 1-based
    note: str = ""
    muted: bool = False
    link: str = ""  # a moved paragraph's note links here: the anchor of its other position


class DiffRow(NamedTuple):
    kind: str  # field, same, changed, removed, added, moved, moved-away, replaced
    label: str = ""  # for field rows: Headline, Byline, Date
    old: Cell | None = None
    new: Cell | None = None
    inline: tuple[Span, ...] = ()
    note: str = ""


_PREFIXES = (("## ", "h"), ("- ", "li"), ("> ", "quote"))


def _style(old: str, new: str) -> tuple[str, str, str]:
    """Strip a block marker both sides share, so only the words are compared and shown."""
    for prefix, style in _PREFIXES:
        if (not old or old.startswith(prefix)) and (not new or new.startswith(prefix)):
            return style, old.removeprefix(prefix), new.removeprefix(prefix)
    if _HEADING.match(old or new):
        return "h", old, new
    return "p", old, new


def _side(spans_: Sequence[Span], keep: str) -> tuple[Span, ...]:
    return tuple(s for s in spans_ if s.op in ("equal", keep))


def field_row(label: str, old: str, new: str) -> DiffRow:
    diff = tuple(word_diff(old, new))
    return DiffRow(
        "field" if old != new else "same",
        label=label,
        old=Cell(_side(diff, "delete"), "field"),
        new=Cell(_side(diff, "insert"), "field"),
        inline=diff,
    )


def diff_rows(old: Captured, new: Captured) -> list[DiffRow]:
    """The side-by-side rows: title first, byline and date when changed, then paragraphs."""
    a, b = as_version(old), as_version(new)
    out = [field_row("Headline", a.title, b.title)]
    if a.byline != b.byline:
        out.append(field_row("Byline", a.byline, b.byline))
    if date_line(old) != date_line(new):
        out.append(field_row("Date", date_line(old), date_line(new)))
    aligned = align(a.body, b.body)
    if replaced_count(aligned):
        aligned = compact(aligned)
    new_position = {r.moved_from: n for n, r in enumerate(aligned) if r.kind == "moved"}
    for n, row in enumerate(aligned):
        out.append(_paragraph_row(row, new_position.get(row.old_index, n) > n))
    return out


def _paragraph_row(row: Row, moves_down: bool) -> DiffRow:
    style, old_text, new_text = _style(row.old_text, row.new_text)
    old_no = None if row.old_index is None else row.old_index + 1
    new_no = None if row.new_index is None else row.new_index + 1
    if row.kind == "moved-away":
        # Only a marker: the text shows once, in the row of its new place.
        assert row.moved_to is not None
        note = f"moved {'down' if moves_down else 'up'} to ¶{row.moved_to + 1}"
        to = f"new-{row.moved_to + 1}"
        cell = Cell((), style, old_no, note, muted=True, link=to)
        return DiffRow(row.kind, old=cell, note=f"¶{old_no} {note}")
    if row.kind == "replaced":  # unrelated texts: each side whole, in its own style
        old_style, old_text, _ = _style(row.old_text, "")
        new_style, _, new_text = _style("", row.new_text)
        deleted, inserted = Span("delete", old_text), Span("insert", new_text)
        return DiffRow(
            row.kind,
            old=Cell((deleted,), old_style, old_no),
            new=Cell((inserted,), new_style, new_no),
            inline=(deleted, inserted),
        )
    if row.kind == "same":  # most rows: one span, shared by both cells and the inline view
        words = (Span("equal", old_text),)
        return DiffRow(
            row.kind, old=Cell(words, style, old_no), new=Cell(words, style, new_no), inline=words
        )
    diff = tuple(word_diff(old_text, new_text))
    old_cell = Cell(_side(diff, "delete"), style, old_no) if old_text else None
    new_cell = Cell(_side(diff, "insert"), style, new_no) if new_text else None
    if row.kind == "moved":
        note = f"moved from ¶{old_no}"
        assert new_cell is not None  # a move has both texts
        new_cell = Cell(new_cell.spans, style, new_no, note, link=f"old-{old_no}")
        return DiffRow(row.kind, old=old_cell, new=new_cell, inline=diff, note=note)
    return DiffRow(row.kind, old=old_cell, new=new_cell, inline=diff)


def rewritten(diff: Sequence[DiffRow]) -> int:
    """How many old paragraphs the change replaced, when it is a rewrite (0 otherwise)."""
    if not any(row.kind == "replaced" for row in diff):
        return 0
    return sum(row.kind in ("replaced", "removed") for row in diff)


class Comparison(NamedTuple):
    """Two versions compared, as every page and `archiver diff` show them."""

    rows: list[DiffRow]
    summary: str  # what changed, in one line (see ChangeStats.summary)
    minor: bool
    rewritten: int  # old paragraphs replaced, when the change is a rewrite


def comparison(
    old: Captured, new: Captured, recorded: tuple[ChangeStats, bool] | None = None
) -> Comparison:
    """The rows and counts of any two versions. `recorded` is the change a commit's
    trailers hold for exactly this pair, taken as it is (old commits keep their counts)."""
    stats, minor = recorded or compared(old, new)
    rows = diff_rows(old, new)
    return Comparison(rows, stats.summary(), minor, rewritten(rows))


def changed_only(diff: list[DiffRow]) -> list[DiffRow]:
    """The rows worth a feed entry: everything but unchanged paragraphs."""
    return [row for row in diff if row.kind != "same"]


# --- list rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeItem:
    """One change in a list of changes: what it was, in which article, when."""

    dir: str  # the article's output folder
    source: str
    number: int
    time: int
    title: str
    summary: str
    minor: bool
    revert_of: int | None
    old_title: str = ""
    event: str = ""  # a removal or return: its kind

    @property
    def page_href(self) -> str:
        """The page of the version the change made, which shows the change; for a removal
        or return, the article's page."""
        if self.event:
            return article_page(self.dir)
        return version_page(self.dir, self.number)


class ArticleItem(NamedTuple):  # a tuple: fifty make each page of a source's articles
    dir: str
    source: str
    title: str
    versions: int
    changes: int  # changes that are not minor
    last_changed: int
    removed: int | None = None


@dataclass(frozen=True)
class Pager:
    """Links of a page in a chunked list: chunks count from the oldest, so old ones stay put."""

    newer: str = ""
    older: str = ""
    latest: str = ""

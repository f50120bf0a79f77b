"""Markup for the hottest fragments of the site, built here rather than in templates.

A diff page's rows and an article's paragraphs are most of a build's output: rendered by
Jinja2 loops they cost more than everything else on the page. Every piece of text goes
through markupsafe's escaping (what Jinja2's autoescape calls) on its way in, and what
comes out is Markup the templates insert as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from markupsafe import Markup

from archiver.diff import Span
from archiver.site.buildstate import VersionRow
from archiver.site.views import (
    ArticleItem,
    Block,
    Cell,
    ChangeItem,
    DiffRow,
    format_time,
    iso_time,
    origin_note,
    plural,
)


def _escape_text(text: str) -> str:
    """What markupsafe.escape gives for a str, as a str."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


try:  # markupsafe's own escaper without wrapping each span in Markup: a build escapes
    # millions of spans, and the wrapper cost four times the escaping (0.3 against 0.07 µs)
    from markupsafe._speedups import _escape_inner as escape
except ImportError:  # markupsafe without its C speedups
    escape = _escape_text

_OPEN = {
    "delete": '<del><span class="vh">deleted: </span>',
    "insert": '<ins><span class="vh">inserted: </span>',
}
_CLOSE = {"delete": "</del>", "insert": "</ins>"}


def spans_html(spans: Iterable[Span]) -> str:
    """Words as they read, deletions and insertions marked with a text label too."""
    parts: list[str] = []
    for span in spans:
        if span.op == "equal":
            parts.append(escape(span.text))
        else:
            parts += (_OPEN[span.op], escape(span.text), _CLOSE[span.op])
    return "".join(parts)


class _Words:
    """spans_html for one diff: an unchanged paragraph's single span is shared by both
    columns and the inline view, and is escaped once."""

    def __init__(self) -> None:
        self._done: dict[int, str] = {}

    def __call__(self, spans: tuple[Span, ...]) -> str:
        key = id(spans)
        if key not in self._done:
            self._done[key] = spans_html(spans)
        return self._done[key]


def _cell(
    cell: Cell | None,
    label: str,
    words: _Words,
    merged: tuple[Span, ...] | None = None,
    anchor: str = "",
) -> str:
    """One side of a row. The cell the one-column view shows is marked `io`; when that view
    reads differently (both deletions and insertions, or only a note), the words this side
    shows are wrapped in `w` and the one-column reading follows in `m`. `anchor` is the
    cell's id, which a moved paragraph's note at its other position links to."""
    if cell is None:
        return '<td class="blank"></td>\n'
    io = " io" if merged is not None else ""
    where = f' id="{anchor}"' if anchor else ""
    parts = [f'<td class="{cell.style}{" muted" if cell.muted else ""}{io}"{where} dir="auto">']
    if label:
        parts += ('<span class="label">', escape(label), "</span> ")
    if cell.number:
        parts.append(f'<span class="pn">¶{cell.number}</span> ')
    if cell.note and cell.link:
        link = f'<span class="note"><a href="#{cell.link}">'
        parts += (link, escape(cell.note), "</a></span> ")
    elif cell.note:
        parts += ('<span class="note">', escape(cell.note), "</span> ")
    if merged is None or merged is cell.spans:
        parts += (words(cell.spans), "</td>\n")
    else:
        one_column = f'<span class="m">{words(merged)}</span>' if merged else ""
        parts += ('<span class="w">', words(cell.spans), "</span>", one_column, "</td>\n")
    return "".join(parts)


def _one_column(row: DiffRow) -> tuple[Span, ...]:
    """What the one-column view shows of a row: its spans when they hold both deletions
    and insertions (its shown side's alone otherwise), nothing but the note when moved away."""
    if row.kind == "moved-away":
        return ()
    shown = row.new if row.new is not None else row.old
    assert shown is not None
    dropped = "delete" if shown is row.new else "insert"
    if any(span.op == dropped for span in row.inline):
        return row.inline
    return shown.spans


def _side_row(row: DiffRow, words: _Words) -> str:
    """A row of the diff table. The table is all three views of a diff page: side by side,
    one column (the `io` cells, `m` in place of `w`), and the new text (right cells)."""
    merged = _one_column(row)
    old, new = _anchors(row)
    if row.new is not None:
        cells = _cell(row.old, row.label, words, None, old)
        cells += _cell(row.new, row.label, words, merged, new)
    else:
        cells = _cell(row.old, row.label, words, merged, old) + _cell(None, row.label, words)
    return f'<tr class="{row.kind}">\n{cells}</tr>\n'


def _anchors(row: DiffRow) -> tuple[str, str]:
    """Ids of a row's paragraphs: `old-N` and `new-N` by their numbers in each version. A
    moved paragraph's old number belongs to the row it moved away from, which has the id."""
    old = row.old.number if row.old is not None and row.kind != "moved" else None
    new = row.new.number if row.new is not None else None
    return (f"old-{old}" if old else "", f"new-{new}" if new else "")


def diff_table(rows: Sequence[DiffRow]) -> Markup:
    """The rows of a diff page's table: old on the left, new on the right, and what the
    one-column view shows of each."""
    words = _Words()
    return Markup("".join([_side_row(row, words) for row in rows]))


def _items(items: Sequence[str]) -> str:
    return "".join(f'<li dir="auto">{escape(item)}</li>\n' for item in items)


def _block(block: Block) -> str:
    kind = block.kind
    if kind == "p":
        return f'<p dir="auto">{escape(block.text)}</p>\n'
    if kind == "quote":
        return f'<blockquote dir="auto"><p>{escape(block.text)}</p></blockquote>\n'
    if kind == "ul":
        return f"<ul>\n{_items(block.items)}</ul>\n"
    if kind == "ol":
        start = f' start="{block.start}"' if block.start != 1 else ""
        return f"<ol{start}>\n{_items(block.items)}</ol>\n"
    # Headings: kind is one of h2…h6, set by site.views.blocks, never taken from the text.
    return f'<{kind} dir="auto">{escape(block.text)}</{kind}>\n'


def body(blocks: Sequence[Block], lang: str = "") -> Markup:
    """An article's text, block by block."""
    attribute = f' lang="{escape(lang)}"' if lang else ""
    return Markup(f'<div class="text"{attribute}>\n{"".join(map(_block, blocks))}</div>\n')


# --- list rows --------------------------------------------------------------------------------


def when(seconds: int) -> Markup:
    """A moment as the site shows it, machine-readable in its datetime attribute."""
    return Markup(f'<time datetime="{iso_time(seconds)}">{format_time(seconds)}</time>')


def _source_link(root: str, source: str) -> str:
    name = escape(source)
    return f'<a href="{root}sources/{name}/index.html">{name}</a>'


def article_rows(items: Sequence[ArticleItem], root: str, ranked: bool = False) -> Markup:
    """Rows of a list of articles: title, source, versions and last change."""
    rows = []
    for item in items:
        changes = f" · {plural(item.changes, 'change')} (not minor)" if ranked else ""
        gone = f" · gone from its address since {when(item.removed)}" if item.removed else ""
        rows.append(
            f'<li>\n<a class="title" href="{root}{escape(item.dir)}/index.html" dir="auto">'
            f"{escape(item.title or 'Untitled')}</a>\n"
            f'<span class="meta">{_source_link(root, item.source)} · '
            f"{plural(item.versions, 'version')}{changes} · last changed "
            f"{when(item.last_changed)}{gone}</span>\n</li>\n"
        )
    return Markup("".join(rows))


def change_rows(items: Sequence[ChangeItem], root: str, headlines: bool = False) -> Markup:
    """Rows of a list of changes: the article, when, which version, what changed."""
    rows = []
    for item in items:
        title = escape(item.title or "Untitled")
        if item.event:
            rows.append(_event_row(item, root, title))
            continue
        parts = [
            f'<li class="change{" minor" if item.minor else ""}">\n'
            f'<a class="title" href="{root}{escape(item.page_href)}" dir="auto">{title}</a>\n'
        ]
        if headlines and item.old_title:
            parts.append(
                '<span class="headline" dir="auto"><del><span class="vh">old headline: </span>'
                f'{escape(item.old_title)}</del> <span aria-hidden="true">→</span> '
                f'<ins><span class="vh">new headline: </span>{escape(item.title)}</ins></span>\n'
            )
        revert = (
            f"<strong>reverted to version {item.revert_of}</strong>; " if item.revert_of else ""
        )
        minor = "<strong>minor</strong>: " if item.minor else ""
        parts.append(
            f'<span class="meta">{when(item.time)} · {_source_link(root, item.source)} · '
            f"{plural(item.number, 'version')}</span>\n"
            f'<span class="summary">{revert}{minor}{escape(item.summary)}</span>\n</li>\n'
        )
        rows.append("".join(parts))
    return Markup("".join(rows))


def _event_row(item: ChangeItem, root: str, title: str) -> str:
    """A removal or return in a list of changes: it links to the article's page."""
    return (
        f'<li class="change event {escape(item.event)}">\n'
        f'<a class="title" href="{root}{escape(item.page_href)}" dir="auto">{title}</a>\n'
        f'<span class="meta">{when(item.time)} · {_source_link(root, item.source)}</span>\n'
        f'<span class="summary"><strong>{escape(item.summary)}</strong></span>\n</li>\n'
    )


# --- an article's versions --------------------------------------------------------------------


def timeline(versions: Iterable[VersionRow], linked: bool) -> Markup:
    """An article's versions, newest first: each links to its page when `linked` (an
    article's only version is the text on its own page)."""
    items = []
    for v in versions:
        if v.event:
            items.append(_timeline_event(v))
            continue
        classes = " ".join(name for name, on in (("minor", v.minor), ("revert", v.revert_of)) if on)
        attribute = f' class="{classes}"' if classes else ""
        if not linked:
            link = '<a href="#text-heading">Version 1</a>'
        elif v.number > 1:
            what = '<span class="vh">: what changed, and its text</span>'
            link = f'<a href="v{v.number}.html">Version {v.number}{what}</a>'
        else:
            link = '<a href="v1.html">Version 1</a>'
        if v.number > 1:
            revert = f"<strong>reverted to version {v.revert_of}</strong>; " if v.revert_of else ""
            minor = "<strong>minor</strong>: " if v.minor else ""
            about = f'<span class="summary">{revert}{minor}{escape(v.summary)}</span>\n'
            if v.headline:
                about += (
                    f'<span class="headline" dir="auto">New headline: {escape(v.title)}</span>\n'
                )
        else:
            about = '<span class="summary">first version</span>\n'
        told = origin(v)
        about += f'<span class="origin">{told}</span>\n' if told else ""
        items.append(f"<li{attribute}>\n{link} · {when(v.time)}\n{about}</li>\n")
    return Markup("".join(items))


def origin(row: VersionRow) -> Markup:
    """Where a version from a web archive was captured, "from the Internet Archive, captured
    …", linked to the capture there when it has an address; empty for one archiver fetched."""
    note = origin_note(row.origin)
    if note is None:
        return Markup("")
    told = f"from {escape(note.holder)}, captured {when(row.time)}"
    if note.link:
        told += (
            f' · <a href="{escape(note.link)}" rel="nofollow noopener noreferrer">the capture</a>'
        )
    return Markup(told)


def address_history(events: Iterable[VersionRow]) -> Markup:
    """An article's removals and returns in one line: "removed on …, back on …"."""
    words = {"removed": "removed on", "returned": "back on"}
    return Markup(", ".join(f"{words.get(e.event, e.event)} {when(e.time)}" for e in events))


def _timeline_event(v: VersionRow) -> str:
    """A removal or return among an article's versions."""
    if v.event == "removed":
        what = "Removed from its address"
        about = f"the last text captured, version {v.number}, stays readable here"
    else:
        what = "Back at its address"
        about = f"as version {v.number}"
    return (
        f'<li class="event {escape(v.event)}">\n<strong>{what}</strong> · {when(v.time)}\n'
        f'<span class="summary">{about}</span>\n</li>\n'
    )


def _origin_label(row: VersionRow) -> str:
    note = origin_note(row.origin) if row.origin else None
    return f", from {escape(note.holder)}" if note else ""


def version_options(versions: Sequence[VersionRow], selected: int) -> Markup:
    """A choice among an article's versions, with `selected` chosen."""
    return Markup(
        "".join(
            f'<option value="{v.number}"{" selected" if v.number == selected else ""}>'
            f"{v.number} ({format_time(v.time)}{_origin_label(v)})</option>\n"
            for v in versions
        )
    )

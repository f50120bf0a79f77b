"""Search records: every version's text, found with the versions that held it.

An article's text is indexed once per distinct paragraph, not once per version: paragraphs
(and headlines) held by the same versions make one search record, which names those versions
and links to the last of them. A sentence deleted in version 3 is found as "versions 1–2 of
5, gone since version 3" and leads to version 2's page; an article's text that never changed
is one record, linking to the article's page. The index grows with the distinct text of the
archive, not with its number of versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from archiver.site.views import blocks
from archiver.store.document import Document

# The site's pages say lang="en", and pagefind's search box loads the index of its page's
# language: every record is indexed as English, whatever the article's language.
LANGUAGE = "en"
# A version's text as search keeps it: headline and paragraphs, each with the numbers of
# the versions that held it, in order of first appearance.
Texts = list[tuple[str, list[int]]]
# The search page's filter value of text the current version no longer holds.
SINCE_CHANGED = "changed or deleted since"


def version_text(document: Document) -> list[str]:
    """What search indexes of one version: its headline and each paragraph or list item,
    as plain text with spaces collapsed, each once."""
    parts = [document.title]
    for block in blocks(document.body):
        parts += block.items or (block.text,)
    seen: dict[str, None] = {}
    for part in parts:
        text = " ".join(part.split())
        if text:
            seen.setdefault(text)
    return list(seen)


def held_texts(versions: Iterable[tuple[int, Document]]) -> Texts:
    """The texts of these (number, document) versions, each with the numbers holding it:
    what a render sends the builder, each distinct paragraph once however many hold it."""
    held: dict[str, list[int]] = {}
    for number, document in versions:
        for text in version_text(document):
            held.setdefault(text, []).append(number)
    return list(held.items())


def merged_texts(stored: str | None, new: Texts) -> str:
    """The article's search text as the build state keeps it (JSON of `Texts`), with the
    versions of `new` added."""
    known: dict[str, list[int]] = dict(json.loads(stored)) if stored else {}
    for text, numbers in new:
        held = known.setdefault(text, [])
        held += (n for n in numbers if n not in held)
        held.sort()
    return json.dumps(list(known.items()), ensure_ascii=False)


@dataclass(frozen=True)
class Record:
    """One search result: text held by the same versions of an article."""

    page: str  # the page it links to, from the site's root
    title: str  # the headline of that version
    found_in: str  # which versions hold the text, as the result says it
    paragraphs: tuple[str, ...]
    current: bool  # the latest version holds it


def article_records(folder: str, texts: Texts, titles: Sequence[str]) -> list[Record]:
    """The records of one article (`titles`: each version's headline, oldest first)."""
    count = len(titles)
    groups: dict[tuple[int, ...], list[str]] = {}
    for text, numbers in texts:
        held = tuple(n for n in numbers if 1 <= n <= count)
        if held:
            groups.setdefault(held, []).append(text)
    if not groups and count:
        # No text at all: found by the headline its page shows, as every article is (and a
        # shard of such articles still gets a bundle, which pagefind refuses to make empty).
        groups[tuple(range(1, count + 1))] = [titles[-1] or "Untitled article"]
    records = []
    for held, paragraphs in groups.items():
        last = held[-1]
        page = "index.html" if last == count else f"v{last}.html"
        title = titles[last - 1] or "Untitled article"
        said = found_in(held, count)
        records.append(Record(f"{folder}/{page}", title, said, tuple(paragraphs), last == count))
    return records


def found_in(held: Sequence[int], count: int) -> str:
    """ "versions 1–2 and 4 of 5, gone since version 5", "all 3 versions", …"""
    if count == 1:
        return "the only version"
    if len(held) == count:
        return f"all {count} versions"
    which = f"version{'s' if len(held) > 1 else ''} {_runs(held)} of {count}"
    if held[-1] == count:
        return f"{which}, the current text"
    return f"{which}, gone since version {held[-1] + 1}"


def _runs(numbers: Sequence[int]) -> str:
    """1, 2, 4 → "1–2 and 4"."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    parts = [f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def record_page(record: Record) -> str:
    """A record as the HTML page pagefind indexes, in a scratch folder: the text alone, the
    result's title, versions and link as metadata (the link relative to the search page),
    and, for text the current version no longer holds, a filter value."""
    meta = (("title", record.title), ("found in", record.found_in), ("url", f"../{record.page}"))
    head = "".join(
        f'<meta data-pagefind-meta="{key}[content]" content="{escape(value)}">'
        for key, value in meta
    )
    if not record.current:
        # One value only: pagefind writes a filter of several values in no fixed order,
        # and the same records must make the same bundle (incremental builds equal full).
        head += f'<meta data-pagefind-filter="wording[content]" content="{SINCE_CHANGED}">'
    body = "".join(f"<p>{escape(text)}</p>" for text in record.paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{LANGUAGE}"><head><meta charset="utf-8">{head}</head>'
        f"<body>{body}</body></html>\n"
    )

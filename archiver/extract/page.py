"""HTML → the article as a document: trafilatura for the text, a few page facts, normalized.

Runs in worker processes during a sync, so everything here is a plain function of its
arguments (no shared state) and returns picklable values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.xml import xmltotxt

from archiver.diff import paragraphs
from archiver.errors import ExtractionError
from archiver.extract.boilerplate import clean_blocks, clean_byline_name, drop_elements
from archiver.extract.normalize import NORMALIZER_VERSION, normalize_body, normalize_text
from archiver.store.document import Document

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
MIN_BODY_CHARS = 200
# A page may quote a replacement character or two; more are bytes no charset read.
MAX_REPLACEMENTS = 3
_MOJIBAKE = "its bytes are not in the charset it declares, nor in UTF-8 or Windows-1252"

# Where a page's publishing system states the headline as metadata. It is emitted with every
# render of an article, unlike layout markup (h1, itemprop) that comes and goes in redesigns,
# so a capture that loses one its earlier versions had is a broken page, not an edit.
HEADLINE_SIGNALS = {
    "meta-headline": "//meta[translate(@name,'HEADLIN','headlin')='headline']",
    "og-title": "//meta[@property='og:title' or @name='og:title']",
}
_MODIFIED = (
    "//meta[@property='article:modified_time' or @name='article:modified_time'"
    " or @itemprop='dateModified' or @name='last-modified' or @name='dcterms.modified']/@content"
)
# Only a date the page states as its publication date: guessed dates (from text, URLs,
# nearby teasers) differ between captures of one article.
_PUBLISHED = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @itemprop='datePublished' or @name='OriginalPublicationDate' or @name='pubdate'"
    " or @name='publish-date' or @name='dcterms.created' or @name='DC.date.issued'"
    " or @name='sailthru.date' or @property='og:published_time']/@content"
    " | //time[@itemprop='datePublished' or @pubdate]/@datetime"
)
_DATE = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})")


@dataclass(frozen=True)
class Page:
    """What extraction learned from one HTML page."""

    document: Document
    canonical: str | None = None
    signals: frozenset[str] = field(default_factory=frozenset)
    updated: str | None = None  # the modification date the page states


# What archiver asks of trafilatura (benchmarks/sync_floor.py runs the same, as its floor).
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "output_format": "markdown",
    "with_metadata": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
    "favor_recall": True,  # more of real pages' paragraphs, no more boilerplate (corpus gate)
}


def extract_page(
    html: str,
    url: str,
    source: str,
    min_chars: int = MIN_BODY_CHARS,
    drop_selectors: tuple[str, ...] = (),
    drop_lines: tuple[str, ...] = (),
) -> Page:
    """The article of one page as a normalized Document, or ExtractionError."""
    tree = trafilatura.load_html(html)
    if tree is None:
        raise ExtractionError(url, "page is not parseable HTML")
    drop_elements(tree, drop_selectors)
    canonical = _canonical(tree)
    signals = frozenset(name for name, xp in HEADLINE_SIGNALS.items() if tree.xpath(xp))
    updated = _stated_date(tree, _MODIFIED, "dateModified")
    published = _stated_date(tree, _PUBLISHED, "datePublished")
    language = _language(tree)
    result = trafilatura.bare_extraction(tree, url=url, **TRAFILATURA_OPTIONS)
    if result is None or isinstance(result, dict) or result.body is None:
        raise ExtractionError(url, "no article text found on the page")
    etree.strip_tags(result.body, "hi")  # bold and italics are presentation, not text
    title = normalize_text(result.title or "")
    body = normalize_body(xmltotxt(result.body, True))
    blocks = clean_blocks(paragraphs(body), [re.compile(p) for p in drop_lines])
    if blocks and blocks[0].startswith("## ") and blocks[0][3:] == title:
        blocks = blocks[1:]  # the title lives in the front matter
    body = "\n\n".join(blocks) + "\n" if blocks else ""
    if (replaced := (title + body).count("\ufffd")) > MAX_REPLACEMENTS:
        raise ExtractionError(
            url, f"text has {replaced} undecodable characters (U+FFFD): {_MOJIBAKE}"
        )
    if len(body) < min_chars:
        raise ExtractionError(
            url, f"extracted text too short ({len(body)} characters, minimum {min_chars})"
        )
    document = Document(
        url=url,
        source=source,
        title=title,
        authors=_authors(result.author),
        published=published,
        language=language,
        extractor=EXTRACTOR,
        normalizer=NORMALIZER_VERSION,
        body=body,
    )
    return Page(document=document, canonical=canonical, signals=signals, updated=updated)


def selector_drops(
    page: Page,
    html: str,
    min_chars: int,
    drop_selectors: tuple[str, ...],
    drop_lines: tuple[str, ...],
) -> tuple[str, ...]:
    """The paragraphs of a page that a source's drop_selectors remove: its extraction
    without them, less its extraction with them (`page`)."""
    if not drop_selectors:
        return ()
    try:
        unselected = extract_page(html, page.document.url, "", min_chars, (), drop_lines)
    except ExtractionError:
        return ()
    kept = set(paragraphs(page.document.body))
    return tuple(b for b in paragraphs(unselected.document.body) if b not in kept)


def rerender(document: Document, drop_lines: tuple[str, ...], dropped: tuple[str, ...]) -> Document:
    """A stored document under today's rules, as far as its text shows them: the built-in
    line and byline rules and `drop_lines` applied again, and the paragraphs a source's
    selectors remove from today's page (`dropped`) removed. What a rule that was taken
    away had dropped, or another extractor would read, cannot be had from the text."""
    gone = set(dropped)
    blocks = clean_blocks(
        [b for b in paragraphs(document.body) if b not in gone], [re.compile(p) for p in drop_lines]
    )
    names = (clean_byline_name(name) for name in document.authors)
    return replace(
        document,
        body="\n\n".join(blocks) + "\n" if blocks else "",
        authors=tuple(dict.fromkeys(name for name in names if name)),
    )


def _canonical(tree: HtmlElement) -> str | None:
    hrefs = tree.xpath("//link[translate(@rel,'CANOICL','canoicl')='canonical']/@href")
    return hrefs[0].strip() if hrefs and hrefs[0].strip() else None


def _stated_date(tree: HtmlElement, xpath: str, json_ld_key: str) -> str | None:
    values = [str(v) for v in tree.xpath(xpath)]
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        values.extend(_json_ld_values(script, json_ld_key))
    for value in values:
        if date := _date(value):
            return date
    return None


def _json_ld_values(script: str, key: str) -> list[str]:
    try:
        data = json.loads(script)
    except ValueError:
        return []
    found: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get(key), str):
                found.append(item[key])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _language(tree: HtmlElement) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    # The primary subtag only: templates flip between "en" and "en-US" without an edit.
    lang = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return lang if re.fullmatch(r"[a-z]{2,3}", lang) else None


def _authors(author: str | None) -> tuple[str, ...]:
    if not author:
        return ()
    names = (clean_byline_name(normalize_text(name)) for name in re.split(r";|\band\b", author))
    return tuple(dict.fromkeys(name for name in names if name))


def _date(value: str | None) -> str | None:
    """Dates are kept to the day: a page's clock time changes with every cache refresh."""
    match = _DATE.search(value or "")
    return "-".join(match.groups()) if match else None

"""The static site built from a real archive: article pages, diffs, indexes, safety."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import threading
import time
import unicodedata
import urllib.request
from dataclasses import replace
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markupsafe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.archive import Archive
from archiver.clock import FixedClock
from archiver.diff import Version, is_minor
from archiver.errors import BuildError
from archiver.site import html as sitehtml
from archiver.site import lookup, serve
from archiver.site.buildstate import READ_IN_PARALLEL_FROM, ArticleRow, BuildState, VersionRow
from archiver.site.indexes import most_changed_intro
from archiver.site.model import Captured, load_document, output_dir, read_history, version_facts
from archiver.site.output import OutputFolder
from archiver.site.records import found_in
from archiver.site.views import Block, blocks
from archiver.store.document import Document
from archiver.store.history import BlobReader
from archiver.urls import canonical_url

from .conftest import START
from .newsserver import NewsServer
from .sitetools import axe_violations, broken_links, launch_browser, serve_folder, vnu_errors
from .test_site_archives import (
    BRIDGE_TITLE,
    BRIDGE_TITLE_2,
    FLOOD,
    FLOOD_EDITED,
    FLOOD_TITLE,
    News,
    build,
    commit_versions,
    news_archive,
    remove_article,
    return_article,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, News]:
    """One archive and its site, shared by the read-only tests of this module."""
    from archiver.archive import init_archive

    from .conftest import START, configure

    root = tmp_path_factory.mktemp("site")
    clock = FixedClock(START)
    archive = configure(init_archive(root / "archive", clock), min_delay=0)
    with NewsServer() as server:
        news = news_archive(archive, server, clock)
    out = root / "site"
    report = build(archive, out)
    assert not report.warnings
    archive.close()
    return out, news


def page(out: Path, relative: str) -> str:
    return (out / relative).read_text(encoding="utf-8")


def text_of(html: str) -> str:
    """The page's text, without tags, hidden labels included, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- article pages ------------------------------------------------------------------------------


def test_article_page_tells_the_articles_story(built: tuple[Path, News]) -> None:
    out, news = built
    html = page(out, f"{news.folder(news.flood)}/index.html")
    assert f'<h1 dir="auto">{FLOOD_TITLE}</h1>' in html
    assert f'<a href="{news.flood}" rel="nofollow noopener noreferrer">' in html
    text = text_of(html)
    assert "First seen 2025-03-01 09:00 UTC" in text
    assert "Last changed 2025-03-01 23:00 UTC" in text
    assert "4 versions (3 changes)" in text
    assert "Next check" in text
    assert 'href="feed.atom"' in html
    for number in range(1, 5):
        assert f'href="v{number}.html"' in html
    assert "diff-" not in html  # a version's page holds its changes: no separate diff page
    assert "reverted to version 2" in text


def test_one_version_article_says_so(built: tuple[Path, News]) -> None:
    out, news = built
    folder = out / news.folder(news.harbour)
    text = text_of((folder / "index.html").read_text(encoding="utf-8"))
    assert "1 version (0 changes)" in text
    assert "not changed since it was first seen" in text
    assert not (folder / "compare.html").exists()
    # Its only version is the text on its own page: no page of its own, no link to one.
    assert not (folder / "v1.html").exists() and not (folder / "v2.html").exists()
    assert '<a href="#text-heading">Version 1</a>' in (folder / "index.html").read_text()


def test_every_version_has_its_page(built: tuple[Path, News]) -> None:
    out, news = built
    folder = news.folder(news.bridge)
    first = text_of(page(out, f"{folder}/v1.html"))
    second = text_of(page(out, f"{folder}/v2.html"))
    assert BRIDGE_TITLE in first and "Version 2 →" in first
    assert BRIDGE_TITLE_2 in second and "← Version 1" in second
    # The first version's page is its text; a later one's is the table of its changes,
    # which also reads as its text (test_diff_table_reads_as_each_view).
    assert 'class="views"' not in page(out, f"{folder}/v1.html")
    html = page(out, f"{folder}/v2.html")
    assert html.count('<table class="diff">') == 1 and '<div class="text"' not in html


# --- diffs ----------------------------------------------------------------------------------


def test_diff_page_pairs_paragraphs_side_by_side(built: tuple[Path, News]) -> None:
    out, news = built
    html = page(out, f"{news.folder(news.flood)}/v2.html")
    rows = re.findall(r'<tr class="([a-z-]+)">', html)
    # The title row first, then the byline (it changed), then the paragraphs.
    assert rows[:2] == ["same", "field"]
    assert "Headline" in html.split('<tr class="same">')[1].split("</tr>")[0]
    assert rows.count("moved") == 1 and rows.count("moved-away") == 1
    assert '<ins><span class="vh">inserted: </span>around 12 </ins>' in html
    assert "moved down to ¶7" in html and "moved from ¶3" in html
    assert '<td class="blank"></td>' in html
    assert "2 sentences added" in html and "1 sentence moved" in html


def _rows(html: str) -> list[list[tuple[str, str]]]:
    """A diff table's rows, each a list of its cells' (classes, inner HTML)."""
    return [
        re.findall(r'<td class="([^"]*)"[^>]*>(.*?)</td>', row, re.S)
        for row in re.findall(r'<tr class="[^"]+">\n(.*?)</tr>', html, re.S)
    ]


def _read(cell: str, *hidden: str) -> str:
    """A cell's text with the spans of the `hidden` classes left out."""
    for name in hidden:
        cell = re.sub(rf'<span class="{name}">.*?</span>', "", cell)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", cell)).split())


def test_diff_table_reads_as_each_view(built: tuple[Path, News]) -> None:
    """site.css shows one table three ways: its right column is the new text, and its `io`
    cells, with `m` in place of `w`, read in one column with both kinds of change marked."""
    out, news = built
    rows = _rows(page(out, f"{news.folder(news.flood)}/v2.html"))
    paragraphs = [row[1] for row in rows if not re.search(r"\b(blank|field)\b", row[1][0])]
    text = [_read(html, "pn", "note", "vh", "m") for _, html in paragraphs]
    assert text == [" ".join(p.split()) for p in FLOOD_EDITED]
    one_column = []
    for row in rows:
        shown = [html for classes, html in row if " io" in f" {classes}"]
        assert len(shown) == 1, row  # exactly one cell per row in one column
        one_column.append(shown[0])
    moved_away = next(html for html in one_column if "moved down" in html)
    note_only = re.sub(r'<span class="w">.*?</span>', "", moved_away)
    assert _read(note_only, "vh") == "¶3 moved down to ¶7"
    # Version 3 says "every week" for "every month": the new cell marks only the insertion,
    # its one-column reading both.
    rows = _rows(page(out, f"{news.folder(news.flood)}/v3.html"))
    merged = [html for row in rows for _, html in row if '<span class="m">' in html]
    assert len(merged) == 1
    words, one_column_words = merged[0].split('<span class="m">')
    assert "<del>" not in words and "<ins>" in words
    assert _read(one_column_words, "vh").endswith("every monthweek.")


def test_a_moved_paragraphs_notes_link_to_each_other(built: tuple[Path, News]) -> None:
    out, news = built
    html = page(out, f"{news.folder(news.flood)}/v2.html")
    # FLOOD[2], ¶3 of version 1, is ¶7 of version 2.
    assert re.findall(r'<span class="note"><a href="#([\w-]+)">([^<]+)</a>', html) == [
        ("new-7", "moved down to ¶7"),  # its old place: a marker, not the text again
        ("old-3", "moved from ¶3"),
    ]
    cells = {
        anchor: re.search(f'<td [^>]*id="{anchor}"[^>]*>(.*?)</td>', html, re.S)
        for anchor in ("old-3", "new-7")
    }
    assert cells["new-7"] is not None and FLOOD[2] in cells["new-7"].group(1)
    assert cells["old-3"] is not None and FLOOD[2] not in cells["old-3"].group(1)
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) and "new-1" in ids and "old-1" in ids


def test_minor_change_and_revert_are_marked(built: tuple[Path, News]) -> None:
    out, news = built
    minor = page(out, f"{news.folder(news.bridge)}/v3.html")
    assert '<p class="change-summary minor">' in minor and "Minor change" in minor
    revert = page(out, f"{news.folder(news.flood)}/v4.html")
    assert "Reverted to version 2" in revert
    assert "Minor change" not in revert


def test_headline_change_shows_in_the_title_row(built: tuple[Path, News]) -> None:
    out, news = built
    html = page(out, f"{news.folder(news.bridge)}/v2.html")
    title_row = html.split('<tr class="field">')[1].split("</tr>")[0]
    assert '<ins><span class="vh">inserted: </span>urgent </ins>' in title_row
    assert "headline changed" in html


def test_changes_recorded_in_commits_read_as_the_site_computes_them(
    built: tuple[Path, News],
) -> None:
    """The site takes each change's counts and minor flag from the commit's trailers
    instead of comparing the texts again: the two must agree on every change."""
    out, _ = built
    archive = Archive.open(out.parent / "archive")
    try:
        history = read_history(archive.repo, None, 0, None, print)
        reader = BlobReader(archive.repo.git_dir)
        recorded = compared = 0
        for log in history.articles.values():
            data = reader.read_many(ref.blob for ref in log.versions)
            documents = [
                Captured(load_document(data[ref.blob], log.path, print), ref.updated)
                for ref in log.versions
            ]
            changes = [ref.change for ref in log.versions]
            from_commits = version_facts(documents, changes, [], [])
            from_texts = version_facts(documents, [None] * len(documents), [], [])
            assert from_commits == from_texts, log.path
            recorded += sum(change is not None for change in changes)
            compared += len(changes) - 1
        reader.close()
    finally:
        archive.close()
    assert compared >= 5 and recorded == compared


def test_compare_page_links_every_comparison_made_in_advance(built: tuple[Path, News]) -> None:
    out, news = built
    folder = out / news.folder(news.flood)
    html = (folder / "compare.html").read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="compare-pairs">(.*?)</script>', html)
    assert embedded is not None
    data = json.loads(embedded.group(1))
    # Four versions: every two compared, consecutive ones on the newer version's page.
    assert data == {
        "versions": 4,
        "pages": {
            "1-2": "v2.html", "2-3": "v3.html", "3-4": "v4.html",
            "1-3": "compare-1-3.html", "1-4": "compare-1-4.html", "2-4": "compare-2-4.html",
        },
    }  # fmt: skip
    for href in data["pages"].values():
        assert f'href="{href}"' in html  # linked without the script too
        assert (folder / href).is_file()
    assert "versions-data" not in html  # no text for a second diff in the browser


def test_pair_pages_show_the_python_diff_of_any_two_versions(built: tuple[Path, News]) -> None:
    out, news = built
    folder = out / news.folder(news.flood)
    html = (folder / "compare-1-4.html").read_text(encoding="utf-8")
    assert '<table class="diff">' in html and "Version 1 on the left, version 4" in html
    assert '<tr class="changed">' in html
    assert "## " not in html  # block markers are styles, never shown as text
    assert 'class="change-summary' in html and "sentence" in html


def test_recent_changes_list_every_change_newest_first(built: tuple[Path, News]) -> None:
    out, news = built
    html = page(out, "changes/index.html")
    links = re.findall(r'class="title" href="\.\./([^"]+)"', html)
    flood, bridge = news.folder(news.flood), news.folder(news.bridge)
    assert links == [
        f"{flood}/v4.html",
        f"{flood}/v3.html",
        f"{bridge}/v3.html",
        f"{flood}/v2.html",
        f"{bridge}/v2.html",
    ]
    assert "daily</a> · 4 versions" in html


def test_headline_changes_show_old_and_new(built: tuple[Path, News]) -> None:
    out, _ = built
    html = page(out, "headlines/index.html")
    assert f'<span class="vh">old headline: </span>{BRIDGE_TITLE}</del>' in html
    assert f'<span class="vh">new headline: </span>{BRIDGE_TITLE_2}</ins>' in html
    assert html.count('<li class="change') == 1


def test_most_changed_ranks_by_changes_that_are_not_minor(built: tuple[Path, News]) -> None:
    out, _ = built
    html = page(out, "most-changed/index.html")
    titles = re.findall(r'class="title" href="[^"]+" dir="auto">([^<]+)</a>', html)
    assert titles == [FLOOD_TITLE, BRIDGE_TITLE_2]
    assert "3 changes (not minor)" in html and "1 change (not minor)" in html
    # The heading says what the list holds: both changed articles, not "the 100".
    assert "Every article that has changed (2 articles), most changes first" in html


@pytest.mark.parametrize(
    ("shown", "starts"),
    [
        (0, "No article has changed yet."),
        (1, "Every article that has changed (1 article), most changes first"),
        (100, "The 100 articles with the most changes"),
    ],
)
def test_most_changed_says_how_many_it_lists(shown: int, starts: str) -> None:
    assert most_changed_intro(shown).startswith(starts)


def test_sources_have_their_pages(built: tuple[Path, News]) -> None:
    out, _ = built
    sources = page(out, "sources/index.html")
    assert 'href="daily/index.html"' in sources and 'href="gazette/index.html"' in sources
    daily = text_of(page(out, "sources/daily/index.html"))
    assert "2 articles followed, 5 changes recorded" in daily
    articles = page(out, "sources/gazette/articles-1.html")
    assert "Harbour quotas cut catch" in articles and "1 version" in articles


def test_home_page_links_everything(built: tuple[Path, News]) -> None:
    out, _ = built
    html = page(out, "index.html")
    for target in (
        "changes/index.html",
        "headlines/index.html",
        "most-changed/index.html",
        "sources/index.html",
        "search/index.html",
        "feed.atom",
    ):
        assert f'href="{target}"' in html
    assert "3 articles" in text_of(html) and "8 versions" in text_of(html)


# --- the site as a whole --------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: list[str] = []
        self.h1 = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag == "h1":
            self.h1 += 1
        if values.get("id"):
            self.ids.append(str(values["id"]))
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(str(values[name]))


def html_pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "pagefind" not in p.parts)


def test_every_internal_link_resolves_and_is_relative(built: tuple[Path, News]) -> None:
    out, news = built
    for path in html_pages(out):
        parsed = _Page()
        parsed.feed(path.read_text(encoding="utf-8"))
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme:
                assert link in (news.flood, news.bridge, news.harbour, "data:,"), (path, link)
                continue
            assert not link.startswith("/"), (path, link)  # file:// and any host path
            if not parts.path:
                continue  # within the page
            target = (path.parent / unquote(parts.path)).resolve()
            assert target.is_file(), (path.relative_to(out), link)


def test_every_page_is_a_document_with_one_h1(built: tuple[Path, News]) -> None:
    out, _ = built
    for path in html_pages(out):
        html = path.read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>\n"), path
        parsed = _Page()
        parsed.feed(html)
        assert parsed.lang == "en", path
        assert parsed.h1 == 1, path
        assert len(parsed.ids) == len(set(parsed.ids)), path
        assert "Content-Security-Policy" in html and "'unsafe-inline'" not in html


def test_pages_pass_the_nu_html_checker(built: tuple[Path, News]) -> None:
    out, news = built
    folder = out / news.folder(news.flood)
    pages = [
        out / "index.html",
        out / "changes/index.html",
        out / "headlines/index.html",
        out / "most-changed/index.html",
        out / "sources/index.html",
        out / "sources/daily/index.html",
        out / "sources/daily/articles-1.html",
        out / "search/index.html",
        *(folder / name for name in ("index.html", "v1.html", "v2.html", "compare.html")),
    ]
    assert vnu_errors(pages) == []


def test_linkchecker_finds_no_broken_link(built: tuple[Path, News]) -> None:
    out, _ = built
    with serve_folder(out) as base:
        assert broken_links(base) == []


def test_search_is_indexed_with_pagefind(built: tuple[Path, News]) -> None:
    pytest.importorskip("pagefind")
    out, _ = built
    # One bundle per source and month, the first also serving the search box's code.
    for shard in ("daily/2025-03", "gazette/2025-03"):
        assert (out / "pagefind" / shard / "pagefind-entry.json").is_file()
    search = page(out, "search/index.html")
    assert 'src="../pagefind/daily/2025-03/pagefind-ui.js"' in search
    assert 'data-bundles="pagefind/daily/2025-03/ pagefind/gazette/2025-03/"' in search


def search_records(out: Path, shard: str) -> list[dict[str, object]]:
    """The records of a published search bundle, as pagefind's search script reads them:
    each fragment is gzip'd JSON after a signature."""
    records = []
    for fragment in sorted((out / "pagefind" / shard / "fragment").iterdir()):
        data = gzip.decompress(fragment.read_bytes())
        records.append(json.loads(data.removeprefix(b"pagefind_dcd")))
    return records


def test_search_finds_every_versions_text_with_the_versions_that_held_it(
    built: tuple[Path, News],
) -> None:
    pytest.importorskip("pagefind")
    out, news = built
    flood = news.folder(news.flood)
    records = search_records(out, "daily/2025-03")

    def found(text: str) -> list[tuple[object, object]]:
        meta = [r["meta"] for r in records if text in str(r["content"])]
        return [(m["found in"], m["url"]) for m in meta]  # type: ignore[index]

    # Deleted in version 2: found, and leads to the version that had it.
    assert found(FLOOD[1]) == [("version 1 of 4, gone since version 2", f"../{flood}/v1.html")]
    assert found("flood maps every week.") == [
        ("version 3 of 4, gone since version 4", f"../{flood}/v3.html")
    ]
    # Back in version 4 (a revert): the current text, on the article's page.
    current = ("versions 1–2 and 4 of 4, the current text", f"../{flood}/index.html")
    assert found(FLOOD[4]) == [current]
    # Text every version holds is indexed once, not once per version.
    assert found(FLOOD[5]) == [("all 4 versions", f"../{flood}/index.html")]
    assert all(r["meta"]["title"] == FLOOD_TITLE for r in records if flood in str(r["meta"]))  # type: ignore[index]
    # The search page's filter: wording the current text no longer holds.
    filters = {str(r["filters"]) for r in records if FLOOD[1] in str(r["content"])}
    assert filters == {str({"wording": ["changed or deleted since"]})}
    filters = {str(r["filters"]) for r in records if FLOOD[4] in str(r["content"])}
    assert filters == {str({})}
    harbour = search_records(out, "gazette/2025-03")
    assert [r["meta"]["found in"] for r in harbour] == ["the only version"]  # type: ignore[index]


def test_an_article_without_text_is_found_by_its_headline(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    pytest.importorskip("pagefind")
    empty = Document(url="https://example.org/e", source="blank", title="", body="")
    path = "articles/blank/2025/03/01/empty-0123456789ab.md"
    commit_versions(archive, path, [empty], clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    report = build(archive, out)
    assert report.warnings == [] and report.search == "indexed 1 of 1 search shards"
    [record] = search_records(out, "blank/2025-03")
    assert str(record["content"]).startswith("Untitled article")


@pytest.mark.parametrize(
    ("held", "count", "said"),
    [
        ([1], 1, "the only version"),
        ([1, 2, 3], 3, "all 3 versions"),
        ([3], 3, "version 3 of 3, the current text"),
        ([1, 2, 4, 6, 7], 9, "versions 1–2, 4 and 6–7 of 9, gone since version 8"),
    ],
)
def test_a_search_result_says_which_versions_hold_the_words(
    held: list[int], count: int, said: str
) -> None:
    assert found_in(held, count) == said


# --- fast paths that must agree with the library ----------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
PUNCTUATED = st.lists(
    st.sampled_from(["word", "Word", " ", "  ", ",", "—", "-", "“", '"', "'", "’", "`", "e-mail"]),
    max_size=12,
).map("".join)


def _reference_minor(old: Version, new: Version) -> bool:
    """is_minor written the slow, obvious way: character by character."""

    def key(text: str) -> str:
        text = unicodedata.normalize("NFKC", text.replace("`", "").replace("´", "")).casefold()
        return "".join(
            c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P")
        )

    if (old.title, old.body, old.byline, old.date) == (new.title, new.body, new.byline, new.date):
        return False

    def names(byline: str) -> set[str]:  # a byline that only gains or loses names is minor
        return {key(name) for name in byline.split(",")} - {""}

    fields = zip((old.title, old.date), (new.title, new.date), strict=True)
    same_fields = all(key(a) == key(b) for a, b in fields)
    old_names, new_names = names(old.byline), names(new.byline)
    same_byline = key(old.byline) == key(new.byline) or (
        old_names <= new_names or new_names <= old_names
    )
    return (
        same_fields and same_byline and "".join(map(key, old.body)) == "".join(map(key, new.body))
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(TEXT, PUNCTUATED), min_size=4, max_size=4),
    st.lists(st.one_of(TEXT, PUNCTUATED), min_size=4, max_size=4),
)
def test_minor_check_agrees_with_its_reference(old: list[str], new: list[str]) -> None:
    a = Version(old[0], [old[1], old[2]], old[3])
    b = Version(new[0], [new[1], new[2]], new[3])
    assert is_minor(a, b) == _reference_minor(a, b)
    assert is_minor(a, a) is False


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fragments_are_escaped_as_markupsafe_escapes(text: str) -> None:
    expected = str(markupsafe.escape(text))
    assert sitehtml.escape(text) == expected
    assert sitehtml._escape_text(text) == expected  # without markupsafe's C speedups


# --- markdown -------------------------------------------------------------------------------


def test_body_blocks_become_html_blocks() -> None:
    body = "## A heading\n\nA paragraph.\n\n- one\n\n- two\n\n3. three\n\n4. four\n\n> quoted\n"
    assert blocks(body) == [
        Block("h3", "A heading"),
        Block("p", "A paragraph."),
        Block("ul", items=("one", "two")),
        Block("ol", items=("three", "four"), start=3),
        Block("quote", "quoted"),
    ]


# --- untrusted content ------------------------------------------------------------------------

HOSTILE_TITLE = '<script>alert("title")</script> & <b>bold</b>'
HOSTILE_BODY = (
    '<img src=x onerror="alert(1)"> a paragraph with an image\n\n'
    'Click javascript:alert(document.cookie) for more, or <a href="javascript:alert(2)">here'
    "</a>\n\n"
    "## <style>body{display:none}</style> heading\n\n"
    "- <iframe src=//evil.example></iframe>\n\n"
    "> </blockquote><script>alert(3)</script>\n\n"
    "Broken <p <div markup <!-- never closed\n\n"
    "مرحبا بالعالم، هذا نص من اليمين إلى اليسار.\n\n" + ("long line " * 10_000).strip() + "\n"
)


def hostile_archive(archive: Archive, clock: FixedClock) -> str:
    url = "javascript:alert('url')"
    first = Document(url=url, source="hostile", title=HOSTILE_TITLE, body=HOSTILE_BODY)
    second = Document(
        url=url,
        source="hostile",
        title=HOSTILE_TITLE + " <i>again</i>",
        body=HOSTILE_BODY.replace("long line", "long lines", 3) + '\n"quoted" </td></tr>\n',
        authors=("<svg onload=alert(4)>",),
    )
    path = "articles/hostile/2025/03/01/evil-0123456789ab.md"
    commit_versions(archive, path, [first, second], clock.now(), timedelta(hours=1))
    return path


class _Tags(HTMLParser):
    """Every element and attribute of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


ALLOWED_SCRIPTS = re.compile(r"(\.\./)*(assets/site\.js|assets/find\.js|pagefind/pagefind-ui\.js)")


def assert_inert(html: str, where: str) -> None:
    """No element, attribute or link in the page came from an article's markup."""
    parsed = _Tags()
    parsed.feed(html)
    for tag, attrs in parsed.tags:
        assert tag not in ("img", "iframe", "style", "svg", "b", "i", "object", "embed"), where
        assert not [name for name in attrs if name.startswith("on")], (where, tag, attrs)
        for name in ("href", "src", "action"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), where
        if tag == "script":
            assert attrs.get("type") == "application/json" or ALLOWED_SCRIPTS.fullmatch(
                attrs.get("src", "")
            ), (where, attrs)


def test_hostile_content_is_only_ever_escaped(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    path = hostile_archive(archive, clock)
    # Taken down: its title goes into the lists of changes and of removed articles too.
    remove_article(archive, path, "javascript:alert('url')", "hostile", START + timedelta(days=1))
    out = tmp_path / "site"
    started = time.perf_counter()
    build(archive, out, search=False)
    assert time.perf_counter() - started < 30  # the 100 KB line must not stall the build
    folder = out / path.removesuffix(".md")
    for name in ("index.html", "v1.html", "v2.html", "compare.html"):
        html = (folder / name).read_text(encoding="utf-8")
        assert_inert(html, name)
        assert "<script>" not in html and "<!--" not in html, name
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in index
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in index
    assert "مرحبا بالعالم" in index
    # The article's address is not http(s): shown as text, never as a link.
    assert "javascript:alert(&#39;url&#39;)" in index
    compare = (folder / "compare.html").read_text(encoding="utf-8")
    data = compare.split('id="compare-pairs">')[1].split("</script>")[0]
    assert "<" not in data and json.loads(data)["pages"] == {"1-2": "v2.html"}
    listings = ("changes/index.html", "index.html", "sources/hostile/index.html")
    for listing in (*listings, "removed/index.html"):
        html = (out / listing).read_text(encoding="utf-8")
        assert_inert(html, listing)
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html, listing
    feed = (out / "feed.atom").read_text(encoding="utf-8")
    contents = re.findall(r'<content type="html">(.*?)</content>', feed, re.S)
    assert contents
    assert len(contents) == 2  # the edit and the removal
    for content in contents:  # the HTML a feed reader gets, once the XML is decoded
        assert_inert(unescape(content), "feed entry")
    assert "&lt;svg onload=alert(4)&gt;" in unescape(contents[1])
    assert "Removed from its address" in unescape(contents[0])
    assert "&lt;script&gt;" in re.findall(r"<title>(.*?)</title>", feed)[1]


@pytest.mark.browser
def test_hostile_content_is_only_text_in_search_results(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    pytest.importorskip("pagefind")
    hostile_archive(archive, clock)
    out = tmp_path / "site"
    build(archive, out)
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{base}search/index.html")
        page.fill(".pagefind-ui__search-input", "alert paragraph image")
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
        results = page.locator(".pagefind-ui__results")
        titles = page.locator(".pagefind-ui__result-link").all_inner_texts()
        assert set(titles) <= {HOSTILE_TITLE, HOSTILE_TITLE + " <i>again</i>"} and titles
        assert "<img src=x" in results.inner_text()  # the page's markup, shown as text
        assert results.locator("img, iframe, style, svg, b, i, script").count() == 0
        links = page.locator(".pagefind-ui__result-link").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert all(link.startswith("../articles/hostile/") for link in links), links
        page.wait_for_timeout(300)
        assert dialogs == []


def test_paths_outside_the_accepted_form_are_refused(archive: Archive, clock: FixedClock) -> None:
    document = Document(url="https://example.org/x", source="web", title="X", body="Text.\n")
    for path in (
        "articles/web/2025/13/x-0123456789ab.md",
        "articles/Web/2025/03/01/x-0123456789ab.md",
        "articles/web/x-0123456789ab.md",
        "articles/web/2025/03/01/x y.md",
    ):
        assert output_dir(path) is None
        commit_versions(archive, path, [document], clock.now(), timedelta(hours=1))
    assert (
        output_dir("articles/web/2025/03/01/x-0123456789ab.md")
        == "articles/web/2025/03/01/x-0123456789ab"
    )


def test_refused_paths_are_skipped_with_a_warning(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    document = Document(url="https://example.org/x", source="web", title="X", body="Text.\n")
    commit_versions(archive, "articles/web/x.md", [document], clock.now(), timedelta(hours=1))
    report = build(archive, tmp_path / "site", search=False)
    assert report.warnings == ["articles/web/x.md: not an article path the site accepts; skipped"]
    assert report.articles == 0
    assert not (tmp_path / "site" / "articles").exists()


def test_writer_never_writes_outside_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "articles").symlink_to(elsewhere)
    writer = OutputFolder(out.resolve())
    with pytest.raises(BuildError, match="outside"):
        writer("articles/web/page.html", "x")
    with pytest.raises(BuildError, match="not a path"):
        writer("../escape.html", "x")
    assert list(elsewhere.iterdir()) == []


def test_writer_replaces_links_in_place_of_pages_never_writes_through_them(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    (out / "a").mkdir(parents=True)
    outside = tmp_path / "outside.html"
    outside.write_text("precious")
    (out / "a" / "linked.html").symlink_to(outside)
    os.link(outside, out / "a" / "hard.html")
    writer = OutputFolder(out.resolve())
    assert writer("a/linked.html", "page one")
    assert writer("a/hard.html", "page two")
    assert outside.read_text() == "precious"
    assert not (out / "a" / "linked.html").is_symlink()
    assert (out / "a" / "linked.html").read_text() == "page one"
    assert (out / "a" / "hard.html").read_text() == "page two"
    assert not writer("a/hard.html", "page two")  # unchanged bytes are not written again
    assert writer("a/hard.html", "two")  # shorter: the rest of the old page is cut off
    assert (out / "a" / "hard.html").read_text() == "two"


def test_removed_article_says_so(archive: Archive, clock: FixedClock, tmp_path: Path) -> None:
    document = Document(url="https://example.org/gone", source="web", title="Gone", body="A.\n")
    path = "articles/web/2025/03/01/gone-0123456789ab.md"
    commit_versions(archive, path, [document], clock.now(), timedelta(hours=1))
    remove_article(archive, path, document.url, "web", clock.now() + timedelta(days=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    html = (out / path.removesuffix(".md") / "index.html").read_text(encoding="utf-8")
    assert "This article was gone from its address on" in html
    assert "2025-03-02 09:00 UTC" in html


def _removed_and_back(archive: Archive, clock: FixedClock) -> tuple[str, str]:
    """Two articles: "gone" removed and still gone, "back" removed and restored."""
    paths = []
    for name in ("gone", "back"):
        url = f"https://example.org/{name}"
        document = Document(url=url, source="web", title=f"Story {name}", body="A.\n")
        path = f"articles/web/2025/03/01/{name}-0123456789ab.md"
        commit_versions(archive, path, [document], clock.now(), timedelta(hours=1))
        paths.append(path)
    gone, back = paths
    remove_article(archive, gone, "https://example.org/gone", "web", START + timedelta(days=1))
    remove_article(archive, back, "https://example.org/back", "web", START + timedelta(days=2))
    document = Document(
        url="https://example.org/back", source="web", title="Story back", body="A.\n"
    )
    return_article(archive, back, document, 1, START + timedelta(days=3))
    return gone.removesuffix(".md"), back.removesuffix(".md")


def test_removals_and_returns_show_in_pages_lists_and_feeds(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    gone, back = _removed_and_back(archive, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    # The article page: a timeline entry each, a line of its facts, the text still there.
    article = text_of(page(out, f"{back}/index.html"))
    assert "Back at its address · 2025-03-04 09:00 UTC" in article
    assert "Removed from its address · 2025-03-03 09:00 UTC" in article
    assert "Taken down removed on 2025-03-03 09:00 UTC , back on 2025-03-04 09:00 UTC" in article
    assert "Current text A." in article
    # Recent changes, the source's page and its list: removals and returns, newest first.
    for listing in ("changes/index.html", "sources/web/index.html", "changes/page-1.html"):
        text = text_of(page(out, listing))
        found = re.findall(r"Story (gone|back) \S+ \S+ UTC · web (removed from|back at)", text)
        assert found == [("back", "back at"), ("back", "removed from"), ("gone", "removed from")]
    # The index of removed articles lists those gone now, with since when.
    removed = text_of(page(out, "removed/index.html"))
    assert "Story gone web · 1 version · last changed" in removed
    assert "gone from its address since 2025-03-02 09:00 UTC" in removed
    assert "Story back" not in removed
    assert f'href="../{gone}/index.html"' in page(out, "removed/index.html")
    # Feeds: the article's, the source's and the global one.
    for feed, expected in (
        (f"{back}/feed.atom", ["back at its address", "removed from its address"]),
        ("sources/web/feed.atom", ["back at", "removed from", "removed from"]),
        ("feed.atom", ["back at", "removed from", "removed from"]),
    ):
        xml = page(out, feed)
        titles = re.findall(r"<title>Story \w+ \(((?:back at|removed from)[^)]*)\)</title>", xml)
        assert [t[: len(e)] for t, e in zip(titles, expected, strict=False)] == expected, feed
        assert len(titles) == len(expected), feed
        assert len(
            set(re.findall(r"<id>(urn:archiver:(?:removed|returned):[^<]+)</id>", xml))
        ) == len(expected)


# --- serving --------------------------------------------------------------------------------


def test_serve_answers_over_http(built: tuple[Path, News]) -> None:
    out, _ = built
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    threading.Thread(target=serve, args=(out, "127.0.0.1", port), daemon=True).start()
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.atom", timeout=5) as reply:
                assert reply.headers["Content-Type"].startswith("application/atom+xml")
                assert reply.read().startswith(b"<?xml")
            break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail("serve did not answer")


def test_serve_says_every_text_is_utf8(built: tuple[Path, News]) -> None:
    out, news = built
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    threading.Thread(target=serve, args=(out, "127.0.0.1", port), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    article = news.folder(news.flood)
    names = ["feed.atom", "index.html", "assets/site.css", "assets/site.js", f"{article}/v2.html"]
    names += ["pagefind/daily/2025-03/pagefind-entry.json"]
    types = {}
    for name in names:
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"{base}/{name}", timeout=5) as reply:
                    types[name] = reply.headers["Content-Type"]
                break
            except OSError:
                time.sleep(0.1)
    assert types == {
        "feed.atom": "application/atom+xml; charset=utf-8",
        "index.html": "text/html; charset=utf-8",
        "assets/site.css": "text/css; charset=utf-8",
        "assets/site.js": "text/javascript; charset=utf-8",
        f"{article}/v2.html": "text/html; charset=utf-8",
        "pagefind/daily/2025-03/pagefind-entry.json": "application/json; charset=utf-8",
    }
    with urllib.request.urlopen(f"{base}/pagefind/daily/2025-03/wasm.en.pagefind") as reply:
        assert reply.headers["Content-Type"] == "application/octet-stream"  # not text


def test_serve_refuses_a_folder_without_a_site(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no site here"):
        serve(tmp_path)


# --- in a browser -------------------------------------------------------------------------------


def _visible_cell_lefts(page: object) -> list[float]:
    """Where each diff cell the page shows starts, left to right."""
    return page.eval_on_selector_all(  # type: ignore[attr-defined,no-any-return]
        "table.diff td",
        "cells => cells.filter(c => c.getClientRects().length)"
        ".map(c => c.getBoundingClientRect().left)",
    )


@pytest.mark.browser
def test_search_compare_and_views_work_in_a_browser(built: tuple[Path, News]) -> None:
    pytest.importorskip("pagefind")
    out, news = built
    folder = news.folder(news.flood)
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        page.goto(f"{base}search/index.html")
        page.fill(".pagefind-ui__search-input", "harbour")
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
        hits = page.locator(".pagefind-ui__result-link").all_inner_texts()
        assert hits == ["Harbour quotas cut catch"]  # found in the gazette's own shard

        page.goto(f"{base}{folder}/compare.html?a=1&b=3")
        page.click("#compare-form button[type=submit]")  # to the page the build made
        page.wait_for_url("**/compare-1-3.html")
        assert page.locator("table.diff ins").count() > 0
        assert page.locator("table.diff td .note").first.inner_text().startswith("moved")
        page.click(".view-switch button[data-view=inline]")  # it reads so too
        assert len(set(_visible_cell_lefts(page))) == 1
        one_column = " ".join(page.locator("table.diff .m").all_inner_texts()).split()
        assert one_column[-4:] == ["deleted:", "month", "inserted:", "week."]
        page.click(".view-switch button[data-view=side]")

        page.goto(f"{base}{folder}/v2.html")
        body = page.locator("table.diff tbody")
        old_column = page.locator("table.diff tr.same td:not(.io)").first
        assert old_column.is_visible()  # side by side
        page.click(".view-switch button[data-view=inline]")
        assert not old_column.is_visible()
        assert len(set(_visible_cell_lefts(page))) == 1  # one column
        inline = body.inner_text()
        assert "around 12" in inline and "moved down to ¶7" in inline
        page.click(".note a[href='#new-7']")  # to where the paragraph went, shown there
        assert page.evaluate("location.hash") == "#new-7"
        assert page.locator("#new-7").is_visible()
        assert inline.count(FLOOD_EDITED[6][:40]) == 1  # the moved paragraph, once
        assert axe_violations(page) == []
        page.click(".view-switch button[data-view=text]")
        assert " ".join(body.inner_text().split()) == " ".join(" ".join(FLOOD_EDITED).split())
        page.click(".view-switch button[data-view=side]")
        page.set_viewport_size({"width": 390, "height": 800})
        page.reload()
        # Phones always get one column.
        assert not old_column.is_visible() and len(set(_visible_cell_lefts(page))) == 1
        assert problems == []


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_view_switch_is_hidden_without_javascript(built: tuple[Path, News], width: int) -> None:
    """Without the script its buttons would do nothing: the page shows its one view."""
    out, news = built
    with serve_folder(out) as base, launch_browser() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{base}{news.folder(news.flood)}/v2.html")
        assert page.locator("table.diff").is_visible()
        assert not page.locator(".view-switch").is_visible()
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("width", "pressed"), [(390, "Inline"), (1280, "Side by side")])
def test_the_view_shown_is_the_button_pressed(
    built: tuple[Path, News], width: int, pressed: str
) -> None:
    """On a phone side by side reads as one column and its button is hidden: the inline one
    is shown pressed, and looks it."""
    out, news = built
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(f"{base}{news.folder(news.flood)}/v2.html")
        buttons = page.locator(".view-switch button:visible")
        assert buttons.count() >= 2
        chosen = page.locator(".view-switch button[aria-pressed=true]:visible")
        assert chosen.all_inner_texts() == [pressed]
        other = page.locator(".view-switch button[aria-pressed=false]:visible").first
        background = "e => getComputedStyle(e).backgroundColor"
        assert chosen.evaluate(background) != other.evaluate(background)
        page.click(".view-switch button[data-view=text]")
        assert chosen.all_inner_texts() == ["Text only"]


@pytest.mark.browser
def test_no_page_is_wider_than_a_phone(built: tuple[Path, News]) -> None:
    out, news = built
    pages = ["index.html", "sources/index.html", "sources/daily/index.html", "search/index.html"]
    pages += [f"{news.folder(news.flood)}/index.html", "most-changed/index.html"]
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 800})
        wider = {}
        for name in pages:
            page.goto(f"{base}{name}")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > 390:
                wider[name] = width
        assert wider == {}


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_print_is_dark_on_white_whatever_the_screens_scheme(
    built: tuple[Path, News], scheme: str
) -> None:
    out, news = built
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page()
        page.emulate_media(media="print", color_scheme=scheme)
        page.goto(f"{base}{news.folder(news.flood)}/v2.html")
        colours = page.evaluate(
            "() => [document.body, document.querySelector('table.diff td')]"
            ".map(e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color])"
        )
        (body_bg, body_fg), (_, cell_fg) = colours
        assert body_bg == "rgb(253, 252, 249)"  # the light scheme's paper
        assert body_fg == cell_fg == "rgb(31, 35, 40)"
        page.emulate_media(media="screen")
        assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
            "rgb(22, 24, 27)" if scheme == "dark" else "rgb(253, 252, 249)"
        )


# --- build state ----------------------------------------------------------------------------------


def test_a_pasted_address_finds_its_article_in_a_browser(built: tuple[Path, News]) -> None:
    out, news = built
    tricky = [
        news.flood,
        "https://Example.ORG:443/a/b?z=1&a=2&utm_source=x#top",
        "http://example.org/caf\u00e9/\u00fcber?q=a b&q=\u00e9",
        "https://example.org/?fbclid=1",
    ]
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base}index.html")
        # The script makes an address canonical and picks its file as archiver does.
        found = page.evaluate(
            "urls => urls.map(u => [archiverFindUrl.canonical(u), archiverFindUrl.shard("
            "archiverFindUrl.canonical(u))])",
            tricky,
        )
        assert found == [[canonical_url(u), lookup.shard(canonical_url(u))] for u in tricky]

        form = page.locator("form.find-url")
        assert form.is_visible()
        form.locator("input").fill(f"{news.flood}?utm_source=feed#comments")
        form.locator("button").click()
        page.wait_for_url(re.compile(re.escape(news.folder(news.flood)) + "/index.html$"))
        assert page.locator("h1").inner_text() == FLOOD_TITLE

        page.goto(f"{base}sources/index.html")
        form = page.locator("form.find-url")
        form.locator("input").fill("https://example.org/never-archived")
        form.locator("button").click()
        result = page.locator(".find-result")
        result.filter(has_text="No article at that address").wait_for()
        assert axe_violations(page) == []
        assert problems == []

        page = browser.new_page(java_script_enabled=False)
        page.goto(f"{base}index.html")
        assert not page.locator("form.find-url").is_visible()  # it needs the script
    lookups = {}
    for name in sorted((out / "lookup").glob("urls-*.json")):
        lookups.update(json.loads(name.read_text(encoding="utf-8")))
    assert len(list((out / "lookup").glob("urls-*.json"))) == lookup.SHARDS
    assert lookups == {
        url: f"{news.folder(url)}/index.html" for url in (news.flood, news.bridge, news.harbour)
    }


def test_build_state_totals_follow_every_change(tmp_path: Path) -> None:
    """Per-source counts kept by triggers agree with counting the articles themselves."""
    state = BuildState.fresh(tmp_path)

    row = _article_row
    state.put_articles([row("daily", n, 1) for n in range(5)] + [row("gazette", 0, 2)])
    state.put_articles([row("daily", 2, 4), row("gazette", 0, 3), row("gazette", 1, 1)])
    state.set_next_checks({row("daily", 2, 4).path: "2025-03-02T00:00:00Z"})
    counted = state.db.execute(
        "SELECT source, count(*), sum(versions) FROM site_articles GROUP BY source ORDER BY source"
    ).fetchall()
    assert counted == [("daily", 5, 8), ("gazette", 2, 4)]
    assert state.article_counts() == {"daily": 5, "gazette": 2}
    assert state.totals() == (7, 12) and state.sources() == ["daily", "gazette"]
    assert state.shards() == ["daily/2025-03", "gazette/2025-03"]
    state.close()


def _article_row(source: str, ordinal: int, versions: int) -> ArticleRow:
    path = f"articles/{source}/2025/03/0{1 + ordinal % 9}/story-{ordinal:012x}.md"
    return ArticleRow(path, source, ordinal, f"https://{source}.example/{ordinal}", "T",
                      0, 0, versions, versions - 1, None, None)  # fmt: skip


def _version_rows(article: ArticleRow) -> list[VersionRow]:
    def version(n: int) -> VersionRow:
        sha = f"{n:040x}"
        return VersionRow(article.path, n, n, sha, n * 60, sha, "", article.source, f"T{n}",
                          "", f"key{n}", None, "", False, None, False)  # fmt: skip

    return [version(n) for n in range(1, article.versions + 1)]


def test_build_state_reads_many_articles_in_parallel_as_one_by_one(tmp_path: Path) -> None:
    fresh = BuildState.fresh(tmp_path)
    articles = [_article_row("daily", n, 1 + n % 4) for n in range(READ_IN_PARALLEL_FROM * 2)]
    fresh.put_articles(articles)
    fresh.put_versions([v for article in articles for v in _version_rows(article)])
    fresh.commit()
    fresh.close()
    state = BuildState.open(tmp_path)
    assert state is not None
    asked = [a.path for a in articles[::2]] + ["articles/daily/2025/03/01/unknown-0.md"]
    expected = {a.path: (a, _version_rows(a), []) for a in articles[::2]}
    assert state.known(asked) == expected  # several connections
    assert state.known(asked[:3]) == {p: expected[p] for p in asked[:3]}  # the builder's own
    # A write not yet committed is seen: its connection then reads alone.
    state.put_articles([replace(articles[0], title="Changed")])
    assert state.known(asked)[articles[0].path].article.title == "Changed"
    state.close()

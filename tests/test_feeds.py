"""Atom feeds of changes: valid for a real feed reader, one entry per change that is not
minor, the diff as its content, ids that never change."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import feedparser
import pytest

from archiver.archive import Archive, init_archive
from archiver.clock import FixedClock
from archiver.site.atom import FEED_LENGTH
from archiver.store.document import Document
from archiver.sync import sync

from .conftest import START, configure
from .newsserver import NewsServer, article_html
from .pages import HARBOUR
from .test_site_archives import (
    BRIDGE_TITLE_2,
    FLOOD_TITLE,
    News,
    build,
    commit_versions,
    news_archive,
)

ID = re.compile(r"urn:archiver:change:[0-9a-f]{40}:[0-9a-f]{12}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, News, Archive]:
    root = tmp_path_factory.mktemp("feeds")
    clock = FixedClock(START)
    archive = configure(init_archive(root / "archive", clock), min_delay=0)
    with NewsServer() as server:
        news = news_archive(archive, server, clock)
    out = root / "site"
    build(archive, out, search=False)
    yield out, news, archive
    archive.close()


def parse(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_the_feed_of_all_changes(site: tuple[Path, News, Archive]) -> None:
    out, news, _ = site
    feed = parse(out / "feed.atom")
    assert feed.version == "atom10"
    assert feed.feed.title == "News archive: all changes"
    assert feed.feed.id == "urn:archiver:feed:all"
    assert feed.feed.author == "News archive"
    assert feed.feed.updated == "2025-03-01T23:00:00Z"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == ["feed.atom"]
    titles = [entry.title for entry in feed.entries]
    # Newest first; the bridge's quote-style change is minor and left out.
    assert titles == [
        f"{FLOOD_TITLE} (version 4)",
        f"{FLOOD_TITLE} (version 3)",
        f"{FLOOD_TITLE} (version 2)",
        f"{BRIDGE_TITLE_2} (version 2)",
    ]
    for entry in feed.entries:
        assert ID.fullmatch(entry.id)
        assert (out / entry.link).is_file()
        assert entry.link.endswith(".html") and re.search(r"/v\d+\.html$", entry.link)
        assert entry.author in ("daily", "gazette")
    assert len({entry.id for entry in feed.entries}) == 4
    assert feed.entries[3].link == f"{news.folder(news.bridge)}/v2.html"


def test_entry_content_is_the_diff(site: tuple[Path, News, Archive]) -> None:
    out, _, _ = site
    feed = parse(out / "feed.atom")
    revert, _, edit, headline = feed.entries
    assert "Reverted to version 2" in revert.content[0].value
    html = edit.content[0].value
    assert edit.content[0].type == "text/html"
    assert re.search(r"<ins [^>]*>[^<]*around 12", html)
    assert "moved from ¶3" in html
    assert "2 sentences added" in edit.summary
    assert re.search(r"<ins [^>]*>Old bridge to close for urgent", headline.content[0].value)
    raw = (out / "feed.atom").read_text(encoding="utf-8")
    content = re.findall(r'<content type="html">(.*?)</content>', raw, re.S)[2]
    assert "&lt;ins style=" in content  # escaped once in the XML: HTML for the reader
    assert "<ins style=" in unescape(content)


def test_source_and_article_feeds(site: tuple[Path, News, Archive]) -> None:
    out, news, _ = site
    daily = parse(out / "sources" / "daily" / "feed.atom")
    assert daily.feed.id == "urn:archiver:feed:source:daily"
    assert len(daily.entries) == 4
    assert all((out / "sources" / "daily" / e.link).resolve().is_file() for e in daily.entries)
    gazette = parse(out / "sources" / "gazette" / "feed.atom")
    assert gazette.entries == []

    folder = out / news.folder(news.flood)
    flood = parse(folder / "feed.atom")
    assert [e.title for e in flood.entries] == [f"{FLOOD_TITLE} (version {n})" for n in (4, 3, 2)]
    assert all((folder / e.link).resolve().is_file() for e in flood.entries)
    assert parse(out / news.folder(news.harbour) / "feed.atom").entries == []
    # The article page points readers at its feed.
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" type="application/atom+xml"' in page


def test_ids_are_stable_across_builds(site: tuple[Path, News, Archive], tmp_path: Path) -> None:
    out, _, archive = site
    again = tmp_path / "again"
    build(archive, again, full=True, search=False)
    for name in ("feed.atom", "sources/daily/feed.atom"):
        assert [e.id for e in parse(again / name).entries] == [
            e.id for e in parse(out / name).entries
        ]
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_a_new_change_adds_one_entry_and_keeps_the_others(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    before = [e.id for e in parse(out / "feed.atom").entries]
    clock.advance(timedelta(hours=1))
    edited = [p.replace("by a third", "by half") for p in HARBOUR]
    server.set("/harbour", article_html("Harbour quotas cut catch by half", edited))
    sync(archive, check_all=True, discover_new=False)
    assert build(archive, out, search=False).incremental
    after = parse(out / "feed.atom").entries
    assert [e.id for e in after[1:]] == before
    assert after[0].title == "Harbour quotas cut catch by half (version 2)"
    assert len(parse(out / "sources" / "gazette" / "feed.atom").entries) == 1


def test_feeds_keep_the_latest_changes_only(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    base = Document(url="https://example.org/live", source="web", title="Live", body="")
    versions = [base.with_body(f"Update number {n} of the live story.\n") for n in range(60)]
    path = "articles/web/2025/03/01/live-0123456789ab.md"
    commit_versions(archive, path, versions, clock.now(), timedelta(minutes=5))
    out = tmp_path / "site"
    build(archive, out, search=False)
    for name in ("feed.atom", "sources/web/feed.atom", f"{path[:-3]}/feed.atom"):
        entries = parse(out / name).entries
        assert len(entries) == FEED_LENGTH
        assert entries[0].title == "Live (version 60)"
        assert entries[-1].title == f"Live (version {60 - FEED_LENGTH + 1})"


def test_a_configured_address_makes_every_link_absolute(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    config = archive.root / "archiver.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[archive]\n", '[archive]\nbase_url = "https://news.example.org/archive/"\n'),
        encoding="utf-8",
    )
    reopened = Archive.open(archive.root, clock)
    document = Document(url="https://example.org/a", source="web", title="A", body="One.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    edited = document.with_body("One, and two.\n")
    commit_versions(reopened, path, [document, edited], clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    try:
        build(reopened, out, search=False)
    finally:
        reopened.close()
    base = "https://news.example.org/archive"
    feed = parse(out / "feed.atom")
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [f"{base}/feed.atom"]
    assert feed.entries[0].link == f"{base}/{path[:-3]}/v2.html"
    article = parse(out / path[:-3] / "feed.atom")
    assert article.feed.links[0].href == f"{base}/{path[:-3]}/feed.atom"


def test_the_feed_of_headline_changes_sits_beside_the_headline_index(
    site: tuple[Path, News, Archive],
) -> None:
    out, news, _ = site
    feed = parse(out / "headlines" / "feed.atom")
    assert feed.feed.id == "urn:archiver:feed:headlines"
    assert feed.feed.title == "News archive: headline changes"
    # Only the bridge's headline was rewritten; the flood story's edits kept theirs.
    assert [entry.title for entry in feed.entries] == [f"{BRIDGE_TITLE_2} (version 2)"]
    entry = feed.entries[0]
    assert (out / "headlines" / entry.link).resolve() == (
        out / news.folder(news.bridge) / "v2.html"
    ).resolve()
    assert "<strong>Headline:</strong>" in entry.content[0].value
    index = (out / "headlines" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" type="application/atom+xml"' in index
    assert 'href="feed.atom">Atom feed of headline changes</a>' in index

"""Versions from web archives name their origin on the site: the holder (a WARC or WACZ
file, a replay server's host) and the capture time, linked to the capture on its server
when there is one. Origins are read from commits written from untrusted files: only plain
http(s) addresses become links."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.site import build_site
from archiver.site.buildstate import BuildPlace
from archiver.store import format as fmt
from archiver.store.commits import Change, CommitStream
from archiver.store.history import iter_commits
from archiver.sync import sync

from .conftest import START
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR
from .sitetools import launch_browser, serve_folder
from .test_import import cli, import_then_sync
from .test_site_incremental import assert_same_as_full_build
from .warcs import Record, at, write_warc
from .webarchive import Collection, fetch, wayback

if TYPE_CHECKING:
    from playwright.sync_api import Dialog

runner = CliRunner()

TITLE = "Old bridge to close for repairs"
HARBOUR_URL = "https://news.example.org/2024/03/01/harbour-plans"


def folder_of(archive: Archive, url: str) -> str:
    """The site folder of the article at `url`, from its commits."""
    for commit in iter_commits(archive.repo):
        change = commit.article_change()
        if commit.url == url and change is not None:
            folder = fmt.pages_folder(change.path)
            assert folder is not None
            return folder
    raise AssertionError(f"no commit of {url}")


def harbour_collection(tmp_path: Path) -> Collection:
    pages = [
        article_html("Harbour plans", HARBOUR, published="2024-03-01T06:00:00Z"),
        article_html("Harbour plans", [*HARBOUR, "More."], published="2024-03-01T06:00:00Z"),
    ]
    records = [
        Record(HARBOUR_URL, at("2024-03-01T07:00:00"), pages[0].encode()),
        Record(HARBOUR_URL, at("2024-03-01T08:30:00"), pages[1].encode()),
    ]
    made = Collection.create(tmp_path / "pywb")
    made.add(write_warc(tmp_path / "harbour.warc.gz", records).path)
    return made


def test_imported_and_backfilled_versions_show_their_origin_and_fetched_ones_do_not(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    story = server.url("/news/bridge")
    import_then_sync(archive, server, tmp_path)  # version 3: fetched by archiver itself
    site = tmp_path / "site"
    build_site(archive, site, search=False)

    with wayback(harbour_collection(tmp_path)) as pywb:
        result = cli(archive, "backfill", HARBOUR_URL, "--from", f"{pywb.base}/{pywb.collection}")
        assert result.exit_code == 0, result.output
        assert build_site(archive, site, search=False).incremental
        assert_same_as_full_build(archive, site, tmp_path, search=False)
        bridge, harbour = folder_of(archive, story), folder_of(archive, HARBOUR_URL)
        host = pywb.base.removeprefix("http://")
        replay = pywb.replay_url("20240301070000", HARBOUR_URL)

        with serve_folder(site) as base, launch_browser() as browser:
            page = browser.new_page()
            page.goto(f"{base}{bridge}/v1.html")
            told = page.locator("dd.origin")
            assert told.inner_text() == "from crawl.warc.gz, captured 2025-03-01 04:00 UTC"
            assert told.locator("a").count() == 0  # a file's record has no address
            page.goto(f"{base}{bridge}/v3.html")
            assert page.locator("dt", has_text="Captured").count() == 1
            assert page.locator(".origin").count() == 0  # fetched by archiver: nothing new
            page.goto(f"{base}{bridge}/index.html")
            assert page.locator("ol.timeline .origin").all_inner_texts() == [
                "from crawl.warc.gz, captured 2025-03-01 06:00 UTC",
                "from crawl.warc.gz, captured 2025-03-01 04:00 UTC",
            ]
            page.goto(f"{base}{bridge}/compare.html")
            assert page.locator("#compare-a option").all_inner_texts() == [
                "1 (2025-03-01 04:00 UTC, from crawl.warc.gz)",
                "2 (2025-03-01 06:00 UTC, from crawl.warc.gz)",
                "3 (2025-03-01 09:00 UTC)",
            ]

            page.goto(f"{base}{harbour}/v1.html")
            told = page.locator("dd.origin")
            expected = f"from {host}, captured 2024-03-01 07:00 UTC · the capture"
            assert told.inner_text() == expected
            assert told.locator("a").get_attribute("href") == replay
            page.goto(f"{base}{harbour}/compare.html")
            pair = page.locator(".pairs li").first
            assert pair.inner_text().startswith(
                f"Version 2 (from {host}, captured 2024-03-01 08:30"
            )
            assert pair.locator("a").first.get_attribute("href") == pywb.replay_url(
                "20240301083000", HARBOUR_URL
            )
        status, _, body = fetch(replay)  # the link leads to pywb's replay of that capture
        assert status == 200 and b'"20240301070000"' in body and HARBOUR_URL.encode() in body


HOSTILE = [
    # read as a file's record: its name is text, never an address
    "javascript:alert(1) <urn:uuid:0e4b1c2a-1f7e-4d2b-9c1a-3b5d6e7f8a90>",
    # an http(s) address with markup in it: a link, its address escaped
    'https://evil.example/"><script>alert(2)</script>',
    # neither: no origin at all
    "javascript:alert(3)",
    "https:///no-host",
]


def test_origins_from_untrusted_commits_are_escaped_and_only_http_becomes_a_link(
    archive: Archive, tmp_path: Path
) -> None:
    url = "https://news.example/hostile"
    path = "articles/daily/2025/03/01/hostile-0123456789ab.md"
    with CommitStream(archive.repo) as stream:
        for number, origin in enumerate(HOSTILE, 1):
            text = f"---\nurl: {url}\nsource: daily\ntitle: Hostile\n---\n\nText {number}.\n"
            trailers = {
                fmt.URL: url,
                fmt.SOURCE: "daily",
                fmt.VERSION: str(number),
                fmt.STATUS: "200",
                fmt.ORIGIN: origin,
            }
            when = START + timedelta(hours=number)
            stream.commit(Change("daily", "daily: Hostile", trailers, when, {path: text}))
    site = tmp_path / "site"
    build_site(archive, site, search=False)
    folder = site / path.removesuffix(".md")
    pages = sorted(folder.glob("*.html"))
    html = "".join(p.read_text() for p in pages)
    assert re.search(r"""(href|src)=["']?\s*javascript""", html, re.IGNORECASE) is None
    assert "<script>alert(2)" not in html

    with serve_folder(site) as base, launch_browser() as browser:
        page = browser.new_page()
        dialogs: list[str] = []

        def refuse(dialog: Dialog) -> None:  # a script the page must never run
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", refuse)
        for name in [p.name for p in pages]:
            page.goto(f"{base}{path.removesuffix('.md')}/{name}")
            schemes = page.eval_on_selector_all("a[href]", "links => links.map(a => a.protocol)")
            assert set(schemes) <= {"http:", "https:"}, name
        page.goto(f"{base}{path.removesuffix('.md')}/v1.html")
        assert page.locator("dd.origin").inner_text() == (
            "from javascript:alert(1), captured 2025-03-01 10:00 UTC"
        )
        page.goto(f"{base}{path.removesuffix('.md')}/v2.html")
        link = page.locator("dd.origin a")
        assert link.get_attribute("href") == HOSTILE[1]
        for number in (3, 4):
            page.goto(f"{base}{path.removesuffix('.md')}/v{number}.html")
            assert page.locator(".origin").count() == 0
        assert dialogs == []


def test_a_build_state_of_the_format_before_origins_is_built_again_in_full(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    """A site built before versions kept their origin: its state has no origin column
    and would show imported versions as fetched ones; the next build makes it anew."""
    story = server.url("/news/bridge")
    records = [Record(story, START - timedelta(hours=5), article_html(TITLE, BRIDGE).encode())]
    warc = write_warc(tmp_path / "crawl.warc.gz", records)
    assert cli(archive, "import", str(warc.path)).exit_code == 0
    server.set("/news/bridge", article_html(TITLE, BRIDGE_EDITED))
    sync(archive, check_all=True)
    site = tmp_path / "site"
    build_site(archive, site, search=False)
    state = BuildPlace(archive.state_path.parent, site).state
    with sqlite3.connect(state) as db:  # as the previous format left it
        for table in ("versions", "events"):
            db.execute(f"ALTER TABLE {table} DROP COLUMN origin")
        db.execute("UPDATE meta SET value = '8' WHERE key = 'format'")
    db.close()
    (site / folder_of(archive, story) / "v1.html").write_text("stale")

    assert not build_site(archive, site, search=False).incremental
    page = (site / folder_of(archive, story) / "v1.html").read_text()
    assert '<dd class="origin">from crawl.warc.gz, captured <time' in page
    assert_same_as_full_build(archive, site, tmp_path, search=False)

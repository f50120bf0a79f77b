"""The takedown list: articles named in `archive.hidden` are withheld from the site and its
feeds (their page a short notice), their history in git untouched, and a build after the
list changes takes them down or puts them back, incrementally."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.clock import FixedClock
from archiver.store.history import iter_commits

from .conftest import git
from .newsserver import NewsServer
from .sitetools import axe_violations, launch_browser, serve_folder, vnu_errors
from .test_site_archives import (
    BRIDGE_TITLE,
    BRIDGE_TITLE_2,
    FLOOD_TITLE,
    build,
    news_archive,
    site_files,
)
from .test_site_incremental import assert_same_as_full_build


def withhold(archive: Archive, urls: list[str]) -> Archive:
    """Set the takedown list in archiver.toml, commit it and reopen the archive."""
    path = archive.root / "archiver.toml"
    text = re.sub(r"(?m)^hidden = .*\n", "", path.read_text(encoding="utf-8"))
    text = text.replace("[archive]\n", f"[archive]\nhidden = {json.dumps(urls)}\n", 1)
    path.write_text(text, encoding="utf-8")
    git(archive.root, "commit", "-qm", "Takedown list", "--", "archiver.toml")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def mentions(out: Path, *needles: str) -> list[str]:
    """The site's files that hold any of `needles`, escaped or not."""
    found = []
    for name, data in site_files(out).items():
        text = data.decode("utf-8", errors="replace").replace("&#39;", "'")
        if any(needle in text for needle in needles):
            found.append(name)
    return sorted(found)


def assert_withheld(out: Path, folder: str, url: str) -> None:
    files = sorted(name for name in site_files(out) if name.startswith(f"{folder}/"))
    assert files == [f"{folder}/index.html"]  # no version pages, comparison or feed
    notice = (out / folder / "index.html").read_text(encoding="utf-8")
    assert "<h1>Withheld article</h1>" in notice
    # Nothing of it anywhere: not its headlines (old and new), not its address.
    assert mentions(out, BRIDGE_TITLE, BRIDGE_TITLE_2, url, folder + "/v") == []


def test_a_hidden_article_is_withheld_from_every_page_and_feed(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news = news_archive(archive, server, clock)
    folder = news.folder(news.bridge)
    archive = withhold(archive, [news.bridge.replace("http://", "HTTP://") + "#top"])
    commits = git(archive.root, "rev-list", "--count", "HEAD")
    out = tmp_path / "site"
    build(archive, out, search=False)
    assert_withheld(out, folder, news.bridge)
    # The other articles are all there; git keeps the withheld one's history.
    assert mentions(out, news.flood) and mentions(out, news.harbour)
    assert [c.url for c in iter_commits(archive.repo)].count(news.bridge) == 3
    assert git(archive.root, "rev-list", "--count", "HEAD") == commits
    archive.close()


def test_adding_and_removing_a_url_takes_it_down_and_back_incrementally(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news = news_archive(archive, server, clock)
    folder = news.folder(news.bridge)
    out = tmp_path / "site"
    build(archive, out, search=False)
    assert (out / folder / "v3.html").is_file() and mentions(out, BRIDGE_TITLE_2)

    archive = withhold(archive, [news.bridge])
    report = build(archive, out, search=False)
    assert report.incremental and report.articles_rendered == 1
    assert report.pages_deleted >= 5  # its versions, comparison and feed
    assert_withheld(out, folder, news.bridge)
    assert_same_as_full_build(archive, out, tmp_path / "hidden", search=False)

    archive = withhold(archive, [])
    report = build(archive, out, search=False)
    assert report.incremental and report.articles_rendered == 1
    assert (out / folder / "v3.html").is_file()
    assert BRIDGE_TITLE_2 in (out / "headlines" / "feed.atom").read_text(encoding="utf-8")
    assert_same_as_full_build(archive, out, tmp_path / "shown", search=False)
    archive.close()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '"https://example.org/a"',
            "archive.hidden: expected a list of strings, got string 'https://example.org/a'",
        ),
        ("[3]", "archive.hidden: expected a list of strings, holding number 3"),
        ('["ftp://example.org/a"]', "archive.hidden: 'ftp://example.org/a': not an http(s) URL"),
    ],
)
def test_a_bad_takedown_list_is_one_clear_error(tmp_path: Path, value: str, message: str) -> None:
    from archiver.config import load_config
    from archiver.errors import ConfigError

    (tmp_path / "archiver.toml").write_text(f"[archive]\nhidden = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'archiver.toml'}: {message}"


def _indexed_articles(out: Path, shard: str) -> set[str]:
    """The article folders a shard's search records link to (a record is one paragraph or
    headline; its meta url names the version page it leads to)."""
    folders = set()
    for fragment in (out / "pagefind" / shard / "fragment").iterdir():
        record = gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd")
        folders.add(json.loads(record)["meta"]["url"].rsplit("/", 1)[0].lstrip("./"))
    return folders


def test_a_withheld_article_leaves_the_search_index(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    pytest.importorskip("pagefind")
    news = news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out)
    flood, bridge = news.folder(news.flood), news.folder(news.bridge)
    assert _indexed_articles(out, "daily/2025-03") == {flood, bridge}
    archive = withhold(archive, [news.bridge])
    report = build(archive, out)
    assert report.incremental and report.search.startswith("indexed 1 of 2")
    assert _indexed_articles(out, "daily/2025-03") == {flood}
    assert len(_indexed_articles(out, "gazette/2025-03")) == 1
    archive.close()


@pytest.mark.browser
def test_the_notice_of_a_withheld_article_is_a_valid_accessible_page(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news = news_archive(archive, server, clock)
    archive = withhold(archive, [news.bridge])
    out = tmp_path / "site"
    build(archive, out, search=False)
    folder = news.folder(news.bridge)
    assert vnu_errors([out / folder / "index.html", out / "sources" / "daily" / "index.html"]) == []
    with serve_folder(out) as base, launch_browser() as browser:
        page = browser.new_page()
        page.goto(f"{base}{folder}/index.html")
        assert page.locator("h1").inner_text() == "Withheld article"
        assert axe_violations(page) == []
        page.goto(f"{base}sources/daily/index.html")
        assert "Last read without error" in page.locator("main").inner_text()
        # The flood story's three changes; none of the bridge's.
        assert page.locator("main a.title").all_inner_texts() == [FLOOD_TITLE] * 3
        assert axe_violations(page) == []
    archive.close()

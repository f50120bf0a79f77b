"""The site names each version's capture (record id, payload digest) from git alone, links it
on a replay server when one is set, says how many versions a capture backs, and never
copies a capture file into the site folder."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.errors import ConfigError
from archiver.site.build import build_site
from archiver.store import format as fmt
from archiver.store.captures import capture_files, read_response
from archiver.store.commits import Change, CommitStream
from tests.conftest import git
from tests.newsserver import NewsServer
from tests.webarchive import Collection, fetch, record_versions, wayback

PAGES = [
    b"<!doctype html><title>Bridge to close</title><p>The old bridge closes.</p>",
    b"<!doctype html><title>Bridge to close</title><p>The old bridge closes on Friday.</p>",
]
PLAIN = "articles/daily/2025/03/01/older-0123456789ac.md"


def _uncaptured_version(archive: Archive) -> None:
    """A version recorded before captures were kept: no Archiver-Capture trailer."""
    url = "https://news.example/older"
    text = f"---\nurl: {url}\nsource: daily\ntitle: Older story\n---\n\nOld text.\n"
    trailers = {fmt.URL: url, fmt.SOURCE: "daily", fmt.VERSION: "1", fmt.STATUS: "200"}
    when = archive.clock.now() + timedelta(hours=5)
    with CommitStream(archive.repo) as stream:
        stream.commit(Change("daily", "daily: Older story", trailers, when, {PLAIN: text}))


def _page_folder(site: Path) -> Path:
    return next(site.glob("articles/daily/*/*/*/bridge-*"))


def _set_replay_url(archive: Archive, url: str) -> Archive:
    config = archive.root / "archiver.toml"
    config.write_text(config.read_text() + f'\n[site]\nreplay_url = "{url}"\n')
    git(archive.root, "commit", "-qam", "A replay server for the captures")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def test_version_pages_name_their_capture_read_from_git_alone(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    captured = record_versions(archive, server, "/news/bridge", "daily", PAGES)
    _uncaptured_version(archive)
    shutil.rmtree(archive.root / fmt.CAPTURES_DIR)  # the build reads git, not the files
    site = tmp_path / "site"
    build_site(archive, site, search=False)

    folder = _page_folder(site)
    for number, capture in enumerate(captured, 1):
        html = (folder / f"v{number}.html").read_text()
        record = capture.ref.record_id.replace("<", "&lt;").replace(">", "&gt;")
        assert f"WARC record <code>{record}</code>" in html  # escaped, as all page text
        assert f"<code>{capture.ref.hexdigest}</code>" in html
        assert "raw capture" not in html  # no replay server set
    main = (folder / "index.html").read_text()
    assert "2 of 2 versions backed by a capture" in main
    older = next(site.glob("articles/daily/*/*/*/older-*")) / "index.html"
    assert "0 of 1 version backed by a capture" in older.read_text()


def test_raw_capture_links_replay_the_captured_bytes(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    captured = record_versions(archive, server, "/news/bridge", "daily", PAGES)
    collection = Collection.create(tmp_path / "pywb")
    collection.add(*(archive.root / path for path in capture_files(archive.root)))
    with wayback(collection) as pywb:
        archive = _set_replay_url(archive, f"{pywb.base}/{collection.name}/")
        site = tmp_path / "site"
        build_site(archive, site, search=False)
        folder = _page_folder(site)
        for number, capture in enumerate(captured, 1):
            html = (folder / f"v{number}.html").read_text()
            links = re.findall(r'<a href="([^"]+)"[^>]*>raw capture</a>', html)
            assert len(links) == 1, html
            link = links[0].replace("&amp;", "&")
            assert link.startswith(f"{pywb.base}/{collection.name}/2025")
            status, _, body = fetch(link, accept_encoding="gzip")
            assert (status, body) == (200, read_response(archive.root, capture.ref).payload)
    published = [p for p in site.rglob("*") if ".warc" in p.name or p.suffix == ".wacz"]
    assert published == []  # captures are private: never copied into the site


def test_a_replay_url_must_be_http(archive: Archive) -> None:
    config = archive.root / "archiver.toml"
    config.write_text(config.read_text() + '\n[site]\nreplay_url = "file:///srv/warcs"\n')
    with pytest.raises(ConfigError, match=r"site\.replay_url: expected an http"):
        Archive.open(archive.root, archive.clock)

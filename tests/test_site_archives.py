"""Archives the site tests build, and checks that they hold what the tests rely on.

`news_archive` captures invented articles from a real news site on loopback at fixed times,
through the same add/sync calls a user runs. `commit_versions` writes crafted versions
straight into git through the archive's own commit stream, for content no extractor would
pass through unchanged (hostile markup, huge lines) and for long histories made quickly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from archiver.archive import Archive
from archiver.clock import FixedClock, isoformat
from archiver.site import BuildReport, build_site
from archiver.store.commits import Change, CommitStream, subject_line
from archiver.store.document import Document
from archiver.store.history import iter_commits
from archiver.sync import add, sync

from .newsserver import NewsServer, article_html
from .pages import BRIDGE, HARBOUR

FLOOD = [
    "A group of councillors is calling for a stronger plan on flooding and more investment "
    "from the county to protect homes along the river.",
    "The flood group has requested a meeting with the council leader.",
    "Some of its members represent wards on the east bank which were flooded twice in the "
    "last decade.",
    "A recent survey suggested most residents feel the defences are not good enough.",
    "The group wants the council to publish its flood maps every month.",
    "Engineers said the work could start in the spring if money is found.",
    "Sign up for our newsletter to get local news every weekday.",
]

FLOOD_EDITED = [
    FLOOD[0].replace("A group of councillors", "A group of around 12 councillors"),
    "The flood group - formed last autumn - has requested a meeting with the council leader, "
    "and its members have been raising concerns with officers.",
    "The group's convenor told the paper: \"The key issue in my ward is flooding. We are not "
    'telling a strong story."',
    FLOOD[3],
    FLOOD[4],
    FLOOD[5],
    FLOOD[2],  # moved down the page
    FLOOD[6],
]

FLOOD_TITLE = "Councillors want tougher plan on flooding"
BRIDGE_TITLE = "Old bridge to close for repairs"
BRIDGE_TITLE_2 = "Old bridge to close for urgent repairs"
HARBOUR_TITLE = "Harbour quotas cut catch"


@dataclass(frozen=True)
class News:
    """What `news_archive` made: the articles' URLs and their site folders."""

    flood: str
    bridge: str
    harbour: str
    folders: dict[str, str]  # url → the article's folder in the site

    def folder(self, url: str) -> str:
        return self.folders[url]


def news_archive(archive: Archive, server: NewsServer, clock: FixedClock) -> News:
    """Three articles in two sources, captured four times over fourteen hours.

    flood (source "daily"): 4 versions: an edit with a qualifier, an inserted quote, a moved
        paragraph and a new byline; then an edit; then a revert to version 2.
    bridge (source "daily"): 3 versions: a headline change, then a minor change (quotes).
    harbour (source "gazette"): 1 version.
    """
    flood, bridge, harbour = (server.url(p) for p in ("/news/flood", "/news/bridge", "/harbour"))
    server.set("/news/flood", article_html(FLOOD_TITLE, FLOOD, byline="Ann Reporter"))
    server.set("/news/bridge", article_html(BRIDGE_TITLE, BRIDGE))
    server.set("/harbour", article_html(HARBOUR_TITLE, HARBOUR))
    add(archive, [flood, bridge], source="daily")
    add(archive, [harbour], source="gazette")

    clock.advance(timedelta(hours=8))
    edited = article_html(FLOOD_TITLE, FLOOD_EDITED, byline="Ann Reporter and Bob Writer")
    server.set("/news/flood", edited)
    server.set("/news/bridge", article_html(BRIDGE_TITLE_2, BRIDGE))
    sync(archive, check_all=True, discover_new=False)

    clock.advance(timedelta(hours=3))
    changed = [p.replace("every month", "every week") for p in FLOOD_EDITED[:-1]]
    server.set(
        "/news/flood", article_html(FLOOD_TITLE, changed, byline="Ann Reporter and Bob Writer")
    )
    quoted = [BRIDGE[0], BRIDGE[1].replace("Residents said", "Residents said,"), *BRIDGE[2:]]
    server.set("/news/bridge", article_html(BRIDGE_TITLE_2, quoted))
    sync(archive, check_all=True, discover_new=False)

    clock.advance(timedelta(hours=3))
    server.set("/news/flood", edited)
    sync(archive, check_all=True, discover_new=False)

    return News(flood, bridge, harbour, _folders(archive))


def _folders(archive: Archive) -> dict[str, str]:
    folders = {}
    for commit in iter_commits(archive.repo):
        change = commit.article_change()
        if change is not None and commit.url:
            folders[commit.url] = change.path.removesuffix(".md")
    return folders


def commit_versions(
    archive: Archive, path: str, versions: list[Document], start: datetime, step: timedelta
) -> None:
    """Commit each document as the next version of `path`, `step` apart from `start`."""
    with CommitStream(archive.repo) as stream:
        for number, document in enumerate(versions, 1):
            when = start + step * (number - 1)
            stream.commit(
                Change(
                    source=document.source,
                    subject=subject_line(document.source, document.title),
                    trailers={
                        "Archiver-URL": document.url,
                        "Archiver-Source": document.source,
                        "Archiver-Version": str(number),
                        "Archiver-Status": "200",
                        "Archiver-Fetched": isoformat(when),
                    },
                    when=when,
                    files={path: document.render()},
                )
            )


def remove_article(archive: Archive, path: str, url: str, source: str, when: datetime) -> None:
    """A removal as a capture records it: the file deleted, with the event in a trailer."""
    with CommitStream(archive.repo) as stream:
        stream.commit(
            Change(
                source=source,
                subject=subject_line(source, "removed"),
                trailers={
                    "Archiver-URL": url,
                    "Archiver-Source": source,
                    "Archiver-Event": "removed",
                    "Archiver-Fetched": isoformat(when),
                },
                when=when,
                deletions=(path,),
            )
        )


def return_article(
    archive: Archive, path: str, document: Document, version: int, when: datetime
) -> None:
    """A return as a capture records it: the file written again, the event in a trailer."""
    with CommitStream(archive.repo) as stream:
        stream.commit(
            Change(
                source=document.source,
                subject=subject_line(document.source, document.title),
                trailers={
                    "Archiver-URL": document.url,
                    "Archiver-Source": document.source,
                    "Archiver-Version": str(version),
                    "Archiver-Status": "200",
                    "Archiver-Event": "returned",
                    "Archiver-Fetched": isoformat(when),
                },
                when=when,
                files={path: document.render()},
            )
        )


def build(archive: Archive, out: Path, **options: object) -> BuildReport:
    report = build_site(archive, out, **options)  # type: ignore[arg-type]
    return report


def site_files(out: Path) -> dict[str, bytes]:
    """Every file of a built site, by path (the build keeps its own memory elsewhere)."""
    files = {}
    for folder, _, names in os.walk(out):
        for name in names:
            path = Path(folder, name)
            files[path.relative_to(out).as_posix()] = path.read_bytes()
    return files


# --- the archives hold what the tests rely on -----------------------------------------------


def test_news_archive_has_the_versions_it_claims(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    news = news_archive(archive, server, clock)
    counts: dict[str, int] = {}
    for commit in iter_commits(archive.repo):
        if commit.url:
            counts[commit.url] = counts.get(commit.url, 0) + 1
    assert counts == {news.flood: 4, news.bridge: 3, news.harbour: 1}
    assert news.folder(news.harbour).startswith("articles/gazette/2025/03/01/")


def test_commit_versions_writes_one_commit_each(archive: Archive, clock: FixedClock) -> None:
    document = Document(url="https://example.org/a", source="web", title="A", body="Text.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    versions = [document, document.with_body("Text, edited.\n")]
    commit_versions(archive, path, versions, clock.now(), timedelta(hours=1))
    commits = [c for c in iter_commits(archive.repo) if c.url]
    assert [c.version for c in commits] == [1, 2]
    assert commits[1].when - commits[0].when == timedelta(hours=1)

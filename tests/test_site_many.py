"""One site over several archives: one home page, lists, feeds and search over all of them,
each archive's history read from where its last build stopped."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from archiver.archive import Archive, init_archive
from archiver.clock import FixedClock
from archiver.errors import BuildError
from archiver.site import build_site
from archiver.site.build import PARALLEL_FROM
from archiver.store.document import Document
from archiver.sync import add, sync

from .conftest import configure, git
from .newsserver import NewsServer, article_html
from .pages import HARBOUR
from .test_site_archives import commit_versions, site_files
from .test_site_incremental import stamps

ARCHIVER = Path(sys.executable).with_name("archiver")
SOURCES = ("daily", "gazette", "herald")


def open_archives(tmp_path: Path, clock: FixedClock, names: tuple[str, ...]) -> list[Archive]:
    return [configure(init_archive(tmp_path / name, clock), min_delay=0) for name in names]


def story(server: NewsServer, source: str, lead: str) -> str:
    """The one story of a source; `lead` is its first paragraph, what its edits change."""
    title = f"The {source} story"
    server.set(f"/{source}/story", article_html(title, [f"{lead}.", *HARBOUR]))
    return server.url(f"/{source}/story")


@pytest.fixture
def shards(tmp_path: Path, server: NewsServer, clock: FixedClock) -> Iterator[list[Archive]]:
    """Three archives of one source each, captured an hour apart, then each edited once."""
    archives = open_archives(tmp_path, clock, tuple(f"archive-{s}" for s in SOURCES))
    for source, archive in zip(SOURCES, archives, strict=True):
        add(archive, [story(server, source, f"First told by the {source}")], source=source)
        clock.advance(timedelta(hours=1))
    for source, archive in zip(SOURCES, archives, strict=True):
        story(server, source, f"First told by the {source}, edited")
        sync(archive, check_all=True, discover_new=False)
        clock.advance(timedelta(hours=1))
    yield archives
    for archive in archives:
        archive.close()


def files_of(out: Path, source: str) -> set[str]:
    return {name for name in site_files(out) if name.startswith(f"articles/{source}/")}


def test_one_site_lists_every_archive_and_keeps_its_state_outside(
    shards: list[Archive], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    report = build_site(shards, out, search=False)
    assert report.articles == 3 and report.versions == 6
    home = (out / "index.html").read_text(encoding="utf-8")
    feed = (out / "feed.atom").read_text(encoding="utf-8")
    for source in SOURCES:
        assert files_of(out, source), source
        assert (out / "sources" / source / "index.html").is_file()
        assert f"The {source} story" in home
        assert f"First told by the {source}" in feed
    # The latest change first, across the archives: the herald's was made last.
    assert feed.index("The herald story") < feed.index("The gazette story")
    assert feed.index("The gazette story") < feed.index("The daily story")
    # The build remembers in the first archive's state folder, not in the site.
    assert not [name for name in site_files(out) if name.endswith((".db", "unfinished"))]
    assert list((shards[0].state_path.parent / "builds").glob("*/build.db"))


def test_a_sync_of_one_archive_rewrites_its_pages_and_the_shared_ones_only(
    shards: list[Archive], server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert not build_site(shards, out).incremental
    before = stamps(out)

    clock.advance(timedelta(hours=5))
    story(server, "gazette", "First told by the gazette, edited again")
    sync(shards[1], check_all=True, discover_new=False)

    report = build_site(shards, out)
    assert report.incremental
    assert report.commits == 1 and report.articles_rendered == 1
    assert report.search == "indexed 1 of 3 search shards"  # the gazette's month alone
    after = stamps(out)
    for source in ("daily", "herald"):
        changed = [name for name in files_of(out, source) if after[name] != before[name]]
        assert changed == [], source
    gazette = files_of(out, "gazette")
    assert [name for name in gazette if name not in before or after[name] != before[name]]
    for shared in ("index.html", "feed.atom", "sources/gazette/feed.atom"):
        assert after[shared] != before[shared], shared
    for feed_file in ("feed.atom", "sources/gazette/feed.atom"):
        text = (out / feed_file).read_text(encoding="utf-8")
        assert "again&lt;/ins&gt;" in text, feed_file
    # The change is now the latest of all.
    feed = (out / "feed.atom").read_text(encoding="utf-8")
    assert feed.index("The gazette story") < feed.index("The herald story")

    fresh = tmp_path / "fresh"
    assert not build_site(shards, fresh, full=True).incremental
    built, expected = site_files(out), site_files(fresh)
    assert sorted(built) == sorted(expected)
    assert [name for name in expected if built[name] != expected[name]] == []


def test_nothing_new_in_any_archive_writes_nothing(shards: list[Archive], tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(shards, out, search=False)
    report = build_site(shards, out, search=False)
    assert report.incremental and report.commits == 0 and report.pages_written == 0


def test_each_article_shows_its_own_archives_next_check_and_follows_it(
    shards: list[Archive], server: NewsServer, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_site(shards, out, search=False)
    herald = shards[2]
    url = server.url("/herald/story")
    state = herald.state.get(url)
    assert state is not None and state.next_check is not None
    page = out / files_page(out, "herald")
    shown = state.next_check.strftime("%Y-%m-%d %H:%M UTC")
    assert f"<dt>Next check</dt><dd>{shown}</dd>" in page.read_text(encoding="utf-8")
    later = state.next_check + timedelta(days=2)
    herald.state.put(state.update(next_check=later))
    herald.state.commit()

    report = build_site(shards, out, search=False)
    assert report.incremental and report.commits == 0 and report.pages_written == 1
    shown = later.strftime("%Y-%m-%d %H:%M UTC")
    assert f"<dt>Next check</dt><dd>{shown}</dd>" in page.read_text(encoding="utf-8")
    fresh = tmp_path / "fresh"
    build_site(shards, fresh, full=True, search=False)
    assert site_files(out) == site_files(fresh)


def test_each_source_page_tells_the_health_its_own_archive_records(
    shards: list[Archive], clock: FixedClock, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_site(shards, out, search=False)
    for source in SOURCES:
        page = (out / "sources" / source / "index.html").read_text(encoding="utf-8")
        assert "Last read without error:" in page and "Failing" not in page, source
    shards[2].state.record_source("herald", clock.now(), False, "feed: 503 <Unavailable>")
    shards[2].state.commit()

    report = build_site(shards, out, search=False)
    assert report.incremental and report.commits == 0
    herald = (out / "sources" / "herald" / "index.html").read_text(encoding="utf-8")
    assert "<strong>Failing since" in herald and "503 &lt;Unavailable&gt;" in herald
    for source in ("daily", "gazette"):
        page = (out / "sources" / source / "index.html").read_text(encoding="utf-8")
        assert "Failing" not in page, source


def files_page(out: Path, source: str) -> str:
    """The main page of the one article of `source`."""
    (page,) = [name for name in files_of(out, source) if name.endswith("/index.html")]
    return page


def test_another_set_of_archives_builds_in_full(shards: list[Archive], tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(shards, out, search=False)
    report = build_site(shards[:2], out, search=False)
    assert not report.incremental
    assert not files_of(out, "herald")  # the pages of the archive left out are taken down
    assert files_of(out, "daily") and files_of(out, "gazette")


def test_two_archives_with_one_source_name_are_refused(
    tmp_path: Path, server: NewsServer, clock: FixedClock
) -> None:
    first, second = open_archives(tmp_path, clock, ("one", "two"))
    add(first, [story(server, "a", "A story")], source="daily")
    add(second, [story(server, "b", "Another story")], source="daily")
    out = tmp_path / "site"
    with pytest.raises(BuildError) as refused:
        build_site([first, second], out, search=False)
    message = str(refused.value)
    assert str(first.root) in message and str(second.root) in message and "daily" in message
    assert "\n" not in message
    assert not (out / "index.html").exists()


def test_an_archive_named_twice_is_refused(shards: list[Archive], tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="named twice"):
        build_site([*shards, shards[0]], tmp_path / "site", search=False)
    assert not (tmp_path / "site").exists()


def test_a_source_name_taken_by_another_archive_since_the_last_build_is_refused(
    tmp_path: Path, server: NewsServer, clock: FixedClock
) -> None:
    first, second = open_archives(tmp_path, clock, ("one", "two"))
    add(first, [story(server, "a", "A story")], source="daily")
    add(second, [story(server, "b", "Another story")], source="gazette")
    out = tmp_path / "site"
    build_site([first, second], out, search=False)
    add(second, [story(server, "c", "A third story")], source="daily")
    with pytest.raises(BuildError) as refused:
        build_site([first, second], out, search=False)
    message = str(refused.value)
    assert str(first.root) in message and str(second.root) in message and "daily" in message


def test_many_articles_in_each_archive_render_the_same_in_parallel_and_alone(
    tmp_path: Path, clock: FixedClock
) -> None:
    archives = open_archives(tmp_path, clock, ("one", "two"))
    for index, archive in enumerate(archives):
        for n in range(PARALLEL_FROM + 6):
            source = f"src{index}"
            document = Document(
                url=f"https://example.org/{source}/story-{n}",
                source=source,
                title=f"Story {n} of {source}",
                body=f"First paragraph of story {n}.\n\nSecond paragraph.\n",
            )
            edited = document.with_body(f"First paragraph of story {n}, edited.\n\nSecond.\n")
            path = f"articles/{source}/2025/03/01/story-{n}-{n:012x}.md"
            start = clock.now() + timedelta(seconds=index)
            commit_versions(archive, path, [document, edited], start, timedelta(minutes=n + 1))
    alone, parallel = tmp_path / "alone", tmp_path / "parallel"
    build_site(archives, alone, workers=1, search=False)
    report = build_site(archives, parallel, workers=2, search=False)
    assert report.articles == 2 * (PARALLEL_FROM + 6)
    assert site_files(alone) == site_files(parallel)
    # Changes of both archives interleave by time in the site-wide list.
    changes = (parallel / "changes" / "index.html").read_text(encoding="utf-8")
    latest = PARALLEL_FROM + 5
    first = changes.index(f"Story {latest} of src1")
    assert (
        first
        < changes.index(f"Story {latest} of src0")
        < changes.index(f"Story {latest - 1} of src1")
    )
    for archive in archives:
        archive.close()


def web_story(archive: Archive, source: str, bodies: list[str], clock: FixedClock) -> str:
    """Versions of one story of `source`, an hour apart, committed straight into git."""
    document = Document(url=f"https://example.org/{source}", source=source, title=source, body="")
    path = f"articles/{source}/2025/03/01/story-0123456789ab.md"
    versions = [document.with_body(body) for body in bodies]
    commit_versions(archive, path, versions, clock.now(), timedelta(hours=1))
    return path.removesuffix(".md")


def test_an_archive_empty_at_first_joins_incrementally(tmp_path: Path, clock: FixedClock) -> None:
    first, second = open_archives(tmp_path, clock, ("one", "two"))
    web_story(first, "daily", ["One.\n", "Two.\n"], clock)
    out = tmp_path / "site"
    assert build_site([first, second], out, search=False).articles == 1
    clock.advance(timedelta(hours=5))
    folder = web_story(second, "gazette", ["Three.\n"], clock)
    report = build_site([first, second], out, search=False)
    assert report.incremental and report.commits == 1 and report.articles == 2
    assert (out / folder / "index.html").is_file()
    fresh = tmp_path / "fresh"
    build_site([first, second], fresh, full=True, search=False)
    assert site_files(out) == site_files(fresh)


def test_history_rewritten_in_one_archive_builds_in_full(tmp_path: Path, clock: FixedClock) -> None:
    first, second = open_archives(tmp_path, clock, ("one", "two"))
    web_story(first, "daily", ["One.\n"], clock)
    folder = web_story(second, "gazette", ["One.\n", "Two.\n", "Three.\n"], clock)
    out = tmp_path / "site"
    build_site([first, second], out, search=False)
    assert (out / folder / "v3.html").is_file()
    git(second.root, "reset", "-q", "--hard", "HEAD~2")
    report = build_site([first, second], out, search=False)
    assert not report.incremental
    assert not (out / folder / "v3.html").exists()
    fresh = tmp_path / "fresh"
    build_site([first, second], fresh, full=True, search=False)
    assert site_files(out) == site_files(fresh)


def test_the_command_builds_one_site_over_the_archives_it_is_given(
    shards: list[Archive], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    args = [str(ARCHIVER), "build", "--out", str(out), "--no-search"]
    for archive in shards:
        args += ["--archive", str(archive.root)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "3 articles, 6 versions; full build" in done.stdout
    for source in SOURCES:
        assert files_of(out, source), source


def test_the_command_names_both_archives_sharing_a_source(
    tmp_path: Path, server: NewsServer, clock: FixedClock
) -> None:
    first, second = open_archives(tmp_path, clock, ("one", "two"))
    add(first, [story(server, "a", "A story")], source="daily")
    add(second, [story(server, "b", "Another story")], source="daily")
    args = [str(ARCHIVER), "build", "--out", str(tmp_path / "site")]
    args += ["--archive", str(first.root), "--archive", str(second.root)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(first.root) in lines[0] and str(second.root) in lines[0]
    assert "Traceback" not in done.stderr

"""Incremental builds: only the commits since the last build are read, only the pages they
affect are written, and the result is byte for byte what a full build gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.clock import FixedClock
from archiver.site.articles import ALL_PAIRS_UP_TO
from archiver.site.indexes import IndexRenderer
from archiver.store.document import Document
from archiver.sync import add, sync

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import HARBOUR
from .test_site_archives import (
    FLOOD_EDITED,
    FLOOD_TITLE,
    build,
    commit_versions,
    news_archive,
    remove_article,
    return_article,
    site_files,
)


def stamps(out: Path) -> dict[str, int]:
    """When each file was last written: an unchanged stamp means the build left it alone."""
    return {name: (out / name).stat().st_mtime_ns for name in site_files(out)}


def edit_flood(server: NewsServer) -> None:
    """The flood story gains a version: spring becomes summer throughout."""
    edited = [p.replace("spring", "summer") for p in FLOOD_EDITED]
    server.set("/news/flood", article_html(FLOOD_TITLE, edited, byline="Ann Reporter"))


def assert_same_as_full_build(
    archive: Archive, out: Path, tmp_path: Path, search: bool = True
) -> None:
    fresh = tmp_path / "fresh"
    report = build(archive, fresh, full=True, search=search)
    assert not report.incremental
    built, expected = site_files(out), site_files(fresh)
    assert sorted(built) == sorted(expected)
    assert [name for name in expected if built[name] != expected[name]] == []


def test_incremental_build_equals_a_full_build(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news = news_archive(archive, server, clock)
    out = tmp_path / "site"
    assert not build(archive, out).incremental
    before = stamps(out)

    clock.advance(timedelta(hours=5))
    edit_flood(server)
    server.set("/schools", article_html("Schools to stay open in the storm", HARBOUR))
    add(archive, [server.url("/schools")], source="gazette")
    sync(archive, check_all=True, discover_new=False)

    report = build(archive, out)
    assert report.incremental
    assert report.commits == 2 and report.articles_rendered == 2
    after = stamps(out)
    flood, bridge, harbour = (news.folder(u) for u in (news.flood, news.bridge, news.harbour))
    # Old versions are never rewritten; only the latest version's next link moves.
    for name in (f"{flood}/v1.html", f"{flood}/v2.html", f"{flood}/v3.html"):
        assert after[name] == before[name], name
    assert after[f"{flood}/v4.html"] != before[f"{flood}/v4.html"]
    assert 'href="v5.html" rel="next"' in (out / flood / "v4.html").read_text(encoding="utf-8")
    assert f"{flood}/v5.html" in after
    # Other articles' pages stay put, but for their own page (its next check moved).
    for name in (f"{bridge}/v2.html", f"{bridge}/v3.html", f"{harbour}/feed.atom"):
        assert after[name] == before[name], name
    assert_same_as_full_build(archive, out, tmp_path)


def test_a_change_in_one_source_leaves_the_others_feeds_as_a_full_build_makes_them(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    """The gazette's feed lists no change: it is dated by the gazette's own latest version,
    not by the daily's, which this build does not rewrite it for."""
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    feed = (out / "sources" / "gazette" / "feed.atom").read_bytes()
    clock.advance(timedelta(hours=5))
    edit_flood(server)
    sync(archive, check_all=True, discover_new=False)

    report = build(archive, out, search=False)
    assert report.incremental and report.articles_rendered == 1
    assert (out / "sources" / "gazette" / "feed.atom").read_bytes() == feed
    assert_same_as_full_build(archive, out, tmp_path, search=False)


def test_a_removal_and_a_return_build_incrementally_as_in_full(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    url = "https://example.org/a"
    document = Document(url=url, source="web", title="A", body="Text.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    commit_versions(
        archive,
        path,
        [document, document.with_body("Text, edited.\n")],
        clock.now(),
        timedelta(hours=1),
    )
    out = tmp_path / "site"
    build(archive, out, search=False)
    folder = out / path.removesuffix(".md")

    remove_article(archive, path, url, "web", clock.now() + timedelta(days=1))
    report = build(archive, out, search=False)
    assert report.incremental and report.articles_rendered == 1
    assert "Removed from its address" in (folder / "index.html").read_text(encoding="utf-8")
    listed = (out / "removed" / "index.html").read_text(encoding="utf-8")
    assert f'href="../{path.removesuffix(".md")}/index.html"' in listed
    assert_same_as_full_build(archive, out, tmp_path / "removed", search=False)

    edited = document.with_body("Text, edited.\n")
    return_article(archive, path, edited, 2, clock.now() + timedelta(days=2))
    report = build(archive, out, search=False)
    assert report.incremental and report.commits == 1
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "Back at its address" in page and "Removed from its address" in page
    assert "removed from its address" in (out / "feed.atom").read_text(encoding="utf-8")
    assert_same_as_full_build(archive, out, tmp_path / "back", search=False)


def test_a_headline_change_reaches_the_headline_feed_incrementally(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    document = Document(url="https://example.org/a", source="web", title="A", body="Text.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    commit_versions(archive, path, [document], clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    assert "<entry>" not in (out / "headlines" / "feed.atom").read_text(encoding="utf-8")
    renamed = Document(url=document.url, source="web", title="A, renamed", body="Text.\n")
    commit_versions(archive, path, [renamed], clock.now() + timedelta(hours=2), timedelta(hours=1))
    assert build(archive, out, search=False).incremental
    assert "A, renamed (version 2)" in (out / "headlines" / "feed.atom").read_text(encoding="utf-8")
    assert_same_as_full_build(archive, out, tmp_path, search=False)


def test_a_headline_change_leaves_older_version_pages_as_a_full_build_makes_them(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    """Pages of older versions are not rewritten when a new version comes: nothing on them
    may name the article's latest headline (their feed link once did)."""
    first = Document(url="https://example.org/a", source="web", title="A", body="Text.\n")
    second = Document(url=first.url, source="web", title="A", body="Text, edited.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    commit_versions(archive, path, [first, second], clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    renamed = Document(url=first.url, source="web", title="A, renamed", body=second.body)
    commit_versions(archive, path, [renamed], clock.now() + timedelta(hours=3), timedelta(hours=1))
    assert build(archive, out, search=False).incremental
    assert_same_as_full_build(archive, out, tmp_path, search=False)


def test_each_source_page_tells_its_health_and_follows_it_without_new_commits(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    daily = out / "sources" / "daily" / "index.html"
    # The last check of one of its articles that did not fail: the news archive's last sync.
    assert "Last read without error: 2025-03-01 23:00 UTC." in daily.read_text(encoding="utf-8")
    assert "Failing" not in daily.read_text(encoding="utf-8")

    failed = clock.now() + timedelta(hours=1)
    archive.state.record_source("daily", failed, False, "https://x.example/rss: 404 <Not Found>")
    archive.state.record_source("daily", failed + timedelta(hours=2), False, "rss: <b>503</b>")
    archive.state.commit()
    report = build(archive, out, search=False)
    assert report.incremental and report.commits == 0
    html = daily.read_text(encoding="utf-8")
    failing = "<strong>Failing since 2025-03-02 00:00 UTC</strong>: rss: &lt;b&gt;503&lt;/b&gt;."
    assert failing in html
    gazette = (out / "sources" / "gazette" / "index.html").read_text(encoding="utf-8")
    assert "Failing" not in gazette
    assert_same_as_full_build(archive, out, tmp_path, search=False)

    archive.state.record_source("daily", failed + timedelta(hours=3), True, None)
    archive.state.commit()
    build(archive, out, search=False)
    html = daily.read_text(encoding="utf-8")
    assert "Last read without error: 2025-03-02 03:00 UTC." in html and "Failing" not in html


def test_nothing_new_writes_nothing(archive: Archive, clock: FixedClock, tmp_path: Path) -> None:
    document = Document(url="https://example.org/a", source="web", title="A", body="Text.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    versions = [document, document.with_body("Text, edited.\n")]
    commit_versions(archive, path, versions, clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out)
    report = build(archive, out)
    assert report.incremental and report.commits == 0
    assert report.pages_written == 0 and report.search == "up to date"


def test_a_moved_next_check_rewrites_only_that_article_page(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news = news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    state = archive.state.get(news.harbour)
    assert state is not None and state.next_check is not None
    archive.state.put(state.update(next_check=state.next_check + timedelta(days=2)))
    archive.state.commit()

    report = build(archive, out, search=False)
    assert report.incremental and report.commits == 0
    assert report.pages_written == 1
    html = (out / news.folder(news.harbour) / "index.html").read_text(encoding="utf-8")
    shown = (state.next_check + timedelta(days=2)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"<dt>Next check</dt><dd>{shown}</dd>" in html
    assert_same_as_full_build(archive, out, tmp_path, search=False)


def test_a_state_store_gone_since_the_last_build_takes_next_checks_off_the_pages(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news = news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    page = out / news.folder(news.harbour) / "index.html"
    assert "<dt>Next check</dt>" in page.read_text(encoding="utf-8")
    archive.close()
    archive.state_path.rename(tmp_path / "moved-away.db")
    archive = Archive.open(archive.root, clock)

    report = build(archive, out, search=False)
    assert report.incremental and report.commits == 0 and report.pages_written > 0
    assert "<dt>Next check</dt>" not in page.read_text(encoding="utf-8")
    assert_same_as_full_build(archive, out, tmp_path, search=False)
    # Neither this build nor the one before had a store: nothing is left to take off.
    assert build(archive, out, search=False).pages_written == 0


def test_a_build_that_stopped_part_way_is_followed_by_a_full_one(
    archive: Archive,
    server: NewsServer,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    build(archive, out, search=False)
    clock.advance(timedelta(hours=5))
    edit_flood(server)
    sync(archive, check_all=True, discover_new=False)

    def stop(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(IndexRenderer, "render_lists", stop)  # once the article pages are written
        with pytest.raises(KeyboardInterrupt):
            build(archive, out, search=False)
    report = build(archive, out, search=False)
    assert not report.incremental
    assert build(archive, out, search=False).incremental
    assert_same_as_full_build(archive, out, tmp_path, search=False)


def test_many_articles_render_the_same_in_parallel_and_alone(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    for n in range(90):
        document = Document(
            url=f"https://example.org/story-{n}",
            source=f"src{n % 3}",
            title=f"Story {n}",
            body=f"First paragraph of story {n}.\n\nSecond paragraph.\n",
        )
        edited = document.with_body(f"First paragraph of story {n}, edited.\n\nSecond.\n")
        path = f"articles/src{n % 3}/2025/03/01/story-{n}-{n:012x}.md"
        commit_versions(archive, path, [document, edited], clock.now(), timedelta(minutes=n + 1))
    alone, parallel = tmp_path / "alone", tmp_path / "parallel"
    build(archive, alone, workers=1, search=False)
    report = build(archive, parallel, workers=2, search=False)
    assert report.articles == 90 and report.versions == 180
    assert site_files(alone) == site_files(parallel)
    # 90 changes fill one page of 50 and start a second.
    assert (parallel / "changes" / "page-2.html").is_file()
    assert not (parallel / "changes" / "page-3.html").exists()


def test_rewritten_history_falls_back_to_a_full_build(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    document = Document(url="https://example.org/a", source="web", title="A", body="One.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    bodies = ["One.\n", "Two.\n", "Three.\n"]
    versions = [document.with_body(body) for body in bodies]
    commit_versions(archive, path, versions, clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    folder = out / path.removesuffix(".md")
    assert (folder / "v3.html").is_file()
    (out / "CNAME").write_text("news.example.org\n", encoding="utf-8")
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")

    git(archive.root, "reset", "-q", "--hard", "HEAD~2")
    commit_versions(archive, path, versions[:1], clock.now(), timedelta(hours=1))
    commit_versions(
        archive,
        "articles/web/2025/03/01/b-0123456789ac.md",
        [Document(url="https://example.org/b", source="web", title="B", body="B.\n")],
        clock.now(),
        timedelta(hours=1),
    )
    report = build(archive, out, search=False)
    assert not report.incremental
    # The pages of versions and changes no longer in history, and the lists that had them.
    gone = ["v1.html", "v2.html", "v3.html", "compare.html", "compare-1-3.html"]  # one left
    assert report.pages_deleted == len(gone) + 2
    assert not [name for name in gone if (folder / name).exists()]
    assert not (out / "changes" / "page-1.html").exists()
    assert not (out / "sources" / "web" / "changes-1.html").exists()
    assert (out / "CNAME").read_text(encoding="utf-8") == "news.example.org\n"
    assert (folder / "notes.txt").is_file()
    assert_same_as_full_build_without(
        archive, out, tmp_path, {"CNAME", f"{folder.relative_to(out)}/notes.txt"}
    )


def assert_same_as_full_build_without(
    archive: Archive, out: Path, tmp_path: Path, extra: set[str]
) -> None:
    fresh = tmp_path / "fresh"
    build(archive, fresh, full=True, search=False)
    built = {k: v for k, v in site_files(out).items() if k not in extra}
    assert built == site_files(fresh)


def test_changed_settings_rebuild_everything(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    document = Document(url="https://example.org/a", source="web", title="A", body="One.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    commit_versions(archive, path, [document], clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    config = archive.root / "archiver.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('"News archive"', '"Harbour Watch"'),
        encoding="utf-8",
    )
    reopened = Archive.open(archive.root, clock)
    try:
        report = build(reopened, out, search=False)
    finally:
        reopened.close()
    assert not report.incremental
    html = (out / path.removesuffix(".md") / "index.html").read_text(encoding="utf-8")
    assert "· Harbour Watch</title>" in html


def test_hostile_text_builds_the_same_both_ways(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    """Control characters and carriage returns survive the trip through a feed that an
    incremental build reads back."""
    odd = 'Tab\there, return\rhere, nul\x00, bell\x07, C1\x85 & <b>"quotes"</b>'
    document = Document(url="https://example.org/odd", source="web", title=odd, body=odd + "\n")
    path = "articles/web/2025/03/01/odd-0123456789ab.md"
    versions = [document, document.with_body(odd + " edited\n\nAnd\r\na second.\n")]
    commit_versions(archive, path, versions, clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    third = versions[1].with_body(odd + " edited again\n")
    commit_versions(archive, path, [*versions, third], clock.now(), timedelta(hours=2))
    assert build(archive, out, search=False).incremental
    assert_same_as_full_build(archive, out, tmp_path, search=False)
    page = (out / path.removesuffix(".md") / "index.html").read_text(encoding="utf-8")
    assert "\x00" not in page and "\x07" not in page and "\r" not in page


def test_comparisons_made_in_advance_follow_the_latest_version(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    """Past ALL_PAIRS_UP_TO versions an article keeps only comparisons with its first and
    latest version: an incremental build adds those of the new latest and deletes the rest."""
    document = Document(url="https://example.org/a", source="web", title="A", body="One.\n")
    path = "articles/web/2025/03/01/a-0123456789ab.md"
    bodies = [f"Paragraph one of version {n}.\n\nThe same closing line.\n" for n in range(10)]
    versions = [document.with_body(body) for body in bodies]
    commit_versions(archive, path, versions[:ALL_PAIRS_UP_TO], clock.now(), timedelta(hours=1))
    out = tmp_path / "site"
    build(archive, out, search=False)
    folder = out / path.removesuffix(".md")
    every = {f"compare-{a}-{b}.html" for b in range(3, 9) for a in range(1, b - 1)}
    assert every <= {p.name for p in folder.iterdir()}

    commit_versions(archive, path, versions[ALL_PAIRS_UP_TO:], clock.now(), timedelta(hours=1))
    report = build(archive, out, search=False)
    assert report.incremental
    names = {p.name for p in folder.iterdir() if p.name.startswith("compare-")}
    assert names == {f"compare-1-{b}.html" for b in range(3, 11)} | {
        f"compare-{a}-10.html" for a in range(2, 9)
    }
    assert_same_as_full_build_without(archive, out, tmp_path, set())


def test_a_sync_committing_during_a_build_is_read_once(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    """A sync that commits while a build reads history (here: once the build has looked at
    the head) is read by that build or the next, never by both."""
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    clock.advance(timedelta(hours=5))
    edit_flood(server)
    synced: list[object] = []

    def sync_meanwhile(message: str) -> None:
        if message.startswith("full build") and not synced:
            synced.append(sync(archive, check_all=True, discover_new=False))

    first = build(archive, out, progress=sync_meanwhile)
    assert synced and not first.incremental
    second = build(archive, out)
    assert second.incremental
    assert first.commits + second.commits == int(git(archive.root, "rev-list", "--count", "HEAD"))
    assert_same_as_full_build(archive, out, tmp_path)

"""`archiver sync` against a fake news site on loopback: discovery, canonical URLs, the
schedule (with a stepped clock), politeness, removal and return, and injected faults."""

from __future__ import annotations

import gc
import gzip
import itertools
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture import Outcome, Progress, Result
from archiver.cli import ExitStatus, app
from archiver.clock import FixedClock
from archiver.config import add_source
from archiver.health import source_health
from archiver.history import iter_commits
from archiver.sync import sync

from .conftest import configure, git
from .newsserver import NewsServer, article_html, rss_feed, section_page, sitemap
from .pages import HARBOUR

runner = CliRunner()
WHEN = "2025-03-01T08:00:00+00:00"


def with_source(archive: Archive, name: str, **lists: list[str]) -> Archive:
    add_source(archive.root, name, **lists)
    git(archive.root, "commit", "-qam", f"Add source {name}")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def serve_feed(server: NewsServer, path: str, items: list[tuple[str, str]]) -> None:
    """An RSS feed at `path` listing (URL, title) items."""
    entries = [(url, title, WHEN) for url, title in items]
    server.set(path, rss_feed(entries), content_type="application/rss+xml")


def serve_stories(server: NewsServer, count: int) -> None:
    """Stories /news/s0 … listed in /feed.xml."""
    for n in range(count):
        server.set(f"/news/s{n}", story(n))
    serve_feed(server, "/feed.xml", [(server.url(f"/news/s{n}"), f"S{n}") for n in range(count)])


def story(n: int, edition: int = 0) -> str:
    paragraphs = [f"{p} Story {n}." for p in HARBOUR] + (["A later addition."] * edition)
    return article_html(f"Harbour story {n}", paragraphs)


def commits_by_url(archive: Archive) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for commit in iter_commits(archive.repo):
        if commit.url:
            event = commit.trailers.get("Archiver-Event", f"v{commit.version}")
            found.setdefault(commit.url, []).append(event)
    return found


def test_discovers_each_article_once_under_its_canonical_url(archive: Archive, server: NewsServer):
    for n in range(4):
        server.set(f"/news/story-{n}", story(n))
    server.set("/old/story-3", b"", status=301, headers={"Location": "/news/story-3"})
    server.set(
        "/amp/story-2",
        story(2).replace("<head>", '<head><link rel="canonical" href="/news/story-2">'),
    )
    serve_feed(
        server,
        "/feed.xml",
        [
            (server.url("/news/story-0?utm_source=rss"), "Zero"),
            (server.url("/news/story-1#c"), "One"),
        ],
    )
    serve_feed(
        server,
        "/other-feed.xml",
        [(server.url("/news/story-1"), "One again"), (server.url("/amp/story-2"), "Two (AMP)")],
    )
    server.set(
        "/sitemap.xml",
        sitemap([server.url("/old/story-3"), server.url("/news/story-0")]),
        content_type="application/xml",
    )
    server.set("/world", section_page([("/news/story-2", "Two"), ("/news/story-3", "Three")]))
    archive = with_source(
        archive,
        "daily",
        feeds=[server.url("/feed.xml"), server.url("/other-feed.xml")],
        sitemaps=[server.url("/sitemap.xml")],
        pages=[server.url("/world")],
    )
    report = sync(archive)
    assert report.failures == []
    assert commits_by_url(archive) == {server.url(f"/news/story-{n}"): ["v1"] for n in range(4)}
    again = sync(archive, check_all=True)
    assert {r.outcome for r in again.results} == {Outcome.UNCHANGED}
    assert len(commits_by_url(archive)) == 4


def test_schedule_rechecks_fresh_articles_often_and_quiet_ones_rarely(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    server.set("/news/a", story(1))
    serve_feed(server, "/feed.xml", [(server.url("/news/a"), "A")])
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    sync(archive)
    first = archive.state.get(server.url("/news/a"))
    assert first.next_check == clock.now() + timedelta(minutes=30)

    clock.advance(timedelta(minutes=10))
    assert sync(archive).checked == 0  # not due yet
    clock.advance(timedelta(minutes=25))
    server.set("/news/a", story(1, edition=1))
    assert [r.outcome for r in sync(archive).results] == [Outcome.CHANGED]

    clock.advance(timedelta(days=2))  # quiet for two days: checked, then left alone for hours
    assert [r.outcome for r in sync(archive).results] == [Outcome.UNCHANGED]
    quiet = archive.state.get(server.url("/news/a"))
    assert quiet.next_check - clock.now() >= timedelta(hours=10)

    clock.advance(timedelta(days=45))
    sync(archive)
    assert archive.state.get(server.url("/news/a")).next_check is None  # too old: no more checks
    status = runner.invoke(app, ["status", server.url("/news/a"), "--archive", str(archive.root)])
    assert "next check:   never" in status.output


def test_per_source_cap_per_run(archive: Archive, server: NewsServer):
    serve_stories(server, 5)
    archive = with_source(archive, "busy", feeds=[server.url("/feed.xml")])
    text = (
        archive.root / "archiver.toml"
    ).read_text() + "\n[sources.busy.schedule]\nmax_per_run = 2\n"
    (archive.root / "archiver.toml").write_text(text)
    archive = configure(archive)
    assert sync(archive).checked == 2
    assert sync(archive).checked == 2
    assert len(commits_by_url(archive)) == 4


def test_a_run_freezes_older_objects_for_the_gc_and_thaws_them(
    archive: Archive, server: NewsServer
):
    serve_stories(server, 2)
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    frozen: list[int] = []

    class Watch(Progress):
        def checked(self, result: Result) -> None:
            frozen.append(gc.get_freeze_count())

    assert gc.get_freeze_count() == 0
    assert sync(archive, progress=Watch()).checked == 2
    assert len(frozen) == 2 and min(frozen) > 0  # during the run
    assert gc.get_freeze_count() == 0  # nothing kept from the collector after it


def test_polite_fetching(archive: Archive, server: NewsServer):
    archive = configure(archive, min_delay=0.3, per_host=1)
    (archive.root / "archiver.toml").write_text(
        (archive.root / "archiver.toml")
        .read_text()
        .replace('contact = ""', 'contact = "https://archive.example/about"')
    )
    archive = configure(archive)
    server.set(
        "/robots.txt", "User-agent: archiver\nDisallow: /private/\n", content_type="text/plain"
    )
    for path in ("/news/a", "/news/b", "/private/c"):
        server.set(path, story(len(path)))
    result = runner.invoke(
        app,
        [
            "add",
            server.url("/news/a"),
            server.url("/news/b"),
            server.url("/private/c"),
            "--archive",
            str(archive.root),
        ],
    )
    assert result.exit_code == ExitStatus.PARTIAL
    assert "private/c: not fetched: robots.txt of 127.0.0.1" in result.output
    assert "disallows /private/" in result.output
    assert server.hits("/private/c") == []
    assert len(server.hits("/robots.txt")) == 1
    agent = server.hits("/news/a")[0].headers["user-agent"]
    assert agent.startswith("archiver/") and "https://archive.example/about" in agent
    times = sorted(r.at for r in server.requests)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25, gaps


def test_conditional_requests_and_retry_after(archive: Archive, server: NewsServer):
    server.set("/news/a", story(1))
    sync_result = runner.invoke(app, ["add", server.url("/news/a"), "--archive", str(archive.root)])
    assert sync_result.exit_code == 0
    server.set("/news/a", b"busy", status=429, headers={"Retry-After": "1"})
    hits = len(server.hits("/news/a"))

    def recover() -> None:
        import threading

        threading.Timer(0.5, lambda: server.set("/news/a", story(1))).start()

    recover()
    report = sync(archive, check_all=True)
    assert [r.outcome for r in report.results] == [Outcome.UNCHANGED]
    retries = server.hits("/news/a")[hits:]
    assert len(retries) == 2 and retries[1].at - retries[0].at >= 0.95
    assert retries[1].headers.get("if-none-match")  # the retry was still conditional


def test_removal_is_recorded_only_when_persistent_and_return_too(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    server.set("/news/a", story(1))
    runner.invoke(app, ["add", server.url("/news/a"), "--archive", str(archive.root)])
    server.set("/news/a", b"gone", status=404)
    outcomes = []
    for _ in range(4):
        clock.advance(timedelta(hours=2, minutes=30))
        outcomes += [r.outcome for r in sync(archive, check_all=True).results]
    assert outcomes == [Outcome.FAILED, Outcome.FAILED, Outcome.FAILED, Outcome.REMOVED]
    state = archive.state.get(server.url("/news/a"))
    assert state.removed and not (archive.root / state.path).exists()
    removal = git(archive.root, "log", "-1", "--format=%B")
    assert "Archiver-Event: removed" in removal and "Archiver-Status: 404" in removal
    last_text = git(archive.root, "show", f"HEAD~1:{state.path}")
    assert "Harbour story 1" in last_text

    clock.advance(timedelta(hours=6))
    server.set("/news/a", story(1))
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.RETURNED]
    assert commits_by_url(archive)[server.url("/news/a")] == ["v1", "removed", "returned"]
    assert (archive.root / state.path).exists()


def test_transient_errors_never_commit(archive: Archive, server: NewsServer, clock: FixedClock):
    server.set("/news/a", story(1))
    runner.invoke(app, ["add", server.url("/news/a"), "--archive", str(archive.root)])
    for fault in ({"status": 500}, {"status": 503}, {"reset": True}, {"status": 404}):
        clock.advance(timedelta(hours=1))
        server.set("/news/a", b"", **fault)
        assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.FAILED]
    assert commits_by_url(archive) == {server.url("/news/a"): ["v1"]}


def test_faults_are_reported_and_other_sources_still_run(archive: Archive, server: NewsServer):
    archive = configure(archive, max_bytes=2_000_000, timeout=2)
    server.set("/news/fine", story(1))
    server.set("/news/loop", b"", status=302, headers={"Location": "/news/loop"})
    server.set(
        "/news/bomb",
        gzip.compress(b"<p>" + b"a" * 20_000_000),
        headers={"Content-Encoding": "gzip"},
    )
    server.set("/news/big", b"<p>" + b"b" * 50_000_000)
    server.set("/news/slow", story(2), delay=4)
    server.set(
        "/bad-feed.xml", "<rss><channel><item><title>broken", content_type="application/rss+xml"
    )
    paths = ("/news/fine", "/news/loop", "/news/bomb", "/news/big", "/news/slow")
    serve_feed(server, "/feed.xml", [(server.url(p), p) for p in paths])
    archive = with_source(archive, "broken", feeds=[server.url("/bad-feed.xml")])
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    result = runner.invoke(app, ["sync", "--archive", str(archive.root)])
    assert result.exit_code == ExitStatus.PARTIAL
    lines = result.output.splitlines()

    def line_for(path: str) -> str:
        return next(line for line in lines if server.url(path) + ":" in line)

    assert "source failed" in line_for("/bad-feed.xml")
    assert "redirects" in line_for("/news/loop")
    assert "size cap" in line_for("/news/bomb")
    assert "size cap" in line_for("/news/big")
    assert "timed out" in line_for("/news/slow")
    assert list(commits_by_url(archive)) == [server.url("/news/fine")]
    status = runner.invoke(app, ["status", "--archive", str(archive.root)])
    assert "daily: 1 tracked" in status.output
    log_files = list((archive.root / ".archiver" / "logs").glob("sync-*.log"))
    assert log_files and "failed " + server.url("/news/slow") in log_files[0].read_text()


def test_site_redesign_warning(archive: Archive, server: NewsServer, clock: FixedClock):
    serve_stories(server, 4)
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    sync(archive)
    for n in range(4):  # the redesign: the article text is gone from the page
        server.set(
            f"/news/s{n}",
            "<html><head><title>S</title></head><body><p>Subscribe.</p></body></html>",
        )
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        sync(archive, check_all=True)
    (daily,) = source_health(archive)
    assert any("redesigned" in warning for warning in daily.warnings), daily.warnings
    assert "no article extracted in the last 3 runs" in " ".join(daily.warnings)
    status = runner.invoke(app, ["status", "--archive", str(archive.root)])
    assert "warning: no article extracted in the last 3 runs" in status.output


@pytest.mark.parametrize("bad", ["[sources.x]\nfeeds = 5\n", "[fetch]\ntimeout = 'soon'\n"])
def test_config_errors_name_the_key(archive: Archive, bad: str):
    (archive.root / "archiver.toml").write_text(bad)
    result = runner.invoke(app, ["sync", "--archive", str(archive.root)])
    assert result.exit_code == ExitStatus.ERROR
    assert ("sources.x.feeds: expected a list" in result.output) or (
        "fetch.timeout: expected a number" in result.output
    )


def test_source_add_and_list(archive: Archive):
    result = runner.invoke(
        app,
        [
            "source",
            "add",
            "daily",
            "--feed",
            "https://example.org/rss.xml",
            "--exclude",
            "/video/",
            "--no-check",  # example.org is not on loopback
            "--archive",
            str(archive.root),
        ],
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(app, ["source", "list", "--archive", str(archive.root)])
    assert listing.output.splitlines() == [
        "daily",
        "  feed: https://example.org/rss.xml",
        "  exclude: /video/",
    ]
    bad = runner.invoke(
        app,
        [
            "source",
            "add",
            "Bad Name",
            "--feed",
            "https://example.org/x",
            "--archive",
            str(archive.root),
        ],
    )
    assert bad.exit_code == ExitStatus.ERROR and "sources.Bad Name" in bad.output

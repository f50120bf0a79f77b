"""`archiver sync` against a fake news site on loopback: discovery, canonical URLs, the
schedule (with a stepped clock), politeness, removal and return, and injected faults."""

from __future__ import annotations

import gc
import gzip
import itertools
import os
import shlex
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture.model import Observer, Outcome, Result
from archiver.cli import ExitStatus, app
from archiver.clock import FixedClock
from archiver.config import add_source
from archiver.health import source_health
from archiver.store.history import iter_commits
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

    class Watch(Observer):
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
    # robots.txt is policy, not failure: the refused page is skipped with the verdict.
    assert result.exit_code == ExitStatus.OK, result.output
    assert f"skipped: {server.url('/private/c')}: robots.txt of 127.0.0.1" in result.output
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
    # Gone, not failed, while the removal is not yet certain: the site's answer, expected.
    assert outcomes == [Outcome.GONE, Outcome.GONE, Outcome.GONE, Outcome.REMOVED]
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
    faults = [
        ({"status": 500}, Outcome.FAILED),
        ({"status": 503}, Outcome.FAILED),
        ({"reset": True}, Outcome.FAILED),
        ({"status": 404}, Outcome.GONE),  # a removal, once it lasts
    ]
    for fault, outcome in faults:
        clock.advance(timedelta(hours=1))
        server.set("/news/a", b"", **fault)
        assert [r.outcome for r in sync(archive, check_all=True).results] == [outcome]
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


def sync_cli(archive: Archive, *options: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["sync", *options, "--archive", str(archive.root)])


def test_robots_disallowed_articles_are_skipped_told_once_and_not_rediscovered(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    server.set("/news/a", story(1))
    server.set("/private/b", story(2))
    serve_feed(server, "/feed.xml", [(server.url("/news/a"), "A"), (server.url("/private/b"), "B")])
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    first = sync_cli(archive)  # the command line runs on the real clock
    assert first.exit_code == ExitStatus.OK, first.output  # and so `&& archiver build` runs
    host = server.base.removeprefix("http://")
    verdict = f"robots.txt of {host} disallows /private/ for archiver"
    skipped = [line for line in first.output.splitlines() if line.startswith("skipped:")]
    assert skipped == [f"skipped: {server.url('/private/b')}: {verdict}"]
    assert "discovered 2, checked 2: 1 new, 0 changed, 0 unchanged, 1 skipped" in first.output

    second = sync_cli(archive)  # the verdict is remembered: not new, not told again
    assert second.exit_code == ExitStatus.OK
    assert "skipped" not in second.output and "discovered" not in second.output

    clock.set(datetime.now(UTC) + timedelta(hours=25))  # the verdict expired: asked again
    third = sync(archive)
    assert [(r.url, r.outcome, r.reason, r.repeated) for r in third.results[:1]] == [
        (server.url("/private/b"), Outcome.SKIPPED, verdict, True)  # same answer: quiet
    ]
    assert [r.url for r in third.results[1:]] == [server.url("/news/a")]  # due, as usual
    assert (third.failed, third.worked) == (0, 2)  # the feed read, /news/a checked

    server.set("/robots.txt", "User-agent: *\nDisallow:\n", content_type="text/plain")
    clock.advance(timedelta(hours=25))  # allowed now: stored, and no longer remembered
    assert [r.outcome for r in sync(archive).results if r.url.endswith("/b")] == [Outcome.NEW]
    assert archive.state.held(server.url("/private/b")) is None
    assert len(server.hits("/private/b")) == 1
    assert sorted(commits_by_url(archive)) == [server.url("/news/a"), server.url("/private/b")]


def closed_port() -> int:
    with socket.socket() as probe:  # nothing listens there once closed: connection refused
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_failing_sources_are_a_partial_failure_and_status_says_why(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    server.set("/news/a", story(1))
    serve_feed(server, "/feed.xml", [(server.url("/news/a"), "A")])
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    assert sync_cli(archive).exit_code == ExitStatus.OK
    server.set("/front", section_page([("/news/a", "A")]))
    offline = f"http://127.0.0.1:{closed_port()}/rss.xml"
    archive = with_source(archive, "dead", feeds=[server.url("/missing.xml")])
    archive = with_source(archive, "html", feeds=[server.url("/front")])
    archive = with_source(archive, "offline", feeds=[offline])

    before = datetime.now(UTC).replace(microsecond=0)
    result = sync_cli(archive)  # no article is due: only the sources are tried
    assert result.exit_code == ExitStatus.PARTIAL, result.output  # daily's feed was read
    assert "checked 0: 0 new, 0 changed, 0 unchanged, 0 failed; 3 source documents failed" in (
        result.output
    )
    status = runner.invoke(app, ["status", "--archive", str(archive.root)]).output
    lines = [line for line in status.splitlines() if line.startswith("  source failing since ")]
    assert [line.partition(" UTC: ")[2] for line in lines] == [
        f"{server.url('/missing.xml')}: HTTP 404",
        f"{server.url('/front')}: unexpected content type text/html (expected application/rss+xml)",
        f"{offline}: cannot fetch: Cannot connect to host " + lines[2].partition("host ")[2],
    ]
    assert "cannot fetch" in lines[2] and "\n" not in lines[2]
    assert "dead: 0 tracked" in status and "last successful fetch never" in status

    clock.set(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=25))  # a day later
    health = {h.name: h for h in source_health(archive)}
    assert health["daily"].last_success and health["daily"].last_success >= before
    assert health["dead"].last_success is None
    assert health["dead"].source_error == f"{server.url('/missing.xml')}: HTTP 404"
    assert health["dead"].failing_since and health["dead"].failing_since >= before

    serve_feed(server, "/missing.xml", [])  # the feed is back: the source works again
    sync(archive)
    health = {h.name: h for h in source_health(archive)}
    assert health["dead"].source_error is None and health["dead"].failing_since is None
    assert health["dead"].last_success == clock.now()
    assert health["html"].failing_since and health["html"].failing_since < clock.now()


def test_everything_tried_failing_is_a_total_failure(archive: Archive, server: NewsServer):
    archive = with_source(archive, "dead", feeds=[server.url("/missing.xml")])
    archive = with_source(archive, "offline", feeds=[f"http://127.0.0.1:{closed_port()}/rss"])
    result = sync_cli(archive)
    assert result.exit_code == ExitStatus.FAILED, result.output
    assert result.output.count("source failed: ") == 2


def test_a_source_whose_discovery_goes_quiet_is_warned_about(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    for n in range(6):  # a new article every 3 hours
        server.set(f"/news/s{n}", story(n))
        serve_feed(
            server, "/feed.xml", [(server.url(f"/news/s{m}"), f"S{m}") for m in range(n + 1)]
        )
        sync(archive, check_all=False)
        clock.advance(timedelta(hours=3))
    clock.advance(timedelta(days=1, hours=18))  # 9 hours would be 3 gaps; the floor is 2 days
    (daily,) = source_health(archive)
    assert not any("no new article" in w for w in daily.warnings), daily.warnings
    clock.advance(timedelta(hours=6))
    (daily,) = source_health(archive)
    assert (
        "no new article for 2.1 days (usually one every 3.0 hours): "
        "has its discovery stopped working?"
    ) in daily.warnings


def test_a_redirect_to_another_host_obeys_its_robots_and_is_recorded(
    archive: Archive, server: NewsServer
):
    with NewsServer("127.0.0.2") as other:
        other.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        other.set("/private/x", story(1))
        other.set("/news/y", story(2))
        server.set("/news/moved", b"", status=301, headers={"Location": other.url("/private/x")})
        server.set("/news/shared", b"", status=301, headers={"Location": other.url("/news/y")})
        result = runner.invoke(
            app,
            [
                "add",
                server.url("/news/moved"),
                server.url("/news/shared"),
                "--archive",
                str(archive.root),
            ],
        )
        assert result.exit_code == ExitStatus.OK, result.output
        verdict = (
            f"robots.txt of {other.base.removeprefix('http://')} disallows /private/ for archiver"
        )
        hop = f"redirects to {other.url('/private/x')}"
        assert f"skipped: {server.url('/news/moved')}: {hop}; {verdict}" in result.output
        assert other.hits("/private/x") == []
        assert len(other.hits("/robots.txt")) == 1
    # Stored under the address it was found at; where the fetch ended is in the commit.
    assert commits_by_url(archive) == {server.url("/news/shared"): ["v1"]}
    message = git(archive.root, "log", "-1", "--format=%B")
    assert f"Archiver-URL: {server.url('/news/shared')}" in message
    assert f"Archiver-Redirect: {other.url('/news/y')}" in message


def test_last_successful_fetch_is_remembered_beyond_a_day(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    serve_stories(server, 1)
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    sync(archive)
    clock.advance(timedelta(hours=25))
    (daily,) = source_health(archive)
    assert daily.checked_24h == 0 and daily.last_success == clock.now() - timedelta(hours=25)


def test_the_readmes_cron_line_builds_after_a_partial_failure(
    archive: Archive, server: NewsServer, tmp_path: Path
):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith("*/15 "))
    command = line.split(None, 5)[5]
    site = tmp_path / "www"
    command = command.replace("~/news-archive", shlex.quote(str(archive.root)))
    command = command.replace("/var/www/news", shlex.quote(str(site)))
    serve_stories(server, 1)
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    sync(archive)  # as the README's first, manual `archiver sync`
    archive = with_source(archive, "dead", feeds=[server.url("/missing.xml")])  # exit 1
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        ["sh", "-c", command], env={**os.environ, "PATH": path}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    log = (archive.root / ".archiver" / "cron.log").read_text()
    assert "source failed: " + server.url("/missing.xml") in log
    assert (site / "index.html").is_file()


def test_runs_that_check_nothing_do_not_make_a_source_look_broken(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    serve_stories(server, 1)
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    sync(archive)
    for _ in range(3):  # every 5 minutes, as cron may: nothing new, nothing due
        clock.advance(timedelta(minutes=5))
        assert sync(archive).checked == 0
    (daily,) = source_health(archive)
    assert daily.warnings == []


def test_status_of_a_skipped_url_says_why_it_is_not_tracked(archive: Archive, server: NewsServer):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    server.set("/private/b", story(2))
    runner.invoke(app, ["add", server.url("/private/b"), "--archive", str(archive.root)])
    status = runner.invoke(
        app, ["status", server.url("/private/b"), "--archive", str(archive.root)]
    )
    assert status.exit_code == ExitStatus.ERROR
    assert "not tracked" in status.output and "(skipped: robots.txt of 127.0.0.1" in status.output


def test_a_new_article_that_fails_is_tried_again_later_and_later_not_every_run(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    server.set("/news/a", story(1))
    server.set("/news/clip", b"\x00\x00", content_type="video/mp4")  # a feed's video entry
    serve_feed(server, "/feed.xml", [(server.url("/news/a"), "A"), (server.url("/news/clip"), "C")])
    archive = with_source(archive, "daily", feeds=[server.url("/feed.xml")])
    first = sync(archive)
    assert [r.outcome for r in first.results] == [Outcome.NEW, Outcome.FAILED]
    tries = []
    for minutes in (10, 10, 20, 15, 40, 30):  # at 10, 20, 40, 55, 95, 125 minutes
        clock.advance(timedelta(minutes=minutes))
        report = sync(archive)
        tries += [r.outcome for r in report.results if r.url == server.url("/news/clip")]
    # Tried again after 15 minutes, then 30, then 60: not on every run.
    assert len(server.hits("/news/clip")) == 4
    assert tries == [Outcome.FAILED, Outcome.FAILED, Outcome.FAILED]
    server.set("/news/clip", story(2))  # it became an article
    clock.advance(timedelta(hours=2))
    assert [r.outcome for r in sync(archive).results if r.url.endswith("/clip")] == [Outcome.NEW]
    assert archive.state.held(server.url("/news/clip")) is None


def test_redirect_hops_keep_their_own_hosts_crawl_delay(archive: Archive, server: NewsServer):
    with NewsServer("127.0.0.2") as other:
        other.set("/robots.txt", "User-agent: *\nCrawl-delay: 0.5\n", content_type="text/plain")
        for n in range(3):
            other.set(f"/news/y{n}", story(n))
            location = {"Location": other.url(f"/news/y{n}")}
            server.set(f"/news/r{n}", b"", status=301, headers=location)
        urls = [server.url(f"/news/r{n}") for n in range(3)]
        result = runner.invoke(app, ["add", *urls, "--archive", str(archive.root)])
        assert result.exit_code == ExitStatus.OK, result.output
        times = sorted(r.at for r in other.requests if r.path.startswith("/news/"))
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.45, gaps  # 127.0.0.1 has no delay at all; 127.0.0.2 asks for 0.5 s


def test_a_redirect_to_the_home_page_is_a_removal_that_names_it(
    archive: Archive, server: NewsServer, clock: FixedClock
):
    server.set("/news/a", story(1))
    runner.invoke(app, ["add", server.url("/news/a"), "--archive", str(archive.root)])
    server.set("/", section_page([("/news/b", "B")], title="Home"))
    server.set("/news/a", b"", status=301, headers={"Location": "/"})
    outcomes = []
    for _ in range(4):
        clock.advance(timedelta(hours=2, minutes=30))
        outcomes += [r.outcome for r in sync(archive, check_all=True).results]
    assert outcomes == [Outcome.GONE, Outcome.GONE, Outcome.GONE, Outcome.REMOVED]
    removal = git(archive.root, "log", "-1", "--format=%B")
    assert "Archiver-Event: removed" in removal
    assert f"Archiver-Redirect: {server.url('/')}" in removal


def test_status_of_a_tracked_article_now_disallowed_says_so(archive: Archive, server: NewsServer):
    server.set("/news/a", story(1))
    runner.invoke(app, ["add", server.url("/news/a"), "--archive", str(archive.root)])
    server.set("/robots.txt", "User-agent: *\nDisallow: /news/\n", content_type="text/plain")
    report = sync(archive, check_all=True)
    assert [r.outcome for r in report.results] == [Outcome.SKIPPED]
    state = archive.state.get(server.url("/news/a"))
    assert state.next_check == archive.clock.now() + timedelta(hours=24)  # when it is asked again
    status = runner.invoke(app, ["status", server.url("/news/a"), "--archive", str(archive.root)])
    assert "skipped:      robots.txt of 127.0.0.1" in status.output
    assert "disallows /news/ for archiver (asked again after" in status.output

"""Capturing articles: one commit per detected change, clear failures that never commit."""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive, init_archive
from archiver.capture import checker, decide, recorder, worker
from archiver.capture.model import Observer, Outcome, Published
from archiver.cli import ExitStatus, app
from archiver.clock import FixedClock
from archiver.store.history import iter_commits, parse_trailers
from archiver.sync import add, sync

from .conftest import START, configure, git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR

runner = CliRunner()


def cli(archive: Archive, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--archive", str(archive.root)])


def article_commits(archive: Archive) -> list:  # type: ignore[type-arg]
    return [c for c in iter_commits(archive.repo) if c.url]


def test_add_edit_sync_gives_two_commits_with_trailers(archive: Archive, server: NewsServer):
    server.set("/news/bridge", article_html("Old bridge to close for repairs", BRIDGE))
    result = cli(archive, "add", server.url("/news/bridge?utm_source=rss#top"))
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output

    server.set(
        "/news/bridge", article_html("Old bridge to close for urgent repairs", BRIDGE_EDITED)
    )
    result = cli(archive, "sync", "--all")
    assert result.exit_code == 0, result.output
    assert "1 changed" in result.output

    commits = article_commits(archive)
    assert len(commits) == 2
    url = server.url("/news/bridge")
    for number, commit in enumerate(commits, start=1):
        assert commit.trailers["Archiver-URL"] == url
        assert commit.trailers["Archiver-Source"] == "127-0-0-1"
        assert commit.trailers["Archiver-Version"] == str(number)
        assert commit.trailers["Archiver-Status"] == "200"
    assert commits[1].subject == "127-0-0-1: Old bridge to close for urgent repairs"
    author = git(archive.root, "log", "-1", "--format=%an <%ae>|%aI|%cI")
    assert author.startswith("127-0-0-1 <")
    assert author.strip().endswith("+00:00|" + author.split("|")[1])


def test_identical_capture_commits_nothing(archive: Archive, server: NewsServer, clock):
    server.set("/a", article_html("Harbour quotas cut catch", HARBOUR), etag=False)
    add(archive, [server.url("/a")])
    clock.advance(timedelta(hours=2))
    report = sync(archive, check_all=True)
    assert [r.outcome for r in report.results] == [Outcome.UNCHANGED]
    assert len(article_commits(archive)) == 1


def test_unchanged_page_costs_a_conditional_request(archive: Archive, server: NewsServer):
    server.set("/a", article_html("Harbour quotas cut catch", HARBOUR))
    add(archive, [server.url("/a")])
    report = sync(archive, check_all=True)
    assert report.results[0].outcome is Outcome.UNCHANGED
    second = server.hits("/a")[-1]
    assert second.headers.get("if-none-match")


def _bridge_edited_after(archive: Archive, server: NewsServer, hours: int) -> None:
    """The bridge story stored, then edited `hours` later and checked again."""
    server.set("/news/bridge", article_html("Old bridge to close for repairs", BRIDGE))
    add(archive, [server.url("/news/bridge")])
    archive.clock.advance(timedelta(hours=hours))  # type: ignore[attr-defined]
    server.set(
        "/news/bridge", article_html("Old bridge to close for urgent repairs", BRIDGE_EDITED)
    )
    sync(archive, check_all=True)


def test_the_stored_version_is_compared_beside_extraction(
    archive: Archive, server: NewsServer, monkeypatch: pytest.MonkeyPatch
):
    calls: list[int] = []  # threads of this process that compared; workers' calls stay theirs
    compare = worker.compare

    def recorded(*args):  # type: ignore[no-untyped-def]
        calls.append(threading.get_ident())
        return compare(*args)

    monkeypatch.setattr(worker, "compare", recorded)
    monkeypatch.setattr(decide, "compare", recorded)
    _bridge_edited_after(archive, server, hours=1)
    trailers = parse_trailers(git(archive.root, "log", "-1", "--format=%B"))
    assert trailers["Archiver-Version"] == "2"
    assert trailers["Archiver-Change"] == "edit" and trailers["Archiver-Sentences-Added"] == "1"
    assert threading.get_ident() not in calls  # not where pages are fetched and written


_extraction_job = worker.extraction_job


def _without_stored_text(body, charset, url, source, *stored):  # type: ignore[no-untyped-def]
    return _extraction_job(body, charset, url, source)


def test_the_writer_compares_when_no_stored_text_was_sent(
    archive: Archive, server: NewsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _bridge_edited_after(archive, server, hours=1)
    sent = git(archive.root, "log", "-1", "--format=%B")

    monkeypatch.setattr(checker, "extraction_job", _without_stored_text)
    other = configure(init_archive(tmp_path / "other", FixedClock(START)), min_delay=0)
    _bridge_edited_after(other, server, hours=1)
    assert git(other.root, "log", "-1", "--format=%B") == sent
    other.close()


def test_plain_git_tells_the_story(archive: Archive, server: NewsServer):
    _bridge_edited_after(archive, server, hours=3)

    path = archive.state.get(server.url("/news/bridge")).path
    assert path.startswith("articles/127-0-0-1/2025/03/01/bridge-")
    log = git(archive.root, "log", "--follow", "-p", "--", path)
    assert "+title: Old bridge to close for urgent repairs" in log
    assert '+The mayor, Ana Ortiz, said: "We had no choice' in log
    first, second = git(archive.root, "log", "--format=%H", "--", path).split()[::-1]
    diff = git(archive.root, "diff", first, second, "--", path)
    assert "-title: Old bridge to close for repairs" in diff
    blame = git(archive.root, "blame", "--", path)
    assert blame.count(second[:8]) >= 2
    assert git(archive.root, "status", "--porcelain") == ""
    assert (archive.root / path).read_text(encoding="utf-8").count("Ana Ortiz") == 1


def test_log_and_diff_commands(archive: Archive, server: NewsServer):
    _bridge_edited_after(archive, server, hours=1)

    log = cli(archive, "log", server.url("/news/bridge"))
    assert log.exit_code == 0, log.output
    lines = log.output.strip().splitlines()
    assert lines[0].startswith("v1 ") and "Old bridge to close for repairs" in lines[0]
    assert lines[1].startswith("v2 ") and "2025-03-01 10:00 UTC" in lines[1]

    diff = cli(archive, "diff", server.url("/news/bridge"))
    assert diff.exit_code == 0
    assert "~ Headline: Old bridge to close for {+urgent +}repairs" in diff.output
    assert cli(archive, "diff", server.url("/news/bridge"), "1", "7").exit_code == ExitStatus.ERROR
    unknown = cli(archive, "log", server.url("/elsewhere"))
    assert unknown.exit_code == ExitStatus.ERROR
    assert "not tracked" in unknown.output


BAD_PAGES = {
    "/missing": {"status": 404},
    "/broken": {"status": 500},
    "/pdf": {"body": b"%PDF-1.4", "content_type": "application/pdf"},
    "/tiny": {"body": "<html><body><p>Short.</p></body></html>"},
    "/huge": {"body": b"<p>" + b"x" * 300_000 + b"</p>"},
    "/slow": {"delay": 3.0},
}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "HTTP 404"),
        ("/broken", "HTTP 500"),
        ("/pdf", "not an HTML page"),
        ("/tiny", "too short"),
        ("/huge", "size cap"),
        ("/slow", "timed out"),
    ],
)
def test_a_bad_page_fails_alone_and_never_commits(
    archive: Archive, server: NewsServer, path: str, reason: str
):
    archive = configure(archive, timeout=1, max_bytes=200_000)
    options = dict(BAD_PAGES[path])
    server.set(
        path, options.pop("body", article_html("Harbour quotas cut catch", HARBOUR)), **options
    )
    server.set("/good", article_html("Harbour quotas cut catch", HARBOUR))
    result = cli(archive, "add", server.url(path), server.url("/good"))
    assert result.exit_code == ExitStatus.PARTIAL
    failure = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert len(failure) == 1
    assert server.url(path) in failure[0] and reason in failure[0]
    assert "1 new" in result.output
    assert [c.url for c in article_commits(archive)] == [server.url("/good")]


def test_every_article_failing_is_a_total_failure(archive: Archive, server: NewsServer):
    result = cli(archive, "add", server.url("/nowhere"), "ftp://example.org/file", "not a url")
    assert result.exit_code == ExitStatus.FAILED
    assert "ftp://example.org/file: not an http(s) URL" in result.output
    assert article_commits(archive) == []


def test_unreachable_host(archive: Archive):
    result = cli(archive, "add", "http://127.0.0.1:9/closed-port")
    assert result.exit_code == ExitStatus.FAILED
    failure = next(line for line in result.output.splitlines() if line.startswith("failed:"))
    assert failure.startswith("failed: http://127.0.0.1:9/closed-port: ")
    assert "cannot fetch" in failure


@pytest.mark.parametrize(
    ("body", "header"),
    [
        ("Café crème for the mayor’s guests".encode("cp1252"), "text/html; charset=utf-8"),
        ("Café crème for the mayor’s guests".encode(), "text/html; charset=iso-8859-1"),
        ("Café crème for the mayor’s guests".encode("cp1252"), "text/html"),
    ],
)
def test_mislabelled_charsets_decode(
    archive: Archive, server: NewsServer, body: bytes, header: str
):
    page = article_html("Harbour quotas cut catch", HARBOUR).replace('<meta charset="utf-8">', "")
    html = page.encode().replace(b"<p>Fishing", b"<p>" + body + b". Fishing")
    server.set("/cafe", html, content_type=header)
    add(archive, [server.url("/cafe")])
    stored = (archive.root / archive.state.get(server.url("/cafe")).path).read_text()
    assert "Café crème for the mayor’s guests" in stored


def test_not_an_archive(tmp_path: Path):
    result = runner.invoke(app, ["sync", "--archive", str(tmp_path)])
    assert result.exit_code == ExitStatus.ERROR
    assert f"{tmp_path.resolve()}: not an archive" in result.output


def test_second_run_is_refused_while_one_writes(archive: Archive, server: NewsServer):
    server.set("/a", article_html("Harbour quotas cut catch", HARBOUR))
    with archive.writing():
        result = cli(archive, "add", server.url("/a"))
    assert result.exit_code == ExitStatus.ERROR
    assert "another archiver run" in result.output
    assert cli(archive, "add", server.url("/a")).exit_code == 0


def test_state_store_is_rebuilt_from_git(archive: Archive, server: NewsServer, clock: FixedClock):
    server.set("/a", article_html("Harbour quotas cut catch", HARBOUR))
    add(archive, [server.url("/a")])
    clock.advance(timedelta(hours=1))
    server.set("/a", article_html("Harbour quotas cut catch by a third", HARBOUR))
    sync(archive, check_all=True)
    before = archive.state.get(server.url("/a"))
    archive.close()
    (archive.root / ".archiver" / "state.db").unlink()

    reopened = Archive.open(archive.root, clock)
    after = reopened.state.get(server.url("/a"))
    assert (after.path, after.versions, after.blob, after.first_seen, after.last_changed) == (
        before.path,
        2,
        before.blob,
        before.first_seen,
        before.last_changed,
    )
    clock.advance(timedelta(hours=1))
    server.set("/a", article_html("Harbour quotas cut the catch by a third", HARBOUR))
    sync(reopened, check_all=True)
    last = [c for c in iter_commits(reopened.repo) if c.url][-1]
    assert parse_trailers(git(reopened.root, "log", "-1", "--format=%B"))["Archiver-Version"] == "3"
    assert last.version == 3
    reopened.close()


class Publications(Observer):
    """Records what is published, checking at each call that git already has it on the
    branch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[list[Published]] = []

    def published(self, changes: list[Published]) -> None:
        for change in changes:
            subprocess.run(["git", "cat-file", "-e", change.commit], cwd=self.root, check=True)
            ancestor = ["git", "merge-base", "--is-ancestor", change.commit, "HEAD"]
            subprocess.run(ancestor, cwd=self.root, check=True)
        self.calls.append(changes)


def test_observers_are_told_of_commits_once_they_are_on_the_branch(
    archive: Archive, server: NewsServer, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(recorder, "STATE_BATCH", 2)  # a checkpoint every other article
    titles = [f"Harbour quotas cut catch, day {n}" for n in range(5)]
    for n, title in enumerate(titles):
        server.set(f"/a{n}", article_html(title, HARBOUR))
    heard = Publications(archive.root)
    before = set(git(archive.root, "rev-list", "HEAD").split())
    add(archive, [server.url(f"/a{n}") for n in range(5)], progress=heard)
    clock.advance(timedelta(hours=2))
    server.set("/a1", article_html(titles[1] + " by a third", HARBOUR))
    server.set("/a3", article_html(titles[3] + " by a half", HARBOUR))
    sync(archive, check_all=True, progress=heard)

    assert len(heard.calls) > 2  # several checkpoints, each told once
    told = [change for call in heard.calls for change in call]
    new = set(git(archive.root, "rev-list", "HEAD").split()) - before
    assert len(told) == 7 and {change.commit for change in told} == new
    for change in told:
        trailers = parse_trailers(git(archive.root, "log", "-1", "--format=%B", change.commit))
        assert trailers["Archiver-URL"] == change.url
        assert trailers["Archiver-Version"] == str(change.version)
    assert [(c.url, c.outcome, c.version) for c in told[5:]] == [
        (server.url("/a1"), Outcome.CHANGED, 2),
        (server.url("/a3"), Outcome.CHANGED, 2),
    ]
    assert {c.outcome for c in told[:5]} == {Outcome.NEW}

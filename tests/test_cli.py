"""The command line as a terminal user meets it: help that fits 80 columns, one-line errors
for expected failures, articles named the way people name them, output for scripts."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner, Result

from archiver import sync as sync_api
from archiver.archive import Archive, init_archive
from archiver.cli import ExitStatus, app
from archiver.clock import FixedClock
from archiver.config import load_config

from .conftest import git
from .newsserver import NewsServer, article_html, rss_feed, section_page, sitemap
from .pages import HARBOUR

runner = CliRunner()
WHEN = "2025-03-01T08:00:00+00:00"


def _command_paths(command: object, prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Every command and subcommand, as the words that name it."""
    yield list(prefix)
    for name, sub in sorted(getattr(command, "commands", {}).items()):  # a group's
        yield from _command_paths(sub, (*prefix, name))


COMMANDS = list(_command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "archiver")
def test_help_fits_80_columns_and_flags_take_no_value(command: list[str]):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "<bool>" not in result.output
    long = [line for line in result.output.splitlines() if len(line) > 80]
    assert not long, "\n".join(long)


def test_shell_completion_is_offered():
    """As a user asks for it: from bash, which typer finds among the process's parents (in
    process, the parents are whatever started the tests, not always a shell)."""
    archiver = Path(sys.executable).with_name("archiver")
    done = subprocess.run(
        ["bash", "-c", f"{shlex.quote(str(archiver))} --show-completion; exit $?"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "_ARCHIVER_COMPLETE" in done.stdout  # the script bash sources


# Expected failures: one line on stderr, naming what is wrong; never a traceback.

ARCHIVER = Path(sys.executable).with_name("archiver")


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (no terminal: plain output)."""
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [str(ARCHIVER), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture
def tracked(archive: Archive, server: NewsServer, clock: FixedClock) -> tuple[Archive, str]:
    """An archive tracking one article, with two versions."""
    url = server.url("/news/old-bridge-to-close")
    server.set("/news/old-bridge-to-close", article_html("Old bridge to close", HARBOUR))
    assert not sync_api.add(archive, [url]).failures
    clock.advance(timedelta(hours=1))
    server.set("/news/old-bridge-to-close", article_html("Old bridge closes", HARBOUR))
    assert not sync_api.sync(archive, check_all=True).failures
    return archive, url


def _broken_config(tmp_path: Path) -> Path:
    root = init_archive(tmp_path / "broken").root
    (root / "archiver.toml").write_text("[fetch]\ntimeout = 'soon'\n", encoding="utf-8")
    return root


def _site(tmp_path: Path) -> Path:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><title>x</title>")
    return tmp_path / "site"


@contextmanager
def _busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


# command → (its arguments given the test's archive, tracked URL and folders; what the line says)
FAILURES: dict[str, tuple[Callable[..., list[str]], str]] = {
    "init": (lambda a, u, t: ["init", str(a.root)], "already an archive"),
    "add": (lambda a, u, t: ["add", u, "-a", str(t)], "not an archive"),
    "sync": (lambda a, u, t: ["sync", "-a", str(_broken_config(t))], "fetch.timeout"),
    "reformat": (lambda a, u, t: ["reformat", "-a", str(t)], "not an archive"),
    "status": (lambda a, u, t: ["status", u + "x", "-a", str(a.root)], "not tracked"),
    "build": (lambda a, u, t: ["build", "-a", str(t)], "not an archive"),
    "demo": (lambda a, u, t: ["demo", str(a.root.parent)], "not a demo archive"),
    "serve": (lambda a, u, t: ["serve", str(t / "nothing")], "no built site"),
    "serve --port": (lambda a, u, t: ["serve", str(_site(t)), "--port", "http"], "--port"),
    "extract": (lambda a, u, t: ["extract", str(t / "missing.html")], "missing.html"),
    "log": (lambda a, u, t: ["log", u + "x", "-a", str(a.root)], "not tracked"),
    "diff": (lambda a, u, t: ["diff", u, "1", "9", "-a", str(a.root)], "9"),
    "source add": (
        lambda a, u, t: ["source", "add", "Bad Name", "--feed", u, "-a", str(a.root)],
        "Bad Name",
    ),
    "source list": (lambda a, u, t: ["source", "list", "-a", str(_broken_config(t))], "timeout"),
    "source remove": (lambda a, u, t: ["source", "remove", "weekly", "-a", str(a.root)], "weekly"),
    "find": (lambda a, u, t: ["find", " ", "-a", str(a.root)], "give some text"),
    "log nothing": (lambda a, u, t: ["log", "", "-a", str(a.root)], "no article given"),
    "unknown option": (lambda a, u, t: ["sync", "--everything"], "--everything"),
    "unknown command": (lambda a, u, t: ["synch"], "synch"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_expected_failures_are_one_line(case: str, tracked: tuple[Archive, str], tmp_path: Path):
    archive, url = tracked
    arguments, says = FAILURES[case]
    (tmp_path / "plain").mkdir()
    result = _run(*arguments(archive, url, tmp_path / "plain"))
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0]


def test_serve_on_a_busy_port_is_one_line(tmp_path: Path):
    with _busy_port() as port:
        result = _run("serve", str(_site(tmp_path)), "--port", str(port))
    assert result.returncode == ExitStatus.ERROR
    assert result.stderr == f"error: 127.0.0.1:{port}: in use; choose another port with --port\n"
    assert "Serving" not in result.stdout  # nothing announced that did not happen


# Setting up sources


def _source_docs(server: NewsServer) -> None:
    """A feed of 3 stories, a sitemap of 2, a section page linking 4, and a page that is
    not a feed."""
    stories = [(server.url(f"/news/story-number-{n}"), f"Story {n}", WHEN) for n in range(4)]
    server.set("/rss.xml", rss_feed(stories[:3]), content_type="application/rss+xml")
    server.set("/sitemap.xml", sitemap([u for u, _, _ in stories[:2]]), content_type="text/xml")
    server.set("/world", section_page([(u, t) for u, t, _ in stories]))
    server.set("/about-feeds", article_html("Our feeds", HARBOUR))


def _invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "80"})


def test_source_add_says_what_each_url_lists_and_commits(archive: Archive, server: NewsServer):
    _source_docs(server)
    result = _invoke(
        "source", "add", "daily", "--feed", server.url("/rss.xml"),
        "--sitemap", server.url("/sitemap.xml"), "--page", server.url("/world"),
        "-a", str(archive.root),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"{server.url('/rss.xml')}: feed with 3 items",
        f"{server.url('/sitemap.xml')}: sitemap with 2 URLs",
        f"{server.url('/world')}: page with 4 article links",
    ]
    assert result.stderr == ""
    assert git(archive.root, "log", "-1", "--format=%s") == "Add source daily\n"
    assert git(archive.root, "status", "--porcelain") == ""
    assert load_config(archive.root).sources["daily"].pages == (server.url("/world"),)


def test_source_add_warns_of_a_url_that_is_not_what_it_claims(archive: Archive, server: NewsServer):
    _source_docs(server)
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    result = _invoke(
        "source", "add", "daily", "--feed", server.url("/about-feeds"),
        "--feed", server.url("/gone.xml"), "--page", server.url("/private/world"),
        "-a", str(archive.root),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # saved all the same: the site may be down
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3 and all(w.startswith("warning: ") for w in warnings), warnings
    assert "/about-feeds: unexpected content type text/html" in warnings[0]
    assert "/gone.xml: " in warnings[1] and "404" in warnings[1]
    assert "/private/world: robots.txt" in warnings[2] and "disallows" in warnings[2]
    assert not server.hits("/private/world")  # robots.txt was obeyed
    assert len(load_config(archive.root).sources["daily"].feeds) == 2


def test_source_add_refuses_a_source_with_nothing_to_read(archive: Archive):
    before = (archive.root / "archiver.toml").read_text()
    result = _invoke("source", "add", "daily", "--exclude", "/live/", "-a", str(archive.root))
    assert result.exit_code == ExitStatus.ERROR
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "sources.daily: no feed, sitemap or page" in result.stderr
    assert (archive.root / "archiver.toml").read_text() == before


def test_source_remove_keeps_the_file_and_commits(archive: Archive, server: NewsServer):
    _source_docs(server)
    for name in ("daily", "weekly"):
        added = _invoke("source", "add", name, "--feed", server.url("/rss.xml"), "--no-check",
                        "-a", str(archive.root))  # fmt: skip
        assert added.exit_code == 0, added.output
    result = _invoke("source", "remove", "daily", "-a", str(archive.root))
    assert result.exit_code == 0, result.output
    text = (archive.root / "archiver.toml").read_text()
    assert "[sources.weekly]" in text and "daily" not in text
    assert "# archiver settings: see docs/configuration.md" in text  # comments kept
    assert git(archive.root, "log", "-1", "--format=%s") == "Remove source daily\n"
    assert git(archive.root, "status", "--porcelain") == ""
    assert _invoke("source", "list", "-a", str(archive.root)).stdout.splitlines()[0] == "weekly"


def test_init_writes_a_base_url_to_fill_in(tmp_path: Path):
    result = _invoke("init", str(tmp_path / "news"))
    assert result.exit_code == 0, result.output
    config = tmp_path / "news" / "archiver.toml"
    text = config.read_text()
    archive_table = text[text.index("[archive]") : text.index("[fetch]")]
    assert "relative links" in archive_table  # its comment says why to set it
    config.write_text(text.replace('# base_url = "', 'base_url = "'))  # as a user sets it
    assert load_config(config.parent).base_url == "https://example.org/news/"


# Naming articles the way people do


def _path_of(archive: Archive, url: str) -> str:
    state = archive.state.get(url)
    assert state is not None
    return state.path


NAMES: dict[str, Callable[[Archive, str], str]] = {
    "url": lambda a, u: u,
    "url with tracking": lambda a, u: u + "?utm_source=newsletter",
    "path in the archive": lambda a, u: _path_of(a, u),
    "absolute path": lambda a, u: str(a.root / _path_of(a, u)),
    "file name": lambda a, u: Path(_path_of(a, u)).name,
    "slug": lambda a, u: "old-bridge-to-close",
    "part of the url": lambda a, u: "bridge-to",
}


@pytest.mark.parametrize("form", sorted(NAMES))
@pytest.mark.parametrize("command", ["log", "status", "diff"])
def test_an_article_is_named_by_url_path_slug_or_part(
    tracked: tuple[Archive, str], form: str, command: str
):
    archive, url = tracked
    result = _invoke(command, NAMES[form](archive, url), "-a", str(archive.root))
    assert result.exit_code == 0, result.output
    expected = {"log": "Old bridge closes", "status": url, "diff": "Headline: Old bridge "}
    assert expected[command] in result.stdout


def test_a_path_from_the_current_folder_names_its_article(
    tracked: tuple[Archive, str], monkeypatch: pytest.MonkeyPatch
):
    archive, url = tracked
    path = Path(_path_of(archive, url))
    monkeypatch.chdir(archive.root / path.parent)
    result = _invoke("status", path.name, "-a", str(archive.root))
    assert result.exit_code == 0, result.output
    assert url in result.stdout


def test_an_ambiguous_name_lists_candidates_in_one_line(
    tracked: tuple[Archive, str], server: NewsServer
):
    archive, url = tracked
    other = server.url("/news/old-bridge-reopens")
    server.set("/news/old-bridge-reopens", article_html("Old bridge reopens", HARBOUR))
    assert not sync_api.add(archive, [other]).failures
    result = _run("log", "old-bridge", "-a", str(archive.root))
    assert result.returncode == ExitStatus.ERROR
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: old-bridge:")
    assert "matches 2 articles" in result.stderr
    assert url in result.stderr and other in result.stderr


def test_find_lists_articles_by_title_or_url(tracked: tuple[Archive, str], server: NewsServer):
    archive, url = tracked
    other = server.url("/news/harbour-walls")
    server.set("/news/harbour-walls", article_html("Sea walls to be raised", HARBOUR))
    assert not sync_api.add(archive, [other]).failures
    by_title = _invoke("find", "BRIDGE CLOSES", "-a", str(archive.root))  # the current title
    assert by_title.exit_code == 0, by_title.output
    source = archive.state.get(url).source  # type: ignore[union-attr]
    assert by_title.stdout == f"2025-03-01  {source}  Old bridge closes  {url}\n"
    by_url = _invoke("find", "harbour-wall", "-a", str(archive.root))
    assert [line.split()[-1] for line in by_url.stdout.splitlines()] == [other]
    body_only = _invoke("find", HARBOUR[0].split()[2], "-a", str(archive.root))
    assert body_only.exit_code == ExitStatus.PARTIAL and body_only.stdout == ""
    assert "no article has" in body_only.stderr
    listed = json.loads(_invoke("find", "old", "--json", "-a", str(archive.root)).stdout)
    assert listed["articles"] == [
        {
            "url": url,
            "source": source,
            "title": "Old bridge closes",
            "path": _path_of(archive, url),
            "first_seen": "2025-03-01T09:00:00Z",
            "versions": 2,
        }
    ]


# Output for scripts, and for an 80-column terminal


def test_json_of_log_status_and_source_list(tracked: tuple[Archive, str]):
    archive, url = tracked
    root = str(archive.root)
    log = json.loads(_invoke("log", url, "--json", "-a", root).stdout)
    assert (log["url"], log["path"]) == (url, _path_of(archive, url))
    assert [v["number"] for v in log["versions"]] == [1, 2]
    assert [v["title"] for v in log["versions"]] == ["Old bridge to close", "Old bridge closes"]
    assert log["versions"][1]["when"] == "2025-03-01T10:00:00Z"
    assert set(log["versions"][0]) == {
        "number", "sha", "when", "title", "chars_added", "chars_removed"
    }  # fmt: skip
    one = json.loads(_invoke("status", url, "--json", "-a", root).stdout)
    assert one["url"] == url and one["versions"] == 2 and one["removed"] is False
    assert one["last_checked"] == "2025-03-01T10:00:00Z"
    every = json.loads(_invoke("status", "--json", "-a", root).stdout)
    [source] = every["sources"]
    assert source["tracked"] == 1 and source["failing"] == [] and source["warnings"] == []
    assert set(source) >= {"name", "due", "removed", "checked_24h", "changed_24h", "last_success"}
    configured = json.loads(_invoke("source", "list", "--json", "-a", root).stdout)
    assert configured == {"sources": []}
    _invoke("source", "add", "daily", "--feed", url + "/rss", "--no-check", "-a", root)
    configured = json.loads(_invoke("source", "list", "--json", "-a", root).stdout)
    assert configured["sources"] == [
        {"name": "daily", "feeds": [url + "/rss"], "sitemaps": [], "pages": [], "include": [],
         "exclude": []}
    ]  # fmt: skip


def test_log_and_status_fit_80_columns(archive: Archive, server: NewsServer, clock: FixedClock):
    long_title = "Council confirms " + "very " * 30 + "long headline"
    url = server.url("/news/long")
    server.set("/news/long", article_html(long_title, HARBOUR))
    assert not sync_api.add(archive, [url]).failures
    clock.advance(timedelta(days=2))
    server.set("/news/long", "<html>" + "x" * 90 + "</html>", status=500)
    sync_api.sync(archive, check_all=True)
    for command in (["log", url], ["status"], ["status", url], ["find", "council"]):
        result = _invoke(*command, "-a", str(archive.root))
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, lines
    assert _invoke("log", url, "-a", str(archive.root)).stdout.rstrip().endswith("…")
    assert "failing: " + url in _invoke("status", "-a", str(archive.root)).stdout


@pytest.mark.slow
def test_the_demo_runs_without_a_traceback(tmp_path: Path):
    result = _run("demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert (tmp_path / "demo" / "site" / "index.html").is_file()
    assert f"archiver serve {tmp_path / 'demo' / 'site'}\n" in result.stdout  # whole, to copy

"""The demo end to end: the sample's captures replayed through the real pipeline give the
same commits on every run, and every kind of change reads as it should."""

from __future__ import annotations

import importlib.util
import socket
import struct
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

from archiver.archive import Archive
from archiver.clock import parse_iso
from archiver.demo import Replay, replay_proxy, run_demo, sample_folder
from archiver.store.format import read_stats
from archiver.store.history import CommitRecord, iter_commits

from .conftest import git


def _sample_cases() -> ModuleType:
    path = sample_folder() / "make_captures.py"
    spec = importlib.util.spec_from_file_location("make_captures", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_captures"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return run_demo(tmp_path_factory.mktemp("demo"))


def _commits(archive: Archive, url: str) -> list[CommitRecord]:
    return [c for c in iter_commits(archive.repo) if c.url == url]


def _at(archive: Archive, url: str, when: str) -> CommitRecord:
    found = [c for c in _commits(archive, url) if c.when == parse_iso(when.replace("Z", ":00Z"))]
    assert len(found) == 1, (url, when, [(c.when, c.subject) for c in _commits(archive, url)])
    return found[0]


def test_the_same_captures_give_the_same_commits(demo: Archive, tmp_path: Path):
    again = run_demo(tmp_path)
    assert git(again.root, "log", "--format=%H") == git(demo.root, "log", "--format=%H")
    assert git(demo.root, "status", "--porcelain") == ""
    git(demo.root, "fsck", "--strict")


EDITS = {
    "headline_softened": lambda s, t: s.title_changed,
    "qualifier_added": lambda s, t: s.sentences_edited >= 1 and not s.sentences_added,
    "quote_added": lambda s, t: s.sentences_added >= 1,
    "quote_removed": lambda s, t: s.sentences_removed >= 1,
    "paragraph_inserted": lambda s, t: s.sentences_added >= 1 and not s.sentences_removed,
    "paragraph_moved": lambda s, t: s.sentences_moved >= 1 and not s.sentences_added,
    "name_expanded": lambda s, t: s.sentences_edited >= 1,
    "correction_appended": lambda s, t: s.sentences_added >= 1 and not s.sentences_removed,
    "byline_changed": lambda s, t: s.byline_changed,
    "headline_flip": lambda s, t: s.title_changed and "Archiver-Revert-Of" not in t,
    "headline_revert": lambda s, t: s.title_changed and "Archiver-Revert-Of" in t,
    "minor_fix": lambda s, t: t["Archiver-Change"] == "minor",
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_each_edit_is_one_described_version(demo: Archive, kind: str):
    case = _sample_cases().CASES[kind]
    commit = _at(demo, case.url, case.after)
    stats = read_stats(commit.trailers)
    assert EDITS[kind](stats, commit.trailers), (kind, commit.trailers)
    if kind != "minor_fix":
        assert commit.trailers["Archiver-Change"] == "edit"


@pytest.mark.parametrize("kind", ["redesign", "boilerplate_only", "restamped", "unchanged"])
def test_page_changes_around_an_unchanged_article_make_no_version(demo: Archive, kind: str):
    case = _sample_cases().CASES[kind]
    start, end = (parse_iso(t.replace("Z", ":00Z")) for t in (case.before, case.after))
    during = [c for c in _commits(demo, case.url) if start < c.when <= end]
    assert during == [], [(c.when, c.subject) for c in during]


def test_removal_and_returns(demo: Archive):
    cases = _sample_cases().CASES
    removed = cases["removed"]
    events = [c.trailers.get("Archiver-Event") for c in _commits(demo, removed.url)]
    assert events.count("removed") == 1 and events[-1] == "returned"
    returned = _at(demo, cases["restored"].url, cases["restored"].after)
    assert returned.trailers["Archiver-Event"] == "returned"
    with_edit = _commits(demo, cases["restored_with_edit"].url)
    assert with_edit[-2].trailers["Archiver-Event"] == "removed"
    assert with_edit[-1].version == with_edit[-2].version + 1


def _through(proxy: str) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))


def _hang_up(proxy: str, request: bytes) -> None:
    """Send `request` to the replay server, then reset the connection without reading."""
    host, port = proxy.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(request)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_clients_that_hang_up_print_no_traceback(capfd: pytest.CaptureFixture[str]):
    replay = Replay(sample_folder() / "captures")
    page = "http://northgate-herald.example/rss.xml"
    with replay_proxy(replay) as proxy:
        for _ in range(5):
            _hang_up(proxy, b"GET " + page.encode() + b" HTTP/1.1\r\n")  # mid-headers
            _hang_up(proxy, b"GET " + page.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # the handler threads meet the reset connections
        with _through(proxy).open(page, timeout=5) as reply:
            assert reply.status == 200  # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_a_real_error_in_the_replay_server_is_still_reported(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
):
    captures = tmp_path / "captures"
    page = captures / "2025-03-01T09:00Z" / "site.example" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>hello</p>")
    replay = Replay(captures)
    page.unlink()  # the server meets a capture that vanished: a bug, not a hang-up
    with replay_proxy(replay) as proxy, pytest.raises(OSError):
        _through(proxy).open("http://site.example/page.html", timeout=5)
    assert "FileNotFoundError" in capfd.readouterr().err


def test_every_demo_version_is_backed_and_verified(demo: Archive) -> None:
    """The demo's sync writes captures like any sync: each version re-extracts from its
    own response, and `warcio check` passes on every file."""
    from archiver.verify import verify

    from .test_captures import warcio_check

    report = verify(demo)
    assert report.problems == []
    assert report.versions > 20
    assert report.backed == report.verified == report.versions
    assert report.not_backed == report.other_rules == 0
    warcio_check(demo.root)

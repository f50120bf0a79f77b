"""A sync keeps the responses its commits were made from: real syncs against a site on
loopback, the WARC files read back with warcio and `warcio check`, each commit's
Archiver-Capture naming the very bytes served; `all` keeps unchanged checks as revisits,
`none` keeps nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture.model import Checked, Outcome
from archiver.cli import app
from archiver.clock import FixedClock
from archiver.store import format as archive_format
from archiver.store.captures import CaptureReader, capture_files
from archiver.store.history import iter_commits
from archiver.sync import add, sync

from .conftest import START, git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED
from .test_captures import warc_records, warcio_check

TITLE = "Old bridge to close for repairs"


def set_captures(archive: Archive, mode: str) -> Archive:
    path = archive.root / "archiver.toml"
    text = re.sub(r'(?m)^captures = "\w+"', f'captures = "{mode}"', path.read_text())
    path.write_text(text)
    git(archive.root, "commit", "-qm", "Captures", "--", "archiver.toml")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def article_commits(archive: Archive) -> list:  # type: ignore[type-arg]
    return [c for c in iter_commits(archive.repo) if c.url]


def test_each_version_names_the_response_it_was_made_from(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    first = article_html(TITLE, BRIDGE).encode()
    edited = article_html(TITLE, BRIDGE_EDITED).encode()
    server.set("/news/bridge", first, gzip=True)
    add(archive, [server.url("/news/bridge")])
    clock.advance(timedelta(hours=1))
    server.set("/news/bridge", edited)
    report = sync(archive, check_all=True)
    assert [r.outcome for r in report.results] == [Outcome.CHANGED]
    commits = article_commits(archive)
    refs = [archive_format.read_capture(c.trailers) for c in commits]
    assert all(refs)
    reader = CaptureReader(archive.root)
    got = [reader.read(ref) for ref in refs if ref]
    assert [r.body for r in got] == [first, edited]
    assert got[0].headers["content-encoding"] == "gzip"  # kept as served
    assert [r.date for r in got] == [START, START + timedelta(hours=1)]
    assert refs[0] and refs[0].path == "captures/2025/03/01/127-0-0-1-20250301T090000Z.warc.gz"
    warcio_check(archive.root)
    # The WARCs stay out of git: nothing to commit, nothing untracked.
    assert git(archive.root, "status", "--porcelain") == ""


def test_a_redirect_and_a_removal_keep_every_answer(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    server.set("/old", b"", status=301, headers={"Location": "/news/bridge"})
    server.set("/news/bridge", article_html(TITLE, BRIDGE))
    add(archive, [server.url("/old")])
    server.set("/news/bridge", b"<p>No such page</p>", status=410)
    outcomes = []
    for _ in range(4):
        clock.advance(timedelta(hours=2, minutes=30))
        outcomes += [r.outcome for r in sync(archive, check_all=True).results]
    assert outcomes[-1] is Outcome.REMOVED
    first, removal = article_commits(archive)
    first_ref = archive_format.read_capture(first.trailers)
    removal_ref = archive_format.read_capture(removal.trailers)
    assert first_ref and removal_ref
    hops = [(r[1], r[2]) for r in warc_records(archive.root / first_ref.path) if r[0] == "response"]
    assert hops[:2] == [(server.url("/old"), "301"), (server.url("/news/bridge"), "200")]
    gone = CaptureReader(archive.root).read(removal_ref)
    assert gone.status == 410 and gone.body == b"<p>No such page</p>"
    warcio_check(archive.root)


def test_all_keeps_unchanged_checks_as_revisits(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    archive = set_captures(archive, "all")
    server.set("/news/bridge", article_html(TITLE, BRIDGE), etag=False)  # no 304: a full 200
    add(archive, [server.url("/news/bridge")])
    for _ in range(2):
        clock.advance(timedelta(hours=1))
        assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    files = list(capture_files(archive.root))
    records = [r for path in files for r in warc_records(archive.root / path)]
    assert [r[0] for r in records if r[0] != "warcinfo"] == [
        "request",
        "response",
        "revisit",  # an unchanged check kept bare: no request, no body
        "revisit",
    ]
    assert len(article_commits(archive)) == 1
    reader = CaptureReader(archive.root)
    for path in files[1:]:  # the revisit is each later file's last member, after warcinfo
        revisit_at = max(reader.records(path).offsets.values())
        assert (archive.root / path).stat().st_size - revisit_at < 700
    warcio_check(archive.root)


def test_none_keeps_nothing(archive: Archive, server: NewsServer) -> None:
    archive = set_captures(archive, "none")
    server.set("/news/bridge", article_html(TITLE, BRIDGE))
    add(archive, [server.url("/news/bridge")])
    (commit,) = article_commits(archive)
    assert archive_format.read_capture(commit.trailers) is None
    assert list(capture_files(archive.root)) == []


def test_a_check_with_its_exchanges_survives_json(archive: Archive, server: NewsServer) -> None:
    """What a remote worker would send: the bytes as received, through JSON and back."""
    import asyncio

    from archiver.capture.checker import Checker
    from archiver.capture.model import Target
    from archiver.fetch.client import open_fetcher, user_agent
    from archiver.fetch.robots import Robots

    server.set("/news/bridge", article_html(TITLE, BRIDGE), gzip=True)

    async def check() -> Checked:
        async with open_fetcher(archive.config.fetch, user_agent()) as fetcher:
            checker = Checker(archive, fetcher, Robots(fetcher))
            return await checker.check(Target(server.url("/news/bridge"), "local"))

    checked = asyncio.run(check())
    assert checked.exchanges and checked.exchanges[-1].body[:2] == b"\x1f\x8b"
    assert checked.fetched_at == START
    assert Checked.from_json(checked.to_json()) == checked


def test_an_unknown_captures_setting_is_one_clear_error() -> None:
    import pytest

    from archiver.config import parse_config
    from archiver.errors import ConfigError

    assert parse_config({"archive": {"captures": "all"}}).captures == "all"
    assert parse_config({}).captures == "versions"
    with pytest.raises(ConfigError) as caught:
        parse_config({"archive": {"captures": "some"}})
    assert str(caught.value) == (
        'archiver.toml: archive.captures: expected one of "versions", "all", "none",'
        " got string 'some'"
    )


def warc_headers(path: Path) -> list[dict[str, str]]:
    """Each record's WARC headers, as warcio reads the file."""
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as stream:
        return [dict(record.rec_headers.headers) for record in ArchiveIterator(stream)]


def test_a_state_store_rebuilt_from_git_still_writes_an_unchanged_page_as_a_revisit(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    archive = set_captures(archive, "all")
    url = server.url("/news/bridge")
    server.set("/news/bridge", article_html(TITLE, BRIDGE), etag=False)  # no 304: a full 200
    add(archive, [url])
    (first,) = article_commits(archive)
    ref = archive_format.read_capture(first.trailers)
    assert ref is not None
    archive.close()
    archive.state_path.unlink()  # rebuilt from git on the next open
    archive = Archive.open(archive.root, clock)
    clock.advance(timedelta(hours=1))
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]

    old, new = capture_files(archive.root)
    (response,) = [h for h in warc_headers(archive.root / old) if h["WARC-Type"] == "response"]
    assert response["WARC-Record-ID"] == ref.record_id
    kept = [h for h in warc_headers(archive.root / new) if h["WARC-Type"] != "warcinfo"]
    assert [h["WARC-Type"] for h in kept] == ["revisit"]  # no second copy of the page
    (revisit,) = kept
    assert revisit["WARC-Refers-To"] == ref.record_id
    assert revisit["WARC-Refers-To-Filename"] == ref.path
    assert revisit["WARC-Refers-To-Target-URI"] == response["WARC-Target-URI"] == url
    assert revisit["WARC-Refers-To-Date"] == response["WARC-Date"]
    warcio_check(archive.root)
    verified = CliRunner().invoke(app, ["verify", "--archive", str(archive.root)])
    assert verified.exit_code == 0, verified.output
    archive.close()


def test_a_capture_the_rebuilt_store_cannot_read_is_no_revisits_original(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    """Its file gone: the next capture of the same payload is a full response again, which
    the captures after it are revisits of."""
    archive = set_captures(archive, "all")
    server.set("/news/bridge", article_html(TITLE, BRIDGE), etag=False)
    add(archive, [server.url("/news/bridge")])
    (old,) = capture_files(archive.root)
    archive.close()
    archive.state_path.unlink()
    (archive.root / old).unlink()
    archive = Archive.open(archive.root, clock)
    clock.advance(timedelta(hours=1))
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    (new,) = capture_files(archive.root)
    headers = warc_headers(archive.root / new)
    assert [h["WARC-Type"] for h in headers] == ["warcinfo", "request", "response"]
    clock.advance(timedelta(hours=1))
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    (revisit,) = [
        h
        for path in capture_files(archive.root)
        for h in warc_headers(archive.root / path)
        if h["WARC-Type"] == "revisit"
    ]
    assert revisit["WARC-Refers-To"] == headers[2]["WARC-Record-ID"]
    warcio_check(archive.root)
    archive.close()


def test_a_rebuilt_store_follows_a_commits_revisit_to_the_response_it_names(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    """The first commit naming a payload can name a revisit: the page's bytes were first
    kept by an unchanged check (no commit), and a later revert came back to them."""
    archive = set_captures(archive, "all")
    first = article_html(TITLE, BRIDGE)
    same_text = first + "<!-- served again with a comment -->"
    for page in (first, same_text, article_html(TITLE, BRIDGE_EDITED), same_text):
        server.set("/news/bridge", page, etag=False)
        if page is first:
            add(archive, [server.url("/news/bridge")])
        else:
            sync(archive, check_all=True)
        clock.advance(timedelta(hours=3))
    *_, reverted = article_commits(archive)
    assert reverted.trailers[archive_format.REVERT_OF] == "1"
    named = archive_format.read_capture(reverted.trailers)
    assert named is not None
    reader = CaptureReader(archive.root)
    assert reader.read(named).revisit  # a revisit of the unchanged check's response
    archive.close()
    archive.state_path.unlink()
    archive = Archive.open(archive.root, clock)
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]

    headers = [h for path in capture_files(archive.root) for h in warc_headers(archive.root / path)]
    by_id = {h["WARC-Record-ID"]: h for h in headers}
    revisit = headers[-1]
    assert revisit["WARC-Type"] == "revisit"
    original = by_id[revisit["WARC-Refers-To"]]
    assert original["WARC-Type"] == "response"  # the response, not the commit's revisit
    assert original["WARC-Record-ID"] == by_id[named.record_id]["WARC-Refers-To"]
    assert revisit["WARC-Refers-To-Date"] == original["WARC-Date"]
    warcio_check(archive.root)
    verified = CliRunner().invoke(app, ["verify", "--archive", str(archive.root)])
    assert verified.exit_code == 0, verified.output
    archive.close()

"""`archiver import`: WARC and WACZ records through the sync's pipeline, as versions dated by
their captures, with the records that cannot be versions counted and skipped."""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive, init_archive
from archiver.capture.model import Outcome, RunReport
from archiver.cli import app
from archiver.clock import FixedClock
from archiver.imports.ingest import AHEAD
from archiver.site import build_site
from archiver.store import format as fmt
from archiver.store.captures import read_response
from archiver.store.document import parse_document
from archiver.store.history import article_versions, iter_commits, read_blob
from archiver.sync import add, sync

from .conftest import START, configure, git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR
from .test_site_incremental import assert_same_as_full_build
from .warcs import Record, at, write_warc

runner = CliRunner()

STORY = "https://news.example.org/2024/03/01/bridge-to-close"
OTHER = "https://news.example.org/2024/03/01/harbour-plans"


def cli(archive: Archive, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--archive", str(archive.root)])


def import_then_sync(archive: Archive, server: NewsServer, tmp_path: Path) -> RunReport:
    """A crawl's two captures of the loopback bridge story imported (versions 1 and 2, five
    and three hours before START), then the live page, edited again, synced (version 3)."""
    url, title = server.url("/news/bridge"), "Old bridge to close for repairs"
    records = [
        Record(url, START - timedelta(hours=5), article_html(title, BRIDGE).encode()),
        Record(url, START - timedelta(hours=3), article_html(title, BRIDGE_EDITED).encode()),
    ]
    warc = write_warc(tmp_path / "crawl.warc.gz", records)
    assert cli(archive, "import", str(warc.path)).exit_code == 0
    server.set("/news/bridge", article_html(title, [*BRIDGE_EDITED, "Update: it reopens."]))
    return sync(archive, check_all=True)


def page(title: str, paragraphs: list[str]) -> bytes:
    return article_html(title, paragraphs, published="2024-03-01T06:00:00Z").encode()


def crawl() -> list[Record]:
    """Two stories at several times, out of time order in the file, and records to skip."""
    return [
        Record(STORY, at("2024-03-01T09:30:00"), page("Bridge to close", BRIDGE_EDITED), gzip=True),
        Record(STORY, at("2024-03-01T06:12:00"), page("Bridge to close", BRIDGE)),
        Record(OTHER, at("2024-03-01T07:00:00"), page("Harbour plans", HARBOUR)),
        Record(STORY, at("2024-03-01T12:00:00"), page("Bridge to close", BRIDGE_EDITED)),
        Record(
            "https://news.example.org/logo.png",
            at("2024-03-01T06:13:00"),
            b"\x89PNG",
            content_type="image/png",
        ),
        Record(
            "https://news.example.org/gone",
            at("2024-03-01T06:14:00"),
            b"<html>no</html>",
            status="404 Not Found",
        ),
        Record(
            "https://news.example.org/old",
            at("2024-03-01T06:15:00"),
            b"",
            status="301 Moved Permanently",
            headers=(("Location", "https://news.example.org/new"),),
        ),
        Record(OTHER, at("2024-03-01T08:00:00"), page("Harbour plans", [*HARBOUR, "More."])),
    ]


def versions_of(archive: Archive, url: str) -> list:  # type: ignore[type-arg]
    commits = [c for c in iter_commits(archive.repo) if c.url == url]
    return [c for c in commits if c.version]


def test_captures_become_versions_in_capture_order_dated_and_named_by_them(
    archive: Archive, tmp_path: Path
) -> None:
    warc = write_warc(tmp_path / "crawl.warc.gz", crawl(), cut_last=True)
    result = cli(archive, "import", str(warc.path))
    assert result.exit_code == 0, result.output
    # The last record (OTHER at 08:00) is cut short: one line naming file and offset.
    assert f"crawl.warc.gz: a record cut short at offset {warc.cut_at}" in result.output
    assert "Stored 3 versions of 2 articles from 4 pages" in result.output
    for skipped in (
        "1 not HTML",
        "1 error status (4xx/5xx)",
        "1 redirect",
        "1 cut short",
        "1 same text as the version before",
    ):
        assert skipped in result.output

    story = versions_of(archive, STORY)
    assert [c.trailers[fmt.FETCHED] for c in story] == [
        "2024-03-01T06:12:00Z",
        "2024-03-01T09:30:00Z",
    ]
    assert [c.trailers[fmt.VERSION] for c in story] == ["1", "2"]
    assert story[1].trailers[fmt.CHANGE] == fmt.CHANGE_EDIT
    # The commit's author date is the capture's time, as git shows it.
    dates = git(archive.root, "log", "--format=%aI", "--reverse", "--", _path(archive, STORY))
    assert dates.split() == ["2024-03-01T06:12:00+00:00", "2024-03-01T09:30:00+00:00"]
    # Where each came from, and its copy in captures/ with the Archiver-Capture trailer.
    ids = {warc.record_ids[1], warc.record_ids[0]}
    origins = {fmt.read_origin(c.trailers) for c in story}
    assert origins == {fmt.Origin(file="crawl.warc.gz", record_id=i) for i in ids}
    second = fmt.read_capture(story[1].trailers)
    assert second is not None
    response = read_response(archive.root, second)
    assert response.headers["content-encoding"] == "gzip"  # kept as served
    assert b"Bridge to close" in response.body
    text = read_blob(archive.repo, article_versions(archive.repo, _path(archive, STORY))[1].blob)
    assert parse_document(text).title == "Bridge to close"
    assert len(versions_of(archive, OTHER)) == 1
    assert cli(archive, "verify").exit_code == 0


def test_importing_again_adds_nothing(archive: Archive, tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "crawl.warc.gz", crawl())
    assert cli(archive, "import", str(warc.path)).exit_code == 0
    head = git(archive.root, "rev-parse", "HEAD")
    again = cli(archive, "import", str(warc.path))
    assert again.exit_code == 0, again.output
    assert "Stored 0 versions" in again.output
    assert "4 already in the archive" in again.output
    assert git(archive.root, "rev-parse", "HEAD") == head


def test_extraction_workers_store_what_extracting_in_turn_stores(
    archive: Archive, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import extracts in worker processes several captures ahead of the one it stores:
    an article's captures in flight together (each compared with the version before it,
    which is stored only once the one before is), a page with no article among them, and
    the same capture in two files give the very commits that extracting in turn gives."""
    texts = [BRIDGE, BRIDGE_EDITED, BRIDGE, [*BRIDGE_EDITED, "Update: it reopens."]]
    records = [
        Record(STORY, at(f"2024-03-01T06:{2 * n:02}:00"), page("Bridge to close", texts[n % 4]))
        for n in range(3 * AHEAD)
    ]
    records.insert(5, Record(STORY, at("2024-03-01T06:09:00"), b"<html><p>Gone.</p></html>"))
    records.append(Record(OTHER, at("2024-03-01T07:00:00"), page("Harbour plans", HARBOUR)))
    first = write_warc(tmp_path / "crawl.warc.gz", records)
    again = write_warc(tmp_path / "again.warc.gz", records[:4])

    def imported(into: Archive) -> tuple[str, str]:
        result = cli(into, "import", str(first.path), str(again.path))
        assert result.exit_code == 0, result.output
        story = git(
            into.root,
            "log",
            "--reverse",
            "--raw",
            "--no-abbrev",
            "--format=%aI %B",
            "--grep=^Archiver-URL:",
        )
        # Capture files are named by the run's time: the digests must agree, not the names.
        return result.output, re.sub(r"(?m)^(Archiver-Capture: )\S+ <[^>]+>", r"\1", story)

    pooled = imported(archive)
    monkeypatch.setattr("archiver.imports.files.import_workers", lambda: nullcontext())
    in_turn = imported(configure(init_archive(tmp_path / "in-turn", clock), min_delay=0))
    assert pooled == in_turn
    assert "1 failed extraction" in pooled[0]
    assert len(versions_of(archive, STORY)) == 3 * AHEAD


def test_patterns_and_dates_choose_the_captures(archive: Archive, tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "crawl.warc", crawl())  # not gzip'd
    result = cli(
        archive,
        "import",
        str(warc.path),
        "--exclude",
        "harbour",
        "--until",
        "2024-03-01T09:00:00Z",
        "--source",
        "daily",
    )
    assert result.exit_code == 0, result.output
    assert "Stored 1 versions of 1 articles" in result.output
    assert "2 left out by --include/--exclude" in result.output
    assert "2 outside --since/--until" in result.output
    (only,) = versions_of(archive, STORY)
    assert only.trailers[fmt.SOURCE] == "daily"
    assert not versions_of(archive, OTHER)


def test_bad_files_and_options_are_one_line_errors(archive: Archive, tmp_path: Path) -> None:
    missing = cli(archive, "import", str(tmp_path / "nothing.warc.gz"))
    assert missing.exit_code == 4
    assert "nothing.warc.gz: no such file" in missing.output
    (tmp_path / "bad.wacz").write_bytes(b"not a zip")
    bad = cli(archive, "import", str(tmp_path / "bad.wacz"))
    assert "bad.wacz: not a WACZ" in bad.output and "Traceback" not in bad.output
    pattern = cli(archive, "import", str(tmp_path / "bad.wacz"), "--include", "(")
    assert "--include '(': not a regular expression" in pattern.output
    date = cli(archive, "import", str(tmp_path / "bad.wacz"), "--since", "March")
    assert "--since 'March': not a date" in date.output
    assert git(archive.root, "log", "--format=%s").count("\n") == 2  # nothing committed


def _path(archive: Archive, url: str) -> str:
    state = archive.state.get(url)
    assert state is not None
    return state.path


def texts_by_version(archive: Archive, url: str) -> list[tuple[str, str, str]]:
    """Each version's number, capture time and stored text, oldest first."""
    versions = article_versions(archive.repo, _path(archive, url))
    return [
        (str(v.number), v.trailers[fmt.FETCHED], read_blob(archive.repo, v.blob) if v.blob else "")
        for v in versions
    ]


def test_an_exported_wacz_imported_into_a_new_archive_gives_the_same_versions(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    title = "Old bridge to close for repairs"
    server.set("/news/bridge", article_html(title, BRIDGE).encode(), gzip=True)
    server.set("/news/harbour", article_html("Harbour plans", HARBOUR).encode())
    add(archive, [server.url("/news/bridge"), server.url("/news/harbour")])
    for paragraphs in (BRIDGE_EDITED, BRIDGE):  # an edit, then a revert
        clock.advance(timedelta(hours=2))
        server.set("/news/bridge", article_html(title, paragraphs).encode())
        sync(archive, check_all=True)
    wacz = tmp_path / "export.wacz"
    assert cli(archive, "export-wacz", str(wacz)).exit_code == 0

    other_clock = FixedClock(START + timedelta(days=30))
    copy = configure(init_archive(tmp_path / "copy", other_clock), min_delay=0)
    result = cli(copy, "import", str(wacz))
    assert result.exit_code == 0, result.output
    assert "Stored 4 versions of 2 articles" in result.output
    for path in ("/news/bridge", "/news/harbour"):
        url = server.url(path)
        assert texts_by_version(copy, url) == texts_by_version(archive, url)
    reverted = versions_of(copy, server.url("/news/bridge"))[-1]
    assert reverted.trailers[fmt.REVERT_OF] == "1"
    origin = fmt.read_origin(reverted.trailers)
    assert origin is not None and origin.file.startswith("export.wacz/archive/")
    assert cli(copy, "verify").exit_code == 0
    copy.close()


def test_an_archive_built_by_import_and_kept_up_by_sync_has_one_history_in_order(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    """The crawl's captures of a page, then the live page synced: one article, one file,
    its versions numbered in capture order."""
    url = server.url("/news/bridge")
    report = import_then_sync(archive, server, tmp_path)
    assert [r.outcome for r in report.results] == [Outcome.CHANGED]
    history = texts_by_version(archive, url)
    assert [number for number, _, _ in history] == ["1", "2", "3"]
    times = [when for _, when, _ in history]
    assert times == sorted(times) and times[-1] == "2025-03-01T09:00:00Z"
    assert "Update: it reopens." in history[-1][2]
    paths = {c.article_change().path for c in iter_commits(archive.repo) if c.url == url}
    assert len(paths) == 1
    log = git(archive.root, "log", "--follow", "--format=%aI", "--", paths.pop())
    assert log.split() == sorted(log.split(), reverse=True)


def test_an_older_capture_takes_its_place_in_the_history(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    """Tracked from 09:00; a crawl from 06:00 holds an earlier text. The version it makes
    comes first in `archiver log`, the numbering and the site; the file keeps today's
    text, the next sync finds nothing new, and importing again adds nothing."""
    url = server.url("/news/bridge")
    title = "Old bridge to close for repairs"
    server.set("/news/bridge", article_html(title, BRIDGE_EDITED))
    add(archive, [url])
    clock.advance(timedelta(hours=2))
    latest = article_html(title, [*BRIDGE_EDITED, "Update: it reopens."])
    server.set("/news/bridge", latest)
    sync(archive, check_all=True)
    early = article_html(title, BRIDGE).encode()
    records = [
        Record(url, START - timedelta(hours=3), early),
        Record(url, START - timedelta(hours=2), early),  # the same text: nothing
        Record(url, START + timedelta(hours=1), latest.encode()),  # before its version: nothing
    ]
    warc = write_warc(tmp_path / "crawl.warc.gz", records)
    head = git(archive.root, "show", f"HEAD:{_path(archive, url)}")
    site = tmp_path / "site"
    build_site(archive, site, search=False)  # the next build is incremental
    result = cli(archive, "import", str(warc.path))
    assert result.exit_code == 0, result.output
    assert "Stored 1 versions of 1 articles" in result.output
    assert "1 same text as the version before" in result.output
    assert "1 same text as the version after" in result.output

    history = texts_by_version(archive, url)
    assert [(n, when) for n, when, _ in history] == [
        ("1", "2025-03-01T06:00:00Z"),
        ("2", "2025-03-01T09:00:00Z"),
        ("3", "2025-03-01T11:00:00Z"),
    ]
    assert "Update" not in history[0][2] and "Update: it reopens." in history[2][2]
    assert git(archive.root, "show", f"HEAD:{_path(archive, url)}") == head
    log = cli(archive, "log", url)
    lines = log.output.splitlines()
    assert [line.split()[0] for line in lines if line.startswith("v")] == ["v1", "v2", "v3"]
    assert "2025-03-01 06:00" in lines[0]
    assert lines[1].strip() == "from crawl.warc.gz, captured 2025-03-01 06:00"  # shown as such
    state = archive.state.get(url)
    assert state is not None and state.versions == 3

    clock.advance(timedelta(hours=1))
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    again = cli(archive, "import", str(warc.path))
    assert "Stored 0 versions" in again.output, again.output

    assert build_site(archive, site, search=False).incremental
    assert_same_as_full_build(archive, site, tmp_path, search=False)
    folder = next((site / "articles").rglob("v1.html")).parent
    first = (folder / "v1.html").read_text()
    assert "2025-03-01" in first and "06:00" in first
    assert "it reopens" in (folder / "v3.html").read_text()
    assert "it reopens" not in first
    assert not (folder / "v4.html").exists()


def test_an_older_capture_of_a_removed_article_leaves_it_removed(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    url = server.url("/news/bridge")
    title = "Old bridge to close for repairs"
    server.set("/news/bridge", article_html(title, BRIDGE_EDITED))
    add(archive, [url])
    server.set("/news/bridge", b"gone", status=410)
    for _ in range(3):
        clock.advance(timedelta(hours=3))
        sync(archive, check_all=True)
    path = _path(archive, url)
    assert archive.state.get(url).removed  # type: ignore[union-attr]
    early = Record(url, START - timedelta(hours=3), article_html(title, BRIDGE).encode())
    warc = write_warc(tmp_path / "crawl.warc.gz", [early])
    result = cli(archive, "import", str(warc.path))
    assert "Stored 1 versions" in result.output, result.output
    assert path not in git(archive.root, "ls-tree", "-r", "--name-only", "HEAD")
    assert archive.state.get(url).removed  # type: ignore[union-attr]
    assert [n for n, _, _ in texts_by_version(archive, url)][:2] == ["1", "2"]

"""`archiver import`: WARC and WACZ records through the sync's pipeline, as versions dated by
their captures, with the records that cannot be versions counted and skipped."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import app
from archiver.store import format as fmt
from archiver.store.captures import read_response
from archiver.store.document import parse_document
from archiver.store.history import article_versions, iter_commits, read_blob

from .conftest import git
from .newsserver import article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR
from .warcs import Record, at, write_warc

runner = CliRunner()

STORY = "https://news.example.org/2024/03/01/bridge-to-close"
OTHER = "https://news.example.org/2024/03/01/harbour-plans"


def cli(archive: Archive, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--archive", str(archive.root)])


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

"""`archiver backfill`: a real pywb on loopback, its collection made from warcio WARCs,
asked over HTTP for its CDX lines and its originals (`id_`), exactly as web.archive.org
would be."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import app
from archiver.errors import ArticleError
from archiver.imports.backfill import Server, collapsed, parse_cdx
from archiver.store import format as fmt
from archiver.store.captures import read_response
from archiver.store.history import iter_commits
from tests.webarchive import Collection, wayback

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


def captures() -> list[Record]:
    first = page("Bridge to close", BRIDGE)
    return [
        Record(STORY, at("2024-03-01T06:12:00"), first),
        Record(STORY, at("2024-03-01T07:00:00"), first),  # the same payload: collapsed
        Record(STORY, at("2024-03-01T09:30:00"), page("Bridge to close", BRIDGE_EDITED), gzip=True),
        Record(STORY, at("2024-03-01T10:00:00"), b"<html>gone</html>", status="404 Not Found"),
        Record(OTHER, at("2024-03-01T07:00:00"), page("Harbour plans", HARBOUR)),
    ]


@pytest.fixture
def collection(tmp_path: Path) -> Collection:
    warc = write_warc(tmp_path / "crawl.warc.gz", captures())
    made = Collection.create(tmp_path / "pywb")
    made.add(warc.path)
    return made


def versions_of(archive: Archive, url: str) -> list:  # type: ignore[type-arg]
    return [c for c in iter_commits(archive.repo) if c.url == url and c.version]


def test_backfill_stores_a_pywb_collections_captures_as_versions_in_time_order(
    archive: Archive, collection: Collection
) -> None:
    with wayback(collection) as server:
        address = f"{server.base}/{server.collection}"
        result = cli(archive, "backfill", STORY, "--from", address)
        assert result.exit_code == 0, result.output
        assert "Stored 2 versions of 1 articles from 2 pages" in result.output
        story = versions_of(archive, STORY)
        assert [c.trailers[fmt.FETCHED] for c in story] == [
            "2024-03-01T06:12:00Z",
            "2024-03-01T09:30:00Z",
        ]
        assert [fmt.read_origin(c.trailers) for c in story] == [
            fmt.Origin(url=server.raw_url("20240301061200", STORY)),
            fmt.Origin(url=server.raw_url("20240301093000", STORY)),
        ]
        origin = fmt.read_origin(story[0].trailers)
        assert origin is not None
        assert origin.replay == server.replay_url("20240301061200", STORY)
        ref = fmt.read_capture(story[1].trailers)
        assert ref is not None
        kept = read_response(archive.root, ref)
        assert kept.url == STORY and b"Bridge to close" in kept.body
        assert not versions_of(archive, OTHER)  # only the article asked for
        log = cli(archive, "log", STORY).output
        replay = server.replay_url("20240301061200", STORY)
        host = server.base.removeprefix("http://")
        assert f"from {host}, captured 2024-03-01 06:12 {replay}" in log

        again = cli(archive, "backfill", STORY, "--from", address)
        assert again.exit_code == 0, again.output
        assert "Stored 0 versions" in again.output
        assert "2 already in the archive" in again.output
    assert len(versions_of(archive, STORY)) == 2


def test_a_server_that_is_not_there_is_one_line_per_article(archive: Archive) -> None:
    result = cli(archive, "backfill", STORY, "--from", "http://127.0.0.1:9/none")
    assert result.exit_code == 0, result.output
    assert f"{STORY}: the CDX API at http://127.0.0.1:9/none/cdx failed" in result.output
    assert "Traceback" not in result.output
    bad = cli(archive, "backfill", STORY, "--from", "ftp://example.org/x")
    assert bad.exit_code == 4 and "--from 'ftp://example.org/x'" in bad.output


def test_cdx_addresses_follow_the_collection() -> None:
    assert Server.of("https://web.archive.org/web").cdx == "https://web.archive.org/cdx/search/cdx"
    assert Server.of("http://127.0.0.1:8080/news/").cdx == "http://127.0.0.1:8080/news/cdx"
    assert Server.of("http://h/x", "http://h/api").cdx == "http://h/api"


# web.archive.org's own answer to output=json, as it spells it (an array under a header).
_BRIDGE = "https://news.example.org/2024/03/01/bridge"
ARCHIVE_ORG_ANSWER = json.dumps(
    [
        ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
        [
            "org,example,news)/2024/03/01/bridge",
            "20240301061200",
            _BRIDGE,
            "text/html",
            "200",
            "AAAA",
            "5120",
        ],
        [
            "org,example,news)/2024/03/01/bridge",
            "20240301070000",
            _BRIDGE,
            "text/html",
            "200",
            "AAAA",
            "5120",
        ],
        [
            "org,example,news)/2024/03/01/bridge",
            "20240301093000",
            _BRIDGE,
            "text/html",
            "200",
            "BBBB",
            "5200",
        ],
    ]
).replace("], [", "],\n[")  # one row a line, as it answers


def test_both_json_spellings_of_a_cdx_answer_are_read() -> None:
    wayback_rows = collapsed(parse_cdx(ARCHIVE_ORG_ANSWER, "cdx"))
    assert [s.timestamp for s in wayback_rows] == ["20240301061200", "20240301093000"]
    assert wayback_rows[0].when == datetime(2024, 3, 1, 6, 12, tzinfo=UTC)
    lines = "\n".join(
        json.dumps({"timestamp": t, "url": "https://e.org/a", "status": "200", "digest": d})
        for t, d in (("20240301093000", "B"), ("20240301061200", "A"))
    )
    assert [s.timestamp for s in collapsed(parse_cdx(lines, "cdx"))] == [
        "20240301061200",
        "20240301093000",
    ]
    assert parse_cdx("", "cdx") == []
    with pytest.raises(ArticleError, match="not a CDX answer"):
        parse_cdx("<html>", "cdx")

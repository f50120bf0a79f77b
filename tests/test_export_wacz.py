"""`archiver export-wacz`: a WACZ the wacz package validates and a real pywb replays, whose
records are the archive's own, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.archive import Archive
from archiver.cli import app
from archiver.errors import ExportError
from archiver.export.wacz import export_wacz, surt, warc_timestamp
from archiver.store.captures import CaptureReader, read_response
from archiver.store.format import CaptureRef, read_capture
from archiver.store.history import iter_commits
from archiver.sync import add
from tests.newsserver import NewsServer, article_html
from tests.pages import BRIDGE, BRIDGE_EDITED
from tests.webarchive import Collection, fetch, record_versions, tool, validate_wacz, wayback

runner = CliRunner()
WARCIO = Path(sys.executable).with_name("warcio")
TITLE = "Old bridge to close for repairs"

URLS = [
    "http://127.0.0.1:8123/news/a-story?b=2&a=1",
    "https://www.example.org/news/bridge-closes",
    "https://www2.Example.co.uk/",
    "https://example.org:443/x",
    "http://example.org:8080/x/y.html",
    "https://news.example.org/2025/03/01/story?id=7&page=2",
    "https://example.org/caf%C3%A9?q=a%20b",
]


def test_keys_are_the_ones_pywb_looks_urls_up_by() -> None:
    """The CDXJ keys are SURTs as pywb's own surt library makes them, for the URLs archiver
    records: a key spelt otherwise would leave its capture unreachable in a player."""
    python = tool("python")
    script = "import json, sys, surt; print(json.dumps([surt.surt(u) for u in sys.argv[1:]]))"
    done = subprocess.run(
        [str(python), "-c", script, *URLS], capture_output=True, text=True, check=True
    )
    assert [surt(url) for url in URLS] == json.loads(done.stdout)


def test_warc_dates_become_fourteen_digit_timestamps() -> None:
    assert warc_timestamp("2025-03-01T12:00:05Z") == "20250301120005"
    assert warc_timestamp("2025-03-01T12:00:05.123456Z") == "20250301120005"


PAGES = [
    b"<!doctype html><title>Bridge to close</title><p>The old bridge closes.</p>",
    b"<!doctype html><title>Bridge to close</title><p>The old bridge closes on Friday.</p>",
    b"<!doctype html><title>Bridge to close</title><p>The old bridge closes.</p>",  # a revert
]


def test_the_package_validates_and_pywb_replays_each_version_as_captured(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    captured = record_versions(archive, server, "/news/bridge", "daily", PAGES)
    record_versions(archive, server, "/other/story", "other", PAGES[:1])
    url, other = server.url("/news/bridge"), server.url("/other/story")
    out = tmp_path / "daily.wacz"

    report = export_wacz(archive, out, sources=["daily"])

    assert (report.articles, report.versions, report.problems) == (1, 3, [])
    assert captured[2].revisit and not captured[0].revisit  # a revert: the same payload
    assert read_response(archive.root, captured[1].ref).headers["content-encoding"] == "gzip"
    validate_wacz(out)
    with zipfile.ZipFile(out) as package:
        names = package.namelist()
        warc = package.read("archive/data.warc.gz")
        stored = package.getinfo("archive/data.warc.gz").compress_type
        pages = [json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()]
    assert names[:3] == ["archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl"]
    assert stored == zipfile.ZIP_STORED
    assert [p.get("title") for p in pages[1:]] == [f"Story {n} (version {n})" for n in (1, 2, 3)]
    assert {p["url"] for p in pages[1:]} == {url}

    inner = tmp_path / "data.warc.gz"
    inner.write_bytes(warc)
    check = subprocess.run([str(WARCIO), "check", "-v", str(inner)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout
    ids = _record_ids(inner)
    assert {c.ref.record_id for c in captured} <= ids  # the commits' records, ids kept

    collection = Collection.create(tmp_path / "pywb")
    collection.add(out)
    with wayback(collection) as pywb:
        for capture in captured:
            response = read_response(archive.root, capture.ref)
            address = pywb.raw_url(warc_timestamp(capture.date), url)
            status, headers, served = fetch(address, accept_encoding="gzip")
            assert (status, served) == (200, response.payload)  # the bytes as captured
            assert headers["Content-Type"] == response.headers["content-type"]
            assert headers.get("Content-Encoding") == response.headers.get("content-encoding")
            assert fetch(address)[2] == response.body  # decoded for a client without gzip
        status, _, _ = fetch(pywb.raw_url(warc_timestamp(captured[0].date), other))
        assert status == 404  # another source's article is not in the package


def _record_ids(path: Path) -> set[str]:
    with path.open("rb") as stream:
        return {r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(stream)}


def test_a_version_whose_capture_does_not_match_is_left_out_with_a_line(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    wrong = "sha256:" + "0" * 64
    record_versions(archive, server, "/news/bridge", "daily", PAGES[:2], digest={2: wrong})
    report = export_wacz(archive, tmp_path / "out.wacz")
    assert report.versions == 1
    assert len(report.problems) == 1
    assert "version 2" in report.problems[0] and "digest does not match" in report.problems[0]
    validate_wacz(tmp_path / "out.wacz")


def test_missing_captures_export_nothing_and_leave_no_file(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    captured = record_versions(archive, server, "/news/bridge", "daily", PAGES[:1])
    (archive.root / captured[0].ref.path).unlink()
    out = tmp_path / "out.wacz"
    with pytest.raises(ExportError, match=r"nothing to export .*not found"):
        export_wacz(archive, out)
    assert list(tmp_path.glob("out.wacz*")) == []


def test_the_command_names_a_bad_source_or_file_in_one_line(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    record_versions(archive, server, "/news/bridge", "daily", PAGES[:1])
    url = server.url("/news/bridge")
    root = str(archive.root)
    for args, wanted in (
        (["--source", "nope"], "--source nope: no such source"),
        ([], "a WACZ file's name ends in .wacz"),
    ):
        name = "out.wacz" if args else "out.zip"
        result = runner.invoke(app, ["export-wacz", str(tmp_path / name), *args, "-a", root])
        assert result.exit_code == 4, result.output
        assert result.output.count("error:") == 1 and wanted in result.output

    result = runner.invoke(app, ["export-wacz", str(tmp_path / "one.wacz"), url, "-a", root])
    assert result.exit_code == 0, result.output
    assert "1 versions of 1 articles" in result.output


def test_a_redirected_capture_keeps_its_hops_and_pywb_replays_the_first_address(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    """A version fetched through a redirect is exported with every hop of its capture (and
    nothing of the capture written beside it at the same instant), so a player asked for
    the address first linked follows the redirect to the version."""
    old, new, other = server.url("/old"), server.url("/news/bridge"), server.url("/news/other")
    server.set("/old", b"", status=301, headers={"Location": "/news/bridge"})
    server.set("/news/bridge", article_html(TITLE, BRIDGE))
    server.set("/news/other", article_html("Other story", BRIDGE_EDITED))
    add(archive, [old, other])
    out = tmp_path / "all.wacz"

    report = export_wacz(archive, out)

    assert (report.versions, report.problems) == (2, [])
    validate_wacz(out)
    inner = tmp_path / "data.warc.gz"
    with zipfile.ZipFile(out) as package:
        inner.write_bytes(package.read("archive/data.warc.gz"))
    with inner.open("rb") as stream:
        kinds = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
            for r in ArchiveIterator(stream)
            if r.rec_type != "warcinfo"
        ]
    hops = [("request", old), ("response", old), ("request", new), ("response", new)]
    assert sorted(kinds) == sorted([*hops, ("request", other), ("response", other)])
    fetched = CaptureReader(archive.root).read(_ref_of(archive, (old, new))).date
    timestamp = fetched.strftime("%Y%m%d%H%M%S")
    collection = Collection.create(tmp_path / "pywb")
    collection.add(out)
    with wayback(collection) as pywb:
        # As a reader browses it: the redirect replayed, its Location rewritten into the
        # collection, and followed to the version.
        status, _, served = fetch(pywb.content_url(timestamp, old))
    assert status == 200 and f"<title>{TITLE} - The Daily Example</title>" in served.decode()


def _ref_of(archive: Archive, urls: tuple[str, ...]) -> CaptureRef:
    for commit in iter_commits(archive.repo):
        ref = read_capture(commit.trailers)
        if ref is not None and commit.url in urls:
            return ref
    raise AssertionError(f"no capture names {urls}")

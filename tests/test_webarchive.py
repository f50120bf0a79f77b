"""The pywb fixture itself: a WARC written with warcio is replayed byte for byte by a real
wayback on loopback, whose whole process group is gone once the block ends."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests import webarchive
from tests.webarchive import Collection, fetch, wayback

PAGE = "<!doctype html><title>Bridge</title><p>The old bridge closes \u2014 for good.</p>".encode()


def write_warc(path: Path, url: str, body: bytes) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": "2025-03-01T12:00:00Z"},
        )
        writer.write_record(record)


def test_wayback_replays_a_warc_byte_for_byte(tmp_path: Path) -> None:
    url = "https://news.example/2025/bridge"
    warc = tmp_path / "one.warc.gz"
    write_warc(warc, url, PAGE)
    collection = Collection.create(tmp_path / "pywb")
    collection.add(warc)
    assert "example,news)/2025/bridge 20250301120000" in collection.index.read_text()
    with wayback(collection) as server:
        status, headers, body = fetch(server.raw_url("20250301120000", url))
        missing_status, _, _ = fetch(server.raw_url("20250301120000", url + "-other"))
        group = server.pid
        assert _group_alive(group)
    assert status == 200, body[:300]
    assert body == PAGE
    assert headers["Content-Type"].startswith("text/html")
    assert missing_status == 404
    assert not _group_alive(group)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(webarchive, "WEBARCHIVE_BIN", tmp_path / "nothing-here")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run wayback"):
        webarchive.tool("wayback")
    monkeypatch.delenv("CI")
    with pytest.raises(webarchive.ToolMissing):
        webarchive.tool("wayback")

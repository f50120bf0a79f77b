"""Records read again by offset and length (each gzip member inflated once, a file open
per WARC) are the records warcio reads from the start of the file, in every container an
import takes: a WARC, a WARC.gz, and a WACZ holding either, stored or compressed. The index
pass's own walk over gzip members finds what warcio's iterator finds."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.imports.warcs import Index, Records, _index_stream, index_files

from .pages import BRIDGE, HARBOUR
from .test_import import OTHER, STORY, page
from .warcs import Record, at, write_warc


def records() -> list[Record]:
    return [
        Record(STORY, at("2024-03-01T06:12:00"), page("Bridge to close", BRIDGE), gzip=True),
        Record(OTHER, at("2024-03-01T07:00:00"), page("Harbour plans", HARBOUR)),
        Record(STORY, at("2024-03-01T09:30:00"), page("Bridge to close", [*BRIDGE, "More."])),
    ]


def sequential(data: bytes) -> dict[str, tuple[str, list[tuple[str, str]], bytes]]:
    """Each response's status line, headers and payload, as warcio reads the file through."""
    import io

    found = {}
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            http = record.http_headers
            payload = record.raw_stream.read()
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            found[record_id] = (http.statusline, list(http.headers), payload)
    return found


@pytest.mark.parametrize(
    ("name", "wacz"),
    [
        ("crawl.warc", None),
        ("crawl.warc.gz", None),
        ("crawl.warc.gz", zipfile.ZIP_STORED),
        ("crawl.warc", zipfile.ZIP_DEFLATED),
    ],
)
def test_records_read_by_offset_are_those_read_in_order(
    tmp_path: Path, name: str, wacz: int | None
) -> None:
    warc = write_warc(tmp_path / name, records()).path
    expected = sequential(warc.read_bytes())
    given = warc
    if wacz is not None:
        given = tmp_path / "crawl.wacz"
        with zipfile.ZipFile(given, "w", compression=wacz) as package:
            package.writestr("datapackage.json", "{}")
            package.write(warc, f"archive/{name}")
    index = index_files([given])
    assert not index.problems
    responses = [e for e in index.entries if e.type == "response"]
    assert len(responses) == len(expected) == 3
    with Records() as reader:
        for entry in reversed(responses):  # not in file order, as capture order is not
            response = reader.read(entry)
            status, headers, payload = expected[entry.record_id]
            assert f"{response.status} {response.reason}" == status
            assert response.payload == payload
            assert list(response.headers) == headers


def warcio_index(path: Path) -> Index:
    """The index as warcio's iterator makes it, reading the file through."""
    index = Index([], [])
    with path.open("rb") as stream:
        _index_stream(path, "", stream, index)
    return index


@pytest.mark.parametrize("form", ["members", "torn", "gzip'd whole", "plain"])
def test_the_index_pass_finds_what_warcio_finds(tmp_path: Path, form: str) -> None:
    name = "crawl.warc" if form == "plain" else "crawl.warc.gz"
    written = write_warc(tmp_path / name, records(), cut_last=form == "torn")
    if form == "gzip'd whole":  # one member for the file: no record can be read by offset
        inflated = gzip.decompress(written.path.read_bytes())
        written.path.write_bytes(gzip.compress(inflated))
    expected = warcio_index(written.path)
    index = index_files([written.path])
    assert index == expected
    assert len(index.entries) == {"torn": 2, "gzip'd whole": 0}.get(form, 3)
    if form == "torn":
        assert index.problems == [f"{written.path}: a record cut short at offset {written.cut_at}"]
    if form == "gzip'd whole":
        (problem,) = index.problems
        assert "not a multi-member gzip" in problem

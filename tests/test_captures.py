"""Captures as WARC: real exchanges fetched from a site on loopback, written by the capture
writer, read back with warcio and by the capture reader, and `warcio check` passing on
every file; the Archiver-Capture trailer's grammar."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import io
import random
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from archiver.config import FetchConfig
from archiver.errors import CaptureDigestMismatch, CaptureError, CaptureMissing, HTTPStatusError
from archiver.fetch.client import Exchange, open_fetcher, user_agent
from archiver.store import format as archive_format
from archiver.store.captures import (
    REFERS_TO_FILENAME,
    Captured,
    CaptureReader,
    CaptureWriter,
    _read_all,
    capture_files,
    ignore_captures,
    payload_digest,
    read_response,
)
from archiver.store.format import CaptureRef, capture_trailer, read_capture

from .newsserver import NewsServer, article_html
from .pages import HARBOUR

FAST = FetchConfig(timeout=5, min_delay=0, retries=0)
RUN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PAGE = article_html("Harbour quotas cut catch", HARBOUR).encode()
WARCIO = Path(sys.executable).with_name("warcio")


def exchanges(url: str) -> list[Exchange]:
    """What a real fetch of `url` sent and received, every hop (an error answer too)."""
    record: list[Exchange] = []

    async def run() -> None:
        async with open_fetcher(FAST, user_agent()) as fetcher:
            with contextlib.suppress(HTTPStatusError):
                await fetcher.fetch(url, record=record)

    asyncio.run(run())
    return record


def warcio_check(root: Path) -> None:
    """`warcio check` (digest verification) on every capture file under `root`."""
    files = [str(root / p) for p in capture_files(root)]
    assert files
    done = subprocess.run([str(WARCIO), "check", "-v", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "digest pass" in done.stdout


def warc_records(path: Path) -> list[tuple[str, str, str | None, bytes]]:
    """(type, target URI, status, payload) of each record, as warcio reads the file."""
    from warcio.archiveiterator import ArchiveIterator

    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            status = record.http_headers.get_statuscode() if record.http_headers else None
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            payload = _read_all(record.raw_stream)
            found.append((record.rec_type, uri, status, payload))
    return found


def test_a_page_is_kept_as_served_and_read_back(tmp_path: Path, server: NewsServer) -> None:
    server.set("/news/harbour", PAGE, gzip=True)
    hops = exchanges(server.url("/news/harbour"))
    assert len(hops) == 1 and gzip.decompress(hops[0].body) == PAGE
    assert dict(hops[0].headers).get("Content-Encoding") == "gzip"
    with CaptureWriter(tmp_path, RUN) as writer:
        captured = writer.write("example", hops, RUN + timedelta(seconds=5))
    ref = captured.ref
    assert ref.path == "captures/2025/03/01/example-20250301T090000Z.warc.gz"
    assert ref.digest == payload_digest(hops[0].body)  # the body as served: still gzip'd
    records = warc_records(tmp_path / ref.path)
    assert [r[0] for r in records] == ["warcinfo", "request", "response"]
    assert records[2][1] == server.url("/news/harbour") and records[2][2] == "200"
    assert records[2][3] == hops[0].body
    response = read_response(tmp_path, ref)
    assert response.body == PAGE  # content-encoding undone, ready for extraction
    assert response.payload == hops[0].body
    assert response.status == 200 and response.url == server.url("/news/harbour")
    assert response.date == RUN + timedelta(seconds=5)
    assert response.charset == "utf-8"
    warcio_check(tmp_path)


def test_redirect_hops_and_error_answers_are_recorded(tmp_path: Path, server: NewsServer) -> None:
    server.set("/old", b"", status=301, headers={"Location": "/news/harbour"})
    server.set("/news/harbour", PAGE)
    server.set("/gone", b"<h1>Not here</h1>", status=410)
    redirected = exchanges(server.url("/old"))
    gone = exchanges(server.url("/gone"))
    assert [h.status for h in redirected] == [301, 200]
    assert [h.status for h in gone] == [410] and gone[0].body == b"<h1>Not here</h1>"
    with CaptureWriter(tmp_path, RUN) as writer:
        moved = writer.write("example", redirected, RUN)
        removed = writer.write("example", gone, RUN)
    records = warc_records(tmp_path / moved.ref.path)
    responses = [(r[1], r[2]) for r in records if r[0] == "response"]
    assert responses == [
        (server.url("/old"), "301"),
        (server.url("/news/harbour"), "200"),
        (server.url("/gone"), "410"),
    ]
    assert read_response(tmp_path, moved.ref).body == PAGE
    assert moved.uri == server.url("/news/harbour")
    gone_response = read_response(tmp_path, removed.ref)
    assert gone_response.status == 410 and gone_response.body == b"<h1>Not here</h1>"
    warcio_check(tmp_path)


def test_an_identical_payload_becomes_a_revisit(tmp_path: Path, server: NewsServer) -> None:
    server.set("/news/harbour", PAGE)
    first_hops = exchanges(server.url("/news/harbour"))
    again_hops = exchanges(server.url("/news/harbour"))
    later = RUN + timedelta(hours=1)
    with CaptureWriter(tmp_path, RUN) as writer:
        first = writer.write("example", first_hops, RUN)
    with CaptureWriter(tmp_path, later) as writer:
        again = writer.write("example", again_hops, later, earlier=[first])
    assert again.revisit and not first.revisit
    assert again.ref.path != first.ref.path and again.ref.digest == first.ref.digest
    from warcio.archiveiterator import ArchiveIterator

    with (tmp_path / again.ref.path).open("rb") as stream:
        revisit = next(r for r in ArchiveIterator(stream) if r.rec_type == "revisit")
        headers = revisit.rec_headers
        assert headers.get_header("WARC-Profile").endswith("/1.1/revisit/identical-payload-digest")
        assert headers.get_header("WARC-Refers-To") == first.ref.record_id
        assert headers.get_header("WARC-Refers-To-Target-URI") == first.uri
        assert headers.get_header("WARC-Refers-To-Date") == first.date
        assert headers.get_header("WARC-Date").startswith("2025-03-01T10:00:00")
    response = read_response(tmp_path, again.ref)
    assert response.revisit and response.body == PAGE and response.path == first.ref.path
    assert response.date == later  # when it was seen again, not when first
    warcio_check(tmp_path)


def test_records_are_what_warcios_record_builder_makes(tmp_path: Path, server: NewsServer) -> None:
    """The writer serialises records itself (for speed): each must be byte for byte what
    warcio's own builder makes of the same exchange, ids and dates given."""
    server.set("/old", b"", status=301, headers={"Location": "/news/harbour"})
    server.set("/news/harbour", PAGE, gzip=True)
    redirected = exchanges(server.url("/old"))
    odd = Exchange(  # header values received as Latin-1 text: %-encoded, as warcio does
        server.url("/news/harbour"),
        (("Host", "127.0.0.1"),),
        200,
        "",
        (("Content-Disposition", 'attachment; filename="caf\xe9.html"'), ("X-Note", "na\xefve")),
        redirected[-1].body,
    )
    with CaptureWriter(tmp_path, RUN) as writer:
        first = writer.write("example", redirected, RUN)
        again = writer.write("example", [odd], RUN + timedelta(minutes=1), earlier=[first])
        seen = writer.write("example", [odd], RUN, earlier=[first], bare_revisit=True)
    written = gzip_members(tmp_path / first.ref.path)[1:]  # after the warcinfo record
    ids = [record_field(record, b"WARC-Record-ID") for record in written]
    date, later = "2025-03-01T09:00:00.000000Z", "2025-03-01T09:01:00.000000Z"
    expected = [
        warcio_request(redirected[0], date, ids[0], ids[1]),
        warcio_response(redirected[0], date, ids[1]),
        warcio_request(redirected[1], date, ids[2], ids[3]),
        warcio_response(redirected[1], date, ids[3]),
        warcio_request(odd, later, ids[4], ids[5]),
        warcio_revisit(odd, later, ids[5], first),
        warcio_revisit(odd, date, ids[6], first),
    ]
    assert ids[3] == first.ref.record_id and ids[5] == again.ref.record_id
    assert ids[6] == seen.ref.record_id and len(set(ids)) == len(ids)
    assert b"filename*=UTF-8''caf%C3%A9.html" in written[5]
    assert written == expected
    warcio_check(tmp_path)


def gzip_members(path: Path) -> list[bytes]:
    """Each gzip member of a capture file, inflated: one record each."""
    data, members = path.read_bytes(), []
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        members.append(inflater.decompress(data))
        data = inflater.unused_data
    return members


def record_field(record: bytes, name: bytes) -> str:
    lines = record.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    return next(line.split(b": ", 1)[1] for line in lines if line.startswith(name)).decode()


class SHA256Writer(WARCWriter):  # type: ignore[misc]
    """warcio's own record building and writing, with the trailers' sha256."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def warcio_bytes(record: ArcWarcRecord) -> bytes:
    out = io.BytesIO()
    SHA256Writer(out, gzip=False, warc_version="1.1").write_record(record)
    return out.getvalue()


def warc_digest(body: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode()


def http_response(hop: Exchange) -> StatusAndHeaders:
    status = f"{hop.status} {hop.reason}".strip()
    return StatusAndHeaders(status, list(hop.headers), protocol=f"HTTP/{hop.version}")


def warcio_response(hop: Exchange, date: str, record_id: str) -> bytes:
    fields = {"WARC-Record-ID": record_id, "WARC-Date": date}
    fields["WARC-Payload-Digest"] = warc_digest(hop.body)
    builder = SHA256Writer(io.BytesIO(), warc_version="1.1")
    record = builder.create_warc_record(
        hop.url,
        "response",
        payload=io.BytesIO(hop.body),
        length=len(hop.body),
        http_headers=http_response(hop),
        warc_headers_dict=fields,
    )
    return warcio_bytes(record)


def warcio_revisit(hop: Exchange, date: str, record_id: str, original: Captured) -> bytes:
    fields = {"WARC-Record-ID": record_id, "WARC-Date": date}
    fields["WARC-Refers-To"] = original.ref.record_id
    fields[REFERS_TO_FILENAME] = original.ref.path
    builder = SHA256Writer(io.BytesIO(), warc_version="1.1")
    record = builder.create_revisit_record(
        hop.url, warc_digest(hop.body), original.uri, original.date, http_response(hop), fields
    )
    return warcio_bytes(record)


def warcio_request(hop: Exchange, date: str, record_id: str, response_id: str) -> bytes:
    parts = urlsplit(hop.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    line = f"GET {target} HTTP/{hop.version}"
    http = StatusAndHeaders(line, list(hop.request), is_http_request=True)
    fields = {"WARC-Record-ID": record_id, "WARC-Date": date, "WARC-Concurrent-To": response_id}
    builder = SHA256Writer(io.BytesIO(), warc_version="1.1")
    record = builder.create_warc_record(
        hop.url, "request", io.BytesIO(b""), 0, http_headers=http, warc_headers_dict=fields
    )
    return warcio_bytes(record)


def test_files_rotate_and_a_taken_name_is_never_appended_to(tmp_path: Path) -> None:
    body = random.Random(1).randbytes(4000)  # what gzip cannot shrink below the limit
    hop = Exchange("http://127.0.0.1/a", (("Host", "127.0.0.1"),), 200, "OK", (), body)
    with CaptureWriter(tmp_path, RUN, rotate_bytes=2000) as writer:
        refs = [writer.write("example", [hop], RUN).ref for _ in range(3)]
    assert [r.path.rsplit("/", 1)[1] for r in refs] == [
        "example-20250301T090000Z.warc.gz",
        "example-20250301T090000Z-1.warc.gz",
        "example-20250301T090000Z-2.warc.gz",
    ]
    with CaptureWriter(tmp_path, RUN) as writer:  # a second run in the same second
        later = writer.write("example", [hop], RUN).ref
    assert later.path.endswith("-3.warc.gz")
    assert len({r.record_id for r in [*refs, later]}) == 4
    assert all(read_response(tmp_path, r).body == hop.body for r in [*refs, later])
    warcio_check(tmp_path)


def test_the_same_captures_make_the_same_refs(tmp_path: Path) -> None:
    hop = Exchange("http://127.0.0.1/a", (), 200, "OK", (("Content-Type", "text/html"),), PAGE)
    made = []
    for name in ("one", "two"):
        with CaptureWriter(tmp_path / name, RUN) as writer:
            made.append(writer.write("example", [hop], RUN).ref)
    assert made[0] == made[1]


def test_a_torn_last_record_leaves_the_earlier_ones_readable(tmp_path: Path) -> None:
    hop = Exchange("http://127.0.0.1/a", (), 200, "OK", (), PAGE)
    with CaptureWriter(tmp_path, RUN) as writer:
        kept = writer.write("example", [hop], RUN).ref
        torn = writer.write("example", [hop], RUN + timedelta(seconds=1)).ref
    path = tmp_path / kept.path
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # the last member cut short, as a crash would
    reader = CaptureReader(tmp_path)
    assert reader.read(kept).body == PAGE
    torn_at = rf"{kept.path}: record {torn.record_id}: not found: the file is damaged at offset"
    with pytest.raises(CaptureError, match=rf"{torn_at} \d+ \(a record cut short\)"):
        reader.read(torn)


def test_a_changed_byte_or_a_missing_file_is_named(tmp_path: Path) -> None:
    hop = Exchange("http://127.0.0.1/a", (), 200, "OK", (), PAGE)
    with CaptureWriter(tmp_path, RUN) as writer:
        ref = writer.write("example", [hop], RUN).ref
    other = CaptureRef(ref.path, ref.record_id, payload_digest(b"another page"))
    with pytest.raises(CaptureDigestMismatch, match=f"{ref.path}: record {ref.record_id}: "):
        read_response(tmp_path, other)
    path = tmp_path / ref.path
    data = bytearray(path.read_bytes())
    data[len(data) - 300] ^= 0x01  # inside the response's compressed payload
    path.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match=f"{ref.path}: record {ref.record_id}: "):
        read_response(tmp_path, ref)
    (tmp_path / ref.path).unlink()
    with pytest.raises(CaptureMissing, match=f"{ref.path}: .*capture file missing"):
        read_response(tmp_path, ref)


def test_captures_are_ignored_by_git_in_an_older_archive(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".archiver/\n")
    git_dir = tmp_path / ".git"
    ignore_captures(tmp_path, git_dir)
    ignore_captures(tmp_path, git_dir)
    exclude = (git_dir / "info" / "exclude").read_text()
    assert exclude.splitlines().count("/captures/") == 1


# --- the trailer ----------------------------------------------------------------------

REF = CaptureRef(
    "captures/2025/03/01/example-20250301T090000Z.warc.gz",
    "<urn:uuid:0f8d2b8e-5d46-5d0c-9f5e-0a1b2c3d4e5f>",
    "sha256:" + "ab" * 32,
)


def test_the_trailer_round_trips() -> None:
    trailers = capture_trailer(REF)
    assert list(trailers) == [archive_format.CAPTURE]
    assert read_capture(trailers) == REF
    assert read_capture({archive_format.CAPTURE.lower(): trailers[archive_format.CAPTURE]}) == REF
    assert read_capture({}) is None
    assert archive_format.CAPTURE in archive_format.TRAILERS


@pytest.mark.parametrize(
    "value",
    [
        "captures/../../etc/passwd <urn:uuid:0f8d2b8e-5d46-5d0c-9f5e-0a1b2c3d4e5f> sha256:"
        + "a" * 64,
        "/tmp/x.warc.gz <urn:uuid:0f8d2b8e-5d46-5d0c-9f5e-0a1b2c3d4e5f> sha256:" + "a" * 64,
        REF.path + " <urn:uuid:nope> sha256:" + "a" * 64,
        REF.path + " " + REF.record_id + " sha1:" + "a" * 40,
        REF.path + " " + REF.record_id,
    ],
)
def test_a_malformed_trailer_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=archive_format.CAPTURE):
        read_capture({archive_format.CAPTURE: value})


def test_a_digest_given_by_the_caller_writes_the_same_file(
    tmp_path: Path, server: NewsServer
) -> None:
    """An import hashes the payload once (for its known-capture check) and passes the digest
    on: the capture file is the one the writer makes hashing the payload itself."""
    server.set("/news/harbour", PAGE, gzip=True)
    hops = exchanges(server.url("/news/harbour"))
    given, computed = tmp_path / "given", tmp_path / "computed"
    when = RUN + timedelta(seconds=5)
    with CaptureWriter(given, RUN) as writer:
        first = writer.write("example", hops, when, digest=payload_digest(hops[0].body))
        again = writer.write("example", hops, when, [first], digest=payload_digest(hops[0].body))
    with CaptureWriter(computed, RUN) as writer:
        writer.write("example", hops, when, [writer.write("example", hops, when)])
    assert again.revisit and first.ref.digest == payload_digest(hops[0].body)
    path = first.ref.path
    assert (given / path).read_bytes() == (computed / path).read_bytes()
    warcio_check(given)

"""WARC files written by warcio for the import tests: invented pages captured at chosen
times, and the records an import must skip (images, 404s, redirects, a record cut short)."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Record:
    """One response as a crawler captured it."""

    url: str
    when: datetime
    body: bytes
    status: str = "200 OK"
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    gzip: bool = False  # served with Content-Encoding: gzip


@dataclass
class Written:
    path: Path
    record_ids: list[str] = field(default_factory=list)  # of each Record, in order
    cut_at: int | None = None  # offset of the record cut short, when one was


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write_warc(path: Path, records: list[Record], cut_last: bool = False) -> Written:
    """The records as a gzip'd WARC (one member each), a request before each response;
    `cut_last` leaves the last record's member short, as a crawl killed mid-write does."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=path.name.endswith(".gz"), warc_version="1.1")
    written = Written(path)
    offsets = []
    for record in records:
        body = gzip.compress(record.body, mtime=0) if record.gzip else record.body
        headers = [("Content-Type", record.content_type), *record.headers]
        if record.gzip:
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(record.status, headers, protocol="HTTP/1.1")
        date = record.when.strftime("%Y-%m-%dT%H:%M:%SZ")
        response = writer.create_warc_record(
            record.url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": date},
        )
        request = writer.create_warc_record(
            record.url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=StatusAndHeaders(
                "GET / HTTP/1.1", [("Host", "example.org")], is_http_request=True
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(request)
        offsets.append(out.tell())
        writer.write_record(response)
        written.record_ids.append(response.rec_headers.get_header("WARC-Record-ID"))
    data = out.getvalue()
    if cut_last:
        written.cut_at = offsets[-1]
        data = data[: offsets[-1] + (len(data) - offsets[-1]) // 2]
    path.write_bytes(data)
    return written

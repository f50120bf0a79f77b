"""Captures: the HTTP exchanges versions were made from, kept as WARC/1.1 (ISO 28500) files
beside git, read with warcio, the web-archiving field's library, and written here: a
capture's records are serialised directly, header for header as warcio writes them (its
generic record building cost a sync more than the records' bytes), and compressed with
ISA-L (a tenth of zlib's time at level 6, for about 15 % more bytes).

A run writes one gzip'd WARC per source (`format.capture_file`), each record its own gzip
member: a warcinfo record, then per capture a `request` and `response` pair for every hop
(redirects' 3xx answers included). A capture whose payload the article already has in a
capture becomes a `revisit` record (identical-payload-digest profile) naming that response.
Each capture is appended with one write, on a thread of its own while the run goes on; the
files are fsync'd once per checkpoint (`sync`), before the commits that name their records
are published: a commit can only name a record that is on disk, and a run killed mid-write
leaves at worst a torn last member, which readers skip and the next run (a new file) never
appends to.

Record ids are derived from the file's path and the record's place in it, and dates come
from the clock passed in, so the same captures under a FixedClock make the same trailers.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from isal import isal_zlib

from archiver.errors import CaptureDigestMismatch, CaptureError, CaptureMissing
from archiver.store.format import (
    CAPTURE_PATH,
    CAPTURES_DIR,
    CaptureRef,
    capture_file,
)

ROTATE_BYTES = 100_000_000  # a run's file for a source is closed and the next begun past this
# WARC extension field on a revisit: the capture file (relative to the archive) of the
# response it refers to, so a reader finds it without an index of every file.
REFERS_TO_FILENAME = "WARC-Refers-To-Filename"
IGNORE_LINE = f"/{CAPTURES_DIR}/"
_CHUNK = 1 << 16
GZIP_LEVEL = isal_zlib.ISAL_DEFAULT_COMPRESSION  # 2 of ISA-L's 0-3: zlib 1's size, 4x as fast
_HEAD = 8192  # enough of a record to hold its WARC headers
_ID_NAMESPACE = uuid.UUID("6f1d7c1e-8b7a-4d0e-9a55-2f0c3b1e4a77")


class HTTPExchange(Protocol):
    """One request and its response as they crossed the wire (fetch.client.Exchange)."""

    @property
    def url(self) -> str: ...
    @property
    def request(self) -> Sequence[tuple[str, str]]: ...  # header lines sent, in order
    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...  # header lines received, in order
    @property
    def body(self) -> bytes: ...  # as served: content-encoding kept
    @property
    def version(self) -> str: ...  # HTTP version, "1.1"


@dataclass(frozen=True)
class Captured:
    """A capture written: its ref, and what a later revisit of it names."""

    ref: CaptureRef
    uri: str  # WARC-Target-URI of the response (the last hop's URL)
    date: str  # its WARC-Date
    revisit: bool = False  # written as a revisit of an earlier response


def payload_digest(body: bytes) -> str:
    """The `sha256:<hex>` digest a trailer records of a response's payload."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def warc_date(when: datetime) -> str:
    """WARC/1.1 date: UTC, to the microsecond."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ignore_captures(root: Path, git_dir: Path) -> None:
    """Keep captures/ out of git: named in .git/info/exclude unless .gitignore names it
    (archives made before captures existed ignore only .archiver/)."""
    ignore = root / ".gitignore"
    names = {IGNORE_LINE, f"{CAPTURES_DIR}/", f"/{CAPTURES_DIR}"}
    if ignore.is_file() and names & set(ignore.read_text(encoding="utf-8").splitlines()):
        return
    exclude = git_dir / "info" / "exclude"
    existing = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
    if names & set(existing.splitlines()):
        return
    exclude.parent.mkdir(parents=True, exist_ok=True)
    sep = "" if not existing or existing.endswith("\n") else "\n"
    exclude.write_text(f"{existing}{sep}{IGNORE_LINE}\n", encoding="utf-8")


class _File:
    """One open capture file of a run: appended to by whole captures (one write each, so a
    killed process leaves whole records), fsync'd by sync() before commits name them. A
    capture's records are compressed and written on a thread of their own (zlib lets go of
    the GIL), while the run goes on to its next result; the next capture of the file, or
    sync(), waits for it first, so the file's order and size are as if written in line."""

    def __init__(self, root: Path, path: str) -> None:
        self.path = path
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: a file is only ever written by the run that made it, never appended to.
        self.fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        _fsync_dir(target.parent)
        self.size = 0
        self.records = 0
        self.unsynced = False
        self._pending: Future[None] | None = None

    def record_id(self) -> str:
        self.records += 1
        return f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{self.path}#{self.records}')}>"

    def append_later(self, thread: Executor, records: Callable[[], list[bytes]]) -> None:
        """The records `records` makes, compressed (a gzip member each) and appended, all
        on `thread`."""
        self.wait()
        self._pending = thread.submit(lambda: self.append(_compressed(records())))

    def wait(self) -> None:
        """The capture being written, written (its error, if any, raised here)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.unsynced = True
        self.size += len(data)

    def sync(self) -> None:
        self.wait()
        if self.unsynced:
            os.fsync(self.fd)
            self.unsynced = False

    def close(self) -> None:
        self.sync()
        os.close(self.fd)


class CaptureWriter:
    """Writes one run's captures: a file per source, rotated past `rotate_bytes`."""

    def __init__(
        self,
        root: Path,
        run: datetime,
        software: str = "archiver",
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        self.root = Path(root)
        self.run = run
        self.software = software
        self.rotate_bytes = rotate_bytes
        self._files: dict[str, _File] = {}
        self._next: dict[str, int] = {}  # per source: the n of its next file
        self._writing: ThreadPoolExecutor | None = None  # compresses and writes captures

    def write(
        self,
        source: str,
        exchanges: Sequence[HTTPExchange],
        when: datetime,
        earlier: Iterable[Captured] = (),
        bare_revisit: bool = False,
        digest: str | None = None,
    ) -> Captured:
        """The capture of one fetch (its hops in order, the last the page's response),
        written (on the writing thread) before the file's next capture, and durable once
        sync() has run. Its payload already among `earlier` (the article's captured
        responses) makes the last hop a revisit of that response; with `bare_revisit` such a
        capture keeps no request records (an unchanged check kept only to say the page was
        seen: a few hundred bytes). `digest`: the page's payload digest (`sha256:<hex>`),
        when the caller has computed it already (an import, checking for known captures)."""
        if not exchanges:
            raise ValueError("a capture needs at least one exchange")
        file = self._file(source)
        date = warc_date(when)
        final = exchanges[-1]
        if digest is None:
            sha256 = hashlib.sha256(final.body).digest()  # the one pass over the page here
            digest = "sha256:" + sha256.hex()
        else:
            sha256 = bytes.fromhex(digest.removeprefix("sha256:"))
        original = next((c for c in earlier if c.ref.digest == digest and not c.revisit), None)
        requests = not (bare_revisit and original is not None)
        hops: list[_Hop] = []
        for index, exchange in enumerate(exchanges):
            record_id = file.record_id()
            request_id = file.record_id() if requests else ""
            if index == len(exchanges) - 1:
                hops.append(_Hop(exchange, record_id, request_id, _b32(sha256), original))
            else:
                hops.append(_Hop(exchange, record_id, request_id))
        # The records are built, digested and compressed on the writing thread: hashlib and
        # ISA-L let go of the GIL, so the run goes on meanwhile.
        file.append_later(self._thread(), lambda: _records(hops, date))
        ref = CaptureRef(file.path, record_id, digest)
        return Captured(ref, final.url, date, revisit=original is not None)

    def sync(self) -> None:
        """Every capture written so far on disk, durably: called before the commits that
        name them are published (one fsync per file and checkpoint, not one per capture)."""
        for file in self._files.values():
            file.sync()

    def close(self) -> None:
        try:
            for file in self._files.values():
                file.close()
        finally:
            self._files.clear()
            if self._writing is not None:
                self._writing.shutdown()
                self._writing = None

    def _thread(self) -> Executor:
        if self._writing is None:
            self._writing = ThreadPoolExecutor(1, thread_name_prefix="captures")
        return self._writing

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _file(self, source: str) -> _File:
        file = self._files.get(source)
        if file is not None:
            file.wait()  # its size, with the capture being written
        if file is not None and file.size < self.rotate_bytes:
            return file
        if file is not None:
            file.close()
        file = self._files[source] = self._open(source)
        return file

    def _open(self, source: str) -> _File:
        """The source's next file: one no run has written (a killed run's file, torn end
        and all, is left as it is)."""
        n = self._next.get(source, 0)
        while (self.root / capture_file(source, self.run, n)).exists():
            n += 1
        self._next[source] = n + 1
        file = _File(self.root, capture_file(source, self.run, n))
        writer = _writer()
        info = {
            "software": self.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        }
        record = writer.create_warcinfo_record(file.path.rsplit("/", 1)[-1], info)
        record.rec_headers.replace_header("WARC-Record-ID", file.record_id())
        record.rec_headers.replace_header("WARC-Date", warc_date(self.run))
        writer.write_record(record)  # warcio's, uncompressed: gzip'd as the others below
        file.append(_compressed([writer.out.getvalue()]))
        return file


def _compressed(records: list[bytes]) -> bytes:
    """Each record a gzip member of its own (warcio's own gzip is zlib at level 9, which
    costs a sync several times the time for a few per cent of size)."""
    members = []
    for record in records:
        deflate = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
        members.append(deflate.compress(record) + deflate.flush())
    return b"".join(members)


def _writer() -> Any:
    from warcio.utils import Digester
    from warcio.warcwriter import WARCWriter

    class SHA256Writer(WARCWriter):  # warcio is untyped
        """Block and payload digests in sha256, as the trailers record them."""

        @staticmethod
        def _create_digester() -> Any:
            return Digester("sha256")

    return SHA256Writer(io.BytesIO(), gzip=False, warc_version="1.1")


@dataclass(frozen=True)
class _Hop:
    """One exchange of a capture, with the ids of its records."""

    exchange: HTTPExchange
    record_id: str  # its response's (or revisit's)
    request_id: str  # its request's; "" for a capture without requests
    payload_digest: str = ""  # WARC-Payload-Digest, when already known
    original: Captured | None = None  # the response a revisit names


def _records(hops: Sequence[_Hop], date: str) -> list[bytes]:
    """A capture's records, uncompressed: per hop its request, then its response (the last
    hop's a revisit when it has an original)."""
    records = []
    for hop in hops:
        if hop.request_id:
            records.append(_request_record(hop.exchange, date, hop.request_id, hop.record_id))
        if hop.original is not None:
            records.append(_revisit_record(hop, date))
        else:
            records.append(_response_record(hop, date))
    return records


_HTTP_RESPONSE = "application/http; msgtype=response"
_HTTP_REQUEST = "application/http; msgtype=request"
_REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
_EMPTY_DIGEST = "sha256:" + base64.b32encode(hashlib.sha256(b"").digest()).decode("ascii")


def _warc_record(
    fields: list[tuple[str, str]], content_type: str, block: bytes, payload: bytes = b""
) -> bytes:
    """A WARC/1.1 record of `block` then `payload`, its fields followed by the block's digest,
    type and length, in warcio's order and encoding."""
    digest = hashlib.sha256(block)
    digest.update(payload)
    fields.append(("WARC-Block-Digest", _b32(digest.digest())))
    fields.append(("Content-Type", content_type))
    fields.append(("Content-Length", str(len(block) + len(payload))))
    head = "WARC/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields)
    return b"".join((head.encode("utf-8"), b"\r\n", block, payload, b"\r\n\r\n"))


def _response_record(hop: _Hop, date: str) -> bytes:
    exchange = hop.exchange
    fields = [
        ("WARC-Record-ID", hop.record_id),
        ("WARC-Date", date),
        ("WARC-Payload-Digest", hop.payload_digest or _warc_digest(exchange.body)),
        ("WARC-Type", "response"),
        ("WARC-Target-URI", exchange.url),
    ]
    return _warc_record(fields, _HTTP_RESPONSE, _response_head(exchange), exchange.body)


def _revisit_record(hop: _Hop, date: str) -> bytes:
    exchange, original = hop.exchange, hop.original
    assert original is not None
    fields = [
        ("WARC-Record-ID", hop.record_id),
        ("WARC-Date", date),
        ("WARC-Refers-To", original.ref.record_id),
        (REFERS_TO_FILENAME, original.ref.path),
        ("WARC-Type", "revisit"),
        ("WARC-Target-URI", exchange.url),
        ("WARC-Profile", _REVISIT_PROFILE),
        ("WARC-Refers-To-Target-URI", original.uri),
        ("WARC-Refers-To-Date", original.date),
        ("WARC-Payload-Digest", hop.payload_digest or _warc_digest(exchange.body)),
    ]
    return _warc_record(fields, _HTTP_RESPONSE, _response_head(exchange))


def _request_record(exchange: HTTPExchange, date: str, record_id: str, response_id: str) -> bytes:
    fields = [
        ("WARC-Record-ID", record_id),
        ("WARC-Date", date),
        ("WARC-Concurrent-To", response_id),
        ("WARC-Type", "request"),
        ("WARC-Target-URI", exchange.url),
        ("WARC-Payload-Digest", _EMPTY_DIGEST),
    ]
    return _warc_record(fields, _HTTP_REQUEST, _request_head(exchange))


def _b32(sha256: bytes) -> str:
    """WARC's spelling of a sha256 digest: base32, as warcio and pywb write them."""
    return "sha256:" + base64.b32encode(sha256).decode("ascii")


def _warc_digest(body: bytes) -> str:
    return _b32(hashlib.sha256(body).digest())


def _response_head(exchange: HTTPExchange) -> bytes:
    status = f"{exchange.status} {exchange.reason}".strip()
    return _http_head(f"HTTP/{exchange.version} {status}", exchange.headers)


def _request_head(exchange: HTTPExchange) -> bytes:
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _http_head(f"GET {target} HTTP/{exchange.version}", exchange.request)


def _http_head(line: str, headers: Sequence[tuple[str, str]]) -> bytes:
    """An HTTP message's start line and header lines, as warcio writes them: in ASCII, or
    (a rare header value that is not) %-encoded by warcio, per RFC 8187."""
    text = line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers)
    try:
        return text.encode("ascii") + b"\r\n"
    except UnicodeEncodeError:
        from warcio.statusandheaders import StatusAndHeaders

        protocol, status = line.split(" ", 1)
        return bytes(StatusAndHeaders(status, list(headers), protocol).to_ascii_bytes())


def _fsync_dir(folder: Path) -> None:
    """A new file's name is durable only once its folder is."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CapturedResponse:
    """A version's response as captured: ready for decode_html and extraction."""

    path: str  # the capture file holding the payload (a revisit's original's)
    record_id: str  # the record the ref named
    url: str  # WARC-Target-URI
    date: datetime  # WARC-Date: when it was fetched
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""  # content-encoding undone
    payload: bytes = b""  # as served
    revisit: bool = False

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'") or None
        return None


@dataclass
class _Index:
    offsets: dict[str, int]
    error: str = ""  # why reading stopped before the file's end (a torn or damaged member)


@dataclass(frozen=True)
class _Record:
    type: str
    warc: dict[str, str]
    status: int
    headers: list[tuple[str, str]]
    payload: bytes


class CaptureReader:
    """Reads captures by ref, indexing each file once (record id → offset)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._indexes: dict[str, _Index] = {}

    def read(self, ref: CaptureRef) -> CapturedResponse:
        """The response `ref` names, a revisit followed to its original, its payload
        checked against the ref's digest. Raises CaptureError naming file and record."""
        record = self._record(ref.path, ref.record_id)
        path, revisit = ref.path, record.type == "revisit"
        if revisit:
            original_id = record.warc.get("warc-refers-to", "")
            path = record.warc.get(REFERS_TO_FILENAME.lower(), ref.path)
            if not CAPTURE_PATH.fullmatch(path):
                raise CaptureError(ref.path, ref.record_id, f"revisit names a bad file {path!r}")
            original = self._record(path, original_id)
            if original.type != "response":
                raise CaptureError(path, original_id, f"a revisit's original is {original.type}")
            payload = original.payload
        elif record.type == "response":
            payload = record.payload
        else:
            raise CaptureError(ref.path, ref.record_id, f"a {record.type} record, not a response")
        got = payload_digest(payload)
        if got != ref.digest:
            raise CaptureDigestMismatch(
                path, ref.record_id, f"payload digest {got} is not the commit's {ref.digest}"
            )
        headers: dict[str, str] = {}
        for name, value in record.headers:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        body = _decoded(payload, headers.get("content-encoding", ""), path, ref.record_id)
        return CapturedResponse(
            path,
            ref.record_id,
            record.warc.get("warc-target-uri", ""),
            _parse_date(record.warc.get("warc-date", ""), path, ref.record_id),
            record.status,
            headers,
            body,
            payload,
            revisit,
        )

    def original(self, ref: CaptureRef) -> Captured:
        """The response a revisit of `ref`'s payload is to name, as its record tells it (the
        target URI and date a revisit repeats): `ref`'s own, or the one it is a revisit of.
        Raises CaptureError naming file and record."""
        record = self._record(ref.path, ref.record_id)
        if record.type == "revisit":
            path = record.warc.get(REFERS_TO_FILENAME.lower(), ref.path)
            if not CAPTURE_PATH.fullmatch(path):
                raise CaptureError(ref.path, ref.record_id, f"revisit names a bad file {path!r}")
            ref = CaptureRef(path, record.warc.get("warc-refers-to", ""), ref.digest)
            record = self._record(ref.path, ref.record_id)
        if record.type != "response":
            raise CaptureError(ref.path, ref.record_id, f"a {record.type} record, not a response")
        if (got := payload_digest(record.payload)) != ref.digest:
            raise CaptureDigestMismatch(
                ref.path, ref.record_id, f"payload digest {got} is not the commit's {ref.digest}"
            )
        warc = record.warc
        return Captured(ref, warc.get("warc-target-uri", ""), warc.get("warc-date", ""))

    def records(self, path: str) -> _Index:
        """The file's records (id → offset) up to its end or its first unreadable member."""
        index = self._indexes.get(path)
        if index is None:
            index = self._indexes[path] = self._scan(path)
        return index

    def _file(self, path: str, record_id: str) -> Path:
        if not CAPTURE_PATH.fullmatch(path):
            raise CaptureError(path, record_id, "not a capture file path")
        target = self.root / path
        if not target.is_file():
            raise CaptureMissing(path, record_id, "capture file missing")
        return target

    def _scan(self, path: str) -> _Index:
        """Each gzip member (one record each, as the writer makes them) inflated to its end,
        so a torn or damaged member and those after it are not taken for records."""
        offsets: dict[str, int] = {}
        with self._file(path, "").open("rb") as stream:
            offset, data = 0, b""
            while data or (data := stream.read(_CHUNK)):
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                head, fed = b"", 0
                try:
                    while not inflater.eof:
                        if not data and not (data := stream.read(_CHUNK)):
                            return _Index(offsets, f"offset {offset} (a record cut short)")
                        fed += len(data)
                        out = inflater.decompress(data)
                        data = b""
                        if len(head) < _HEAD:
                            head += out[: _HEAD - len(head)]
                except zlib.error as err:
                    return _Index(offsets, f"offset {offset} ({_describe(err)})")
                data = inflater.unused_data
                offsets[_record_id(head)] = offset
                offset += fed - len(data)
        return _Index(offsets)

    def _record(self, path: str, record_id: str) -> _Record:
        from warcio.archiveiterator import ArchiveIterator

        target = self._file(path, record_id)
        index = self.records(path)
        offset = index.offsets.get(record_id)
        if offset is None and index.error:
            raise CaptureError(path, record_id, f"not found: the file is damaged at {index.error}")
        if offset is None:
            raise CaptureMissing(path, record_id, "no such record in the file")
        try:
            with target.open("rb") as stream:
                stream.seek(offset)
                record = next(iter(ArchiveIterator(stream)))
                warc = {k.lower(): v for k, v in record.rec_headers.headers}
                if warc.get("warc-record-id") != record_id:
                    raise CaptureError(path, record_id, "another record is at its offset")
                http = record.http_headers
                status = int(http.get_statuscode() or 0) if http else 0
                headers = list(http.headers) if http else []
                payload = _read_all(record.raw_stream)
        except CaptureError:
            raise
        except Exception as err:
            raise CaptureError(path, record_id, f"unreadable: {_describe(err)}") from None
        return _Record(record.rec_type, warc, status, headers, payload)


def read_response(archive_root: Path, ref: CaptureRef) -> CapturedResponse:
    """The response a commit's capture trailer names (see CaptureReader.read)."""
    return CaptureReader(archive_root).read(ref)


def capture_files(archive_root: Path) -> Iterator[str]:
    """Every capture file of the archive, as archive paths, oldest day first."""
    folder = Path(archive_root) / CAPTURES_DIR
    for path in sorted(folder.glob("*/*/*/*.warc.gz")):
        name = path.relative_to(archive_root).as_posix()
        if CAPTURE_PATH.fullmatch(name):
            yield name


def _record_id(head: bytes) -> str:
    for line in head.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"warc-record-id":
            return value.strip().decode("ascii", "replace")
    return ""


def _read_all(stream: Any) -> bytes:
    """warcio's streams give a buffer at a time."""
    chunks = []
    while chunk := stream.read(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(payload: bytes, encoding: str, path: str, record_id: str) -> bytes:
    try:
        return content_decoded(payload, encoding)
    except ValueError as err:
        raise CaptureError(path, record_id, str(err)) from None


def content_decoded(payload: bytes, encoding: str) -> bytes:
    """A payload as served with its Content-Encoding undone; ValueError saying why not."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return payload
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(payload, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(payload)
            except zlib.error:
                return zlib.decompress(payload, -zlib.MAX_WBITS)
    except zlib.error as err:
        raise ValueError(f"body cannot be decoded ({err})") from None
    raise ValueError(f"unsupported content encoding {encoding[:40]!r}")


def _parse_date(value: str, path: str, record_id: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CaptureError(path, record_id, f"bad WARC-Date {value[:40]!r}") from None


def _describe(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:200]

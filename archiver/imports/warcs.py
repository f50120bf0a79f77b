"""Reading web archives made by other tools: WARC files (gzip'd or not) and WACZ packages
(a zip whose archive/ folder holds WARCs), with warcio.

A file is read twice: once for an index of its response records (where each is, its URL,
time, status and type; no bodies kept), so that every page's captures can be taken in time
order across files, then each wanted record again by its offset and length (a file kept
open per WARC for the whole import). Both passes inflate gzip members with ISA-L and hand
warcio's record loader the record from memory: warcio's own reader inflates with zlib, in
small pieces, at two to three times the cost. A file whose members are not one record
each (a WARC gzip'd whole, which warcio reads but cannot seek into) is indexed by warcio
alone. A record cut short (a torn download, a crawl killed mid-write) ends the reading of
its file with one problem naming the file and offset; the records before it are kept.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any, cast

from isal import isal_zlib

from archiver.errors import ArchiverError

WACZ_SUFFIX = ".wacz"
WACZ_ARCHIVE = "archive/"
_CHUNK = 1 << 16
_GZIP = b"\x1f\x8b"
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)  # its stub calls it an instance
_ZIP_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... name and extra lengths


class ReadError(ArchiverError):
    """A web-archive file that cannot be read at all (missing, not a WARC or WACZ)."""


class RecordError(ArchiverError):
    """A record the index found that cannot be read again (the file changed meanwhile)."""


@dataclass(frozen=True)
class Entry:
    """A response record of a web-archive file, as the index pass found it (no body)."""

    file: Path  # the WARC or WACZ file given
    member: str  # inside a WACZ, the WARC's name in the zip; "" for a WARC file
    offset: int  # where the record starts in the WARC (the member's, in a WACZ)
    length: int  # its bytes there (its gzip member, in a WARC.gz)
    url: str  # WARC-Target-URI
    date: datetime  # WARC-Date
    record_id: str  # WARC-Record-ID
    type: str  # "response" or "revisit"
    status: int  # the HTTP status (0 when the record holds no HTTP response)
    content_type: str  # the HTTP Content-Type, lower case

    @property
    def name(self) -> str:
        """The file as the Archiver-Origin trailer names it: its name, not its folder."""
        return f"{self.file.name}/{self.member}" if self.member else self.file.name


@dataclass(frozen=True)
class Response:
    """A response record read in full: its HTTP status line, headers and payload as the
    WARC holds it (content-encoding kept; chunking undone)."""

    entry: Entry
    status: int
    reason: str
    protocol: str  # "1.1"
    headers: tuple[tuple[str, str], ...]
    payload: bytes


@dataclass
class Index:
    """The response records of some files, and the problems met reading them."""

    entries: list[Entry]
    problems: list[str]


def index_files(paths: list[Path]) -> Index:
    """The response and revisit records of every WARC and WACZ file given."""
    index = Index([], [])
    for path in paths:
        if not path.is_file():
            raise ReadError(f"{path}: no such file")
        for member in _members(path):
            found = Index([], [])
            try:
                with _open(path, member) as stream:
                    _index_members(path, member, stream, found)
            except _NotPerRecord:
                found = Index([], [])
                with _open(path, member) as stream:
                    _index_stream(path, member, stream, found)
            index.entries += found.entries
            index.problems += found.problems
    return index


class Records:
    """Reads the records index entries name, by offset and length: a file kept open per
    WARC (a stored WACZ member read from the zip file itself), each record's gzip member
    inflated once, by ISA-L, and parsed by warcio from memory."""

    def __init__(self) -> None:
        self._files: dict[Path, IO[bytes]] = {}
        self._members: dict[tuple[Path, str], tuple[IO[bytes], int]] = {}  # stream, start
        self._packages: list[zipfile.ZipFile] = []

    def read(self, entry: Entry) -> Response:
        """The record an index entry names."""
        stream, start = self._stream(entry.file, entry.member)
        stream.seek(start + entry.offset)
        try:
            record = _loaded(io.BytesIO(_inflated(stream.read(entry.length))))
            http = record.http_headers
            payload = _payload(record, http)
        except (_INFLATE_ERROR, OSError, EOFError, ValueError, StopIteration) as err:
            where = f"{entry.file}{'/' + entry.member if entry.member else ''}"
            raise RecordError(
                f"{where}: unreadable at offset {entry.offset} ({err})"[:300]
            ) from None
        return _response(entry, http, payload)

    def close(self) -> None:
        for stream in [*self._files.values(), *(s for s, _ in self._members.values())]:
            stream.close()
        for package in self._packages:
            package.close()
        self._files.clear()
        self._members.clear()
        self._packages.clear()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stream(self, path: Path, member: str) -> tuple[IO[bytes], int]:
        """An open stream of the WARC, and where the WARC starts in it."""
        if not member:
            if path not in self._files:
                self._files[path] = path.open("rb")
            return self._files[path], 0
        key = (path, member)
        if key not in self._members:
            self._members[key] = self._open_member(path, member)
        return self._members[key]

    def _open_member(self, path: Path, member: str) -> tuple[IO[bytes], int]:
        """A WACZ's WARC: stored (as WACZ packages keep them), read straight from the zip
        file at its data's offset; compressed, through zipfile (seeking back re-inflates)."""
        package = zipfile.ZipFile(path)
        self._packages.append(package)
        info = package.getinfo(member)
        if info.compress_type != zipfile.ZIP_STORED:
            return package.open(member), 0
        raw = path.open("rb")
        raw.seek(info.header_offset)
        signature, name_length, extra_length = _ZIP_LOCAL_HEADER.unpack(
            raw.read(_ZIP_LOCAL_HEADER.size)
        )
        if signature != b"PK\x03\x04":
            raw.close()
            raise ReadError(f"{path}/{member}: not a WACZ (a damaged zip entry)")
        return raw, info.header_offset + _ZIP_LOCAL_HEADER.size + name_length + extra_length


def _inflated(data: bytes) -> bytes:
    """A record as read: its gzip member(s) inflated, or as it is in an uncompressed WARC."""
    if not data.startswith(_GZIP):
        return data
    parts = []
    while data.startswith(_GZIP):
        inflate = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
        parts.append(inflate.decompress(data))
        if not inflate.eof:
            raise EOFError("its gzip member stops short")
        data = inflate.unused_data
    return b"".join(parts)


class _NotPerRecord(Exception):
    """A WARC that is not gzip'd record by record, or a member this pass cannot read (warcio
    reads the file instead, and says what is wrong with it)."""


@dataclass(frozen=True)
class _Member:
    """A gzip member as the index pass sees it: the start of its inflated bytes (a record's
    headers), how many there are and the last few, and its length in the file."""

    head: bytes
    size: int
    tail: bytes
    length: int


def _index_members(path: Path, member: str, stream: IO[bytes], index: Index) -> None:
    """Indexes a WARC.gz member by member, each inflated by ISA-L (only a member's end says
    where the next starts) and its record's headers parsed from memory. Raises
    _NotPerRecord for a WARC it leaves to warcio."""
    where = f"{path}{'/' + member if member else ''}"
    pending = stream.read(_CHUNK)
    if not pending.startswith(_GZIP):
        raise _NotPerRecord
    offset = 0
    while pending:
        found, pending = _next_member(stream, pending)
        record = _headers_of(found) if found is not None else None
        if found is None or record is None:
            index.problems.append(f"{where}: a record cut short at offset {offset}")
            return
        if (entry := _entry(path, member, offset, found.length, record)) is not None:
            index.entries.append(entry)
        offset += found.length


def _headers_of(found: _Member) -> Any | None:
    """The member's record, headers parsed (its block not read); None when the block stops
    short of its Content-Length."""
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.limitreader import LimitReader

    buffer = io.BytesIO(found.head)
    try:
        record = _loaded(buffer)
    except (ArchiveLoadFailed, ValueError, EOFError):
        raise _NotPerRecord from None
    stream = record.raw_stream
    if not isinstance(stream, LimitReader):  # no Content-Length: warcio reads to the end
        raise _NotPerRecord
    end = buffer.tell() + stream.limit
    if found.size < end:
        return None
    left = found.size - end
    if left > len(found.tail) or found.tail[len(found.tail) - left :].strip():
        raise _NotPerRecord  # more than a record in the member
    return record


def _loaded(buffer: io.BytesIO) -> Any:
    """One record from memory, parsed by warcio's record loader (as its iterator would)."""
    return _loader().parse_record_stream(buffer, known_format="warc")


@cache
def _loader() -> Any:
    """warcio's record loader: its header parsers keep nothing between records."""
    from warcio.recordloader import ArcWarcRecordLoader

    return ArcWarcRecordLoader(verify_http=False)


_HEAD_KEPT = 1 << 18  # of a member's inflated bytes: ample for a record's headers
_TAIL_KEPT = 64  # the blank lines after a record, and then some


def _next_member(stream: IO[bytes], pending: bytes) -> tuple[_Member | None, bytes]:
    """The gzip member `pending` starts (more read from the stream as needed), or None when
    the file ends inside it, and the bytes read past it."""
    inflate = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
    head, tail, size, length = bytearray(), b"", 0, 0
    try:
        while not inflate.eof:
            if not pending:
                pending = stream.read(_CHUNK)
                if not pending:
                    return None, b""
            out = inflate.decompress(pending)
            length += len(pending) - len(inflate.unused_data)
            pending = inflate.unused_data
            if len(head) < _HEAD_KEPT:
                head += out[: _HEAD_KEPT - len(head)]
            tail = (tail + out[-_TAIL_KEPT:])[-_TAIL_KEPT:]
            size += len(out)
    except _INFLATE_ERROR:
        return None, b""
    return _Member(bytes(head), size, tail, length), pending or stream.read(_CHUNK)


def _response(entry: Entry, http: Any, payload: bytes) -> Response:
    status_line = http.statusline if http else ""
    code, _, reason = status_line.partition(" ")
    protocol = (http.protocol if http else "HTTP/1.1").removeprefix("HTTP/")
    headers = tuple(
        (name, value) for name, value in (http.headers if http else []) if not _hop_header(name)
    )
    return Response(entry, int(code) if code.isdigit() else 0, reason, protocol, headers, payload)


def _members(path: Path) -> list[str]:
    """The WARCs to read in a file: [""] for a WARC, a WACZ's archive/*.warc[.gz]."""
    if path.suffix.lower() != WACZ_SUFFIX:
        return [""]
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError) as err:
        raise ReadError(f"{path}: not a WACZ ({err})") from None
    members = [
        name
        for name in names
        if name.startswith(WACZ_ARCHIVE) and name.endswith((".warc", ".warc.gz"))
    ]
    if not members:
        raise ReadError(f"{path}: a WACZ with no WARC under {WACZ_ARCHIVE}")
    return sorted(members)


@contextmanager
def _open(path: Path, member: str) -> Iterator[IO[bytes]]:
    if not member:
        with path.open("rb") as stream:
            yield stream
        return
    with zipfile.ZipFile(path) as package, package.open(member) as stream:
        yield stream


def _index_stream(path: Path, member: str, stream: IO[bytes], index: Index) -> None:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    where = f"{path}{'/' + member if member else ''}"
    iterator = ArchiveIterator(stream)
    offset = 0
    try:
        for record in iterator:
            offset = iterator.get_record_offset()
            entry = _entry(path, member, offset, iterator.get_record_length(), record)
            if not _read_through(record):
                index.problems.append(f"{where}: a record cut short at offset {offset}")
                return
            if entry is not None:
                index.entries.append(entry)
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as err:
        said = " ".join(str(err).split())  # warcio's messages run over several lines
        index.problems.append(f"{where}: unreadable at offset {iterator.offset} ({said})"[:300])
        return
    size = _size(path, member)
    if iterator.offset < size:
        # warcio ends quietly at a gzip member that stops short: the rest is a torn record.
        index.problems.append(f"{where}: a record cut short at offset {iterator.offset}")


def _entry(path: Path, member: str, offset: int, length: int, record: Any) -> Entry | None:
    if record.rec_type not in ("response", "revisit"):
        return None
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI") or ""
    http = record.http_headers
    status = int(http.get_statuscode() or 0) if http and http.get_statuscode() else 0
    content_type = (http.get_header("Content-Type") or "").lower() if http else ""
    date = _date(headers.get_header("WARC-Date") or "")
    if not url or date is None:
        return None
    record_id = headers.get_header("WARC-Record-ID") or ""
    return Entry(
        path, member, offset, length, url, date, record_id, record.rec_type, status, content_type
    )


def _read_through(record: Any) -> bool:
    """Reads the record's block to its end: whether it was all there."""
    stream = record.raw_stream
    while stream.read(_CHUNK):
        pass
    return not getattr(stream, "limit", 0)


def _payload(record: Any, http: Any) -> bytes:
    """The HTTP body as served: content-encoding kept, chunked transfer-coding undone."""
    from warcio.bufferedreaders import ChunkedDataReader

    stream = record.raw_stream
    if http and "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        stream = ChunkedDataReader(stream, decomp_type=None)
    chunks = []
    while chunk := stream.read(_CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)


def _hop_header(name: str) -> bool:
    """The transfer's framing, undone in the payload kept (as the fetcher keeps it)."""
    return name.lower() == "transfer-encoding"


def _size(path: Path, member: str) -> int:
    if not member:
        return path.stat().st_size
    with zipfile.ZipFile(path) as package:
        return package.getinfo(member).file_size


def _date(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)

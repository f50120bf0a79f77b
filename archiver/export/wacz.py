"""`archiver export-wacz`: the captures of chosen articles' versions as one WACZ 1.1.1 file,
the package format of Webrecorder, which ReplayWeb.page and pywb open as it is.

The package is a ZIP holding:

- `archive/data.warc.gz`: a warcinfo record naming the export, then the capture records of
  each version copied byte for byte from the archive's WARC files (the response or revisit a
  commit's `Archiver-Capture` trailer names, the request made with it, the redirects that
  led to it with their requests, and a revisit's original), each its own gzip member.
  Their record ids and digests are those the commits name, so the package is evidence just
  as the archive is: a copy, not a re-encoding;
- `indexes/index.cdx`: one CDXJ line per response and revisit, sorted by SURT key and time;
- `pages/pages.jsonl`: one page per version (its URL, capture time and title);
- `datapackage.json`: each file above with its size and sha256, and
  `datapackage-digest.json`: the sha256 of datapackage.json.

A record is copied only once its payload matches the digest its commit names: a tampered or
missing capture leaves that version out, with one line saying which and why.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urljoin, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import WARCWriter

from archiver.archive import Archive
from archiver.errors import ExportError, shorten
from archiver.store import format as trailer
from archiver.store.captures import REFERS_TO_FILENAME, capture_files
from archiver.store.document import parse_document
from archiver.store.format import CAPTURE_PATH
from archiver.store.history import BlobReader, CommitRecord, iter_commits

WACZ_VERSION = "1.1.1"
WARC_MEMBER = "archive/data.warc.gz"
INDEX_MEMBER = "indexes/index.cdx"
PAGES_MEMBER = "pages/pages.jsonl"
PACKAGE_MEMBER = "datapackage.json"
DIGEST_MEMBER = "datapackage-digest.json"
COPY_CHUNK = 1 << 20


@dataclass
class ExportReport:
    out: Path
    articles: int = 0  # with at least one version exported
    versions: int = 0  # versions (commits) whose capture is in the package
    records: int = 0  # WARC records copied
    uncaptured: int = 0  # versions recorded before captures were kept
    problems: list[str] = field(default_factory=list)  # versions left out, one line each


@dataclass(frozen=True)
class Captured:
    """A commit of a chosen article that names a capture."""

    url: str
    version: int
    sha: str
    title: str
    ref: trailer.CaptureRef


@dataclass
class Record:
    """One WARC record found in a capture file, with its gzip member's bytes."""

    record_id: str
    kind: str  # response, revisit, request
    target: str
    date: str  # WARC-Date
    data: bytes  # the gzip member, as stored
    status: str = "-"
    mime: str = "-"
    payload_digest: str = ""  # WARC-Payload-Digest, as the record states it
    payload_sha256: str = ""  # computed from the payload (responses only)
    refers_to: str = ""  # a revisit's original
    refers_to_file: str = ""  # the capture file holding it, as the revisit names it
    concurrent_to: str = ""  # a request's response
    location: str = ""  # a redirect's Location
    hop_of: str = ""  # a redirect hop's (or its request's): the capture's final record


def export_wacz(
    archive: Archive,
    out: Path,
    sources: Sequence[str] = (),
    urls: Sequence[str] = (),
) -> ExportReport:
    """Writes the WACZ of every captured version of the articles chosen (those of `sources`
    and the canonical `urls`; everything when both are empty) to `out`, replacing it only
    once the whole package is written."""
    out = _checked_out(archive, out)
    report = ExportReport(out)
    captured = list(_captured(archive, set(sources), set(urls), report))
    records, pages = _gather(archive.root, captured, report)
    if not pages:
        why = "; ".join(report.problems[:3]) or "no chosen version has a capture"
        raise ExportError(f"{out}: nothing to export ({why})")
    report.articles = len({page.url for page in pages})
    report.versions = len(pages)
    report.records = len(records)
    part = out.with_name(out.name + ".part")
    try:
        _write_package(part, archive, records, pages)
        os.replace(part, out)
    except OSError as err:
        raise ExportError(f"{out}: cannot write ({err.strerror or err})") from None
    finally:
        part.unlink(missing_ok=True)
    return report


def _checked_out(archive: Archive, out: Path) -> Path:
    out = out.expanduser().absolute()
    if out.suffix != ".wacz":
        raise ExportError(f"{out}: a WACZ file's name ends in .wacz")
    if not out.parent.is_dir():
        raise ExportError(f"{out}: no folder {out.parent}")
    root, folder = archive.root.resolve(), out.parent.resolve()
    for own in (".git", ".archiver", trailer.ARTICLES_DIR, trailer.CAPTURES_DIR):
        if folder == root / own or root / own in folder.parents:
            raise ExportError(f"{out}: inside the archive's {own}/ folder; write it elsewhere")
    return out


# --- what is exported --------------------------------------------------------------------------


def _captured(
    archive: Archive, sources: set[str], urls: set[str], report: ExportReport
) -> Iterator[Captured]:
    """The chosen articles' commits that name a capture, oldest first, with their titles."""
    known = set(archive.config.sources) | {a.source for a in archive.state.all()}
    if unknown := sorted(sources - known):
        raise ExportError(f"--source {unknown[0]}: no such source in {archive.root}")
    paths: tuple[str, ...] = ()
    if urls and not sources:
        paths = tuple(a.path for a in archive.state.all() if a.url in urls)
    commits = [c for c in iter_commits(archive.repo, paths=paths) if _chosen(c, sources, urls)]
    with BlobReader(archive.repo.git_dir) as reader:
        for commit in commits:
            found = _capture_of(commit, report)
            if found is None:
                continue
            url, ref = found
            change = commit.article_change()
            blob = change.new_blob if change else None
            yield Captured(url, commit.version or 0, commit.sha, _title(reader, blob), ref)


def _chosen(commit: CommitRecord, sources: set[str], urls: set[str]) -> bool:
    if commit.url is None:
        return False
    if not sources and not urls:
        return True
    return commit.url in urls or commit.trailers.get(trailer.SOURCE) in sources


def _capture_of(
    commit: CommitRecord, report: ExportReport
) -> tuple[str, trailer.CaptureRef] | None:
    assert commit.url is not None
    try:
        ref = trailer.read_capture(commit.trailers)
    except ValueError as err:
        report.problems.append(f"{shorten(commit.url)}: commit {commit.sha[:12]}: {err}")
        return None
    if ref is None:
        if commit.version is not None and commit.trailers.get(trailer.EVENT) is None:
            report.uncaptured += 1
        return None
    return commit.url, ref


def _title(reader: BlobReader, blob: str | None) -> str:
    data = reader.read(blob) if blob else None
    if data is None:
        return "(removed)"
    return parse_document(data.decode("utf-8", errors="replace")).title or "untitled"


@dataclass(frozen=True)
class Page:
    url: str  # the record's target: what a player replays
    timestamp: str  # 14 digits
    title: str
    record_id: str


def _gather(
    root: Path, captured: list[Captured], report: ExportReport
) -> tuple[list[Record], list[Page]]:
    """The records to copy, in the order found, and a page per captured record (the last
    commit naming a record gives its title: a reformat names the version's capture again)."""
    wanted = {c.ref.record_id for c in captured}
    found = _scan(root, sorted({c.ref.path for c in captured}), wanted)
    revisits = [r for r in found.values() if r.kind == "revisit" and r.refers_to not in found]
    if revisits:  # the originals: in the files the revisits name, else in any capture file
        originals = {r.refers_to for r in revisits}
        named = sorted({r.refers_to_file for r in revisits})
        named = [path for path in named if CAPTURE_PATH.fullmatch(path)]
        found.update(_scan(root, [*named, *_capture_files(root)], originals))
    pages: dict[str, Page] = {}
    for item in captured:
        problem = _problem(found, item)
        if problem:
            report.problems.append(f"{shorten(item.url)}: version {item.version}: {problem}")
            continue
        record = found[item.ref.record_id]
        title = f"{item.title} (version {item.version})"
        stamp = warc_timestamp(record.date)
        pages[record.record_id] = Page(record.target, stamp, title, record.record_id)
    keep = set(pages) | {found[p].refers_to for p in pages if found[p].kind == "revisit"}
    records = [r for r in found.values() if r.record_id in keep or r.hop_of in keep]
    return records, sorted(pages.values(), key=lambda p: (p.timestamp, p.url))


def _problem(found: dict[str, Record], item: Captured) -> str:
    ref = item.ref
    record = found.get(ref.record_id)
    if record is None:
        return f"record {ref.record_id} not found in {ref.path}"
    original = found.get(record.refers_to) if record.kind == "revisit" else record
    if original is None:
        return f"revisit {ref.record_id} in {ref.path}: original {record.refers_to} not found"
    if original.payload_sha256 != ref.digest:
        return f"record {ref.record_id} in {ref.path}: payload digest does not match the commit's"
    return ""


def _capture_files(root: Path) -> list[str]:
    return sorted(capture_files(root), reverse=True)  # newest first


def _scan(root: Path, paths: Iterable[str], wanted: set[str]) -> dict[str, Record]:
    """The wanted records (and the requests made with them) in these capture files. A file's
    unreadable tail (a run killed while writing) ends its scan, keeping what came before."""
    found: dict[str, Record] = {}
    for path in dict.fromkeys(paths):
        if wanted <= found.keys():
            break
        try:
            with (root / PurePosixPath(path)).open("rb") as stream:
                found.update(_records_in(stream, wanted))
        except (OSError, ArchiveLoadFailed, EOFError, zlib.error):
            continue
    return found


def _records_in(stream: io.BufferedReader, wanted: set[str]) -> Iterator[tuple[str, Record]]:
    """The wanted records, each after the records of its capture that came before it: its
    request, and the redirects that led to it with theirs (a player replays the address
    first asked for only with them)."""
    iterator = ArchiveIterator(stream)
    recent: list[Record] = []  # requests and redirects since the last other record
    for record in iterator:
        headers = record.rec_headers
        record_id = headers.get_header("WARC-Record-ID") or ""
        kind = record.rec_type
        status = record.http_headers.get_statuscode() if record.http_headers else ""
        redirect = kind == "response" and (status or "").startswith("3")
        if record_id not in wanted and kind != "request" and not redirect:
            recent.clear()
            continue
        found = _record(stream, iterator, record)
        if record_id not in wanted:
            recent.append(found)
            continue
        for earlier in _leading_to(recent, found):
            earlier.hop_of = record_id
            yield earlier.record_id, earlier
        recent.clear()
        yield record_id, found


def _leading_to(recent: list[Record], final: Record) -> list[Record]:
    """The records of `final`'s capture before it, in file order: walking back, each request
    made for the record after it and each redirect (of the same capture's date) that points
    at it."""
    chain: list[Record] = []
    following = final
    for earlier in reversed(recent):
        if earlier.kind == "request" and earlier.concurrent_to == following.record_id:
            chain.append(earlier)
        elif earlier.date == final.date and _points_at(earlier, following.target):
            chain.append(earlier)
            following = earlier
        else:
            break
    return chain[::-1]


def _points_at(redirect: Record, target: str) -> bool:
    if redirect.kind != "response" or not redirect.location:
        return False
    return _requoted(urljoin(redirect.target, redirect.location)) == _requoted(target)


def _requoted(url: str) -> str:
    """A URL as a client sends it, fragment dropped: a Location is often not percent-encoded
    where the next hop's recorded target is."""
    return quote(url.split("#", 1)[0], safe=":/?&=%@+,;!$'()*[]~")


def _record(stream: io.BufferedReader, iterator: ArchiveIterator, record: ArcWarcRecord) -> Record:
    headers = record.rec_headers
    kind = record.rec_type
    payload = hashlib.sha256()
    while chunk := record.raw_stream.read(COPY_CHUNK):
        payload.update(chunk)
    offset, length = iterator.get_record_offset(), iterator.get_record_length()
    found = Record(
        record_id=headers.get_header("WARC-Record-ID") or "",
        kind=kind,
        target=headers.get_header("WARC-Target-URI") or "",
        date=headers.get_header("WARC-Date") or "",
        data=_member(stream, offset, length),
        payload_digest=headers.get_header("WARC-Payload-Digest") or "",
        refers_to=headers.get_header("WARC-Refers-To") or "",
        refers_to_file=headers.get_header(REFERS_TO_FILENAME) or "",
        concurrent_to=headers.get_header("WARC-Concurrent-To") or "",
    )
    if kind == "request":
        found.hop_of = found.concurrent_to
    if kind == "response":
        found.payload_sha256 = "sha256:" + payload.hexdigest()
    if record.http_headers is not None and kind in ("response", "revisit"):
        found.status = record.http_headers.get_statuscode() or "-"
        mime = record.http_headers.get_header("Content-Type") or ""
        found.mime = mime.split(";")[0].strip().lower() or "-"
        found.location = record.http_headers.get_header("Location") or ""
    if kind == "revisit":
        found.mime = "warc/revisit"
    return found


def _member(stream: io.BufferedReader, offset: int, length: int) -> bytes:
    here = stream.tell()
    stream.seek(offset)
    data = stream.read(length)
    stream.seek(here)
    return data


# --- writing the package -----------------------------------------------------------------------


def _write_package(path: Path, archive: Archive, records: list[Record], pages: list[Page]) -> None:
    when = archive.clock.now()
    stamp = when.timetuple()[:6]
    warc, index = _warc_and_index(records, when)
    members: list[tuple[str, bytes, int]] = [
        (WARC_MEMBER, warc, zipfile.ZIP_STORED),  # stored: players read records by offset
        (INDEX_MEMBER, index, zipfile.ZIP_DEFLATED),
        (PAGES_MEMBER, _pages_jsonl(pages), zipfile.ZIP_DEFLATED),
    ]
    package = _datapackage(members, archive, when)
    digest = json.dumps(
        {"path": PACKAGE_MEMBER, "hash": "sha256:" + hashlib.sha256(package).hexdigest()},
        indent=2,
    ).encode()
    members += [
        (PACKAGE_MEMBER, package, zipfile.ZIP_DEFLATED),
        (DIGEST_MEMBER, digest, zipfile.ZIP_DEFLATED),
    ]
    with zipfile.ZipFile(path, "w") as package_zip:
        for name, data, compression in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = compression
            package_zip.writestr(info, data)
    with path.open("rb+") as written:
        os.fsync(written.fileno())


def _warc_and_index(records: list[Record], when: datetime) -> tuple[bytes, bytes]:
    """The package's WARC (a warcinfo, then the records as they were stored) and its CDXJ."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="WARC/1.1")
    info = writer.create_warcinfo_record(
        PurePosixPath(WARC_MEMBER).name,
        {
            "software": _software(),
            "format": "WARC File Format 1.1",
            "description": "captures of archived news articles' versions, copied as recorded",
        },
    )
    info.rec_headers.replace_header("WARC-Date", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    writer.write_record(info)
    lines = []
    name = PurePosixPath(WARC_MEMBER).name
    for record in records:
        offset = buffer.tell()
        buffer.write(record.data)
        if record.kind in ("response", "revisit"):
            lines.append(_cdxj_line(record, name, offset))
    return buffer.getvalue(), "".join(sorted(lines)).encode()


def _cdxj_line(record: Record, filename: str, offset: int) -> str:
    fields = {
        "url": record.target,
        "mime": record.mime,
        "status": record.status,
        "digest": record.payload_digest,
        "length": str(len(record.data)),
        "offset": str(offset),
        "filename": filename,
    }
    if record.kind == "revisit":
        fields["recordId"] = record.record_id
    key = surt(record.target)
    return f"{key} {warc_timestamp(record.date)} {json.dumps(fields, ensure_ascii=False)}\n"


def _pages_jsonl(pages: list[Page]) -> bytes:
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Captured versions"}
    lines = [json.dumps(header)]
    for page in pages:
        entry = {
            "id": hashlib.sha256(page.record_id.encode()).hexdigest()[:32],
            "url": page.url,
            "ts": _iso(page.timestamp),
            "title": page.title,
        }
        lines.append(json.dumps(entry, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _datapackage(members: list[tuple[str, bytes, int]], archive: Archive, when: datetime) -> bytes:
    resources = [
        {
            "name": PurePosixPath(name).name.lower(),
            "path": name,
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        for name, data, _ in members
    ]
    package = {
        "profile": "data-package",
        "resources": resources,
        "title": archive.config.title or archive.root.name,
        "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wacz_version": WACZ_VERSION,
        "software": _software(),
    }
    return json.dumps(package, indent=2, ensure_ascii=False).encode()


def _software() -> str:
    from archiver import __version__

    return f"archiver {__version__}"


# --- keys --------------------------------------------------------------------------------------

_WWW = re.compile(r"^www\d*\.")


def surt(url: str) -> str:
    """The SURT key players look a URL up by (`https://www.Example.org/a?b=1&a=2` →
    `org,example)/a?a=2&b=1`): lower-cased, scheme, `www.`, default port and fragment
    dropped, host labels reversed, query arguments sorted, as pywb's surt library does for
    the canonical URLs archiver records."""
    parts = urlsplit(url.strip().lower())
    host = _WWW.sub("", parts.hostname or "")
    key = ",".join(reversed(host.split(".")))
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default:
        key += f":{parts.port}"
    key += ")" + (parts.path or "/")
    if parts.query:
        key += "?" + "&".join(sorted(parts.query.split("&")))
    return key


def warc_timestamp(date: str) -> str:
    """`2025-03-01T12:00:00Z` (or with fractions of a second) → `20250301120000`."""
    digits = re.sub(r"[^0-9]", "", date)[:14]
    if len(digits) != 14:
        raise ValueError(f"not a WARC-Date: {date!r}")
    return digits


def _iso(timestamp: str) -> str:
    t = timestamp
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"

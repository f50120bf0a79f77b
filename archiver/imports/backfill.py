"""`archiver backfill`: the captures a Wayback-compatible replay server holds of tracked
articles (or given URLs), asked of its CDX API and fetched in their original form (the
`id_` replay modifier), stored as versions in capture-time order by imports.ingest.

The server speaks the CDX protocol web.archive.org, pywb and other replay servers share:
`cdx?url=…&output=json&filter=statuscode:200&collapse=digest`. web.archive.org answers an
array of arrays under a header row; pywb one JSON object a line (and ignores `collapse`):
both are read, and captures with the digest of the one before them are collapsed here too,
before anything is fetched. Every request goes through the project's Fetcher, with its
retries on 429/503 and Retry-After pauses; web.archive.org gets a delay of its own between
requests (ARCHIVE_ORG_DELAY), since it limits clients that ask faster.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from archiver.archive import Archive
from archiver.capture.checker import source_for
from archiver.errors import ArticleError, ConfigError
from archiver.fetch.client import Exchange, Fetcher, open_fetcher, user_agent
from archiver.imports.files import Filters
from archiver.imports.ingest import OUT_OF_RANGE, Capture, ImportReport, Ingest
from archiver.store import format as fmt
from archiver.store.commits import CommitStream
from archiver.urls import canonical_url

ARCHIVE_ORG = "web.archive.org"
ARCHIVE_ORG_CDX = "https://web.archive.org/cdx/search/cdx"
ARCHIVE_ORG_DELAY = 2.0  # seconds between its requests: it turns away faster clients
CDX_TYPES = ("application/json", "text/x-ndjson", "text/plain", "text/x-cdxj")
ORIGINAL = "id_"  # the replay modifier for a capture as it was served
SKIPPED_LIMIT = "beyond --max-per-article"
CDX_FIELDS = {  # web.archive.org's header names → pywb's keys
    "original": "url",
    "statuscode": "status",
    "mimetype": "mime",
}


@dataclass(frozen=True)
class Snapshot:
    """One line of a CDX answer: a capture the server holds."""

    timestamp: str  # 14 digits, UTC
    url: str  # the page as captured
    status: int
    digest: str  # the server's payload digest (sha1, base32): for collapsing only
    mime: str

    @property
    def when(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(
            tzinfo=UTC
        )


@dataclass(frozen=True)
class Server:
    """A replay collection: its replay address and its CDX API's."""

    collection: str  # https://web.archive.org/web, http://HOST:PORT/NAME
    cdx: str

    @classmethod
    def of(cls, collection: str, cdx: str | None = None) -> Server:
        parts = urlsplit(collection)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--from {collection!r}: not an http(s) replay address")
        base = collection.rstrip("/")
        if cdx is None:
            archive_org = parts.hostname == ARCHIVE_ORG and parts.path.rstrip("/") == "/web"
            cdx = ARCHIVE_ORG_CDX if archive_org else f"{base}/cdx"
        elif urlsplit(cdx).scheme not in ("http", "https"):
            raise ConfigError(f"--cdx {cdx!r}: not an http(s) address")
        return cls(base, cdx)

    @property
    def host(self) -> str:
        return urlsplit(self.collection).hostname or ""

    def query(self, url: str) -> str:
        return (
            f"{self.cdx}?url={quote(url, safe='')}&output=json"
            "&filter=statuscode:200&collapse=digest"
        )

    def original(self, snapshot: Snapshot) -> str:
        """The capture as it was served, no rewriting and no banner."""
        return f"{self.collection}/{snapshot.timestamp}{ORIGINAL}/{snapshot.url}"


def parse_cdx(text: str, where: str) -> list[Snapshot]:
    """A CDX answer with output=json in either spelling: an array of arrays under a
    header row (web.archive.org), or a JSON object a line (pywb)."""
    text = text.strip()
    if not text:
        return []
    try:
        if text.startswith("["):
            rows = json.loads(text)
            if not rows:
                return []
            header = [CDX_FIELDS.get(name, name) for name in rows[0]]
            objects = [dict(zip(header, row, strict=False)) for row in rows[1:]]
        else:
            objects = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (ValueError, TypeError) as err:
        raise ArticleError(where, f"not a CDX answer in JSON ({err})") from None
    snapshots = []
    for item in objects:
        if not isinstance(item, dict):
            raise ArticleError(where, "not a CDX answer in JSON (a line is not an object)")
        item = {CDX_FIELDS.get(k, k): v for k, v in item.items()}
        timestamp, url = str(item.get("timestamp", "")), str(item.get("url", ""))
        status = str(item.get("status", ""))
        if not (timestamp.isdigit() and len(timestamp) >= 4 and url):
            continue
        snapshots.append(
            Snapshot(
                timestamp,
                url,
                int(status) if status.isdigit() else 0,
                str(item.get("digest", "")),
                str(item.get("mime", "")),
            )
        )
    return snapshots


def collapsed(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    """Captures with status 200, in time order, each whose digest differs from the one
    before it (`collapse=digest`, which not every server does)."""
    kept: list[Snapshot] = []
    for snapshot in sorted(snapshots, key=lambda s: s.timestamp):
        if snapshot.status != 200:
            continue
        if kept and snapshot.digest and snapshot.digest == kept[-1].digest:
            continue
        kept.append(snapshot)
    return kept


def backfill(
    archive: Archive,
    server: Server,
    urls: Sequence[str] = (),
    source: str | None = None,
    max_per_article: int | None = None,
    filters: Filters | None = None,
) -> ImportReport:
    """Stores as versions the captures `server` holds of the given URLs (else of every
    tracked article, or of one source's) that the archive does not have."""
    filters = filters or Filters()
    if max_per_article is not None and max_per_article < 1:
        raise ConfigError(f"--max-per-article {max_per_article}: must be at least 1")
    with archive.writing():
        targets = _targets(archive, urls, source)
        report = ImportReport()
        with CommitStream(archive.repo) as stream:
            ingest = Ingest(archive, stream, report)
            try:
                asyncio.run(_run(archive, server, targets, ingest, max_per_article, filters))
            finally:
                ingest.close()
        return report


def _targets(archive: Archive, urls: Sequence[str], source: str | None) -> list[tuple[str, str]]:
    """(URL, source) of each article to backfill."""
    if not urls:
        tracked = [
            (a.url, a.source)
            for a in archive.state.all()
            if a.versions and (source is None or a.source == source)
        ]
        if source is not None and not tracked and source not in archive.config.sources:
            raise ConfigError(f"--source {source!r}: no such source in the archive")
        return tracked
    sources = list(archive.config.sources.values())
    targets = []
    for given in urls:
        try:
            url = canonical_url(given)
        except ArticleError as err:
            raise ConfigError(f"{given[:200]}: {err.reason}") from None
        state = archive.state.get(url)
        name = source or (state.source if state else source_for(url, sources))
        targets.append((url, name))
    return targets


async def _run(
    archive: Archive,
    server: Server,
    targets: list[tuple[str, str]],
    ingest: Ingest,
    max_per_article: int | None,
    filters: Filters,
) -> None:
    agent = archive.config.fetch.user_agent or user_agent(archive.config.contact)
    delay = archive.config.fetch.min_delay
    if server.host == ARCHIVE_ORG:
        delay = max(delay, ARCHIVE_ORG_DELAY)
    async with open_fetcher(archive.config.fetch, agent) as fetcher:
        for url, source in targets:
            await _article(fetcher, server, url, source, ingest, delay, max_per_article, filters)


async def _article(
    fetcher: Fetcher,
    server: Server,
    url: str,
    source: str,
    ingest: Ingest,
    delay: float,
    max_per_article: int | None,
    filters: Filters,
) -> None:
    report = ingest.report
    query = server.query(url)
    try:
        answer = await fetcher.fetch(query, accept=CDX_TYPES, min_delay=delay)
        snapshots = collapsed(parse_cdx(answer.body.decode("utf-8", "replace"), query))
    except ArticleError as err:
        report.problems.append(f"{url}: the CDX API at {server.cdx} failed ({err.reason})")
        return
    wanted = []
    for snapshot in snapshots:
        if not filters.when(snapshot.when):
            report.skip(OUT_OF_RANGE)
        elif server.original(snapshot) in ingest.known:
            report.skip("already in the archive")
        else:
            wanted.append(snapshot)
    if max_per_article is not None and len(wanted) > max_per_article:
        for _ in wanted[max_per_article:]:
            report.skip(SKIPPED_LIMIT)
        wanted = wanted[:max_per_article]
    for snapshot in wanted:
        capture = await _fetch(fetcher, server, snapshot, url, delay, report)
        if capture is not None:
            ingest.add(capture, source)


async def _fetch(
    fetcher: Fetcher,
    server: Server,
    snapshot: Snapshot,
    url: str,
    delay: float,
    report: ImportReport,
) -> Capture | None:
    """The capture in its original form, as the server sent it (content-encoding kept)."""
    address = server.original(snapshot)
    record: list[Exchange] = []
    try:
        await fetcher.fetch(address, min_delay=delay, record=record)
    except ArticleError as err:
        report.skip("not fetched", f"{url}: {address}: {err.reason}")
        return None
    final = record[-1]
    return Capture(
        url=url,
        when=snapshot.when,
        status=final.status,
        reason=final.reason,
        protocol=final.version,
        headers=final.headers,
        payload=final.body,
        origin=fmt.Origin(url=address),
    )

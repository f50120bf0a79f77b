"""`archiver import`: the HTML responses of WARC and WACZ files as versions.

Every file is indexed first, so that the captures of a page are taken in capture-time
order whichever file holds them; then each record is read by its offset and fed through
the sync's pipeline (imports.ingest). Records that cannot be versions (not HTML, 4xx/5xx,
redirects, revisits, records cut short) are counted by reason, never stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from archiver.archive import Archive
from archiver.capture.checker import source_for
from archiver.errors import ConfigError
from archiver.imports.ingest import (
    CUT_SHORT,
    ERROR_STATUS,
    FILTERED,
    NOT_HTML,
    OUT_OF_RANGE,
    REDIRECT,
    REVISIT,
    Capture,
    ImportReport,
    Ingest,
    import_workers,
)
from archiver.imports.warcs import Entry, RecordError, Records, index_files
from archiver.processes import objects_frozen
from archiver.store import format as fmt
from archiver.store.commits import CommitStream
from archiver.urls import SOURCE_NAME

# Versions per checkpoint: an import's records are all at hand, so it publishes in larger
# batches than a sync (each checkpoint an fsync of the captures, a fast-import checkpoint
# and pack, an update-index run and a SQLite commit). A killed import keeps what its last
# checkpoint published; importing again takes up the rest.
IMPORT_BATCH = 1024


@dataclass(frozen=True)
class Filters:
    """Which captures to take: URL patterns as a source's, and a capture-time range."""

    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    @classmethod
    def of(
        cls,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
    ) -> Filters:
        return cls(
            _patterns("--include", include),
            _patterns("--exclude", exclude),
            parse_bound("--since", since) if since else None,
            parse_bound("--until", until, end=True) if until else None,
        )

    def url(self, url: str) -> bool:
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)

    def when(self, when: datetime) -> bool:
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )


def parse_bound(option: str, text: str, end: bool = False) -> datetime:
    """A date (2024-03-01: from its start, or to its end for `end`) or an ISO time (UTC
    unless it says otherwise)."""
    try:
        if len(text) == 10:
            day = datetime.combine(datetime.fromisoformat(text).date(), time(), UTC)
            return day + timedelta(days=1) if end else day
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option} {text!r}: not a date (YYYY-MM-DD) or ISO time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def import_files(
    archive: Archive,
    paths: Sequence[Path],
    source: str | None = None,
    filters: Filters | None = None,
    batch: int = IMPORT_BATCH,
) -> ImportReport:
    """Stores the HTML responses of WARC and WACZ files as versions, each article's in
    capture-time order, dated and named by their captures, published `batch` versions at
    a time."""
    filters = filters or Filters()
    if source is not None and not SOURCE_NAME.match(source):
        raise ConfigError(f"--source {source!r}: not a valid source name")
    with archive.writing():
        report = ImportReport()
        index = index_files([Path(p) for p in paths])
        for problem in index.problems:
            report.skip(CUT_SHORT, problem)
        wanted = [e for e in index.entries if _wanted(e, filters, report)]
        wanted.sort(key=lambda e: (e.date, e.url))
        sources = list(archive.config.sources.values())
        with ExitStack() as stack:
            stack.enter_context(objects_frozen())
            workers = stack.enter_context(import_workers())  # before any thread starts
            stream = stack.enter_context(CommitStream(archive.repo))
            records = stack.enter_context(Records())
            ingest = Ingest(archive, stream, report, batch)
            stack.callback(ingest.close)
            captures = (
                (capture, source or source_for(entry.url, sources))
                for entry, capture in _captures(records, wanted, report)
            )
            ingest.add_all(captures, workers)
        return report


def _wanted(entry: Entry, filters: Filters, report: ImportReport) -> bool:
    """Whether a record may be a version; if not, counted under why."""
    reason = ""
    if entry.type == "revisit":
        reason = REVISIT
    elif 300 <= entry.status < 400:
        reason = REDIRECT
    elif entry.status >= 400:
        reason = ERROR_STATUS
    elif entry.status != 200 or (entry.content_type and "html" not in entry.content_type):
        reason = NOT_HTML
    elif not filters.url(entry.url):
        reason = FILTERED
    elif not filters.when(entry.date):
        reason = OUT_OF_RANGE
    if reason:
        report.skip(reason)
    return not reason


def _captures(
    records: Records, entries: Iterable[Entry], report: ImportReport
) -> Iterator[tuple[Entry, Capture]]:
    """Each entry's record read as a capture; one cut short counted and left out."""
    for entry in entries:
        try:
            yield entry, _capture(records, entry)
        except RecordError as err:
            report.skip(CUT_SHORT, str(err))


def _capture(records: Records, entry: Entry) -> Capture:
    response = records.read(entry)
    record_id = entry.record_id or f"<offset:{entry.offset}>"
    origin = fmt.Origin(file=_printable(entry.name), record_id=record_id)
    return Capture(
        url=entry.url,
        when=entry.date,
        status=response.status,
        reason=response.reason,
        protocol=response.protocol,
        headers=response.headers,
        payload=response.payload,
        origin=origin,
    )


def _printable(name: str) -> str:
    """A file name as a trailer can hold it: one line, no control characters."""
    return "".join(c if c.isprintable() else "?" for c in name)[:200] or "?"


def _patterns(option: str, patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise ConfigError(f"{option} {pattern!r}: not a regular expression ({err})") from None
    return tuple(compiled)

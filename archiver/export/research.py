"""The research export: an archive's articles, versions and sentence-level edits as tables,
in the shape of the NewsEdits corpus, to load into SQLite (and Datasette), pandas or any
tool that reads JSON lines, without parsing git.

One `git log` pass reads the history (after the commit the last export reached, when OUT
holds one), the texts come through one `git cat-file --batch`, and each version is
compared with the text before it by diff.describe_edits, the code that wrote the commit's
`Archiver-Sentences-*` trailers: the edits of a version are the actions those counts count.
The tables and where they are written: export/tables.py; docs/export.md for users.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from archiver.archive import Archive
from archiver.clock import isoformat
from archiver.diff import ChangeStats, SentenceEdit, Version, describe_edits, is_minor
from archiver.errors import ArchiverError, ConfigError
from archiver.export.tables import (
    FORMATS,
    ArticleFacts,
    Previous,
    Sink,
    open_sink,
)
from archiver.processes import forked_pool
from archiver.store import format as trailer
from archiver.store.document import Document, parse_document
from archiver.store.history import BlobReader, CommitRecord, head_commit, is_ancestor, iter_commits
from archiver.urls import SOURCE_NAME

# Commits whose texts are read and compared together: one cat-file round trip per batch
# of blobs, and memory bounded by a batch's texts, not the archive's.
BATCH_COMMITS = 512
# Forked processes comparing batches while this one reads git and writes rows, one a core
# beside this one's: comparing is about two thirds of the work (two workers sharing two
# cores with this process measured slower than one, docs/performance.md).
MAX_COMPARERS = 3

# Not written: Parquet needs pyarrow or fastparquet (with pandas and numpy), far more to
# install than the export's format is worth when JSON lines convert (docs/export.md).
PARQUET_REFUSED = (
    "--format parquet: not built in (a Parquet writer needs pyarrow, a 55 MB download, "
    "171 MB installed); export jsonl or sqlite and convert, as docs/export.md shows"
)


@dataclass(frozen=True)
class ExportOptions:
    """Which articles an export holds: of these sources (all when empty), first seen on or
    after `since` (all when None). Fixed by the first export into an OUT."""

    sources: tuple[str, ...] = ()
    since: date | None = None

    def wants(self, path: str) -> bool:
        match = trailer.ARTICLE_PATH.fullmatch(path)
        if match is None:
            return False
        if self.sources and match["source"] not in self.sources:
            return False
        if self.since is None:
            return True
        day = date(int(match["year"]), int(match["month"]), int(match["day"]))
        return day >= self.since

    def describe(self) -> str:
        parts = [f"--source {s}" for s in self.sources]
        if self.since is not None:
            parts.append(f"--since {self.since.isoformat()}")
        return " ".join(parts) or "no --source or --since"


@dataclass
class ExportReport:
    out: Path
    format: str
    head: str
    incremental: bool
    commits: int = 0  # read from history
    articles: int = 0  # new or changed in this export
    versions: int = 0  # rows added
    edits: int = 0  # rows added
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def parse_since(text: str) -> date:
    """`--since`'s value, a day (YYYY-MM-DD): articles first seen on that day or later."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since {text}: not a day (give it as YYYY-MM-DD)") from None


def export_research(
    archive: Archive,
    out: Path,
    format: str = "sqlite",
    sources: Sequence[str] = (),
    since: date | None = None,
) -> ExportReport:
    """Export the archive's articles, versions and edits into OUT (a SQLite file, or a
    folder of JSON lines files), or add to OUT what is new since the export it holds."""
    started = time.perf_counter()
    if format == "parquet":
        raise ConfigError(PARQUET_REFUSED)
    if format not in FORMATS:
        raise ConfigError(f"--format {format}: not a format (choose from {', '.join(FORMATS)})")
    options = ExportOptions(tuple(sorted(set(_checked_sources(sources)))), since)
    head = head_commit(archive.repo)
    if head is None:
        raise ArchiverError(f"{archive.root}: the archive has no commits yet")
    with open_sink(Path(out), format) as sink:
        previous = sink.previous()
        since_commit = _check_previous(previous, options, archive, head, Path(out))
        report = ExportReport(Path(out), format, head, incremental=previous is not None)
        if since_commit != head:
            known = previous.articles if previous else {}
            exporter = _Exporter(archive, sink, options, known, previous, report)
            # Up to the head read above: a sync may move the branch meanwhile.
            exporter.run(iter_commits(archive.repo, since=since_commit, until=head))
            sink.finish(exporter.changed_articles(), _run_row(archive, options, report))
    report.seconds = time.perf_counter() - started
    return report


def _checked_sources(sources: Iterable[str]) -> Iterator[str]:
    for name in sources:
        if not SOURCE_NAME.fullmatch(name):
            raise ConfigError(f"--source {name}: not a source name (a-z, 0-9, - and _)")
        yield name


def _check_previous(
    previous: Previous | None, options: ExportOptions, archive: Archive, head: str, out: Path
) -> str | None:
    """The commit to read history after: the one the export in OUT reached."""
    if previous is None:
        return None
    made = ExportOptions(previous.sources, previous.since)
    if made != options:
        raise ConfigError(
            f"{out}: exported with {made.describe()}, not {options.describe()}; run with the "
            "same options, or export into a new OUT"
        )
    if previous.head != head and not is_ancestor(archive.repo, previous.head, head):
        raise ArchiverError(
            f"{out}: exported up to commit {previous.head[:12]}, which the archive's history "
            "no longer holds (rewritten or another archive); export into a new OUT"
        )
    return previous.head


def _run_row(archive: Archive, options: ExportOptions, report: ExportReport) -> dict[str, object]:
    return {
        "head": report.head,
        "exported_at": isoformat(archive.clock.now()),
        "archive": str(archive.root),
        "sources": ",".join(options.sources),
        "since": options.since.isoformat() if options.since else None,
        "commits_read": report.commits,
        "articles": report.articles,
        "versions": report.versions,
        "edits": report.edits,
    }


# --- reading history into rows --------------------------------------------------------


@dataclass
class _Pending:
    """A version found in history, waiting for its text and the text before it."""

    facts: ArticleFacts
    commit: CommitRecord
    number: int
    blob: str
    base: str | None  # the article's text before it (after any reformat), if any
    returned: bool


class _Exporter:
    def __init__(
        self,
        archive: Archive,
        sink: Sink,
        options: ExportOptions,
        known: dict[str, ArticleFacts],
        previous: Previous | None,
        report: ExportReport,
    ) -> None:
        self.archive = archive
        self.sink = sink
        self.options = options
        self.articles = known
        self.report = report
        self.next_article = previous.next_article if previous else 1
        self.next_version = previous.next_version if previous else 1
        self.next_edit = previous.next_edit if previous else 1
        self.changed: set[str] = set()
        self.refused: set[str] = set()
        # The capture link trailer, where this archiver writes one (read by name).
        self.capture_key: str | None = getattr(trailer, "CAPTURE", None)

    def run(self, commits: Iterable[CommitRecord]) -> None:
        """Read history and texts here, compare them in worker processes (the comparing is
        most of the work), write the rows here: batches in order, a few read ahead."""
        # The workers are forked before git runs: they hold none of git's pipes open.
        with _comparer() as (compare, workers), BlobReader(self.archive.repo.git_dir) as reader:
            waiting: deque[tuple[list[_Pending], Callable[[], _Compared]]] = deque()
            for batch in self._batches(commits):
                waiting.append((batch, compare(self._job(batch, reader))))
                # One batch per worker in hand, and one more waiting for the first free.
                if len(waiting) > workers + 1:
                    self._write(*waiting.popleft())
            while waiting:
                self._write(*waiting.popleft())

    def _batches(self, commits: Iterable[CommitRecord]) -> Iterator[list[_Pending]]:
        batch: list[_Pending] = []
        for commit in commits:
            self.report.commits += 1
            batch.extend(self._versions_in(commit))
            if len(batch) >= BATCH_COMMITS:
                yield batch
                batch = []
        if batch:
            yield batch

    def _job(self, batch: list[_Pending], reader: BlobReader) -> _Job:
        wanted = {p.blob for p in batch} | {p.base for p in batch if p.base}
        return _Job(
            texts=reader.read_many(sorted(wanted)),
            versions=[
                (p.blob, p.base, p.facts.path, p.commit.trailers.get(trailer.CHANGE)) for p in batch
            ],
        )

    def changed_articles(self) -> list[ArticleFacts]:
        self.report.articles = len(self.changed)
        return [self.articles[path] for path in sorted(self.changed)]

    def _versions_in(self, commit: CommitRecord) -> Iterator[_Pending]:
        """The versions one commit makes (none for a reformat, a removal or a return with
        the text it had); the article's facts follow every commit."""
        event = commit.trailers.get(trailer.EVENT)
        # Trailers describe a commit's one article; a commit of several says nothing each.
        numbered = sum(c.path.startswith(trailer.ARTICLES_DIR + "/") for c in commit.changes) == 1
        for change in commit.changes:
            if not change.path.startswith(trailer.ARTICLES_DIR + "/"):
                continue
            if not self.options.wants(change.path):
                self._refuse_odd_path(change.path)
                continue
            facts = self.articles.get(change.path)
            when = isoformat(commit.when)
            if change.new_blob is None or event == trailer.EVENT_REMOVED:
                if facts is not None and facts.removed is None:
                    facts.removed = when
                    self.changed.add(change.path)
                continue
            if facts is None:
                facts = self._new_article(change.path, commit, when)
            self.changed.add(change.path)
            facts.removed = None
            if event == trailer.EVENT_REFORMAT or change.new_blob == facts.blob:
                facts.blob = change.new_blob  # the same version in a new form
                continue
            number = (commit.version if numbered else None) or facts.versions + 1
            base = facts.blob or None
            facts.blob = change.new_blob
            facts.versions = max(facts.versions, number)
            facts.last_changed = when
            returned = event == trailer.EVENT_RETURNED
            yield _Pending(facts, commit, number, change.new_blob, base, returned)

    def _refuse_odd_path(self, path: str) -> None:
        if trailer.ARTICLE_PATH.fullmatch(path) is None and path not in self.refused:
            self.refused.add(path)
            self.report.warnings.append(f"{path}: not an article path; left out of the export")

    def _new_article(self, path: str, commit: CommitRecord, when: str) -> ArticleFacts:
        match = trailer.ARTICLE_PATH.fullmatch(path)
        assert match is not None
        facts = ArticleFacts(
            id=self.next_article,
            url=commit.url or "",
            source=commit.trailers.get(trailer.SOURCE) or match["source"],
            path=path,
            first_seen=when,
            last_changed=when,
        )
        self.next_article += 1
        self.articles[path] = facts
        return facts

    def _write(self, batch: list[_Pending], compared: Callable[[], _Compared]) -> None:
        done = compared()
        self.report.warnings += done.warnings
        versions: list[dict[str, object]] = []
        edits: list[dict[str, object]] = []
        for pending, (new, stats, found, kind) in zip(batch, done.versions, strict=True):
            row = self._version_row(pending, new, stats, kind)
            versions.append(row)
            edits.extend(self._edit_rows(pending, row["id"], found))
        self.sink.add(versions, edits)
        self.report.versions += len(versions)
        self.report.edits += len(edits)

    def _version_row(
        self, pending: _Pending, new: Document, stats: ChangeStats | None, kind: str
    ) -> dict[str, object]:
        facts, commit = pending.facts, pending.commit
        facts.url = new.url or facts.url
        facts.title = new.title
        revert = commit.trailers.get(trailer.REVERT_OF, "")
        row: dict[str, object] = {
            "id": self.next_version,
            "article_id": facts.id,
            "number": pending.number,
            "commit_id": commit.sha,
            "committed": isoformat(commit.when),
            "fetched": commit.trailers.get(trailer.FETCHED),
            "title": new.title,
            "byline": new.byline,
            "published": new.published,
            "language": new.language,
            "text": new.body,
            "change": kind,
            "revert_of": int(revert) if revert.isdigit() else None,
            "returned": pending.returned,
            **_stats_columns(stats),
            "page_updated": commit.trailers.get(trailer.PAGE_UPDATED),
            "extractor": new.extractor or commit.trailers.get(trailer.EXTRACTOR),
            "capture": commit.trailers.get(self.capture_key) if self.capture_key else None,
        }
        self.next_version += 1
        return row

    def _edit_rows(
        self, pending: _Pending, version_id: object, found: list[SentenceEdit]
    ) -> Iterator[dict[str, object]]:
        for edit in found:
            yield {
                "id": self.next_edit,
                "version_id": version_id,
                "article_id": pending.facts.id,
                "kind": edit.kind,
                "old_index": edit.old_index,
                "new_index": edit.new_index,
                "old_sentence": edit.old_text if edit.old_index is not None else None,
                "new_sentence": edit.new_text if edit.new_index is not None else None,
            }
            self.next_edit += 1


# --- comparing versions (in a worker process) ----------------------------------------


@dataclass(frozen=True)
class _Job:
    """One batch's comparisons: the texts, and per version its blob, its base's blob, its
    path (for warnings) and the change its commit records."""

    texts: dict[str, bytes]
    versions: list[tuple[str, str | None, str, str | None]]


@dataclass(frozen=True)
class _Compared:
    """Per version of a job: its document, its change from the base (None for a first
    version), its sentence edits and its change kind; and the job's warnings."""

    versions: list[tuple[Document, ChangeStats | None, list[SentenceEdit], str]]
    warnings: list[str]


def _compare(job: _Job) -> _Compared:
    documents: dict[str, tuple[Document, Version]] = {}
    warnings: list[str] = []

    def document(blob: str, path: str) -> tuple[Document, Version]:
        found = documents.get(blob)
        if found is None:
            text = job.texts[blob].decode("utf-8", errors="replace")
            try:
                parsed = parse_document(text, f"{path} (blob {blob[:12]})")
            except ArchiverError as err:
                warnings.append(f"{err}; exported as an empty version")
                parsed = Document(url="", source="", title="", body="")
            documents[blob] = found = (parsed, parsed.version())  # a base is read twice
        return found

    versions: list[tuple[Document, ChangeStats | None, list[SentenceEdit], str]] = []
    for blob, base, path, recorded in job.versions:
        new, after = document(blob, path)
        if base is None:
            versions.append((new, None, [], trailer.CHANGE_NEW))
            continue
        before = document(base, path)[1]
        stats, found = describe_edits(before, after)
        versions.append((new, stats, found, _change_kind(recorded, before, after, stats)))
    return _Compared(versions, warnings)


def _here(job: _Job) -> Callable[[], _Compared]:
    done = _compare(job)
    return lambda: done


@contextmanager
def _comparer() -> Iterator[tuple[Callable[[_Job], Callable[[], _Compared]], int]]:
    """A function that starts a job's comparisons and gives what waits for their result,
    and how many run at once: in forked worker processes (one a core beside this one's, up
    to MAX_COMPARERS) where there is a second core, else here and now."""
    cores = os.cpu_count() or 1
    if cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield _here, 1
        return
    workers = min(cores - 1, MAX_COMPARERS)
    with forked_pool(workers) as pool:
        # Results are waited for in the order the jobs were given, whichever worker ran it.
        yield (lambda job: pool.apply_async(_compare, (job,)).get), workers


def _change_kind(recorded: str | None, old: Version, new: Version, stats: ChangeStats) -> str:
    """`edit` or `minor`, as the commit records it; worked out from the texts, as the
    capture does, for a commit that records none."""
    if recorded in (trailer.CHANGE_EDIT, trailer.CHANGE_MINOR):
        return recorded
    minor = is_minor(old, new) or stats.is_empty
    return trailer.CHANGE_MINOR if minor else trailer.CHANGE_EDIT


_STATS_COLUMNS = (
    "chars_added",
    "chars_removed",
    "sentences_added",
    "sentences_removed",
    "sentences_edited",
    "sentences_moved",
    "title_changed",
    "byline_changed",
    "date_changed",
    "body_changed",
)


def _stats_columns(stats: ChangeStats | None) -> dict[str, object]:
    """A version's change from the one before; NULL for a first version."""
    if stats is None:
        return dict.fromkeys(_STATS_COLUMNS)
    return {name: getattr(stats, name) for name in _STATS_COLUMNS}

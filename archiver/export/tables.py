"""The research export's tables, and the two places they are written: one SQLite file
(through sqlite-utils: foreign keys, full-text search, so Datasette browses it as it is) or
a folder of JSON lines files, one per table.

Either remembers what the next export needs to add only what is new: the last commit read
(the last row of `export_runs`) and each article's facts, with the blob of its latest text
(the base its next version is compared with).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

import sqlite_utils

from archiver.errors import ArchiverError

FORMATS = ("sqlite", "jsonl", "parquet")

ARTICLES: dict[str, type] = {
    "id": int,
    "url": str,
    "source": str,
    "path": str,
    "title": str,
    "first_seen": str,
    "last_changed": str,
    "versions": int,
    "removed": str,
    "blob": str,
}
VERSIONS: dict[str, type] = {
    "id": int,
    "article_id": int,
    "number": int,
    "commit_id": str,
    "committed": str,
    "fetched": str,
    "title": str,
    "byline": str,
    "published": str,
    "language": str,
    "text": str,
    "change": str,
    "revert_of": int,
    "returned": bool,
    "chars_added": int,
    "chars_removed": int,
    "sentences_added": int,
    "sentences_removed": int,
    "sentences_edited": int,
    "sentences_moved": int,
    "title_changed": bool,
    "byline_changed": bool,
    "date_changed": bool,
    "body_changed": bool,
    "page_updated": str,
    "extractor": str,
    "capture": str,
}
EDITS: dict[str, type] = {
    "id": int,
    "version_id": int,
    "article_id": int,
    "kind": str,
    "old_index": int,
    "new_index": int,
    "old_sentence": str,
    "new_sentence": str,
}
RUNS: dict[str, type] = {
    "id": int,
    "head": str,
    "exported_at": str,
    "archive": str,
    "sources": str,
    "since": str,
    "commits_read": int,
    "articles": int,
    "versions": int,
    "edits": int,
}
TABLES = {"articles": ARTICLES, "versions": VERSIONS, "edits": EDITS, "export_runs": RUNS}
SEARCHED = ("title", "text")  # of versions, in versions_fts


@dataclass
class ArticleFacts:
    """An article's row in `articles`, kept up to date as its commits are read."""

    id: int
    url: str
    source: str
    path: str
    first_seen: str
    last_changed: str
    title: str = ""
    versions: int = 0
    removed: str | None = None  # when it was recorded as gone, while it is
    blob: str = ""  # the blob of its latest text: what its next version is compared with


@dataclass
class Previous:
    """What the export in OUT reached."""

    head: str
    sources: tuple[str, ...]
    since: date | None
    next_article: int
    next_version: int
    next_edit: int
    articles: dict[str, ArticleFacts] = field(default_factory=dict)


class Sink(Protocol):
    def previous(self) -> Previous | None:
        """The export OUT holds, or None for a new OUT."""
        ...

    def add(self, versions: list[dict[str, object]], edits: list[dict[str, object]]) -> None:
        """Rows of new versions and of their edits."""
        ...

    def finish(self, articles: Sequence[ArticleFacts], run: dict[str, object]) -> None:
        """The articles new or changed, and the run's row: the export is complete."""
        ...


@contextmanager
def open_sink(out: Path, format: str) -> Iterator[Sink]:
    if not out.parent.is_dir():
        raise ArchiverError(f"{out}: its folder {out.parent} does not exist")
    if format == "sqlite":
        with _sqlite(out) as sink:
            yield sink
    else:
        with _jsonl(out) as sink:
            yield sink


def _previous_from(
    run: dict[str, Any], articles: dict[str, ArticleFacts], ids: tuple[int, int, int]
) -> Previous:
    since = run.get("since")
    return Previous(
        head=run["head"],
        sources=tuple(s for s in (run.get("sources") or "").split(",") if s),
        since=date.fromisoformat(since) if since else None,
        next_article=ids[0],
        next_version=ids[1],
        next_edit=ids[2],
        articles=articles,
    )


# --- SQLite -------------------------------------------------------------------------------

_SQLITE_HEADER = b"SQLite format 3\x00"


# The full-text index's buffer of new terms (FTS5 `hashsize`, 1 MB by default): flushed
# less often, it writes fewer, larger segments to merge, two fifths less CPU to index.
FTS_HASHSIZE = 16 * 1024 * 1024


def enable_search(db: sqlite_utils.Database, table: str, columns: Sequence[str]) -> None:
    """Full-text search on the table's columns, as the export makes it: FTS5 over the table
    as its external content, in `<table>_fts`, with the larger term buffer. No triggers:
    rows are only ever added, and the writer indexes each batch's rows as it adds them (a
    trigger per row cost half as much again)."""
    db.table(table).enable_fts(list(columns), fts_version="FTS5")
    db.execute(
        f'insert into "{table}_fts" ("{table}_fts", rank) values (\'hashsize\', ?)',
        [FTS_HASHSIZE],
    )


def _insert_sql(table: str, columns: dict[str, type], verb: str = "insert") -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    return f'{verb} into "{table}" ({names}) values ({values})'


_INSERT_VERSION = _insert_sql("versions", VERSIONS)


def _index_sql() -> str:
    """Indexing version rows as they are: their own id and searched columns (sqlite3 leaves
    the rows' other keys unread)."""
    names = ", ".join(f'"{c}"' for c in SEARCHED)
    values = ", ".join(f":{c}" for c in SEARCHED)
    return f'insert into "versions_fts" ("rowid", {names}) values (:id, {values})'


_INSERT_SEARCHED = _index_sql()
_INSERT_EDIT = _insert_sql("edits", EDITS)
_UPSERT_ARTICLE = (
    _insert_sql("articles", ARTICLES)
    + " on conflict(id) do update set "
    + ", ".join(f'"{c}" = excluded."{c}"' for c in ARTICLES if c != "id")
)


class SqliteSink:
    """One SQLite file, written in one transaction: a failed or killed export leaves the
    file as the last complete export left it. A first export is written into a new file
    beside OUT without a journal (nothing to roll back to) and renamed into place whole."""

    def __init__(self, out: Path, fresh: bool = False) -> None:
        self.out = out
        self.db = sqlite_utils.Database(out)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA cache_size = -131072")  # 128 MB
        if fresh:
            self.db.execute("PRAGMA journal_mode = OFF")
            self.db.execute("PRAGMA synchronous = OFF")  # synced once, before the rename

    def previous(self) -> Previous | None:
        tables = set(self.db.table_names())
        if not tables:
            self._create()
            return None
        if not set(TABLES) <= tables:
            raise ArchiverError(
                f"{self.out}: a SQLite database, but not an archiver export (no "
                f"{', '.join(sorted(set(TABLES) - tables))} table); export into a new OUT"
            )
        run = next(self.db.query("select * from export_runs order by id desc limit 1"), None)
        if run is None:
            raise ArchiverError(f"{self.out}: an archiver export that records no run")
        articles = {
            row["path"]: ArticleFacts(**{k: v for k, v in row.items()})
            for row in self.db.table("articles").rows
        }
        ids = (self._next_id("articles"), self._next_id("versions"), self._next_id("edits"))
        return _previous_from(run, articles, ids)

    def _next_id(self, table: str) -> int:
        found = self.db.execute(f"select max(id) from {table}").fetchone()[0]
        return (found or 0) + 1

    def _create(self) -> None:
        db = self.db
        db.table("articles").create(ARTICLES, pk="id", not_null={"url", "source", "path"})
        db.table("articles").create_index(["path"], unique=True)
        db.table("articles").create_index(["source"])
        db.table("versions").create(
            VERSIONS,
            pk="id",
            foreign_keys=[("article_id", "articles", "id")],
            not_null={"article_id", "number", "commit_id"},
        )
        db.table("versions").create_index(["article_id", "number"])
        enable_search(db, "versions", SEARCHED)
        db.table("edits").create(
            EDITS,
            pk="id",
            foreign_keys=[("version_id", "versions", "id"), ("article_id", "articles", "id")],
            not_null={"version_id", "article_id", "kind"},
        )
        db.table("edits").create_index(["version_id"])
        db.table("edits").create_index(["article_id"])
        db.table("export_runs").create(RUNS, pk="id")

    def add(self, versions: list[dict[str, object]], edits: list[dict[str, object]]) -> None:
        # Straight to sqlite3: the rows already have every column, in SQLite's types.
        self.db.conn.executemany(_INSERT_VERSION, versions)
        # Indexed as they come, while the comparing workers make the next batches, instead
        # of all at the end, when nothing else is left to do.
        self.db.conn.executemany(_INSERT_SEARCHED, versions)
        self.db.conn.executemany(_INSERT_EDIT, edits)

    def finish(self, articles: Sequence[ArticleFacts], run: dict[str, object]) -> None:
        self.db.conn.executemany(_UPSERT_ARTICLE, map(asdict, articles))
        self.db.table("export_runs").insert(run)


@contextmanager
def _sqlite(out: Path) -> Iterator[SqliteSink]:
    if out.is_dir():
        raise ArchiverError(f"{out}: a folder; a sqlite export is one file (or --format jsonl)")
    if not out.exists() or not out.stat().st_size:
        with _fresh_sqlite(out) as sink:
            yield sink
        return
    if not _is_sqlite(out):
        raise ArchiverError(f"{out}: not a SQLite database; export into a new OUT")
    with _sqlite_transaction(out, out) as sink:
        yield sink


def partial_path(out: Path) -> Path:
    """Where a first SQLite export is written before it becomes OUT."""
    return out.with_name(out.name + ".partial")


@contextmanager
def _fresh_sqlite(out: Path) -> Iterator[SqliteSink]:
    """A first export: written in full into OUT.partial (one a killed export left is
    replaced), synced, then renamed to OUT, so OUT is never a half-written file."""
    partial = partial_path(out)
    partial.unlink(missing_ok=True)
    done = False
    try:
        with _sqlite_transaction(partial, out, fresh=True) as sink:
            yield sink
        done = True
    finally:
        if not done:
            partial.unlink(missing_ok=True)  # a first export that failed leaves nothing
    _sync_and_rename(partial, out)


def _sync_and_rename(partial: Path, out: Path) -> None:
    with partial.open("rb+") as file:
        os.fsync(file.fileno())
    os.replace(partial, out)
    folder = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)


@contextmanager
def _sqlite_transaction(path: Path, out: Path, fresh: bool = False) -> Iterator[SqliteSink]:
    existed = path.exists()
    try:
        sink = SqliteSink(path, fresh)
    except sqlite3.Error as err:
        raise ArchiverError(f"{out}: cannot open it as a SQLite database ({err})") from None
    try:
        with sink.db.atomic():
            # Rows of new versions come before their article's row: foreign keys are
            # checked when the transaction commits (the pragma lasts as long as it).
            sink.db.execute("PRAGMA defer_foreign_keys = ON")
            yield sink
    except sqlite3.DatabaseError as err:
        raise ArchiverError(f"{out}: {err}") from None
    finally:
        sink.db.close()
        if not existed and path.exists() and _no_tables(path):
            path.unlink()  # a first export that failed leaves nothing behind


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER


def _no_tables(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("select count(*) from sqlite_master").fetchone()[0] == 0


# --- JSON lines ---------------------------------------------------------------------------

RUNS_FILE = "export_runs.jsonl"


class JsonlSink:
    """A folder of `<table>.jsonl` files. Versions and edits are appended; the articles
    file is replaced whole; the run's line, appended last, completes the export, and
    records the files' sizes so the next export cuts off what a killed one appended."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._files: dict[str, IO[str]] = {}
        self._known: dict[str, ArticleFacts] = {}
        self._last: dict[str, Any] | None = None

    def previous(self) -> Previous | None:
        try:
            return self._previous()
        except (ValueError, KeyError, TypeError) as err:  # json's errors are ValueErrors
            raise ArchiverError(
                f"{self.out}: not an export this archiver can add to ({err!r})"
            ) from None

    def _previous(self) -> Previous | None:
        runs = self.out / RUNS_FILE
        if not runs.is_file():
            if self.out.exists() and any(self.out.iterdir()):
                raise ArchiverError(
                    f"{self.out}: a folder of other files, not an archiver export; "
                    "export into a new or empty folder"
                )
            self.out.mkdir(exist_ok=True)
            return None
        lines = [line for line in runs.read_text(encoding="utf-8").splitlines() if line]
        if not lines:
            raise ArchiverError(f"{runs}: an archiver export that records no run")
        self._last = last = json.loads(lines[-1])
        resume = last["resume"]
        articles_file = self.out / "articles.jsonl"
        if articles_file.stat().st_size != resume["articles_bytes"]:
            raise ArchiverError(
                f"{self.out}: an export into it was interrupted while it replaced "
                "articles.jsonl; delete the folder and export again"
            )
        for table in ("versions", "edits"):
            with (self.out / f"{table}.jsonl").open("r+b") as file:
                file.truncate(resume[f"{table}_bytes"])  # what a killed export appended
        with articles_file.open(encoding="utf-8") as file:
            for line in file:
                facts = ArticleFacts(**json.loads(line))
                self._known[facts.path] = facts
        ids = (resume["next_article"], resume["next_version"], resume["next_edit"])
        return _previous_from(last, self._known, ids)

    def _file(self, table: str) -> IO[str]:
        if table not in self._files:
            self._files[table] = (self.out / f"{table}.jsonl").open("a", encoding="utf-8")
        return self._files[table]

    def add(self, versions: list[dict[str, object]], edits: list[dict[str, object]]) -> None:
        for table, rows in (("versions", versions), ("edits", edits)):
            file = self._file(table)
            file.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    def finish(self, articles: Sequence[ArticleFacts], run: dict[str, object]) -> None:
        sizes = {}
        for table in ("versions", "edits"):
            file = self._file(table)
            file.flush()
            os.fsync(file.fileno())
            sizes[f"{table}_bytes"] = file.tell()
        for facts in articles:
            self._known[facts.path] = facts
        target = self.out / "articles.jsonl"
        partial = target.with_suffix(".jsonl.partial")
        with partial.open("w", encoding="utf-8") as file:
            rows = sorted(self._known.values(), key=lambda a: a.id)
            file.writelines(json.dumps(asdict(a), ensure_ascii=False) + "\n" for a in rows)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, target)
        resume = {
            **sizes,
            "articles_bytes": target.stat().st_size,
            "next_article": 1 + max((a.id for a in self._known.values()), default=0),
            "next_version": _next(self._last, "next_version", run, "versions"),
            "next_edit": _next(self._last, "next_edit", run, "edits"),
        }
        number = 1 + (self._last["id"] if self._last else 0)
        line = {"id": number, **run, "resume": resume}
        with (self.out / RUNS_FILE).open("a", encoding="utf-8") as file:
            file.write(json.dumps(line, ensure_ascii=False) + "\n")

    def close(self) -> None:
        for file in self._files.values():
            file.close()


def _next(last: dict[str, Any] | None, key: str, run: dict[str, object], added: str) -> int:
    start = last["resume"][key] if last else 1
    count = run[added]
    assert isinstance(count, int)
    return int(start) + count


@contextmanager
def _jsonl(out: Path) -> Iterator[JsonlSink]:
    if out.exists() and not out.is_dir():
        raise ArchiverError(f"{out}: a file; a jsonl export is a folder (or --format sqlite)")
    sink = JsonlSink(out)
    try:
        yield sink
    finally:
        sink.close()

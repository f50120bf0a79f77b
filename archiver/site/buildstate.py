"""What a site build remembers for the next one, and where: `BuildPlace`.

The commit it built, and per article and per version the facts that indexes, feeds and
article pages are rendered from, so an incremental build reads only the commits since and
queries the rest instead of re-reading every blob. Deleting the file forces a full build.

It lives in the archive, `.archiver/builds/<key>/build.db` (SQLite), keyed by the output
folder's resolved path: the output folder holds only what is published.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple, Protocol

from archiver.diff import ChangeStats
from archiver.errors import BuildError
from archiver.processes import LockHeld, process_lock
from archiver.site.model import VersionFacts, shard_of, url_shard
from archiver.store import format as trailer
from archiver.store.state import StateView, read_only_uri

STATE_FILE = "build.db"
# 9: origins; 8: captures; 7: search_text; 6: articles withheld (hidden); 5: removals and returns
FORMAT = "9"
BUILDS = "builds"  # in the archive's state folder: one folder per output folder
# Where earlier builds kept their state: inside the output folder, so it was published.
LEGACY_STATE = ".archiver-build.db"
LEGACY_FILES = (
    LEGACY_STATE,
    f"{LEGACY_STATE}-journal",
    f"{LEGACY_STATE}.new",
    ".archiver-build.unfinished",
)


# The columns of a VersionRow, which both versions and events hold (a table each, kept in
# step by this one list: a column added to one only broke the other's inserts).
_VERSION_ROW_COLUMNS = """\
    path TEXT NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    sha TEXT NOT NULL,
    time INTEGER NOT NULL,
    blob TEXT NOT NULL,
    updated TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    old_title TEXT NOT NULL,
    key TEXT NOT NULL,
    stats TEXT,
    summary TEXT NOT NULL,
    minor INTEGER NOT NULL,
    revert_of INTEGER,
    headline INTEGER NOT NULL,
    event TEXT NOT NULL DEFAULT '',
    capture TEXT NOT NULL DEFAULT '',
    fetched TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    hidden INTEGER NOT NULL DEFAULT 0, -- its article's (the lists leave it out), see mark_hidden"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Stored in list order (source, ordinal): a page of a source's article list is a run of
-- neighbouring rows, not fifty scattered reads (0.9 s for 450 pages, from a cold disk).
CREATE TABLE IF NOT EXISTS site_articles (
    path TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_changed INTEGER NOT NULL,
    versions INTEGER NOT NULL,
    changes INTEGER NOT NULL,
    removed INTEGER,
    next_check TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    lookup TEXT NOT NULL DEFAULT '', -- the file of lookup/ its URL is in (model.url_shard)
    PRIMARY KEY (source, ordinal)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS site_articles_lookup ON site_articles (lookup);
CREATE INDEX IF NOT EXISTS site_articles_removed ON site_articles (removed DESC, path)
    WHERE removed IS NOT NULL;
CREATE INDEX IF NOT EXISTS site_articles_rank
    ON site_articles (changes DESC, last_changed DESC, path);
CREATE TABLE IF NOT EXISTS versions (
{_VERSION_ROW_COLUMNS}
    PRIMARY KEY (path, number)
);
-- Removals from and returns to an article's address, with the columns of versions (number:
-- the version shown then), so that lists of changes read both in one ordered query.
CREATE TABLE IF NOT EXISTS events (
{_VERSION_ROW_COLUMNS}
    PRIMARY KEY (path, seq, event)
);
CREATE INDEX IF NOT EXISTS events_all ON events (seq, path);
CREATE INDEX IF NOT EXISTS events_source ON events (source, seq, path);
CREATE INDEX IF NOT EXISTS versions_all ON versions (seq, path) WHERE number > 1;
CREATE INDEX IF NOT EXISTS versions_source ON versions (source, seq, path) WHERE number > 1;
CREATE INDEX IF NOT EXISTS versions_headline ON versions (seq, path) WHERE headline = 1;
CREATE TABLE IF NOT EXISTS shards (shard TEXT PRIMARY KEY) WITHOUT ROWID;
-- Articles and versions per source, kept by triggers: counting them in site_articles
-- grows with the archive (0.45 s at 100,000 articles, from a cold disk).
CREATE TABLE IF NOT EXISTS source_totals (
    source TEXT PRIMARY KEY,
    articles INTEGER NOT NULL,
    versions INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS article_added AFTER INSERT ON site_articles BEGIN
    INSERT INTO source_totals (source, articles, versions) VALUES (new.source, 1, new.versions)
    ON CONFLICT (source) DO UPDATE SET articles = articles + 1, versions = versions + new.versions;
END;
CREATE TRIGGER IF NOT EXISTS article_updated AFTER UPDATE OF versions ON site_articles BEGIN
    UPDATE source_totals SET versions = versions - old.versions + new.versions
    WHERE source = new.source;
END;
-- Per article, the text search indexes: each paragraph and headline with the versions that
-- held it (JSON), so a new version adds its own text, not every version's again.
CREATE TABLE IF NOT EXISTS search_text (
    path TEXT PRIMARY KEY,
    shard TEXT NOT NULL,
    texts TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_text_shard ON search_text (shard, path);
CREATE TABLE IF NOT EXISTS entries (
    path TEXT NOT NULL,
    number INTEGER NOT NULL,
    html TEXT NOT NULL,
    PRIMARY KEY (path, number)
);
"""


@dataclass(frozen=True, slots=True)
class ArticleRow:
    path: str
    source: str
    ordinal: int  # position among its source's articles, by first appearance in history
    url: str
    title: str
    first_seen: int
    last_changed: int
    versions: int
    changes: int  # changes that are not minor
    removed: int | None
    next_check: str | None  # as the state store holds it: ISO time, "" for none, or unknown
    hidden: bool = False  # withheld from the site: its page is a notice, no list shows it


@dataclass(frozen=True, slots=True)
class VersionRow:
    path: str
    number: int
    seq: int
    sha: str
    time: int
    blob: str
    updated: str  # the modification date the page stated
    source: str
    title: str
    old_title: str  # the previous version's title, when this one changed it
    key: str
    stats: str | None  # ChangeStats as trailers, JSON
    summary: str
    minor: bool
    revert_of: int | None
    headline: bool
    event: str = ""  # for a removal or return (see model.EventRef): its kind
    capture: str = ""  # the version's Archiver-Capture trailer, "" when it has none
    fetched: str = ""  # when its page was fetched (Archiver-Fetched)
    origin: str = ""  # where its capture was made, when elsewhere (Archiver-Origin)

    def facts(self) -> VersionFacts:
        stats = trailer.read_stats(json.loads(self.stats)) if self.stats else None
        return VersionFacts(self.number, self.title, self.key, stats, self.minor, self.revert_of)


def stats_json(stats: ChangeStats | None) -> str | None:
    return json.dumps(trailer.stats_trailers(stats), sort_keys=True) if stats else None


_ARTICLE_COLUMNS = ",".join(f.name for f in fields(ArticleRow))
_VERSION_COLUMNS = ",".join(f.name for f in fields(VersionRow))
# An article as lists show it: a list page has 50, and an incremental build rewrites one
# for nearly every changed article, so they are read as plain tuples.
_LISTED = "path, source, title, versions, changes, last_changed, removed"
Listed = tuple[str, str, str, int, int, int, int | None]
# An upsert, not INSERT OR REPLACE, whose deletions would not reach source_totals' triggers.
_ARTICLE_UPDATES = ",".join(f"{f.name} = excluded.{f.name}" for f in fields(ArticleRow))
# A row's values in column order (dataclasses.astuple deep-copies each value: 9 µs a row).
_article_values = attrgetter(*(f.name for f in fields(ArticleRow)))
_version_values = attrgetter(*(f.name for f in fields(VersionRow)))


def _connect(path: Path) -> sqlite3.Connection:
    """A connection that takes URI names, so that the state store attaches read-only."""
    return sqlite3.connect(path.resolve().as_uri(), uri=True)


class BuildState:
    """The remembered build. `BuildState.fresh` starts an empty one beside the old file,
    which replaces it on `commit()`; `BuildState.open` updates the old one in place."""

    def __init__(self, path: Path, target: Path, fresh: bool) -> None:
        self.path = path
        self.target = target
        self._fresh = fresh
        self.db = _connect(path)
        if fresh:
            self.db.execute("PRAGMA journal_mode=OFF")
            self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA)

    @classmethod
    def open(cls, out: Path) -> BuildState | None:
        path = out / STATE_FILE
        if not path.is_file():
            return None
        try:
            state = cls(path, path, fresh=False)
            if state.meta("format") != FORMAT:
                state.close()
                return None
        except sqlite3.DatabaseError:
            return None
        return state

    @classmethod
    def fresh(cls, out: Path) -> BuildState:
        path = out / f"{STATE_FILE}.new"
        path.unlink(missing_ok=True)
        state = cls(path, out / STATE_FILE, fresh=True)
        state.set_meta("format", FORMAT)
        return state

    def close(self) -> None:
        self.db.close()

    def commit(self) -> None:
        self.db.commit()
        if self._fresh:
            self.db.close()
            os.replace(self.path, self.target)
            self.db = _connect(self.target)
            self.path = self.target
            self._fresh = False

    # -- meta

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- articles

    def put_articles(self, rows: Iterable[ArticleRow]) -> None:
        rows = list(rows)
        marks = ",".join("?" * (len(fields(ArticleRow)) + 1))
        self.db.executemany(
            f"INSERT INTO site_articles ({_ARTICLE_COLUMNS}, lookup) VALUES ({marks})"
            f" ON CONFLICT (path) DO UPDATE SET {_ARTICLE_UPDATES}, lookup = excluded.lookup",
            ((*_article_values(row), url_shard(row.url)) for row in rows),
        )
        # Kept as they come: finding them among all articles grows with the archive.
        self.db.executemany(
            "INSERT OR IGNORE INTO shards (shard) VALUES (?)", {(shard_of(r.path),) for r in rows}
        )

    def known(self, paths: Collection[str]) -> dict[str, Known]:
        """The stored article and versions of those of `paths` the build state has."""
        ordered = sorted(paths)
        if len(ordered) < READ_IN_PARALLEL_FROM or self.db.in_transaction:
            return _known(self.db, ordered)
        reader = self.reader()
        for n in range(READERS):
            reader.ask(ordered[n::READERS])
        return reader.result()

    def reader(self) -> KnownReader:
        """Reads of what the state holds of articles, alongside this connection: for a
        build that has written nothing yet, as other connections see only what is committed."""
        if self.db.in_transaction:
            raise RuntimeError("the build state has uncommitted writes other readers miss")
        return KnownReader(self.path)

    def article(self, path: str) -> ArticleRow | None:
        return _article(self.db, path)

    def article_counts(self) -> dict[str, int]:
        """Articles per source."""
        rows = self.db.execute("SELECT source, articles FROM source_totals WHERE articles > 0")
        return dict(rows.fetchall())

    def source_articles(self, source: str, offset: int, limit: int) -> list[Listed]:
        """Articles `offset` to `offset + limit` of a source (ordinals are dense), as lists
        show them; those withheld are left out."""
        rows = self.db.execute(
            f"SELECT {_LISTED} FROM site_articles WHERE source = ? AND ordinal >= ?"
            " AND ordinal < ? AND hidden = 0 ORDER BY ordinal",
            (source, offset, offset + limit),
        )
        return rows.fetchall()

    def most_changed(self, limit: int) -> list[Listed]:
        rows = self.db.execute(
            f"SELECT {_LISTED} FROM site_articles WHERE changes > 0 AND hidden = 0"
            " ORDER BY changes DESC, last_changed DESC, path LIMIT ?",
            (limit,),
        )
        return rows.fetchall()

    def attach_store(self, store: StateView) -> bool:
        """Read the archive's state store alongside (for moved_next_checks); False when it
        cannot be read. Before the first write: SQLite attaches nothing in a transaction."""
        return store.attach(self.db, "store")

    def moved_next_checks(self, attached: bool) -> dict[str, str | None]:
        """path → the next check the state store holds now (ISO time, "" for none, None
        when it does not know the article or is not attached), for every article whose
        page shows another: compared here, as reading 100,000 rows into Python took 0.4 s."""
        if not attached:
            rows = self.db.execute(
                "SELECT path, NULL FROM site_articles WHERE next_check IS NOT NULL"
            )
            return dict(rows.fetchall())
        now = StateView.next_check_sql("store", "built.url")
        rows = self.db.execute(
            f"SELECT path, now FROM (SELECT path, next_check AS shown, {now} AS now"
            " FROM main.site_articles AS built) WHERE shown IS NOT now"
        )
        return dict(rows.fetchall())

    def moved_next_checks_from(self, checks: NextCheckLookup | None) -> dict[str, str | None]:
        """As moved_next_checks, against next checks held in memory (a site over several
        archives, whose stores cannot all be attached as one)."""
        rows = self.db.execute("SELECT path, url, next_check FROM site_articles")
        moved = {}
        for path, url, shown in rows:
            now = checks.get(url) if checks is not None else None
            if now != shown:
                moved[path] = now
        return moved

    def all_articles(self) -> Iterator[tuple[str, int, bool]]:
        """(path, versions, hidden) of every article: enough to know the files it has."""
        rows = self.db.execute("SELECT path, versions, hidden FROM site_articles ORDER BY path")
        yield from ((path, versions, bool(hidden)) for path, versions, hidden in rows)

    def mark_hidden(self, path: str, hidden: bool) -> None:
        """Whether an article's versions and events are left out of lists and feeds."""
        for table in ("versions", "events"):
            self.db.execute(f"UPDATE {table} SET hidden = ? WHERE path = ?", (hidden, path))

    def paths_of(self, urls: Collection[str]) -> list[str]:
        """The articles with these URLs."""
        found = []
        for url in sorted(urls):
            rows = self.db.execute("SELECT path FROM site_articles WHERE url = ?", (url,))
            found += [row[0] for row in rows]
        return sorted(found)

    def article_urls(self, shard: str | None = None) -> Iterator[tuple[str, str]]:
        """(url, path) of every article on the site (none withheld), or of those whose URL
        is in the lookup file `shard`."""
        if shard is None:
            yield from self.db.execute("SELECT url, path FROM site_articles WHERE hidden = 0")
            return
        yield from self.db.execute(
            "SELECT url, path FROM site_articles WHERE lookup = ? AND hidden = 0", (shard,)
        )

    def totals(self) -> tuple[int, int]:
        """(articles, versions)."""
        articles, versions = self.db.execute(
            "SELECT coalesce(sum(articles), 0), coalesce(sum(versions), 0) FROM source_totals"
        ).fetchone()
        return int(articles), int(versions)

    def set_next_checks(self, values: dict[str, str | None]) -> None:
        self.db.executemany(
            "UPDATE site_articles SET next_check = ? WHERE path = ?",
            ((value, path) for path, value in values.items()),
        )

    # -- versions

    def put_versions(self, rows: Iterable[VersionRow]) -> None:
        marks = ",".join("?" * len(fields(VersionRow)))
        self.db.executemany(
            f"INSERT OR REPLACE INTO versions ({_VERSION_COLUMNS}) VALUES ({marks})",
            map(_version_values, rows),
        )

    def versions(self, path: str) -> list[VersionRow]:
        return _versions(self.db, path)

    def put_events(self, rows: Iterable[VersionRow]) -> None:
        marks = ",".join("?" * len(fields(VersionRow)))
        self.db.executemany(
            f"INSERT OR REPLACE INTO events ({_VERSION_COLUMNS}) VALUES ({marks})",
            map(_version_values, rows),
        )

    def events(self, path: str) -> list[VersionRow]:
        return _events(self.db, path)

    def change_count(self, source: str | None = None, headlines: bool = False) -> int:
        query, args = _change_query(source, headlines)
        return int(self.db.execute(f"SELECT count(*) FROM ({query})", args).fetchone()[0])

    def changes(
        self, offset: int, source: str | None = None, headlines: bool = False, total: int = 0
    ) -> Iterator[VersionRow]:
        """Changes oldest first, from `offset` in that order to the end: one query, read
        as it goes, so paging through a list costs one scan, not one per page. Given the
        list's `total`, a tail shorter than the offset is read from the newest end: an
        incremental build's last pages cost what they hold, not the whole list."""
        query, args = _change_query(source, headlines)
        if offset > total - offset >= 0:
            tail = self.db.execute(
                f"{query} ORDER BY seq DESC, path DESC, event DESC LIMIT ?",
                (*args, total - offset),
            ).fetchall()
            return (_version(r) for r in reversed(tail))
        rows = self.db.execute(
            f"{query} ORDER BY seq, path, event LIMIT -1 OFFSET ?", (*args, offset)
        )
        return (_version(r) for r in rows)

    def last_changes(
        self, limit: int, source: str | None = None, headlines: bool = False, major: bool = False
    ) -> list[VersionRow]:
        """The latest changes, newest first."""
        query, args = _change_query(source, headlines, major)
        rows = self.db.execute(
            f"{query} ORDER BY seq DESC, path DESC, event DESC LIMIT ?", (*args, limit)
        )
        return [_version(r) for r in rows]

    def removed_articles(self) -> list[Listed]:
        """The articles gone from their address now, most recently gone first."""
        rows = self.db.execute(
            f"SELECT {_LISTED} FROM site_articles WHERE removed IS NOT NULL AND hidden = 0"
            " ORDER BY removed DESC, path"
        )
        return rows.fetchall()

    def shards(self) -> list[str]:
        """The search shards (source and month) that hold articles, in order."""
        return [r[0] for r in self.db.execute("SELECT shard FROM shards ORDER BY shard")]

    def sources(self) -> list[str]:
        rows = self.db.execute("SELECT source FROM source_totals WHERE articles > 0 ORDER BY 1")
        return [r[0] for r in rows]

    # -- search text

    def search_text(self, path: str) -> str | None:
        row = self.db.execute("SELECT texts FROM search_text WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def put_search_text(self, path: str, texts: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO search_text (path, shard, texts) VALUES (?, ?, ?)",
            (path, shard_of(path), texts),
        )

    def shard_texts(self, shard: str) -> Iterator[tuple[str, str]]:
        """(path, texts) of the shard's articles, in path order; withheld ones left out."""
        rows = self.db.execute(
            "SELECT s.path, s.texts FROM search_text s JOIN site_articles a USING (path)"
            " WHERE s.shard = ? AND a.hidden = 0 ORDER BY s.path",
            (shard,),
        )
        return (tuple(row) for row in rows)

    # -- feed entries

    def entries(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
        found = {}
        for path, number in keys:
            row = self.db.execute(
                "SELECT html FROM entries WHERE path = ? AND number = ?", (path, number)
            ).fetchone()
            if row:
                found[(path, number)] = row[0]
        return found

    def keep_entries(self, entries: dict[tuple[str, int], str]) -> None:
        """The cache of feed entry contents becomes exactly these."""
        self.db.execute("DELETE FROM entries")
        self.db.executemany(
            "INSERT INTO entries (path, number, html) VALUES (?, ?, ?)",
            ((path, number, html) for (path, number), html in sorted(entries.items())),
        )


class NextCheckLookup(Protocol):
    """url → next check ("" for none scheduled, None when unknown): as site.articles reads."""

    def get(self, url: str, /) -> str | None: ...


class BuildPlace:
    """Where the build state of one output folder lives, in the archive's state folder:
    `builds/<key>/` with `build.db`, the marker of a build under way and the lock."""

    def __init__(self, state_dir: Path, out: Path) -> None:
        self.out = out.resolve()
        key = hashlib.sha256(os.fsencode(self.out)).hexdigest()[:16]
        self.folder = state_dir / BUILDS / key
        self.state = self.folder / STATE_FILE
        # Lives from the start of a build to its end: a build that finds it left behind by
        # one that stopped builds everything, as pages written in place may not match.
        self.unfinished = self.folder / "unfinished"
        self.changed = False  # the output folder is not as the last build left it

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the output folder for one build. The lock is the kernel's and the builder
        process's own (a POSIX record lock, which its forked workers do not inherit as they
        would a flock): it goes with the process, so a build that was killed holds nothing."""
        stack = ExitStack()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            named = self.folder / "output"  # for whoever looks in the folder
            if not named.exists():
                named.write_text(f"{self.out}\n", encoding="utf-8")
            stack.enter_context(process_lock(self.folder / "lock"))
        except LockHeld as held:
            holder = held.holder or "unknown"
            raise BuildError(f"another build is writing {self.out} (pid {holder})") from None
        except OSError as error:
            message = f"{self.folder}: cannot keep the build state ({error.strerror})"
            raise BuildError(message) from None
        with stack:
            yield

    def known(self) -> bool:
        """Whether a build of this archive wrote the output folder: its state, or the
        marker of one that stopped part way."""
        return self.state.is_file() or self.unfinished.exists()

    def legacy(self) -> list[Path]:
        """The files of a build state an earlier version left inside the output folder."""
        return [self.out / name for name in LEGACY_FILES if (self.out / name).exists()]

    def adopt_legacy(self) -> None:
        """Move the build state an earlier version left inside the output folder out of
        it: it must not be published. Only a state that was whole is kept (no marker of a
        stopped build, no journal, none of ours already): otherwise a full build follows."""
        found = self.legacy()
        if not found:
            return
        legacy = self.out / LEGACY_STATE
        moved = False
        if found == [legacy] and legacy.is_file() and not self.known():
            with suppress(OSError):  # on another file system: a full build makes it anew
                os.replace(legacy, self.state)
                moved = True
        state = BuildState.open(self.folder) if moved else None
        if state is None:
            self.unfinished.touch()
        else:  # it described the folder it lay in
            state.set_meta("output", output_stamp(self.out))
            state.commit()
            state.close()
        for path in found:
            path.unlink(missing_ok=True)

    def open_state(self) -> BuildState | None:
        """The state of the last build, if it still describes the output folder: one that
        was deleted, emptied or put back from elsewhere since is built in full (`changed`)."""
        state = BuildState.open(self.folder)
        if state is not None and state.meta("output") != output_stamp(self.out):
            state.close()
            self.changed = True
            return None
        return state


def output_stamp(out: Path) -> str:
    """What tells the output folder is as the last build left it: its home page's file
    (every build writes one), which deleting, emptying or restoring the folder replaces."""
    try:
        info = os.stat(out / "index.html")
    except OSError:
        return ""
    return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def _change_filter(source: str | None, headlines: bool) -> tuple[str, tuple[object, ...]]:
    where = "hidden = 0 AND " + ("headline = 1" if headlines else "number > 1")
    if source is None:
        return where, ()
    return f"{where} AND source = ?", (source,)


def _change_query(
    source: str | None, headlines: bool, major: bool = False
) -> tuple[str, tuple[object, ...]]:
    """What a list of changes shows, as one compound SELECT of version columns: the
    versions, and but for headline lists, the removals and returns."""
    where, args = _change_filter(source, headlines)
    if major:
        where += " AND minor = 0"
    query = f"SELECT {_VERSION_COLUMNS} FROM versions WHERE {where}"
    if headlines:
        return query, args
    events, event_args = ("", ()) if source is None else (" AND source = ?", (source,))
    return (
        f"{query} UNION ALL SELECT {_VERSION_COLUMNS} FROM events WHERE hidden = 0{events}",
        args + event_args,
    )


class Known(NamedTuple):
    article: ArticleRow
    versions: list[VersionRow]
    events: list[VersionRow]


READERS = 4
READ_IN_PARALLEL_FROM = 64


class KnownReader:
    """Reads what the build state holds of articles on threads of their own, a connection
    each, as their paths are asked for: an incremental build asks as the history read names
    them. The rows lie scattered in a file the disk cache rarely holds, and SQLite lets go
    of the GIL while it waits, so the reads overlap git's and each other's (500 articles
    from a cold disk: 0.14-0.18 s in one connection, 0.07-0.09 s in four)."""

    def __init__(self, path: Path) -> None:
        self._uri = read_only_uri(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._pool = ThreadPoolExecutor(READERS)
        self._parts: list[Future[dict[str, Known]]] = []

    def ask(self, paths: Collection[str]) -> None:
        if paths:
            self._parts.append(self._pool.submit(self._read, sorted(paths)))

    def result(self) -> dict[str, Known]:
        """Everything asked for, once read; the reader is done with then."""
        found: dict[str, Known] = {}
        try:
            for part in self._parts:
                found.update(part.result())
        finally:
            self._pool.shutdown()
            for db in self._connections:
                db.close()
        return found

    def _read(self, paths: list[str]) -> dict[str, Known]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            self._connections.append(db)
        return _known(db, paths)


def _known(db: sqlite3.Connection, paths: Iterable[str]) -> dict[str, Known]:
    found = {}
    for path in paths:
        article = _article(db, path)
        if article is not None:
            found[path] = Known(article, _versions(db, path), _events(db, path))
    return found


def _article(db: sqlite3.Connection, path: str) -> ArticleRow | None:
    row = db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM site_articles WHERE path = ?", (path,))
    found = row.fetchone()
    if not found:
        return None
    values = list(found)
    values[-1] = bool(values[-1])  # hidden
    return ArticleRow(*values)


def _versions(db: sqlite3.Connection, path: str) -> list[VersionRow]:
    rows = db.execute(
        f"SELECT {_VERSION_COLUMNS} FROM versions WHERE path = ? ORDER BY number", (path,)
    )
    return [_version(r) for r in rows]


def _events(db: sqlite3.Connection, path: str) -> list[VersionRow]:
    rows = db.execute(
        f"SELECT {_VERSION_COLUMNS} FROM events WHERE path = ? ORDER BY seq, event", (path,)
    )
    return [_version(r) for r in rows]


def _version(row: tuple[object, ...]) -> VersionRow:
    values = list(row)
    values[13] = bool(values[13])  # minor
    values[15] = bool(values[15])  # headline
    return VersionRow(*values)  # type: ignore[arg-type]

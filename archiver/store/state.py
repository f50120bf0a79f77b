"""The local state store: schedule and HTTP cache state per article, in SQLite.

It lives in `.archiver/state.db` under the archive, ignored by git. Git stays the single
source of truth for content: when the store is missing it is rebuilt from history.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.clock import isoformat, parse_iso
from archiver.errors import StateError
from archiver.store.captures import Captured
from archiver.store.format import CaptureRef

log = logging.getLogger(__name__)

STATE_DIR = ".archiver"
STATE_FILE = "state.db"
SCHEMA_VERSION = 2
_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}  # what a store SQLite cannot read fails with

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_checked TEXT,
    last_changed TEXT,
    next_check TEXT,
    versions INTEGER NOT NULL DEFAULT 0,
    blob TEXT,
    etag TEXT,
    last_modified TEXT,
    last_status INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    signals TEXT NOT NULL DEFAULT '',
    chars INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    gone_since TEXT,
    blobs TEXT NOT NULL DEFAULT '',
    rules TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS articles_due ON articles (next_check);
CREATE INDEX IF NOT EXISTS articles_source ON articles (source);
CREATE TABLE IF NOT EXISTS checks (
    url TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    chars INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS checks_source_at ON checks (source, at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS aliases (url TEXT PRIMARY KEY, canonical TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    started TEXT NOT NULL,
    source TEXT NOT NULL,
    discovered INTEGER NOT NULL,
    checked INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    extracted INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    errors TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS held (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    tries INTEGER NOT NULL,
    until TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS captures (
    url TEXT NOT NULL,
    digest TEXT NOT NULL,
    path TEXT NOT NULL,
    record_id TEXT NOT NULL,
    uri TEXT NOT NULL,
    date TEXT NOT NULL,
    PRIMARY KEY (url, digest)
);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    last_success TEXT,
    last_error TEXT,
    failing_since TEXT
);
"""


@dataclass(frozen=True)
class ArticleState:
    url: str
    source: str
    path: str
    first_seen: datetime
    last_checked: datetime | None = None
    last_changed: datetime | None = None
    next_check: datetime | None = None
    versions: int = 0
    blob: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    failures: int = 0
    last_error: str | None = None
    signals: frozenset[str] = frozenset()
    chars: int = 0
    unchanged: int = 0
    removed: bool = False
    gone_since: datetime | None = None
    blobs: tuple[str, ...] = ()  # the text of each version, oldest first (for reverts)
    rules: str = ""  # fingerprint of the extraction rules the stored text came from

    def update(self, **changes: Any) -> ArticleState:
        return replace(self, **changes)


@dataclass(frozen=True)
class Held:
    """Why a URL is held back, and until when: discovery passes it over meanwhile (a
    tracked article robots.txt now disallows is also held, to be told once)."""

    kind: str  # "skipped" (robots.txt) or "failed" (a new article's check failed)
    reason: str
    tries: int  # checks in a row that gave this kind of answer
    until: datetime  # discovery passes the URL over until then


_DATES = {"first_seen", "last_checked", "last_changed", "next_check", "gone_since"}
_COLUMNS = [f.name for f in fields(ArticleState)]


def _to_row(article: ArticleState) -> tuple[object, ...]:
    values: list[object] = []
    for name in _COLUMNS:
        value = getattr(article, name)
        if name in _DATES:
            value = isoformat(value) if value else None
        elif name == "signals":
            value = ",".join(sorted(value))
        elif name == "removed":
            value = int(value)
        elif name == "blobs":
            value = " ".join(value)
        values.append(value)
    return tuple(values)


def _from_row(row: sqlite3.Row) -> ArticleState:
    values = dict(zip(_COLUMNS, row, strict=True))
    for name in _DATES:
        values[name] = parse_iso(values[name]) if values[name] else None
    values["signals"] = frozenset(s for s in values["signals"].split(",") if s)
    values["removed"] = bool(values["removed"])
    values["blobs"] = tuple(values["blobs"].split())
    return ArticleState(**values)


class StateStore:
    """Per-article state. Writes are batched in one transaction per `commit()`.

    A store SQLite cannot read (random bytes, a truncated file) is set aside as
    `state.db.corrupt-<time>` and a new one is made: `created` is then true, and the
    archive rebuilds it from git as it does a missing one."""

    def __init__(self, path: Path, now: datetime | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.set_aside: Path | None = None  # where a damaged store was moved
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            if _read_only(path):  # an archive on a read-only mount can still be read
                self._open_read_only()
                return
            if getattr(err, "sqlite_errorname", "") not in _DAMAGED:
                raise StateError(f"{path}: cannot be opened ({err})") from None
            self.set_aside = _set_aside(path, now or datetime.now(UTC))
            log.warning(
                "%s: damaged (%s); kept as %s, rebuilding it from git",
                path,
                err,
                self.set_aside.name,
            )
            self._open()

    def _open(self) -> None:
        # An empty file opens as an empty store: rebuild it as a missing one.
        self.created = not self.path.exists() or self.path.stat().st_size == 0
        self._db = sqlite3.connect(self.path, isolation_level="DEFERRED")
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute("SELECT count(*) FROM meta").fetchone()  # fails on a cut-off file
        except sqlite3.Error:
            self._db.close()
            raise
        if self.created:
            self.set_meta("schema", str(SCHEMA_VERSION))
            self._db.commit()

    def _open_read_only(self) -> None:
        """The store as it is, for reading: `immutable` needs no -shm file, which a read-only
        folder cannot hold (a write-ahead log a killed run left is not read)."""
        self.created = False
        uri = f"{self.path.resolve().as_uri()}?immutable=1"
        self._db = sqlite3.connect(uri, uri=True, isolation_level="DEFERRED")
        try:
            self._db.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.Error as err:
            self._db.close()
            raise StateError(f"{self.path}: cannot be read ({err})") from None

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def commit(self) -> None:
        self._db.commit()

    def get(self, url: str) -> ArticleState | None:
        row = self._db.execute(
            f"SELECT {','.join(_COLUMNS)} FROM articles WHERE url = ?", (url,)
        ).fetchone()
        return _from_row(row) if row else None

    def put(self, article: ArticleState) -> None:
        marks = ",".join("?" * len(_COLUMNS))
        self._db.execute(
            f"INSERT OR REPLACE INTO articles ({','.join(_COLUMNS)}) VALUES ({marks})",
            _to_row(article),
        )

    def put_many(self, articles: Iterable[ArticleState]) -> None:
        marks = ",".join("?" * len(_COLUMNS))
        self._db.executemany(
            f"INSERT OR REPLACE INTO articles ({','.join(_COLUMNS)}) VALUES ({marks})",
            (_to_row(a) for a in articles),
        )

    def all(self, source: str | None = None) -> Iterator[ArticleState]:
        query = f"SELECT {','.join(_COLUMNS)} FROM articles"
        rows = (
            self._db.execute(query + " WHERE source = ? ORDER BY url", (source,))
            if source
            else self._db.execute(query + " ORDER BY url")
        )
        return (_from_row(row) for row in rows.fetchall())

    def due(self, now: datetime) -> list[ArticleState]:
        rows = self._db.execute(
            f"SELECT {','.join(_COLUMNS)} FROM articles"
            " WHERE next_check IS NOT NULL AND next_check <= ? ORDER BY next_check, url",
            (isoformat(now),),
        ).fetchall()
        return [_from_row(row) for row in rows]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def record_check(
        self,
        url: str,
        source: str,
        at: datetime,
        outcome: str,
        status: int | None = None,
        chars: int | None = None,
        error: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO checks (url, source, at, outcome, status, chars, error)"
            " VALUES (?,?,?,?,?,?,?)",
            (url, source, isoformat(at), outcome, status, chars, error),
        )

    def checks_since(self, since: datetime) -> list[sqlite3.Row]:
        self._db.row_factory = sqlite3.Row
        try:
            return self._db.execute(
                "SELECT * FROM checks WHERE at >= ? ORDER BY at", (isoformat(since),)
            ).fetchall()
        finally:
            self._db.row_factory = None

    def captured(self, url: str) -> list[Captured]:
        """The responses captured of an article, one per payload (what a revisit names)."""
        rows = self._db.execute(
            "SELECT path, record_id, digest, uri, date FROM captures WHERE url = ?", (url,)
        ).fetchall()
        return [Captured(CaptureRef(p, r, d), u, when) for p, r, d, u, when in rows]

    def add_captured(self, url: str, captured: Captured) -> None:
        """Remember a response captured (not a revisit): later identical payloads name it.
        A replay of git knows a capture by its ref alone (uri and date ""): what its record
        says, or a newer response of the payload, takes that one's place; one known in full
        is kept."""
        ref = captured.ref
        self._db.execute(
            "INSERT INTO captures (url, digest, path, record_id, uri, date)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url, digest) DO UPDATE SET"
            " path = excluded.path, record_id = excluded.record_id, uri = excluded.uri,"
            " date = excluded.date WHERE captures.date = '' AND excluded.date != ''",
            (url, ref.digest, ref.path, ref.record_id, captured.uri, captured.date),
        )

    def add_alias(self, url: str, canonical: str) -> None:
        """Another address (a redirect, a non-canonical form) of a tracked article."""
        self._db.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (url, canonical))

    def known(self, urls: Iterable[str], now: datetime | None = None) -> set[str]:
        """Which of these URLs are tracked articles or aliases of one, or (given `now`) are
        held back then (see `hold`)."""
        found: set[str] = set()
        batch = list(urls)
        for start in range(0, len(batch), 500):
            chunk = batch[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for table in ("articles", "aliases"):
                rows = self._db.execute(f"SELECT url FROM {table} WHERE url IN ({marks})", chunk)
                found.update(row[0] for row in rows)
            if now is not None:
                rows = self._db.execute(
                    f"SELECT url FROM held WHERE url IN ({marks}) AND until > ?",
                    (*chunk, isoformat(now)),
                )
                found.update(row[0] for row in rows)
        return found

    def record_run(
        self, started: datetime, source: str, counts: dict[str, int], errors: list[str]
    ) -> None:
        self._db.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?)",
            (
                isoformat(started),
                source,
                counts.get("discovered", 0),
                counts.get("checked", 0),
                counts.get("changed", 0),
                counts.get("extracted", 0),
                counts.get("failed", 0),
                "\n".join(errors),
            ),
        )

    def recent_runs(self, source: str, limit: int = 5, checked: bool = False) -> list[sqlite3.Row]:
        """The source's last runs, newest first; with `checked`, those that checked any."""
        where = " AND checked > 0" if checked else ""
        self._db.row_factory = sqlite3.Row
        try:
            return self._db.execute(
                f"SELECT * FROM runs WHERE source = ?{where} ORDER BY started DESC LIMIT ?",
                (source, limit),
            ).fetchall()
        finally:
            self._db.row_factory = None

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # URLs held back from discovery: skipped by policy (robots.txt) until the verdict is
    # due again, or new articles that failed, until their next try.

    def hold(self, url: str, source: str, held: Held) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?, ?, ?)",
            (url, source, held.kind, held.reason, held.tries, isoformat(held.until)),
        )

    def held(self, url: str) -> Held | None:
        row = self._db.execute(
            "SELECT kind, reason, tries, until FROM held WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        kind, reason, tries, until = row
        return Held(kind, reason, tries, parse_iso(until))

    def release(self, url: str) -> None:
        self._db.execute("DELETE FROM held WHERE url = ?", (url,))

    # Sources: when each last worked, and its discovery's last error while it fails.

    def record_source(self, name: str, at: datetime, worked: bool, error: str | None) -> None:
        row = self._db.execute(
            "SELECT last_success, failing_since FROM sources WHERE name = ?", (name,)
        ).fetchone()
        success, since = row if row else (None, None)
        self._db.execute(
            "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?)",
            (
                name,
                isoformat(at) if worked else success,
                error,
                (since or isoformat(at)) if error else None,
            ),
        )

    def sources(self) -> dict[str, tuple[datetime | None, str | None, datetime | None]]:
        """Each recorded source's (last success, last error, failing since)."""
        rows = self._db.execute("SELECT name, last_success, last_error, failing_since FROM sources")
        return {
            name: (parse_iso(ok) if ok else None, error, parse_iso(since) if since else None)
            for name, ok, error, since in rows
        }

    def last_checked_ok(self) -> dict[str, datetime]:
        """Per source, the last check of one of its articles that did not fail."""
        rows = self._db.execute(
            "SELECT source, max(last_checked) FROM articles"
            " WHERE failures = 0 AND last_checked IS NOT NULL GROUP BY source"
        )
        return {source: parse_iso(when) for source, when in rows}

    def first_seen_times(self, source: str, limit: int) -> list[datetime]:
        """The latest distinct times articles of `source` were first stored, newest first."""
        rows = self._db.execute(
            "SELECT DISTINCT first_seen FROM articles WHERE source = ?"
            " ORDER BY first_seen DESC LIMIT ?",
            (source, limit),
        )
        return [parse_iso(row[0]) for row in rows]


def _set_aside(path: Path, now: datetime) -> Path:
    """Move a damaged store and its write-ahead log out of the way, keeping them."""
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.rename(target)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        wal.rename(target.with_name(target.name + "-wal"))
    path.with_name(path.name + "-shm").unlink(missing_ok=True)
    return target


def _read_only(path: Path) -> bool:
    """An existing store in a folder no one may write to (a read-only mount, say)."""
    return path.is_file() and path.stat().st_size > 0 and not os.access(path.parent, os.W_OK)


def read_only_uri(path: Path) -> str:
    """The URI that opens (or attaches) the SQLite database at `path` for reading only."""
    return f"{path.resolve().as_uri()}?mode=ro"


@dataclass(frozen=True)
class SourceHealthLine:
    """A source's health as the site shows it: ISO times (UTC), or None."""

    last_success: str | None = None
    failing_since: str | None = None
    last_error: str | None = None


class StateView:
    """The state store as the site reads it: the next check of each article, read-only
    (`mode=ro`), so a build never creates, changes or rebuilds the store. A store that
    cannot be read reads as one that knows nothing.

    The site names neither the store's file nor its tables: it asks this view, or attaches
    the store beside its own database and compares there, in SQL the view gives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    @classmethod
    def find(cls, path: Path) -> StateView | None:
        """The view of the store at `path`, or None when the archive has none."""
        return cls(path) if path.is_file() else None

    def uri(self) -> str:
        """The URI that opens (or attaches) the store for reading only."""
        return read_only_uri(self.path)

    def next_checks(self) -> dict[str, str] | None:
        """url → next check (ISO time, or "" when none is scheduled) of every article, in
        one query; None when the store cannot be read."""
        try:
            db = sqlite3.connect(self.uri(), uri=True)
            try:
                rows = db.execute("SELECT url, next_check FROM articles").fetchall()
            finally:
                db.close()
        except sqlite3.Error:
            return None
        return {url: value or "" for url, value in rows}

    def source_health(self) -> dict[str, SourceHealthLine] | None:
        """Per source, what `archiver status` tells of its health: when it last worked (a
        document read, or an article checked without failing), and while its discovery
        fails, since when and its last error; None when the store cannot be read."""
        try:
            db = sqlite3.connect(self.uri(), uri=True)
            try:
                recorded = db.execute(
                    "SELECT name, last_success, failing_since, last_error FROM sources"
                ).fetchall()
                checked = db.execute(
                    "SELECT source, max(last_checked) FROM articles"
                    " WHERE failures = 0 AND last_checked IS NOT NULL GROUP BY source"
                ).fetchall()
            finally:
                db.close()
        except sqlite3.Error:
            return None
        found = {name: SourceHealthLine(ok, since, error) for name, ok, since, error in recorded}
        for name, when in checked:
            line = found.get(name, SourceHealthLine())
            last = max(line.last_success or when, when)  # ISO times in one format sort so
            found[name] = SourceHealthLine(last, line.failing_since, line.last_error)
        return found

    def get(self, url: str, /) -> str | None:
        """One article's next check ("" for none scheduled; None when unknown), looked up
        on its own: what an incremental build needs, where reading every article's (0.08 s
        at 100,000 articles) would grow with the archive. Each process opens its own
        connection, never one inherited by a fork."""
        try:
            if self._db is None or self._pid != os.getpid():
                self._db = sqlite3.connect(self.uri(), uri=True)
                self._pid = os.getpid()
            row = self._db.execute("SELECT next_check FROM articles WHERE url = ?", (url,))
            found = row.fetchone()
        except sqlite3.Error:
            return None
        return None if found is None else found[0] or ""

    def attach(self, db: sqlite3.Connection, alias: str) -> bool:
        """Attach the store, read-only, to another database as `alias` (for
        `next_check_sql`); False when it cannot be read. Before `db`'s first write: SQLite
        attaches nothing in a transaction."""
        try:
            db.execute(f"ATTACH DATABASE ? AS {alias}", (self.uri(),))
        except sqlite3.Error:
            return False
        return True

    @staticmethod
    def next_check_sql(alias: str, url: str) -> str:
        """An SQL expression for the next check the store attached as `alias` holds for the
        article whose URL is the expression `url`: ISO time, "" for none scheduled, NULL
        when the store does not know the article."""
        return f"(SELECT coalesce(next_check, '') FROM {alias}.articles WHERE url = {url})"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

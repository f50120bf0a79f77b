"""The state store as the site reads it: through StateView, read-only, never named elsewhere."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.store.state import ArticleState, StateStore, StateView

SEEN = datetime(2025, 3, 1, tzinfo=UTC)
DUE = datetime(2025, 3, 2, 6, 30, tzinfo=UTC)


def _store(path: Path) -> None:
    store = StateStore(path)
    store.put(ArticleState("https://a.test/due", "a", "articles/a/due.md", SEEN, next_check=DUE))
    store.put(ArticleState("https://a.test/none", "a", "articles/a/none.md", SEEN))
    store.close()


def test_every_next_check_in_one_read_and_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _store(path)
    view = StateView.find(path)
    assert view is not None
    everything = view.next_checks()
    assert everything == {"https://a.test/due": "2025-03-02T06:30:00Z", "https://a.test/none": ""}
    assert {url: view.get(url) for url in everything} == everything
    assert view.get("https://a.test/unknown") is None
    view.close()


def test_the_view_never_creates_or_changes_the_store(tmp_path: Path) -> None:
    missing = tmp_path / "state.db"
    assert StateView.find(missing) is None
    assert StateView(missing).next_checks() is None
    assert StateView(missing).get("https://a.test/due") is None
    assert not missing.exists()
    _store(missing)
    view = StateView(missing)
    db = sqlite3.connect(view.uri(), uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM articles")
    db.close()


def test_a_store_sqlite_cannot_read_reads_as_one_that_knows_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"not a database, only bytes " * 100)
    view = StateView(path)
    assert view.next_checks() is None
    assert view.get("https://a.test/due") is None
    assert view.attach(sqlite3.connect(":memory:"), "store") is False
    assert path.read_bytes() == b"not a database, only bytes " * 100


def test_attached_the_store_answers_next_checks_in_sql(tmp_path: Path) -> None:
    """NULL for an article the store does not know, "" for none scheduled, else the time."""
    path = tmp_path / "state.db"
    _store(path)
    db = sqlite3.connect(":memory:")
    assert StateView(path).attach(db, "known")
    db.execute("CREATE TABLE pages (url TEXT)")
    urls = ["https://a.test/due", "https://a.test/none", "https://a.test/unknown"]
    db.executemany("INSERT INTO pages VALUES (?)", [(url,) for url in urls])
    expression = StateView.next_check_sql("known", "pages.url")
    rows = db.execute(f"SELECT url, {expression} FROM pages ORDER BY url").fetchall()
    assert rows == [
        ("https://a.test/due", "2025-03-02T06:30:00Z"),
        ("https://a.test/none", ""),
        ("https://a.test/unknown", None),
    ]
    db.close()

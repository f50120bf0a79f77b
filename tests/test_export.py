"""`archiver export`: the demo archive as research tables, read back with sqlite3, Datasette
and json; incremental exports after real syncs on loopback; bad OUTs and options."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette

from archiver import sync as sync_api
from archiver.archive import Archive
from archiver.clock import FixedClock
from archiver.demo import run_demo
from archiver.diff import split_sentences
from archiver.export import research
from archiver.export.research import export_research
from archiver.store import format as trailer
from archiver.store.document import parse_document
from archiver.store.format import read_stats
from archiver.store.history import iter_commits

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR
from .test_reformat import RULE, _change_rules, _serve

ARCHIVER = Path(sys.executable).with_name("archiver")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it."""
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [str(ARCHIVER), *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return run_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def exported(demo: Archive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "demo.db"
    result = _run("export", str(out), "--archive", str(demo.root))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert f"exported into {out}" in result.stdout
    return out


def _rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _trailer_counts(trailers: dict[str, str]) -> Counter[str]:
    stats = read_stats(trailers)
    counts = Counter(
        added=stats.sentences_added,
        removed=stats.sentences_removed,
        edited=stats.sentences_edited,
        moved=stats.sentences_moved,
    )
    return +counts  # zero counts dropped


# --- the demo, exported -----------------------------------------------------------------


def test_the_rows_are_the_archives_articles_and_versions(demo: Archive, exported: Path):
    tracked = {a.path: a for a in demo.state.all()}
    articles = _rows(exported, "select path, url, source, versions, removed from articles")
    assert {path for path, *_ in articles} == set(tracked)
    for path, url, source, versions, removed in articles:
        state = tracked[path]
        assert (url, source, versions) == (state.url, state.source, state.versions)
        assert (removed is not None) == state.removed
    numbers = _rows(
        exported,
        "select a.path, group_concat(v.number) from versions v join articles a"
        " on a.id = v.article_id group by a.path order by a.path",
    )
    for path, listed in numbers:
        assert listed.split(",") == [str(n) for n in range(1, tracked[path].versions + 1)]
    assert _rows(exported, "select count(*) from versions") == [
        (sum(a.versions for a in tracked.values()),)
    ]
    assert _rows(exported, "pragma foreign_key_check") == []


def _edit_counts(db: Path) -> dict[int, Counter[str]]:
    """Each version's edits, counted by kind."""
    edits: dict[int, Counter[str]] = {}
    query = "select version_id, kind, count(*) from edits group by version_id, kind"
    for vid, kind, n in _rows(db, query):
        edits.setdefault(vid, Counter())[kind] = n
    return edits


def test_each_versions_edits_are_what_its_trailers_count(demo: Archive, exported: Path):
    versions = {
        sha: (vid, change)
        for vid, sha, change in _rows(exported, "select id, commit_id, change from versions")
    }
    edits = _edit_counts(exported)
    checked = 0
    for commit in iter_commits(demo.repo):
        if commit.sha not in versions:
            assert commit.trailers.get(trailer.CHANGE) is None  # not a version: no counts
            continue
        vid, change = versions[commit.sha]
        assert change == commit.trailers[trailer.CHANGE], commit.subject
        assert edits.get(vid, Counter()) == _trailer_counts(commit.trailers), commit.subject
        checked += 1
    assert checked == len(versions)
    assert sum(sum(c.values()) for c in edits.values()) > 20  # the demo's edits are there


def test_an_edit_holds_the_sentences_it_names(exported: Path):
    rows = _rows(
        exported,
        "select e.kind, e.old_index, e.new_index, e.old_sentence, e.new_sentence, v.text,"
        " (select text from versions p where p.article_id = v.article_id"
        "  and p.number = v.number - 1) from edits e join versions v on v.id = e.version_id",
    )
    assert {kind for kind, *_ in rows} == {"added", "removed", "edited", "moved"}
    for _kind, old_index, new_index, old, new, text, before in rows:
        if new_index is not None:
            assert new == _sentences(text)[new_index]
        if old_index is not None and before is not None:
            assert old == _sentences(before)[old_index]


def _sentences(body: str) -> list[str]:
    return [s for p in body.split("\n\n") if p.strip() for s in split_sentences(p.strip())]


def _a_sentence(demo: Archive) -> tuple[str, str]:
    """A sentence of some article at HEAD, read with git alone, and that article's URL."""
    path = git(demo.root, "ls-files", "articles/").split()[0]
    document = parse_document(git(demo.root, "show", f"HEAD:{path}"))
    return max(_sentences(document.body), key=len), document.url


def test_full_text_search_finds_a_sentence(demo: Archive, exported: Path):
    sentence, url = _a_sentence(demo)
    found = _rows(
        exported,
        "select a.url from versions_fts join versions v on v.id = versions_fts.rowid"
        " join articles a on a.id = v.article_id where versions_fts match ?",
        '"' + sentence.replace('"', '""') + '"',
    )
    assert found and {u for (u,) in found} == {url}


def test_datasette_serves_the_tables_and_a_search(demo: Archive, exported: Path):
    sentence, url = _a_sentence(demo)

    async def ask() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        datasette = Datasette([str(exported)])
        await datasette.invoke_startup()
        name = exported.stem
        listing = (await datasette.client.get(f"/{name}.json")).json()
        words = " ".join(sentence.split()[:8])
        search = await datasette.client.get(
            f"/{name}/versions.json", params={"_search": words, "_shape": "array"}
        )
        edits = await datasette.client.get(
            f"/{name}/edits.json", params={"_shape": "array", "_labels": "on", "_size": "5"}
        )
        return listing, search.json(), edits.json()

    listing, search, edits = asyncio.run(ask())
    tables = {t["name"]: t for t in listing["tables"] if not t["hidden"]}
    assert {"articles", "versions", "edits", "export_runs"} <= set(tables)
    assert tables["versions"]["fts_table"] == "versions_fts"
    assert tables["versions"]["count"] == _rows(exported, "select count(*) from versions")[0][0]
    article_ids = {row["article_id"] for row in search}
    assert article_ids and article_ids <= {
        i for (i,) in _rows(exported, "select id from articles where url = ?", url)
    }
    # Foreign keys: each edit names its version and article by their titles.
    assert edits and all(isinstance(e["article_id"], dict) for e in edits)
    assert all(e["article_id"]["label"] for e in edits)


def test_jsonl_holds_the_same_rows(demo: Archive, exported: Path, tmp_path: Path):
    out = tmp_path / "demo-jsonl"
    report = export_research(demo, out, "jsonl")
    assert sorted(p.name for p in out.iterdir()) == [
        "articles.jsonl",
        "edits.jsonl",
        "export_runs.jsonl",
        "versions.jsonl",
    ]
    for table in ("articles", "versions", "edits"):
        lines = [json.loads(line) for line in (out / f"{table}.jsonl").read_text().splitlines()]
        with sqlite3.connect(exported) as conn:
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute(f"select * from {table} order by id")]
        booleans = ("returned", "title_changed", "byline_changed", "date_changed")
        for row in rows:  # SQLite keeps booleans as integers
            row.update({k: bool(row[k]) for k in booleans if row.get(k) is not None})
        assert lines == rows, table
    assert report.versions == len(_rows(exported, "select id from versions"))


def test_source_and_since_choose_the_articles(demo: Archive, tmp_path: Path):
    tracked = list(demo.state.all())
    source = Counter(a.source for a in tracked).most_common(1)[0][0]
    one = export_research(demo, tmp_path / "one.db", sources=[source])
    assert one.articles == sum(1 for a in tracked if a.source == source)
    assert {s for (s,) in _rows(tmp_path / "one.db", "select source from articles")} == {source}
    days = sorted({a.first_seen.date() for a in tracked})
    later = export_research(demo, tmp_path / "later.db", since=days[-1])
    assert later.articles == sum(1 for a in tracked if a.first_seen.date() >= days[-1])
    assert 0 < later.articles < len(tracked)


# --- incremental ------------------------------------------------------------------------


def _story(title: str, extra: list[str]) -> str:
    return article_html(title, [*HARBOUR, *extra])


@pytest.mark.parametrize("fmt", ["sqlite", "jsonl"])
def test_a_second_export_adds_only_what_is_new(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path, fmt: str
):
    urls = [server.url(f"/news/story-{n}") for n in range(3)]
    for n in range(len(urls)):
        server.set(f"/news/story-{n}", _story(f"Harbour story {n}", []))
    assert not sync_api.add(archive, urls).failures
    out = tmp_path / ("out.db" if fmt == "sqlite" else "out")
    first = export_research(archive, out, fmt)
    assert (first.articles, first.versions, first.edits) == (3, 3, 0)
    before = _table(out, fmt, "versions")

    clock.advance(timedelta(hours=1))
    added = "The ferry operator said it would add a late sailing on Fridays."
    server.set("/news/story-1", _story("Harbour story 1 delayed", [added]))
    assert not sync_api.sync(archive, check_all=True).failures
    second = export_research(archive, out, fmt)
    assert second.incremental and second.commits == 1
    assert (second.articles, second.versions, second.edits) == (1, 1, 1)
    after = _table(out, fmt, "versions")
    assert after[: len(before)] == before  # nothing rewritten
    (new,) = after[len(before) :]
    assert (new["number"], new["title"], new["change"]) == (2, "Harbour story 1 delayed", "edit")
    assert new["title_changed"]
    (edit,) = _table(out, fmt, "edits")
    assert (edit["kind"], edit["new_sentence"], edit["version_id"]) == ("added", added, new["id"])
    articles = {a["url"]: a for a in _table(out, fmt, "articles")}
    assert articles[urls[1]]["versions"] == 2 and articles[urls[1]]["title"].endswith("delayed")
    assert articles[urls[0]]["versions"] == 1
    runs = _table(out, fmt, "export_runs")
    assert [r["head"] for r in runs] == [first.head, second.head]
    if fmt == "sqlite":  # the new version is searchable, and every version once
        query = "select rowid from versions_fts where versions_fts match ?"
        assert _rows(out, query, '"late sailing"') == [(new["id"],)]
        assert _rows(out, "select count(*) from versions_fts") == [(len(after),)]

    third = export_research(archive, out, fmt)  # nothing new
    assert (third.commits, third.versions) == (0, 0)
    assert len(_table(out, fmt, "export_runs")) == 2


def _table(out: Path, fmt: str, table: str) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        return [json.loads(line) for line in (out / f"{table}.jsonl").read_text().splitlines()]
    with sqlite3.connect(out) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(f"select * from {table} order by id")]


def test_a_killed_jsonl_exports_lines_are_cut_off(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
):
    server.set("/news/a", _story("A harbour story", []))
    assert not sync_api.add(archive, [server.url("/news/a")]).failures
    out = tmp_path / "out"
    export_research(archive, out, "jsonl")
    kept = (out / "versions.jsonl").read_bytes()
    with (out / "versions.jsonl").open("ab") as file:
        file.write(b'{"id": 2, "half a line')  # what a killed export left
    clock.advance(timedelta(hours=1))
    server.set("/news/a", _story("A harbour story", ["A new closing line was added."]))
    assert not sync_api.sync(archive, check_all=True).failures
    export_research(archive, out, "jsonl")
    lines = (out / "versions.jsonl").read_bytes()
    assert lines.startswith(kept) and [json.loads(x)["id"] for x in lines.splitlines()] == [1, 2]


def test_an_edit_after_a_reformat_is_compared_with_the_reformatted_text(
    archive: Archive, server: NewsServer, tmp_path: Path
):
    url = server.url("/news/bridge")
    _serve(server, BRIDGE, "Sat, 01 Mar 2025 08:00:00 GMT")
    sync_api.add(archive, [url], source="daily")
    archive = _change_rules(archive, RULE)  # drops the footbridge line from now on
    assert sync_api.reformat(archive).results[0].outcome.name == "REFORMATTED"
    _serve(server, BRIDGE_EDITED, "Sat, 01 Mar 2025 11:00:00 GMT")
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert not sync_api.sync(archive, check_all=True).failures

    report = export_research(archive, tmp_path / "out.db")
    assert report.versions == 2  # the reformat is no version
    (edit_commit,) = [c for c in iter_commits(archive.repo) if c.version == 2]
    rows = _rows(
        tmp_path / "out.db",
        "select e.kind, e.old_sentence from edits e join versions v on v.id = e.version_id"
        " where v.number = 2",
    )
    assert Counter(kind for kind, _ in rows) == _trailer_counts(edit_commit.trailers)
    # The footbridge line went with the reformat, not with the edit.
    assert not any("footbridge" in (old or "") for _, old in rows)
    archive.close()


# --- errors -----------------------------------------------------------------------------


def _one_line_error(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0], lines[0]


def _other_database(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes (text)")
    return path


BAD: dict[str, tuple[Any, str]] = {
    "parquet": (lambda t: [str(t / "x.parquet"), "--format", "parquet"], "pyarrow"),
    "format": (lambda t: [str(t / "x"), "--format", "xml"], "--format xml"),
    "since": (lambda t: [str(t / "x.db"), "--since", "last week"], "--since last week"),
    "source": (lambda t: [str(t / "x.db"), "--source", "Bad Name"], "--source Bad Name"),
    "folder": (lambda t: [str(t)], "a folder"),
    "no folder": (lambda t: [str(t / "missing" / "x.db")], "does not exist"),
    "not sqlite": (lambda t: [str(_write(t / "notes.db", "my notes"))], "not a SQLite"),
    "other db": (lambda t: [str(_other_database(t / "other.db"))], "not an archiver export"),
    "jsonl file": (lambda t: [str(_write(t / "notes", "x")), "--format", "jsonl"], "a file"),
    "jsonl others": (
        lambda t: [str(_write(t / "f" / "notes.txt", "x").parent), "--format", "jsonl"],
        "other files",
    ),
}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_out_and_options_are_one_line_and_touch_nothing(
    case: str, demo: Archive, tmp_path: Path
):
    arguments, says = BAD[case]
    args = arguments(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    _one_line_error(_run("export", *args, "--archive", str(demo.root)), says)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_other_options_than_the_first_exports_are_refused(demo: Archive, tmp_path: Path):
    out = tmp_path / "x.db"
    export_research(demo, out, since=date(2025, 1, 1))
    result = _run("export", str(out), "--archive", str(demo.root))
    _one_line_error(result, "exported with --since 2025-01-01, not no --source or --since")


def test_a_rewritten_history_is_refused(demo: Archive, tmp_path: Path):
    copy = tmp_path / "archive"
    shutil.copytree(demo.root, copy)
    out = tmp_path / "x.db"
    assert _run("export", str(out), "--archive", str(copy)).returncode == 0
    git(copy, "reset", "-q", "--hard", "HEAD~1")
    git(copy, "commit", "-q", "--allow-empty", "-m", "Another history")
    size = out.stat().st_size
    _one_line_error(_run("export", str(out), "--archive", str(copy)), "no longer holds")
    assert out.stat().st_size == size


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive whose export takes long enough to be killed midway (600 versions)."""
    from benchmarks.generate import generate

    root = tmp_path_factory.mktemp("generated") / "archive"
    generate(root, articles=200, versions=600, checkout=False)
    return root


def test_a_killed_first_export_leaves_no_file_at_out(generated: Path, tmp_path: Path):
    out = tmp_path / "out.db"
    partial = out.with_name("out.db.partial")
    process = subprocess.Popen([str(ARCHIVER), "export", str(out), "--archive", str(generated)])
    while not (out.exists() or partial.exists()) and process.poll() is None:
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL, "the export ended before it was killed"
    assert not out.exists()  # never half a file at OUT: it is renamed there when complete
    result = _run("export", str(out), "--archive", str(generated))
    assert result.returncode == 0, result.stderr
    assert not partial.exists()
    assert _rows(out, "select count(*) from versions") == [(600,)]
    assert _rows(out, "pragma integrity_check") == [("ok",)]


def test_versions_compared_in_several_batches_keep_their_own_edits(generated: Path, tmp_path: Path):
    # 600 commits: more than one batch, each compared in a worker (one of several on 3+ cores).
    out = tmp_path / "out.db"
    archive = Archive.open(generated)
    export_research(archive, out)
    versions = dict(_rows(out, "select commit_id, id from versions"))
    edits = _edit_counts(out)
    checked = 0
    for commit in iter_commits(archive.repo):
        if commit.trailers.get(trailer.CHANGE) in (trailer.CHANGE_EDIT, trailer.CHANGE_MINOR):
            vid = versions[commit.sha]
            assert edits.get(vid, Counter()) == _trailer_counts(commit.trailers), commit.sha
            checked += 1
    archive.close()
    assert checked > 300 and sum(sum(c.values()) for c in edits.values()) > 300


def _all_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("articles", "versions", "edits")
    return {t: _rows(db, f"select * from {t} order by id") for t in tables}


def test_the_rows_are_the_same_wherever_the_batches_are_compared(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    archive = Archive.open(generated)
    export_research(archive, tmp_path / "default.db")
    # Batches of 8 commits (75 of them, several in the workers at once, the bases of many
    # versions in another batch than theirs); then, with no second core, all compared here.
    monkeypatch.setattr(research, "BATCH_COMMITS", 8)
    export_research(archive, tmp_path / "small.db")
    monkeypatch.setattr(research.os, "cpu_count", lambda: 1)
    export_research(archive, tmp_path / "here.db")
    archive.close()
    expected = _all_rows(tmp_path / "default.db")
    assert len(expected["edits"]) > 300
    assert _all_rows(tmp_path / "small.db") == expected
    assert _all_rows(tmp_path / "here.db") == expected

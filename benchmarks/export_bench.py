"""Research export speed and size: full exports of a synthetic archive against one `git log`
pass over the same history, then incremental exports after `--changed` new versions.

    python -m benchmarks.export_bench [--articles 5000] [--versions 15000] [--rounds 3]
                                      [--changed 500] [--incremental-rounds 2]
                                      [--archive PATH] [--tmp DIR]

The archive is benchmarks.generate's (or `--archive`'s, which then gains the new commits).
Each round runs, in turn (A, B, C, A, B, C …): a full SQLite export into a new file
(`archiver.export.research.export_research`), `git log --raw` alone, read in full; the
floor of site_bench (that pass with each version's blob read once through `git cat-file`);
`git log -p`, read in full (git's own pass over every version and its changes); and the
search floor: the floor's pass with each blob, as it is read, put in a SQLite full-text
index made as the export makes its own (tables.enable_search), in one transaction, the least work of
an export that can be searched.
CPU is accounted per process as benchmarks/ab.py does: the exporter (this process), its
workers (the forked processes that compare versions, summed), git.
Then one JSON lines export (size), and `--incremental-rounds` rounds of: `--changed`
articles each get a new version through CommitStream, then an incremental export into the
last full export's file. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from archiver.archive import Archive
from archiver.export.research import ExportReport, export_research
from archiver.export.tables import enable_search

from .ab import CpuMeter, CpuUse, interleaved, machine_load, ratios, spread
from .generate import generate, human_size
from .site_bench import (
    SEED,
    Floor,
    commit_changes,
    environment,
    head_time,
    history_floor,
    log_alone,
    log_and_blobs,
    new_versions,
    pick_articles,
    scratch,
)


@dataclass(frozen=True)
class Export:
    report: ExportReport
    use: CpuUse
    size: int


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


def timed_export(archive: Archive, out: Path, format: str = "sqlite") -> Export:
    os.sync()  # the previous round's writes are not this one's to wait for
    with CpuMeter() as meter:
        report = export_research(archive, out, format)
    assert meter.result is not None
    return Export(report, meter.result, _size(out))


# git's own pass over every version and its changes.
PATCH_LOG = ("git", "log", "-p", "--no-color", "--no-ext-diff", "--no-renames")


def search_floor(root: Path, out: Path) -> Floor:
    """The floor's pass with every blob put in a full-text index as it is read: what any
    searchable export of this history must at least do."""
    os.sync()
    db = sqlite3.connect(out, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("CREATE TABLE texts (id INTEGER PRIMARY KEY, text TEXT)")
    enable_search(sqlite_utils.Database(db), "texts", ["text"])
    batch: list[tuple[int, str]] = []
    ids = itertools.count(1)

    def index(blob: bytes) -> None:
        batch.append((next(ids), blob.decode("utf-8", errors="replace")))
        if len(batch) >= 512:
            flush()

    def flush() -> None:
        db.executemany("INSERT INTO texts (id, text) VALUES (?, ?)", batch)
        db.executemany("INSERT INTO texts_fts (rowid, text) VALUES (?, ?)", batch)
        batch.clear()

    with CpuMeter() as meter:
        db.execute("BEGIN")
        commits, blobs, _ = log_and_blobs(root, index)
        flush()
        db.execute("COMMIT")
        db.close()
    assert meter.result is not None
    found = Floor(meter.result, commits, blobs, out.stat().st_size)
    out.unlink()
    return found


def _cpu(uses: Sequence[CpuUse]) -> str:
    cells = [spread([u.get(role) for u in uses]).show() for role in ("main", "workers", "git")]
    return " | ".join([*cells, spread([u.total for u in uses]).show()])


def full_table(
    exports: Sequence[Export],
    logs: Sequence[Floor],
    floors: Sequence[Floor],
    patches: Sequence[Floor],
    searches: Sequence[Floor],
) -> str:
    r = exports[0].report
    rows = [
        "| run | wall | rows (versions / edits) | size | exporter CPU | workers CPU | git CPU "
        "| all CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| full export, sqlite | {spread([e.report.seconds for e in exports]).show()} "
        f"| {r.versions:,} / {r.edits:,} | {human_size(exports[0].size)} "
        f"| {_cpu([e.use for e in exports])} |",
    ]
    for label, runs in (
        ("`git log --raw` alone", logs),
        ("floor: `git log --raw` + `cat-file --batch` of each blob", floors),
        ("`git log -p`", patches),
        ("search floor: the floor + each blob into FTS5", searches),
    ):
        verb = "written" if runs is searches else "read"
        rows.append(
            f"| {label} | {spread([f.seconds for f in runs]).show()} | | "
            f"{human_size(runs[0].bytes_read)} {verb} | {_cpu([f.use for f in runs])} |"
        )
    walls = [e.report.seconds for e in exports]
    lines = [
        "Full export ÷ `git log --raw` alone: "
        + ratios(walls, [f.seconds for f in logs]).show("×", 1),
        "Full export ÷ the floor: " + ratios(walls, [f.seconds for f in floors]).show("×", 1),
        "Full export ÷ `git log -p`: " + ratios(walls, [f.seconds for f in patches]).show("×", 1),
        "Full export ÷ the search floor: "
        + ratios(walls, [f.seconds for f in searches]).show("×", 1),
        "Search floor ÷ `git log --raw` alone: "
        + ratios([f.seconds for f in searches], [f.seconds for f in logs]).show("×", 1),
        "Full export's CPU ÷ `git log`'s: "
        + ratios([e.use.total for e in exports], [f.use.total for f in logs]).show("×", 1),
    ]
    return "\n".join(rows) + "\n\n" + "\n".join(f"- {line}" for line in lines)


def incremental(args: argparse.Namespace, archive: Archive, root: Path, out: Path) -> str:
    rows = [
        "| export | commits read | versions / edits added | wall | exporter CPU | workers CPU "
        "| git CPU | all CPU | file size after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for round_ in range(1, args.incremental_rounds + 1):
        paths = pick_articles(root, args.changed, SEED + round_ - 1)
        commit_changes(archive, new_versions(root, paths, head_time(archive.repo)))
        done = timed_export(archive, out)
        r = done.report
        rows.append(
            f"| incremental, {len(paths)} new versions (round {round_}) | {r.commits:,} "
            f"| {r.versions:,} / {r.edits:,} | {r.seconds:.2f} s | {_cpu([done.use])} "
            f"| {human_size(done.size)} |"
        )
    return "\n".join(rows)


def run(args: argparse.Namespace, work: Path) -> None:
    root = args.archive or work / "archive"
    if args.archive is None:
        summary = generate(root, args.articles, args.versions, seed=SEED)
        print(
            f"Archive: {args.articles:,} articles, {args.versions:,} versions, "
            f"{human_size(summary.git_bytes)} in .git, {human_size(summary.text_bytes)} of "
            f"text, generated in {summary.import_seconds + summary.checkout_seconds:.0f} s.\n"
        )
    archive = Archive.open(root)
    outs = iter(range(args.rounds))
    exports, logs, floors, patches, searches = interleaved(
        args.rounds,
        [
            lambda: timed_export(archive, work / f"export-{next(outs)}.db"),
            lambda: log_alone(root),
            lambda: history_floor(root),
            lambda: log_alone(root, PATCH_LOG),
            lambda: search_floor(root, work / "search-floor.db"),
        ],
    )
    print(full_table(exports, logs, floors, patches, searches))  # type: ignore[arg-type]
    jsonl = timed_export(archive, work / "export-jsonl", "jsonl")
    print(
        f"\nJSON lines export: {jsonl.report.seconds:.1f} s, {human_size(jsonl.size)} "
        f"(all CPU {jsonl.use.total:.1f} s).\n"
    )
    for path in (work / "export-jsonl").iterdir():
        os.remove(path)
    print(incremental(args, archive, root, work / f"export-{args.rounds - 1}.db"))
    archive.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_bench", description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--versions", type=int, default=15000)
    parser.add_argument("--rounds", type=int, default=3, help="full exports, interleaved")
    parser.add_argument("--changed", type=int, default=500, help="new versions per increment")
    parser.add_argument("--incremental-rounds", type=int, default=2)
    parser.add_argument(
        "--archive", type=Path, help="use this archive instead of generating one (it gains commits)"
    )
    parser.add_argument("--tmp", type=Path, help="folder for the scratch archive and exports")
    args = parser.parse_args(argv)
    print(f"Measured {environment()}.\n")
    with machine_load() as load, scratch(args.tmp) as work:
        run(args, work)
    print(f"\nMachine {load[0].show()}.")


if __name__ == "__main__":
    main()

"""Site build speed: a full build of a synthetic archive, then `--rounds` incremental ones,
each after `--changed` other articles gained a version, next to the cost of reading the
history with git.

    python -m benchmarks.site_bench [--articles 5000] [--versions 15000] [--changed 500]
                                    [--rounds 3]
                                    [--search] [--archive PATH] [--tmp DIR]

The archive is benchmarks.generate's (or `--archive`'s, which then gains the new commits).
Builds are `archiver.site.build.build_site` into a fresh folder: first without search (rendering
alone), then, with `--search`, the same two builds with pagefind into another folder.
The baselines read every object once (`git cat-file --batch-all-objects --batch`) and the
whole history once (`git log --raw`): what no build of this history can avoid, so the
build's time is also given as a multiple of them. The machine is shared and noisy, so only
ratios within one run mean much. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git

from archiver.archive import Archive
from archiver.site.build import BuildReport, build_site
from archiver.store.commits import Change, CommitStream, subject_line
from archiver.store.document import parse_document
from archiver.store.format import change_trailers

from .generate import (
    Article,
    WordModel,
    committed_text,
    generate,
    human_size,
    insert_paragraph,
    reword_headline,
    trailers,
)

SEED = 1
CHECKED = 5  # changed articles whose pages are compared before and after the incremental build
# Each sample reads every process's smaps_rollup (~19 ms at 20,000 articles): at 0.1 s the
# sampler took 12 % of a core from the build it measured, at 1 s under 2 %.
SAMPLE_SECONDS = 1.0


# Memory ----------------------------------------------------------------------------------


def _tree_pids(root: int) -> list[int]:
    """`root` and all its descendants, from /proc's parent links (workers, git, pagefind)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # The command name may hold spaces; the fields after its ")" do not.
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, ()))
    return found


def _memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes. PSS shares pages among the processes using them, so forked
    workers' copy-on-write pages are not counted twice as they are in summed RSS."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class MemorySampler:
    """Peak memory of this process and its descendants together, sampled from /proc in a
    thread: getrusage's RUSAGE_CHILDREN gives only the largest single child, and only
    once it has been waited for."""

    def __init__(self) -> None:
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for pid in _tree_pids(os.getpid()):
                one_rss, one_pss = _memory_of(pid)
                rss, pss = rss + one_rss, pss + one_pss
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def maxrss(who: int) -> int:
    """getrusage's peak resident size in bytes (Linux reports kilobytes)."""
    return resource.getrusage(who).ru_maxrss * 1024


# Builds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    label: str
    search: bool
    report: BuildReport
    peak_rss: int
    peak_pss: int


def timed_build(label: str, archive: Archive, out: Path, search: bool) -> Build:
    # Each build starts with no disk writes pending: right after a full build the kernel is
    # still writing its ~13 GB out, which an incremental build would otherwise wait behind.
    os.sync()
    with MemorySampler() as sampler:
        report = build_site(archive, out, search=search)
    return Build(label, search, report, sampler.peak_rss, sampler.peak_pss)


# Baselines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    label: str
    seconds: float
    bytes_read: int


def _drain(command: Sequence[str], cwd: Path) -> Baseline:
    """Run `command` and read all it prints, as a reader of its output would have to."""
    started = time.perf_counter()
    total = 0
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        while chunk := process.stdout.read(1 << 20):
            total += len(chunk)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return Baseline(" ".join(command), time.perf_counter() - started, total)


def baselines(root: Path) -> list[Baseline]:
    return [
        _drain(["git", "cat-file", "--batch-all-objects", "--batch"], root),
        _drain(["git", "log", "--raw", "--no-abbrev", "--format=%H %ct%n%B"], root),
    ]


# New versions ----------------------------------------------------------------------------


def pick_articles(root: Path, count: int, seed: int = SEED) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "articles/"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.split()
    return random.Random(seed).sample(sorted(listed), min(count, len(listed)))


def version_numbers(root: Path, paths: Sequence[str]) -> Counter[str]:
    """Versions each path has so far: one `git log` limited to those paths, not one per path."""
    out = subprocess.run(
        ["git", "log", "--format=", "--name-only", "--", *paths],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Counter(line for line in out.splitlines() if line)


def _article_from_file(root: Path, path: str, rng: random.Random) -> Article:
    """An Article holding the stored version, enough for the generator's edits that need
    no history of the article (its people, typos and staff are not in the file)."""
    document = parse_document((root / path).read_text(encoding="utf-8"), path)
    return Article(
        url=document.url,
        source=document.source,
        staff=(),
        path=path,
        published=document.published,
        title=document.title,
        authors=list(document.authors),
        paragraphs=document.body.rstrip("\n").split("\n\n"),
        people=[],
        rng=rng,
        extractor=document.extractor,
    )


def new_versions(root: Path, paths: Sequence[str], when: datetime) -> list[Change]:
    """Each article edited once (a paragraph inserted; the headline reworded for a third of
    them, so that indexes and feeds change too), as Changes a capture would store."""
    model = WordModel(SEED)
    numbers = version_numbers(root, paths)
    changes = []
    for i, path in enumerate(paths):
        article = _article_from_file(root, path, random.Random(f"{SEED}:{path}"))
        article.stored = article.text()
        old = article.document(article.body()).version()
        insert_paragraph(model, article)
        if i % 3 == 0:
            reword_headline(model, article)
        moment = when + timedelta(seconds=i)
        text = committed_text(model, article)
        change = change_trailers(old, article.document(article.body()).version())
        changes.append(
            Change(
                source=article.source,
                subject=subject_line(article.source, article.title),
                trailers={**trailers(article, numbers[path] + 1, moment), **change},
                when=moment,
                files={path: text},
            )
        )
    return changes


def commit_changes(archive: Archive, changes: Sequence[Change]) -> float:
    """One commit each through CommitStream, one checkpoint at the end, as a capture does."""
    started = time.perf_counter()
    stream = CommitStream(archive.repo, checkpoint_every=len(changes) + 1)
    for change in changes:
        stream.commit(change)
    stream.close()
    return time.perf_counter() - started


def head_time(repo: git.Repo) -> datetime:
    return datetime.fromtimestamp(repo.head.commit.committed_date, UTC)


def page_snapshot(out: Path, paths: Sequence[str]) -> dict[str, tuple[bytes, int]]:
    """Each article's index.html and how many files its folder holds (one more version
    page is expected after the edit)."""
    snapshot = {}
    for path in paths:
        folder = out / path.removesuffix(".md")
        page = folder / "index.html"
        files = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        snapshot[path] = (page.read_bytes() if page.is_file() else b"", files)
    return snapshot


def pages_changed(before: dict[str, tuple[bytes, int]], after: dict[str, tuple[bytes, int]]) -> str:
    good = sum(
        1
        for path, (page, files) in before.items()
        if after[path][0] != page and after[path][1] > files
    )
    return f"{good} of {len(before)}"


# Report ----------------------------------------------------------------------------------


def table(builds: Sequence[Build], reference: float) -> str:
    rows = [
        "| build | commits read | articles rendered | pages written | unchanged | time | "
        "search | pages/s | × history read | peak RSS (tree) | peak PSS (tree) |",
        "|---" * 11 + "|",
    ]
    for build in builds:
        r = build.report
        search = f"{r.search_seconds:.1f} s" if r.search_seconds else "–"
        rows.append(
            f"| {build.label} | {r.commits:,} | {r.articles_rendered:,} | {r.pages_written:,} | "
            f"{r.pages_unchanged:,} | {r.seconds:.2f} s | {search} | "
            f"{r.pages_written / r.seconds:,.0f} | {r.seconds / reference:.1f}× | "
            f"{human_size(build.peak_rss)} | {human_size(build.peak_pss)} |"
        )
    return "\n".join(rows)


def baseline_table(lines: Sequence[Baseline]) -> str:
    rows = ["| history read | time | read |", "|---|---|---|"]
    rows += [f"| `{b.label}` | {b.seconds:.2f} s | {human_size(b.bytes_read)} |" for b in lines]
    return "\n".join(rows)


def environment() -> str:
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, git {git_version}, load average {load}"
    )


# The run ---------------------------------------------------------------------------------


@contextmanager
def scratch(folder: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=folder, prefix="site-bench-") as name:
        yield Path(name)


def run(args: argparse.Namespace, work: Path) -> None:
    root = args.archive or work / "archive"
    if args.archive is None:
        summary = generate(root, args.articles, args.versions, seed=SEED)
        print(
            f"Archive: {args.articles:,} articles, {args.versions:,} versions, "
            f"{human_size(summary.git_bytes)} in .git, generated in "
            f"{summary.import_seconds + summary.checkout_seconds:.0f} s.\n"
        )
    archive = Archive.open(root)
    lines = baselines(root)
    reference = lines[0].seconds + lines[1].seconds
    builds = [timed_build("full", archive, work / "site", search=False)]
    committed, checked = 0.0, []
    for round_ in range(1, args.rounds + 1):
        # Each round edits other articles: none of their pages was just read or written.
        paths = pick_articles(root, args.changed, SEED + round_ - 1)
        before = page_snapshot(work / "site", paths[:CHECKED])
        committed += commit_changes(archive, new_versions(root, paths, head_time(archive.repo)))
        label = f"incremental, {len(paths)} changed (round {round_})"
        builds.append(timed_build(label, archive, work / "site", False))
        checked.append(pages_changed(before, page_snapshot(work / "site", paths[:CHECKED])))
    rounds = sorted(b.report.seconds for b in builds[1:])
    if args.search:
        builds.append(timed_build("full + search", archive, work / "search-site", True))
        more = new_versions(root, paths, head_time(archive.repo))
        commit_changes(archive, more)
        label = f"incremental + search, {len(paths)} changed"
        builds.append(timed_build(label, archive, work / "search-site", True))
    archive.close()
    print(
        f"{args.rounds} × {len(paths)} new versions committed through CommitStream in "
        f"{committed:.1f} s.\n"
    )
    print(baseline_table(lines))
    print()
    print(table(builds, reference))
    print(
        f"\n× history read: build time ÷ both history reads ({reference:.2f} s). Pages/s counts "
        "files written. Changed articles whose index.html changed and that gained a page: "
        f"{', '.join(checked)}. Incremental builds: median {rounds[len(rounds) // 2]:.2f} s "
        f"of {len(rounds)} (range {rounds[0]:.2f}–{rounds[-1]:.2f} s)."
    )
    for build in builds:
        if build.search:
            print(f"{build.label}: search {build.report.search}")
    print(
        f"getrusage peak RSS: this process {human_size(maxrss(resource.RUSAGE_SELF))}, "
        f"largest waited-for child {human_size(maxrss(resource.RUSAGE_CHILDREN))}."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.site_bench", description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--versions", type=int, default=15000)
    parser.add_argument(
        "--changed", type=int, default=500, help="articles edited before the incremental build"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="incremental builds, each after its own set of edited articles",
    )
    parser.add_argument(
        "--search",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also the two builds with the pagefind search index",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        help="use this day-layout archive instead of generating one (it gains the new commits)",
    )
    parser.add_argument("--tmp", type=Path, help="folder for the scratch archive and sites")
    args = parser.parse_args(argv)
    print(f"Measured {environment()}.\n")
    with scratch(args.tmp) as work:
        run(args, work)
    print(f"\nLoad average after the run: {', '.join(f'{x:.2f}' for x in os.getloadavg())}.")


if __name__ == "__main__":
    sys.exit(main())

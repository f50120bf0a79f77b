"""Site build speed: full builds of a synthetic archive against the floor any build of its
history must pay, then `--rounds` incremental ones, each after `--changed` other articles
gained a version.

    python -m benchmarks.site_bench [--articles 5000] [--versions 15000] [--changed 500]
                                    [--full-rounds 3] [--rounds 3]
                                    [--search] [--archive PATH] [--tmp DIR]

The archive is benchmarks.generate's (or `--archive`'s, which then gains the new commits).
The floor is one `git log --raw` pass whose article blobs go, as they are named, to one
`git cat-file --batch` that reads each once: the history and every version's text, which
every full build reads, and nothing it does not need (no trees). Full builds
(`archiver.site.build_site` into a new folder each time, without search), the floor and
`git log --raw` alone run in turn, `--full-rounds` times (A, B, C, A, B, C …), so that a busy
spell of this shared machine lands on all of them; each round's ratio is reported with the
median and range. CPU is accounted per process: the builder (this process), its render
workers, git, others (pagefind). Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
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

from .ab import CpuMeter, CpuUse, interleaved, machine_load, ratios, read_proc, spread
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
        # At the peak: PSS and process count by role (builder, workers, git).
        self.peak_split: dict[str, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            rss = pss = 0
            split: Counter[str] = Counter()
            counts: Counter[str] = Counter()
            for pid in _tree_pids(me):
                one_rss, one_pss = _memory_of(pid)
                rss, pss = rss + one_rss, pss + one_pss
                role = _memory_role(pid, me)
                split[role] += one_pss
                counts[role] += 1
            if pss > self.peak_pss:
                self.peak_split = {role: (split[role], counts[role]) for role in split}
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _memory_role(pid: int, builder: int) -> str:
    if pid == builder:
        return "builder"
    info = read_proc(pid)
    name = info.name if info else ""
    return "git" if name.startswith("git") else "workers" if name.startswith("python") else name


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
    use: CpuUse
    peak_split: dict[str, tuple[int, int]]


def timed_build(label: str, archive: Archive, out: Path, search: bool) -> Build:
    # Each build starts with no disk writes pending: right after a full build the kernel is
    # still writing its ~13 GB out, which an incremental build would otherwise wait behind.
    os.sync()
    with MemorySampler() as sampler, CpuMeter() as meter:
        report = build_site(archive, out, search=search)
    assert meter.result is not None
    return Build(
        label, search, report, sampler.peak_rss, sampler.peak_pss, meter.result, sampler.peak_split
    )


# The floor -------------------------------------------------------------------------------

# Each commit's header line starts with a NUL, which no message line holds.
LOG = ("git", "log", "--raw", "--no-abbrev", "--no-renames", "--format=%x00%H %ct%n%B")


@dataclass(frozen=True)
class Floor:
    """What any build of this history must read: the history once, and once each version's
    blob (every version of every article gets a page)."""

    use: CpuUse
    commits: int
    blobs: int
    bytes_read: int

    @property
    def seconds(self) -> float:
        return self.use.wall


def history_floor(root: Path) -> Floor:
    """One `git log --raw` pass whose article blobs are handed, as they are read, to one
    `git cat-file --batch`, whose answers are read in full: the floor of a full build."""
    os.sync()
    with CpuMeter() as meter:
        commits, blobs, total = log_and_blobs(root)
    assert meter.result is not None
    return Floor(meter.result, commits, blobs, total)


def log_alone(root: Path, command: Sequence[str] = LOG) -> Floor:
    """`git log --raw` (or another git command) alone, read in full (no blob read by us):
    for comparison only."""
    os.sync()
    with CpuMeter() as meter:
        total = 0
        with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE) as log:
            assert log.stdout is not None
            while chunk := log.stdout.read(1 << 20):
                total += len(chunk)
    assert meter.result is not None
    return Floor(meter.result, 0, 0, total)


def log_and_blobs(
    root: Path, each: Callable[[bytes], object] | None = None
) -> tuple[int, int, int]:
    """(commits, blobs, bytes read) of the floor's pass; `each` is handed every blob read."""
    log = subprocess.Popen(LOG, cwd=root, stdout=subprocess.PIPE)
    cat = subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    counts = [0, 0, 0]  # commits, blobs asked for, bytes of log read
    feeder = threading.Thread(target=_feed_blobs, args=(log, cat, counts))
    feeder.start()
    assert cat.stdout is not None
    total = answers = 0
    while header := cat.stdout.readline():
        size = int(header.split()[2])
        blob = cat.stdout.read(size + 1)
        total += len(blob)
        answers += 1
        if each is not None:
            each(blob[:-1])
    feeder.join()
    if log.wait() or cat.wait() or answers != counts[1]:
        raise SystemExit("the history floor's git processes failed")
    return counts[0], counts[1], total + counts[2]


def _feed_blobs(
    log: subprocess.Popen[bytes], cat: subprocess.Popen[bytes], counts: list[int]
) -> None:
    """Each article file's new blob, once, as `git log` names it."""
    assert log.stdout is not None and cat.stdin is not None
    seen: set[bytes] = set()
    for line in log.stdout:
        counts[2] += len(line)
        if line.startswith(b":"):
            meta, _, path = line.partition(b"\t")
            blob = meta.split()[3]
            if path.startswith(b"articles/") and meta.split()[4] != b"D" and blob not in seen:
                seen.add(blob)
                cat.stdin.write(blob + b"\n")
                counts[1] += 1
        elif line.startswith(b"\0"):
            counts[0] += 1
    cat.stdin.close()


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


CPU_ROLES = (("main", "builder"), ("workers", "workers"), ("git", "git"), ("other", "other"))


def _cpu_cells(uses: Sequence[CpuUse]) -> list[str]:
    cells = [spread([u.get(role) for u in uses]).show() for role, _ in CPU_ROLES]
    cells.append(spread([u.unattributed for u in uses]).show())
    cells.append(spread([u.total for u in uses]).show())
    return cells


def _cpu_head() -> str:
    names = " | ".join(f"{name} CPU" for _, name in CPU_ROLES)
    return f"{names} | unattributed | all CPU"


def full_table(builds: Sequence[Build], floors: Sequence[Floor], logs: Sequence[Floor]) -> str:
    """The full builds against the floor and `git log` alone, medians and ranges of the
    interleaved rounds."""
    rows = [
        f"| run | wall | commits read | blobs read | bytes read | peak PSS (tree) "
        f"| peak RSS (tree) | {_cpu_head()} |",
        "|---|" + "---:|" * (6 + len(CPU_ROLES) + 2),
    ]
    r = builds[0].report
    pss = spread([b.peak_pss / 2**20 for b in builds]).show(" MB", 0)
    rss = spread([b.peak_rss / 2**20 for b in builds]).show(" MB", 0)
    walls = spread([b.report.seconds for b in builds]).show()
    rows.append(
        f"| full build ({r.pages_written:,} files) | {walls} | {r.commits:,} | | | {pss} | {rss} "
        f"| {' | '.join(_cpu_cells([b.use for b in builds]))} |"
    )
    for label, runs in (
        ("floor: `git log --raw` + `cat-file --batch` of each blob", floors),
        ("`git log --raw` alone", logs),
    ):
        f = runs[0]
        blobs = f"{f.blobs:,}" if f.blobs else ""
        commits = f"{f.commits:,}" if f.commits else ""
        rows.append(
            f"| {label} | {spread([x.seconds for x in runs]).show()} | {commits} | {blobs} "
            f"| {human_size(f.bytes_read)} | | | {' | '.join(_cpu_cells([x.use for x in runs]))} |"
        )
    return "\n".join(rows)


def memory_split(builds: Sequence[Build]) -> str:
    """Each full build's PSS at its peak sample, by process role."""
    lines = []
    for build in builds:
        parts = sorted(build.peak_split.items(), key=lambda kv: -kv[1][0])
        cells = ", ".join(f"{role} ×{n} {human_size(size)}" for role, (size, n) in parts)
        lines.append(f"- Peak PSS {human_size(build.peak_pss)}: {cells}")
    return "\n".join(lines)


def full_ratios(builds: Sequence[Build], floors: Sequence[Floor], logs: Sequence[Floor]) -> str:
    walls = [b.report.seconds for b in builds]
    lines = [
        "Full build ÷ floor (target ≤ 3×): "
        + ratios(walls, [f.seconds for f in floors]).show("×", 1),
        "Full build ÷ `git log --raw` alone: "
        + ratios(walls, [f.seconds for f in logs]).show("×", 1),
        "Full build's CPU (all processes) ÷ the floor's: "
        + ratios([b.use.total for b in builds], [f.use.total for f in floors]).show("×", 1),
    ]
    return "\n".join(f"- {line}" for line in lines)


def incremental_table(builds: Sequence[Build]) -> str:
    rows = [
        "| build | commits read | articles rendered | pages written | unchanged | time "
        f"| peak PSS (tree) | {_cpu_head()} |",
        "|---|" + "---:|" * (7 + len(CPU_ROLES) + 1),
    ]
    for build in builds:
        r = build.report
        rows.append(
            f"| {build.label} | {r.commits:,} | {r.articles_rendered:,} | {r.pages_written:,} "
            f"| {r.pages_unchanged:,} | {r.seconds:.2f} s | {human_size(build.peak_pss)} "
            f"| {' | '.join(_cpu_cells([build.use]))} |"
        )
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
    sites = iter(range(args.full_rounds))
    # Each full build goes into a new folder (file creation right after deleting many files
    # is slower on ext4), A, B, C, A, B, C …
    full, floors, logs = interleaved(
        args.full_rounds,
        [
            lambda: timed_build("full", archive, work / f"site-{next(sites)}", search=False),
            lambda: history_floor(root),
            lambda: log_alone(root),
        ],
    )
    print(full_table(full, floors, logs))  # type: ignore[arg-type]
    print(full_ratios(full, floors, logs))  # type: ignore[arg-type]
    print(memory_split(full))  # type: ignore[arg-type]
    site = work / f"site-{args.full_rounds - 1}"
    incremental(args, archive, root, site)
    if args.profile:
        print(profiled_build(archive, work / "site-profiled", args.profile))
    archive.close()


def profiled_build(archive: Archive, out: Path, top: int) -> str:
    """A full build in this one process (no workers) under cProfile: where its CPU goes."""
    profiler = cProfile.Profile()
    report = profiler.runcall(build_site, archive, out, search=False, workers=1)
    parts = []
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(top)
        body = text.getvalue()
        parts.append(f"Profile of a full build in one process, top {top} by {title}:\n")
        parts.append(body[body.find("   ncalls") :])
    return f"\nProfiled full build, one process: {report.seconds:.1f} s\n" + "\n".join(parts)


def incremental(args: argparse.Namespace, archive: Archive, root: Path, site: Path) -> None:
    """`--rounds` incremental builds, each after other articles gained a version."""
    builds, committed, checked = [], 0.0, []
    for round_ in range(1, args.rounds + 1):
        # Each round edits other articles: none of their pages was just read or written.
        paths = pick_articles(root, args.changed, SEED + round_ - 1)
        before = page_snapshot(site, paths[:CHECKED])
        committed += commit_changes(archive, new_versions(root, paths, head_time(archive.repo)))
        label = f"incremental, {len(paths)} changed (round {round_})"
        builds.append(timed_build(label, archive, site, False))
        checked.append(pages_changed(before, page_snapshot(site, paths[:CHECKED])))
    if args.search:
        builds.append(timed_build("full + search", archive, site.with_name("search-site"), True))
        commit_changes(archive, new_versions(root, paths, head_time(archive.repo)))
        label = f"incremental + search, {len(paths)} changed"
        builds.append(timed_build(label, archive, site.with_name("search-site"), True))
    print(
        f"\n{args.rounds} × {args.changed} new versions committed through CommitStream in "
        f"{committed:.1f} s.\n"
    )
    print(incremental_table(builds))
    times = spread([b.report.seconds for b in builds[: args.rounds]])
    print(
        f"\nIncremental builds (target ≤ 2 s): {times.show()}. Changed articles whose "
        f"index.html changed and that gained a page: {', '.join(checked)}."
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
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="TOP",
        help="also cProfile a full build in one process; list the TOP functions",
    )
    parser.add_argument(
        "--full-rounds", type=int, default=3, help="full builds, interleaved with the floor"
    )
    args = parser.parse_args(argv)
    print(f"Measured {environment()}.\n")
    with machine_load() as load, scratch(args.tmp) as work:
        run(args, work)
    print(f"\nMachine {load[0].show()}.")


if __name__ == "__main__":
    sys.exit(main())

"""Storage speed: commits per second through CommitStream in an archive of N articles,
against git's own plumbing making the same number of commits, in the same run.

    python -m benchmarks.store_bench [--articles 100000] [--changes 500] [--rounds 3]
                                     [--repack ARCHIVE]

The starting archive is N invented articles (benchmarks.generate's texts and paths) added in
one fast-import commit and checked out. Then, `--rounds` times in turn (A, B, A, B …),
`--changes` edited articles are stored one commit each through CommitStream (from the first
commit to the end of the final checkpoint: ref moved, working tree and index in step via
_write_worktree), and as many other edited articles one commit each with git plumbing
(`hash-object -w --stdin-paths` for all the files, then `update-index --cacheinfo`,
`write-tree`, `commit-tree` per commit, `update-ref` once): the floor with git's commands.
Then a few commits with GitPython's `repo.index.add` + `repo.index.commit` and with
`git add` + `git commit`, for reference (per commit only: they are far slower). CPU is
accounted per process: this one, and the git processes it starts. Nothing here asserts a
timing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import os
import platform
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git

from archiver.archive import init_archive
from archiver.clock import FixedClock
from archiver.extract.page import EXTRACTOR
from archiver.store import commits as store
from archiver.store.commits import COMMITTER, Change, CommitStream, source_identity, subject_line

from .ab import CpuMeter, CpuUse, interleaved, machine_load, ratios, spread
from .generate import (
    START,
    Article,
    FastImport,
    WordModel,
    committed_text,
    edit,
    git_size,
    human_size,
    make_outlets,
    new_article,
    trailers,
)

SEED = 1
# Articles' first_seen times spread over this long, so month folders hold as many files as
# a real archive of N articles gathered over about three months.
SPAN = timedelta(weeks=12)


@dataclass(frozen=True)
class Timing:
    label: str
    commits: int
    seconds: float

    @property
    def per_commit(self) -> float:
        return self.seconds / self.commits


# The starting archive ------------------------------------------------------------------


@dataclass
class Populated:
    repo: git.Repo
    edited: list[Article]  # the articles later runs change, as currently stored
    model: WordModel
    seconds: float
    checkout_seconds: float
    text_bytes: int


def populate(root: Path, articles: int, keep: int, layout: str = "day") -> Populated:
    """N articles in one commit on top of `init_archive`'s, then checked out; `keep` of
    them, picked at random, are returned so that they can be edited. Layout "day" is
    archiver's (a folder per day); "month" drops the day folder, to see what folder size
    costs a commit."""
    init_archive(root, FixedClock(START)).close()
    model = WordModel(SEED)
    outlets = make_outlets(model, 8, SEED)
    picked = set(random.Random(SEED).sample(range(articles), keep))
    edited: list[Article] = []
    started = time.perf_counter()
    stream, text_bytes = FastImport(root), 0
    stream.start(
        Change("archiver", "Add articles", {}, START + SPAN, files={}),
    )
    for index in range(articles):
        first_seen = START + SPAN * (index / articles)
        outlet = outlets[index % len(outlets)]
        article = new_article(model, outlet, index, first_seen, SEED, EXTRACTOR)
        if layout == "month":
            folder, _, name = article.path.rpartition("/")
            article.path = f"{folder.rsplit('/', 1)[0]}/{name}"
        text = committed_text(model, article)
        stream.file(article.path, text)
        text_bytes += len(text)
        if index in picked:
            edited.append(article)
    stream.close()
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(["git", "reset", "--quiet", "--hard"], cwd=root, check=True)
    checkout = time.perf_counter() - started
    random.Random(SEED).shuffle(edited)
    return Populated(git.Repo(root), edited, model, seconds, checkout, text_bytes)


def next_versions(populated: Populated, articles: list[Article], when: datetime) -> list[Change]:
    """Each article edited once more, as Changes a capture would store, a minute apart."""
    changes = []
    for i, article in enumerate(articles):
        edit(populated.model, article)
        moment = when + timedelta(minutes=i)
        changes.append(
            Change(
                source=article.source,
                subject=subject_line(article.source, article.title),
                trailers=trailers(article, 2, moment),
                when=moment,
                files={article.path: committed_text(populated.model, article)},
            )
        )
    return changes


# The three ways of committing ----------------------------------------------------------


@dataclass(frozen=True)
class StreamTiming:
    total: Timing
    writing: float  # commit() calls: the stream into fast-import's pipe
    checkpoint: float  # fast-import finishing its pack and moving the ref
    sync: float  # working tree and index brought in step for the paths written
    close: float


@contextmanager
def timed_sync(spent: list[float]) -> Iterator[None]:
    """Time the working tree and index update from outside, without changing store.py."""
    original = store._write_worktree

    def wrapper(repo: git.Repo, contents: Mapping[str, bytes | None]) -> None:
        started = time.perf_counter()
        original(repo, contents)
        spent.append(time.perf_counter() - started)

    store._write_worktree = wrapper
    try:
        yield
    finally:
        store._write_worktree = original


def run_commit_stream(repo: git.Repo, changes: Sequence[Change]) -> StreamTiming:
    """As a capture run stores them: commit() each, one checkpoint at the end, close()."""
    spent: list[float] = []
    with timed_sync(spent):
        started = time.perf_counter()
        stream = CommitStream(repo, checkpoint_every=len(changes) + 1)
        for change in changes:
            stream.commit(change)
        written = time.perf_counter()
        stream.checkpoint()
        checkpointed = time.perf_counter()
        stream.close()
        ended = time.perf_counter()
    return StreamTiming(
        total=Timing("CommitStream (git fast-import)", len(changes), ended - started),
        writing=written - started,
        checkpoint=checkpointed - written - sum(spent),
        sync=sum(spent),
        close=ended - checkpointed,
    )


def run_gitpython(repo: git.Repo, changes: Sequence[Change]) -> Timing:
    """What storing looks like without fast-import: write the file, index it, commit."""
    root = Path(repo.working_tree_dir or "")
    started = time.perf_counter()
    for change in changes:
        _write_files(root, change)
        repo.index.add(list(change.files))
        author, committer = git.Actor(*source_identity(change.source)), git.Actor(*COMMITTER)
        when = f"{int(change.when.timestamp())} +0000"
        repo.index.commit(
            change.message(),
            author=author,
            committer=committer,
            author_date=when,
            commit_date=when,
        )
    return Timing("GitPython index.add + index.commit", len(changes), _since(started))


def run_cli(root: Path, changes: Sequence[Change]) -> Timing:
    # gc.auto=0: an automatic gc would land in one commit's time and is not a commit's cost.
    started = time.perf_counter()
    for change in changes:
        _write_files(root, change)
        subprocess.run(["git", "add", "--", *change.files], cwd=root, check=True)
        subprocess.run(
            ["git", "-c", "gc.auto=0", "commit", "--quiet", "--no-verify", "-F", "-"],
            cwd=root,
            input=change.message().encode(),
            env=_identity(change),
            check=True,
        )
    return Timing("git add + git commit (CLI)", len(changes), _since(started))


def run_plumbing(root: Path, changes: Sequence[Change]) -> Timing:
    """The floor with git's own commands, one commit per change as CommitStream makes them:
    the files written, their blobs made by one `git hash-object -w --stdin-paths`, then for
    each commit `git update-index --cacheinfo` (the real index), `git write-tree` and
    `git commit-tree`; the branch moved once at the end. Afterwards the working tree, the
    index and HEAD are in step, as after a checkpoint."""
    started = time.perf_counter()
    paths = [path for change in changes for path in change.files]
    for change in changes:
        _write_files(root, change)
    blobs = _git(root, "hash-object", "-w", "--stdin-paths", stdin="\n".join(paths) + "\n")
    blob_of = dict(zip(paths, blobs.split(), strict=True))
    parent = _git(root, "rev-parse", "HEAD").strip()
    for change in changes:
        for path in change.files:
            _git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob_of[path]},{path}")
        tree = _git(root, "write-tree").strip()
        parent = _git(
            root, "commit-tree", tree, "-p", parent, stdin=change.message(), env=_identity(change)
        ).strip()
    _git(root, "update-ref", "HEAD", parent)
    return Timing(
        "git plumbing (hash-object, update-index, write-tree, commit-tree)",
        len(changes),
        _since(started),
    )


def _git(
    root: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _identity(change: Change) -> dict[str, str]:
    name, email = source_identity(change.source)
    when = f"{int(change.when.timestamp())} +0000"
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": COMMITTER[0],
        "GIT_COMMITTER_EMAIL": COMMITTER[1],
        "GIT_COMMITTER_DATE": when,
    }


def _write_files(root: Path, change: Change) -> None:
    for path, text in change.files.items():
        (root / path).write_text(text, encoding="utf-8")


def _since(started: float) -> float:
    return time.perf_counter() - started


def worktree_clean(root: Path) -> bool:
    """After a checkpoint the working tree and index must match HEAD exactly."""
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, check=True, capture_output=True, text=True
    )
    return status.stdout == ""


def profile(run: Callable[[], object], top: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# Packing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repack:
    before: int
    after: int
    seconds: float


def measure_repack(archive: Path) -> Repack:
    """`git repack -adf` on a copy of the archive's .git (the archive itself is untouched)."""
    with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
        copy = Path(scratch) / "repo"
        shutil.copytree(archive / ".git", copy / ".git", symlinks=True)
        before = git_size(copy)
        started = time.perf_counter()
        subprocess.run(["git", "repack", "-adf", "-q"], cwd=copy, check=True)
        seconds = _since(started)
        return Repack(before, git_size(copy), seconds)


# Report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One way of committing, one round: its timing, CPU by process, and whether the
    working tree and index matched HEAD afterwards."""

    timing: Timing
    use: CpuUse
    clean: bool
    stream: StreamTiming | None = None


def measured(root: Path, run: Callable[[], Timing | StreamTiming]) -> Measured:
    with CpuMeter() as meter:
        result = run()
    assert meter.result is not None
    if isinstance(result, StreamTiming):
        return Measured(result.total, meter.result, worktree_clean(root), result)
    return Measured(result, meter.result, worktree_clean(root))


def table(ways: Sequence[Sequence[Measured]]) -> str:
    """Each way's rounds: median (range) of time per round, per commit, CPU by process."""
    rows = [
        "| how | commits | rounds | time | per commit | commits/s | this process CPU "
        "| git CPU (its children) | all CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for runs in ways:
        first = runs[0].timing
        per = spread([r.timing.per_commit * 1000 for r in runs])
        rate = spread([1 / r.timing.per_commit for r in runs])
        cpu = [
            spread([r.use.get("main") for r in runs]).show(),
            spread([r.use.total - r.use.get("main") for r in runs]).show(),
            spread([r.use.total for r in runs]).show(),
        ]
        rows.append(
            f"| {first.label} | {first.commits} | {len(runs)} "
            f"| {spread([r.timing.seconds for r in runs]).show()} | {per.show(' ms', 1)} "
            f"| {rate.show('', 0)} | {' | '.join(cpu)} |"
        )
    return "\n".join(rows)


def phases(stream: StreamTiming) -> str:
    rows = [
        ("commit() calls: written to fast-import (blocks while it works)", stream.writing),
        ("checkpoint: fast-import ends its pack, moves the ref", stream.checkpoint),
        ("working tree and index written for the paths committed", stream.sync),
        ("close(): fast-import ends, `git gc --auto`", stream.close),
    ]
    lines = ["| CommitStream phase | time | share |", "|---|---|---|"]
    lines += [
        f"| {label} | {seconds:.3f} s | {seconds / stream.total.seconds:.0%} |"
        for label, seconds in rows
    ]
    return "\n".join(lines)


def environment() -> str:
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    return (
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, git {git_version}, GitPython {git.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store_bench", description=__doc__)
    parser.add_argument(
        "--articles", type=int, default=100_000, help="archive size (0: only --repack)"
    )
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--gitpython", type=int, default=5, help="commits through GitPython")
    parser.add_argument("--cli", type=int, default=5, help="commits through the git CLI")
    parser.add_argument(
        "--profile", action="store_true", help="also profile another batch of CommitStream"
    )
    parser.add_argument(
        "--repack", type=Path, metavar="ARCHIVE", help="measure `git repack -adf` on a copy"
    )
    parser.add_argument(
        "--layout",
        choices=("day", "month"),
        default="day",
        help="archiver's articles/<source>/<yyyy>/<mm>/<dd>/ folders, or month folders only",
    )
    parser.add_argument("--tmp", type=Path, help="folder for the scratch archive")
    parser.add_argument(
        "--rounds", type=int, default=3, help="CommitStream and plumbing batches, interleaved"
    )
    args = parser.parse_args(argv)
    print(f"Measured {environment()}.\n")
    if args.articles:
        with machine_load() as load, tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
            storage(Path(scratch) / "archive", args)
        print(f"\nMachine {load[0].show()}.")
    if args.repack:
        repack = measure_repack(args.repack)
        print(
            f"\n`git repack -adf` of {args.repack}: {human_size(repack.before)} → "
            f"{human_size(repack.after)} ({repack.after / repack.before:.0%}) in "
            f"{repack.seconds:.0f} s"
        )


def storage(root: Path, args: argparse.Namespace) -> None:
    sizes = [args.changes] * (2 * args.rounds) + [args.gitpython, args.cli]
    sizes += [args.changes] if args.profile else []
    populated = populate(root, args.articles, sum(sizes), args.layout)
    print(
        f"Starting archive ({args.layout} folders): {args.articles:,} articles "
        f"({human_size(populated.text_bytes)} of text, {human_size(git_size(root))} in .git) "
        "in one fast-import commit: "
        f"{populated.seconds:.1f} s, checkout {populated.checkout_seconds:.1f} s.\n"
    )
    batches = iter(_batches(populated.edited, sizes))
    days = (START + SPAN + timedelta(days=n) for n in itertools.count(1))

    def changes() -> list[Change]:  # made before the clock starts
        return next_versions(populated, next(batches), next(days))

    def stream() -> Measured:
        batch = changes()
        return measured(root, lambda: run_commit_stream(populated.repo, batch))

    def plumbing() -> Measured:
        batch = changes()
        return measured(root, lambda: run_plumbing(root, batch))

    streams, plumbed = interleaved(args.rounds, [stream, plumbing])
    gitpython = changes()
    others = [
        measured(root, lambda: run_gitpython(populated.repo, gitpython)),
    ]
    cli = changes()
    others.append(measured(root, lambda: run_cli(root, cli)))
    print(table([streams, plumbed, *([one] for one in others)]))
    ratio = ratios([p.timing.seconds for p in plumbed], [s.timing.seconds for s in streams])
    print(f"\ngit plumbing ÷ CommitStream, same commits per round: {ratio.show('×', 1)}")
    middle = sorted(streams, key=lambda m: m.timing.seconds)[len(streams) // 2]
    assert middle.stream is not None
    print()
    print(phases(middle.stream))
    clean = all(m.clean for m in [*streams, *plumbed, *others])
    print(f"\nWorking tree and index match HEAD after every round: {'yes' if clean else 'NO'}")
    if args.profile:
        batch = changes()
        print(f"\nProfile of another {len(batch)} commits through CommitStream:\n")
        print(profile(lambda: run_commit_stream(populated.repo, batch)))


def _batches(articles: list[Article], sizes: Sequence[int]) -> list[list[Article]]:
    out, start = [], 0
    for size in sizes:
        out.append(articles[start : start + size])
        start += size
    return out


if __name__ == "__main__":
    sys.exit(main())

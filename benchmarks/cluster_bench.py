"""First syncs on a Dask LocalCluster against the local worker pool, and the writer's ceiling.

    python -m benchmarks.cluster_bench [--articles 2000] [--rounds 2] [--workers 2]

The corpus's real pages are served as N articles by the loopback site in its own process,
as benchmarks/sync_bench.py serves them (politeness off: this measures archiver and Dask,
not the waits kept for real sites). Measured, in one run on one machine:

1. A/B, interleaved (`--rounds` times each, A, B, A, B …): a first sync of all N into a new
   archive with the local pool (`archiver sync`, as many extraction processes as cores)
   against the same sync with `--scheduler` on a LocalCluster of `--workers` worker
   processes . CPU by
   process (benchmarks/ab.py): this one (the writer, and the cluster's scheduler, which a
   LocalCluster runs in it), the workers, git, the site.
2. Pages/s as the cluster grows from 1 worker process to `--workers`: a third side in the
   same interleaved rounds, on a LocalCluster of one worker. Both clusters' workers have
   imported archiver and the extractor before the rounds, as a running cluster's have.
3. The writer's ceiling: the same N checks, fetched and extracted once, applied by the
   Recorder alone into a new archive (commits/s, no fetching or extraction left to wait for),
   and so how many extraction cores one writer can feed.

On this 2-core machine the site takes CPU from the workers: each run's site CPU is shown,
and pages per worker CPU-second (pages / the workers' CPU) is the figure that carries over
to machines where the site is elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver.capture.checker import Checker, StoredTexts
from archiver.capture.model import Checked, Outcome, Target
from archiver.capture.recorder import Recorder
from archiver.capture.worker import extraction_workers
from archiver.clock import FixedClock
from archiver.cluster.worker import versions
from archiver.fetch.client import open_fetcher
from archiver.fetch.robots import Robots
from archiver.store.commits import CommitStream
from archiver.sync import sync

from .ab import CpuMeter, CpuUse, interleaved, machine_load, spread
from .sync_bench import (
    CORPUS,
    FEED,
    SOURCE,
    START,
    SiteProcess,
    _archive,
    article_path,
    calibrate,
    corpus_pages,
)


@dataclass(frozen=True)
class FirstSync:
    label: str
    articles: int
    wall: float
    use: CpuUse

    @property
    def pages_per_second(self) -> float:
        return self.articles / self.wall

    @property
    def per_worker_cpu(self) -> float:
        """Pages per CPU-second of the extraction processes."""
        return self.articles / max(self.use.get("workers"), 1e-9)


def first_sync(
    label: str, root: Path, site: SiteProcess, articles: int, scheduler: str | None = None
) -> FirstSync:
    folder = Path(tempfile.mkdtemp(dir=root))
    archive = _archive(folder / "archive", FixedClock(START), site.url(FEED))
    try:
        started = time.perf_counter()
        with CpuMeter(site.pid) as meter:
            report = sync(archive, scheduler=scheduler)
        wall = time.perf_counter() - started
        new = report.count(Outcome.NEW)
        if new != articles or report.failed:
            raise SystemExit(f"{label}: {new} of {articles} new, {report.failed} failed")
        assert meter.result is not None
        return FirstSync(label, articles, wall, meter.result)
    finally:
        archive.close()
        shutil.rmtree(folder, ignore_errors=True)


def collected_checks(root: Path, site: SiteProcess, articles: int) -> list[Checked]:
    """The N checks of a first sync, fetched and extracted, nothing written."""
    archive = _archive(root / "collect", FixedClock(START), site.url(FEED))
    targets = [Target(site.url(article_path(n)), SOURCE) for n in range(articles)]

    async def collect() -> list[Checked]:
        async with open_fetcher(archive.config.fetch, "archiver-bench") as fetcher:
            checker = Checker(archive, fetcher, Robots(fetcher), executor, StoredTexts(archive))
            return [checked async for checked in checker.check_all(targets)]

    try:
        with extraction_workers(os.cpu_count() or 1) as executor:
            return asyncio.run(collect())
    finally:
        archive.close()


def writer_ceiling(root: Path, site: SiteProcess, checks: Sequence[Checked]) -> float:
    """Commits per second of the Recorder applying ready checks into a new archive."""
    folder = Path(tempfile.mkdtemp(dir=root))
    archive = _archive(folder / "archive", FixedClock(START), site.url(FEED))
    try:
        before = int(archive.repo.git.rev_list("--count", "HEAD"))
        with archive.writing():
            started = time.perf_counter()
            with CommitStream(archive.repo) as stream:
                recorder = Recorder(archive, stream)
                for checked in checks:
                    recorder.apply(checked)
                recorder.close()
            wall = time.perf_counter() - started
        commits = int(archive.repo.git.rev_list("--count", "HEAD")) - before
        if commits != len(checks):
            raise SystemExit(f"writer: {commits} commits of {len(checks)} checks")
        return commits / wall
    finally:
        archive.close()
        shutil.rmtree(folder, ignore_errors=True)


def cluster(workers: int) -> object:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers, threads_per_worker=8, processes=True, dashboard_address=":0"
    )


def warm(address: str) -> None:
    """The workers' imports done (archiver, the extractor), as in a cluster already used."""
    from distributed import Client

    with Client(address) as client:
        client.run(versions)


def show(run: FirstSync) -> str:
    use = run.use
    return (
        f"| {run.label} | {run.wall:.1f} | {run.pages_per_second:.1f} | {use.get('main'):.1f} "
        f"| {use.get('workers'):.1f} | {use.get('git'):.1f} | {use.get('site'):.1f} "
        f"| {run.per_worker_cpu:.1f} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster_bench", description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"the corpus of real pages is absent ({args.corpus})", file=sys.stderr)
        return 1
    import logging

    logging.getLogger("distributed").setLevel(logging.WARNING)
    templates, _ = calibrate(corpus_pages(args.corpus), os.cpu_count() or 1)
    root = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    rows: list[str] = []
    try:
        with SiteProcess(templates) as site, machine_load() as load:
            site.call("publish", args.articles)
            site.call("feed", 0, args.articles)
            with cluster(args.workers) as wide, cluster(1) as one:  # type: ignore[attr-defined]
                addresses = {args.workers: wide.scheduler_address, 1: one.scheduler_address}
                for address in addresses.values():
                    warm(address)
                sides = [
                    lambda: first_sync("local pool", root, site, args.articles),
                    *(
                        lambda w=w: first_sync(
                            f"LocalCluster, {w} worker{'s' * (w > 1)}",
                            root,
                            site,
                            args.articles,
                            addresses[w],
                        )
                        for w in sorted(addresses, reverse=True)
                    ),
                ]
                pool_runs, cluster_runs, one_runs = interleaved(args.rounds, sides)
            rows += [show(run) for run in [*pool_runs, *cluster_runs, *one_runs]]
            ratio = spread([c.wall / p.wall for c, p in zip(cluster_runs, pool_runs, strict=True)])
            growth = spread([o.wall / c.wall for c, o in zip(cluster_runs, one_runs, strict=True)])
            checks = collected_checks(root, site, args.articles)
            ceilings = spread([writer_ceiling(root, site, checks) for _ in range(args.rounds)])
        print(f"{platform.machine()}, {os.cpu_count()} cores; {load[0].show()}")
        print(f"{args.articles} articles, first sync, {args.rounds} rounds A/B\n")
        print(
            "| run | wall s | pages/s | main CPU s | workers CPU s | git CPU s | site CPU s "
            "| pages per worker CPU-s |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
        print(f"\ncluster wall / local pool wall, per round: {ratio.show(unit='')}\n")
        print(f"{args.workers} workers against 1, pages/s, per round: {growth.show(unit='×')}")
        per_core = spread([run.per_worker_cpu for run in [*cluster_runs, *one_runs]]).median
        print(f"pages per worker CPU-second, cluster runs: {per_core:.1f}")
        print(f"\nwriter ceiling: {ceilings.show(unit=' commits/s', digits=0)}")
        print(f"one writer feeds about {ceilings.median / per_core:.0f} extraction cores")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

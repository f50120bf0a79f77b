"""The render pool: forked worker processes, each rendering whole articles, a batch of jobs
at a time, with a renderer of its own (its git blob reader cannot be shared across a fork)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archiver.processes import forked_pool, objects_frozen
from archiver.site.articles import ArticleJob, ArticleRenderer, ArticleResult, NextChecks
from archiver.site.config import SiteConfig
from archiver.site.output import OutputFolder

BATCH = 32  # articles per task sent to a worker process

# The renderer of a worker process, made by the pool's initializer: a pool hands its workers
# only module-level functions and their arguments, so what a worker keeps from one task to
# the next lives here. Set in worker processes alone, never in the builder's.
_RENDERER: ArticleRenderer | None = None


@contextmanager
def pool_rendering(
    jobs: list[ArticleJob],
    workers: int,
    git_dir: str,
    out: Path,
    site: SiteConfig,
    next_checks: NextChecks | None,
) -> Iterator[Iterator[ArticleResult]]:
    """The jobs' results as they come, from `workers` forked processes, already at them on
    entry; each writes its pages into `out` itself."""
    init = (git_dir, out, site, next_checks)
    with objects_frozen(), forked_pool(workers, _start_worker, init) as pool:
        batches = pool.imap_unordered(_work, _batches(jobs, BATCH))
        yield (result for batch in batches for result in batch)


def _start_worker(
    git_dir: str, out: Path, site: SiteConfig, next_checks: NextChecks | None
) -> None:
    global _RENDERER
    _RENDERER = ArticleRenderer(git_dir, site, out, OutputFolder(out), next_checks)


def _work(jobs: list[ArticleJob]) -> list[ArticleResult]:
    assert _RENDERER is not None
    return [_RENDERER.process(job) for job in jobs]


def _batches(jobs: list[ArticleJob], size: int) -> Iterator[list[ArticleJob]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]

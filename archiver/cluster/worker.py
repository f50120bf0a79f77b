"""What runs on a Dask worker: one article's check, as the syncing process would run it,
with the stored text it compares against sent along; the answer is `Checked.to_json()`.

A worker keeps one HTTP session, robots.txt cache and gate per run it takes part in
(`close_run` ends them), and extracts in one thread of its own, beside its event loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from distributed import get_worker

from archiver import __version__
from archiver.capture.checker import PageCheck
from archiver.capture.model import Target
from archiver.cluster.gate import Shared, share
from archiver.config import FetchConfig, SourceConfig
from archiver.extract.page import EXTRACTOR
from archiver.fetch.client import Fetcher, new_session
from archiver.fetch.robots import Robots

KEPT_RUNS = 8  # runs a worker keeps a session for; an older one is closed when a run starts


@dataclass(frozen=True)
class RunSpec:
    """What every check of one run shares: its name on the cluster and how to fetch."""

    run: str
    fetch: FetchConfig
    agent: str
    proxy: str | None = None
    keep_exchanges: bool = False  # the run keeps captures: the exchanges come back too


@dataclass
class _Run:
    session: Any  # aiohttp.ClientSession
    fetcher: Fetcher
    robots: Robots
    shared: Shared
    extraction: ThreadPoolExecutor

    async def close(self) -> None:
        await self.shared.close()
        await self.session.close()
        self.extraction.shutdown(wait=False)


_runs: dict[str, _Run] = {}
_opening: dict[str, asyncio.Future[_Run]] = {}


async def check(
    spec: RunSpec, target: Target, source: SourceConfig, stored: str | None, reformat: bool
) -> str:
    """The Dask task: `target` checked (fetched, extracted, compared with `stored`)."""
    run = await _opened(spec)
    page_check = PageCheck(
        run.fetcher, run.robots, run.extraction, reformat, keep_exchanges=spec.keep_exchanges
    )
    checked = await page_check.check(target, source, lambda blob: stored)
    return checked.to_json()


def versions() -> tuple[str, str]:
    """What must be the same on every worker as in the syncing process for the same pages
    to make the same commits: archiver's version and the extractor's."""
    return __version__, EXTRACTOR


async def close_run(run: str) -> None:
    """The run is over: its session closed, its leases given back."""
    opened = _runs.pop(run, None)
    if opened is not None:
        await opened.close()


async def _opened(spec: RunSpec) -> _Run:
    if (run := _runs.get(spec.run)) is not None:
        return run
    opening = _opening.get(spec.run)
    if opening is None:  # the run's first check here: the others wait on its opening
        opening = _opening[spec.run] = asyncio.ensure_future(_open(spec))
    try:
        return await asyncio.shield(opening)
    finally:
        _opening.pop(spec.run, None)


async def _open(spec: RunSpec) -> _Run:
    while len(_runs) >= KEPT_RUNS:  # a syncing process that died never said it was done
        await _runs.pop(next(iter(_runs))).close()
    worker = get_worker()
    shared = Shared(spec.run, worker.scheduler, worker.loop)
    session = new_session(spec.fetch, spec.proxy)
    fetcher = Fetcher(session, spec.fetch, spec.agent)
    robots = share(fetcher, shared)
    extraction = ThreadPoolExecutor(1, thread_name_prefix="archiver-extract")
    run = _runs[spec.run] = _Run(session, fetcher, robots, shared, extraction)
    return run

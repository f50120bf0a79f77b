"""The syncing process's side of a cluster run: connect to the scheduler, check that its
workers can run archiver's checks, and submit each article's check as a task.

Checks come back in the order the articles were planned (Checker.check_all), so the one
writer applies them as a local run would and the same pages make the same commits. A
task whose worker dies is run again elsewhere by Dask (at most RETRIES times); one that
cannot be run is the article's failed check, recorded like any other failure, and the
article is tried again on its next check. A result is applied once, whatever Dask retried.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from archiver.archive import Archive
from archiver.capture.checker import IN_FLIGHT, Checker, StoredTexts
from archiver.capture.model import Checked, Failure, Target
from archiver.cluster.gate import Shared, share
from archiver.cluster.worker import RunSpec, check, close_run, versions
from archiver.errors import ArticleError, ClusterError
from archiver.fetch.client import Fetcher

RETRIES = 2  # runs of a check again after its worker was lost
CHECKS_PER_THREAD = 4  # checks submitted ahead of results, per worker thread


@dataclass
class ClusterChecker(Checker):
    """A Checker whose checks run on the cluster's workers."""

    client: Any = None  # distributed.Client, asynchronous
    spec: RunSpec | None = None

    async def check(self, target: Target) -> Checked:
        assert self.client is not None and self.spec is not None
        source = self.archive.config.source(target.source)
        state = target.state
        stored = self.stored.read(state.blob) if self.stored and state and state.blob else None
        future = self.client.submit(
            check, self.spec, target, source, stored, self.reformat, retries=RETRIES, pure=False
        )
        try:
            return Checked.from_json(await future)
        except Exception as err:  # the task's own failures are in its Checked: this is Dask's
            reason = f"not checked on the cluster ({type(err).__name__}: {err})"
            failure = Failure.of(ArticleError(target.url, reason[:300]))
            return Checked(target, failure=failure, url=target.url)
        finally:
            if not future.done():
                await future.cancel()


@asynccontextmanager
async def cluster_run(
    archive: Archive,
    fetcher: Fetcher,
    stored: StoredTexts,
    address: str,
    agent: str,
    proxy: str | None = None,
) -> AsyncIterator[ClusterChecker]:
    """A checker on the cluster at `address`; the local `fetcher` (discovery's) shares the
    cluster's gate, so its requests count in the same per-host limits."""
    async with _connected(address, archive.config.cluster.timeout) as client:
        run = uuid.uuid4().hex
        shared = Shared(run, client.scheduler, client.loop)
        robots = share(fetcher, shared)
        threads = _threads(client)
        spec = RunSpec(run, archive.config.fetch, agent, proxy, archive.config.captures != "none")
        checker = ClusterChecker(
            archive,
            fetcher,
            robots,
            stored=stored,
            in_flight=max(IN_FLIGHT, threads * CHECKS_PER_THREAD),
            client=client,
            spec=spec,
        )
        try:
            yield checker
        finally:
            await client.run(close_run, run, on_error="return")
            await shared.forget()


def _threads(client: Any) -> int:
    return sum(worker["nthreads"] for worker in client.scheduler_info()["workers"].values())


@asynccontextmanager
async def _connected(address: str, timeout: float) -> AsyncIterator[Any]:
    from distributed import Client

    try:
        client: Any = Client(address, asynchronous=True, timeout=timeout, set_as_default=False)
        await client
    except (OSError, TimeoutError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ClusterError(f"{address}: cannot reach the Dask scheduler ({reason})") from None
    try:
        await _check_workers(client, address, timeout)
        yield client
    finally:
        await client.close()


async def _check_workers(client: Any, address: str, timeout: float) -> None:
    """Workers are there, and each runs this archiver with this extractor."""
    try:
        await client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ClusterError(
            f"{address}: no Dask worker joined the scheduler in {timeout:g} s"
        ) from None
    found = await client.run(versions, on_error="return")
    expected = versions()
    for worker, answer in sorted(found.items()):
        if isinstance(answer, BaseException):
            raise ClusterError(
                f"{worker}: this Dask worker cannot run archiver's checks "
                f"({type(answer).__name__}: {answer}); install archiver[cluster] on every worker"
            )
        if tuple(answer) != expected:
            raise ClusterError(
                f"{worker}: this Dask worker runs archiver {answer[0]} ({answer[1]}), "
                f"this one {expected[0]} ({expected[1]}): the same versions everywhere "
                "make the same commits"
            )

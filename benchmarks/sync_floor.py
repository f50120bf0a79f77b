"""The floor a sync is measured against: plain `trafilatura.extract` of the same pages, with
the options archiver passes it, in as many worker processes as a sync runs.

Two floors. *Fetched* (the one the targets use): each worker fetches its pages from the
same loopback site over one kept-alive connection (`http.client`), with `If-None-Match`
where an earlier fetch gave an ETag, and extracts every page answered 200: what any tool
that archives these pages must do at least. *From memory*: the pages' bytes are already in
the workers (inherited at the fork), nothing is fetched: extraction alone.
"""

from __future__ import annotations

import http.client
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura

from archiver.extract.page import TRAFILATURA_OPTIONS

from .ab import CpuMeter, CpuUse

CHUNK = 4  # pages handed to a worker at once: small, so both finish together


def plain_extract(body: bytes | str, url: str) -> str | None:
    """trafilatura.extract with the options archiver.extract.page.extract_page passes to
    trafilatura.bare_extraction: none of archiver's own work (decoding, metadata xpaths,
    normalizing, boilerplate rules, rendering the document, comparing)."""
    return trafilatura.extract(body, url=url, **TRAFILATURA_OPTIONS)


# In the workers ----------------------------------------------------------------------------

_connection: http.client.HTTPConnection | None = None
_bodies: Sequence[bytes] = ()  # set before the pool forks: the from-memory floor's pages


def _get(url: str, etag: str | None) -> tuple[int, bytes, str | None]:
    """One GET on this worker's kept-alive connection (reopened if the site closed it)."""
    global _connection
    parts = urlsplit(url)
    headers = {"If-None-Match": etag} if etag else {}
    for attempt in range(2):
        if _connection is None:
            _connection = http.client.HTTPConnection(parts.netloc, timeout=30)
        try:
            _connection.request("GET", parts.path, headers=headers)
            response = _connection.getresponse()
            return response.status, response.read(), response.getheader("ETag")
        except (http.client.HTTPException, OSError):
            _connection.close()
            _connection = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def _fetch_and_extract(job: tuple[str, str | None]) -> tuple[int, str | None, bool]:
    url, etag = job
    status, body, new_etag = _get(url, etag)
    extracted = status == 200 and plain_extract(body, url) is not None
    return status, new_etag or etag, extracted


def _extract_inherited(index: int) -> bool:
    return plain_extract(_bodies[index], f"http://bench.invalid/a/{index}") is not None


# Rounds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloorRun:
    cpu: CpuUse
    extracted: int
    not_modified: int
    etags: dict[str, str | None]

    @property
    def wall(self) -> float:
        return self.cpu.wall


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def fetched_floor(
    urls: Sequence[str], workers: int, site: int, etags: dict[str, str | None] | None = None
) -> FloorRun:
    """Fetch every URL (conditionally where `etags` has its tag) and extract each page
    answered 200, in `workers` new processes; timed from starting them to the last page."""
    jobs = [(url, (etags or {}).get(url)) for url in urls]
    with CpuMeter(site) as meter, _pool(workers) as pool:
        results = list(pool.map(_fetch_and_extract, jobs, chunksize=CHUNK))
    assert meter.result is not None
    return FloorRun(
        meter.result,
        sum(extracted for _, _, extracted in results),
        sum(status == 304 for status, _, _ in results),
        {url: etag for url, (_, etag, _) in zip(urls, results, strict=True)},
    )


def memory_floor(bodies: Sequence[bytes], workers: int, site: int) -> FloorRun:
    """Extract pages already in memory in `workers` new processes: extraction alone."""
    global _bodies
    _bodies = bodies
    try:
        with CpuMeter(site) as meter, _pool(workers) as pool:
            extracted = sum(pool.map(_extract_inherited, range(len(bodies)), chunksize=CHUNK))
    finally:
        _bodies = ()
    assert meter.result is not None
    return FloorRun(meter.result, extracted, 0, {})

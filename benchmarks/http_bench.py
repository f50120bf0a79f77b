"""CPU per conditional request answered 304, on loopback, for HTTP clients archiver could use.

    python -m benchmarks.http_bench [--requests 2000] [--concurrency 64] [--repeat 3]

A site in its own process (tests.newsserver.NewsServer, as in benchmarks.sync_bench) serves
`--requests` pages with ETags. Each client asks for every page once with the page's ETag in
If-None-Match, `--concurrency` requests at once, and every answer is a 304 with no body: the
request an unchanged sync makes per article. Measured: the client process's CPU time over
the whole run (the client made and closed inside it, so per-run costs such as an SSL context
count), divided by the requests, and the connections the site accepted. The variants run
in turn, `--repeat` rounds; the median round is shown, the range in brackets. The machine
is shared, so compare the variants of one run with each other, not with other runs.

Each client is used as archiver would: no proxies from the environment, redirects not
followed, the body of a 304 not read unless the client needs that to reuse the connection.
*Minimal HTTP/1.1 over asyncio streams* is a floor, not a candidate: status line and
headers read by hand, nothing checked, no timeouts; it shows what the event loop and the
sockets cost alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from multiprocessing.connection import Connection
from typing import Any

from tests.newsserver import NewsServer

BODY = b"<html><body><p>A page that has not changed since the last check.</p></body></html>"
ETAG = '"' + hashlib.sha1(BODY).hexdigest()[:16] + '"'  # as NewsServer tags it
BACKLOG = 1024
HEADERS = {"User-Agent": "archiver-bench/1", "Accept": "text/html", "If-None-Match": ETAG}

Get = Callable[[str], Awaitable[int]]  # a URL's status
Client = Callable[[int], AbstractAsyncContextManager[Get]]  # made for a concurrency


# The site ---------------------------------------------------------------------------------


class CountingServer(NewsServer):
    """A NewsServer counting the 304s it sends (it counts connections itself)."""

    def __init__(self) -> None:
        self.not_modified = 0
        super().__init__()
        self._httpd.socket.listen(BACKLOG)  # see benchmarks.sync_bench.CountingServer

    def _handler(self) -> type:  # type: ignore[override]
        server = self

        class Counting(super()._handler()):  # type: ignore[misc]
            def send_response(self, code: int, message: str | None = None) -> None:
                if code == 304:
                    with server._lock:
                        server.not_modified += 1
                super().send_response(code, message)

        return Counting


def _serve(conn: Connection, pages: int) -> None:
    with CountingServer() as server:
        for n in range(pages):
            server.set(f"/a/{n}", BODY)
        conn.send(server.base)
        while conn.recv() == "stats":
            with server._lock:
                conn.send((server.connections, server.not_modified))


class Site:
    """The loopback site in a forked process."""

    def __init__(self, pages: int) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, pages), daemon=True)
        self.base = ""

    def __enter__(self) -> Site:
        self._process.start()
        self.base = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(5)

    def stats(self) -> tuple[int, int]:
        self._conn.send("stats")
        return self._conn.recv()


# The clients ------------------------------------------------------------------------------


@asynccontextmanager
async def httpx_client(concurrency: int, reuse: bool = False) -> AsyncIterator[Get]:
    import httpx

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(trust_env=False, limits=limits) as client:

        async def get(url: str) -> int:
            async with client.stream("GET", url, headers=HEADERS, timeout=30) as reply:
                if reuse:
                    await reply.aread()  # httpcore reuses a connection read to its end
                return reply.status_code

        yield get


@asynccontextmanager
async def aiohttp_client(concurrency: int, reuse: bool = False) -> AsyncIterator[Get]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit_per_host=concurrency, force_close=not reuse)
    session = aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=30),
    )
    async with session:

        async def get(url: str) -> int:
            async with session.get(url, headers=HEADERS, allow_redirects=False) as reply:
                return reply.status

        yield get


@asynccontextmanager
async def minimal_client(concurrency: int, reuse: bool = False) -> AsyncIterator[Get]:
    """HTTP/1.1 by hand over asyncio streams: the floor of the event loop and sockets."""
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    lines = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())

    async def get(url: str) -> int:
        host, _, path = url.removeprefix("http://").partition("/")
        if idle:
            reader, writer = idle.pop()
        else:
            name, _, port = host.partition(":")
            reader, writer = await asyncio.open_connection(name, int(port))
        connection = "keep-alive" if reuse else "close"
        head = f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n{lines}Connection: {connection}\r\n"
        writer.write(f"{head}\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if reuse:
            idle.append((reader, writer))  # a 304 has no body: the answer is read
        else:
            writer.close()
        return status

    try:
        yield get
    finally:
        for _, writer in idle:
            writer.close()


@dataclass(frozen=True)
class Variant:
    label: str
    client: Client
    uvloop: bool = False
    needs: str = "aiohttp"  # the module it imports: a variant whose module is absent is left out


def variants() -> list[Variant]:
    found = [
        Variant("httpx, a connection per request", httpx_client, needs="httpx"),
        Variant("httpx, connections reused", lambda n: httpx_client(n, reuse=True), needs="httpx"),
        Variant("aiohttp, a connection per request", aiohttp_client),
        Variant("aiohttp, connections reused", lambda n: aiohttp_client(n, reuse=True)),
        Variant(
            "aiohttp, connections reused, uvloop event loop",
            lambda n: aiohttp_client(n, reuse=True),
            uvloop=True,
        ),
        Variant(
            "minimal HTTP/1.1 over asyncio streams, a connection per request",
            minimal_client,
            needs="asyncio",
        ),
        Variant(
            "minimal HTTP/1.1 over asyncio streams, connections reused",
            lambda n: minimal_client(n, reuse=True),
            needs="asyncio",
        ),
    ]
    return [v for v in found if _importable(v.needs) and (not v.uvloop or _importable("uvloop"))]


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def versions() -> str:
    """The versions measured, for the record."""
    names = ("httpx", "httpcore", "aiohttp", "uvloop")
    found = [f"{name} {metadata.version(name)}" for name in names if _importable(name)]
    return f"Python {platform.python_version()}, " + ", ".join(found)


# Runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    cpu: float  # seconds of this process
    wall: float
    connections: int
    not_modified: int


async def _check_all(client: Client, urls: Sequence[str], concurrency: int) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def one(url: str) -> None:
        async with slots:
            status = await get(url)
        if status != 304:
            raise RuntimeError(f"{url}: {status}, expected 304")

    async with client(concurrency) as get:
        await asyncio.gather(*(one(url) for url in urls))


def run_once(variant: Variant, site: Site, urls: Sequence[str], concurrency: int) -> Round:
    factory: Any = None
    if variant.uvloop:
        import uvloop

        factory = uvloop.new_event_loop
    before = site.stats()
    cpu, started = time.process_time(), time.perf_counter()
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_check_all(variant.client, urls, concurrency))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    after = site.stats()
    return Round(cpu, wall, after[0] - before[0], after[1] - before[1])


def measure(args: argparse.Namespace) -> list[tuple[Variant, list[Round]]]:
    found = variants()
    rounds: dict[str, list[Round]] = {v.label: [] for v in found}
    with Site(args.requests) as site:
        urls = [f"{site.base}/a/{n}" for n in range(args.requests)]
        for variant in found:  # a warm-up round each: imports, first connections
            run_once(variant, site, urls[:100], args.concurrency)
        for _ in range(args.repeat):
            for variant in found:
                rounds[variant.label].append(run_once(variant, site, urls, args.concurrency))
    return [(v, rounds[v.label]) for v in found]


def table(results: list[tuple[Variant, list[Round]]], requests: int) -> str:
    rows = [
        "| client | CPU per 304 | × httpx | wall per 304 | connections |",
        "|---|---:|---:|---:|---:|",
    ]
    base = _median([r.cpu for r in results[0][1]]) / requests * 1000
    for variant, rounds in results:
        cpus = sorted(r.cpu / requests * 1000 for r in rounds)
        walls = sorted(r.wall / requests * 1000 for r in rounds)
        median = _median(cpus)
        spread = f" ({cpus[0]:.3f}–{cpus[-1]:.3f})" if len(cpus) > 1 else ""
        rows.append(
            f"| {variant.label} | {median:.3f} ms{spread} | {median / base:.2f} "
            f"| {_median(walls):.3f} ms | {rounds[len(rounds) // 2].connections:,} |"
        )
    return "\n".join(rows)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    results = measure(args)
    for _, rounds in results:
        if any(r.not_modified != args.requests for r in rounds):
            print("http_bench: a run did not get a 304 for every request", file=sys.stderr)
            return 1
    print(
        f"{versions()}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{args.requests:,} requests, {args.concurrency} at once, {args.repeat} rounds.\n"
    )
    print(table(results, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())

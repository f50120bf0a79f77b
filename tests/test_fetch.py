"""The fetcher against a real site on loopback: compressed bodies inflated under the size
cap, kept-alive connections within the per-host limit, a host paused after its 429, no
proxy from the environment."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from archiver.config import FetchConfig
from archiver.errors import FetchError
from archiver.fetch.client import Fetcher, Response, open_fetcher, user_agent

from .newsserver import NewsServer, article_html, make_route
from .pages import HARBOUR

FAST = FetchConfig(timeout=5, min_delay=0, retries=0)
PAGE = article_html("Harbour quotas cut catch", HARBOUR).encode()
T = TypeVar("T")


def with_fetcher(job: Callable[[Fetcher], Awaitable[T]], settings: FetchConfig = FAST) -> T:
    async def run() -> T:
        async with open_fetcher(settings, user_agent()) as fetcher:
            return await job(fetcher)

    return asyncio.run(run())


def fetch(url: str, settings: FetchConfig = FAST) -> Response:
    return with_fetcher(lambda fetcher: fetcher.fetch(url), settings)


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # as the standard says: zlib's wrapping
        ("deflate", raw_deflate),  # as many servers send it
    ],
)
def test_compressed_pages_are_inflated(server: NewsServer, encoding: str, pack):  # type: ignore[no-untyped-def]
    server.set("/a", pack(PAGE), headers={"Content-Encoding": encoding})
    response = fetch(server.url("/a"))
    assert response.body == PAGE
    assert server.hits("/a")[0].headers["accept-encoding"] == "gzip, deflate"


def test_an_unknown_encoding_is_a_clear_error_not_garbage(server: NewsServer):
    server.set("/a", b"\x28\xb5\x2f\xfd...", headers={"Content-Encoding": "zstd"})
    with pytest.raises(FetchError, match="unsupported content encoding zstd") as caught:
        fetch(server.url("/a"))
    assert str(caught.value).startswith(server.url("/a") + ": ")


def test_a_corrupt_gzip_body_is_a_clear_error(server: NewsServer):
    server.set("/a", b"\x1f\x8b\x08\x00 not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="cannot be decoded"):
        fetch(server.url("/a"))


def test_a_gzip_bomb_is_refused_without_inflating_it(server: NewsServer):
    # 200 MB of zeros pack into 200 KB; the cap is 1 MB. Inflating whole chunks first
    # would hold tens of megabytes at once before any size check.
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    server.set("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    settings = FetchConfig(timeout=5, min_delay=0, retries=0, max_bytes=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="size cap"):
            fetch(server.url("/bomb"), settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000, peak


def test_connections_are_kept_and_reused_within_the_per_host_limit(server: NewsServer):
    for n in range(12):
        server.set(f"/a/{n}", PAGE)
    urls = [server.url(f"/a/{n}") for n in range(12)]
    settings = FetchConfig(timeout=5, min_delay=0, retries=0, per_host=3)

    async def check_all(fetcher: Fetcher) -> list[Response]:
        first = [await fetcher.fetch(url) for url in urls[:2]]
        return first + list(await asyncio.gather(*(fetcher.fetch(url) for url in urls[2:])))

    responses = with_fetcher(check_all, settings)
    assert [r.status for r in responses] == [200] * 12
    assert [r.body for r in responses] == [PAGE] * 12
    assert server.connections <= 3
    assert {r.connection for r in server.requests[:2]} == {1}  # one after the other: reused


def test_an_unread_error_body_does_not_spoil_the_next_answer(server: NewsServer):
    # A connection whose answer was not read to its end is closed, never reused mid-body.
    server.set("/missing", b"x" * 100_000, status=404)
    server.set("/a", PAGE)
    settings = FetchConfig(timeout=5, min_delay=0, retries=0, per_host=1)

    async def both(fetcher: Fetcher) -> Response:
        with pytest.raises(FetchError, match="HTTP 404"):
            await fetcher.fetch(server.url("/missing"))
        return await fetcher.fetch(server.url("/a"))

    assert with_fetcher(both, settings).body == PAGE


def test_proxies_in_the_environment_are_ignored(
    server: NewsServer, monkeypatch: pytest.MonkeyPatch
):
    nowhere = "http://127.0.0.1:9"  # nothing listens there
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, nowhere)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    server.set("/a", PAGE)
    assert fetch(server.url("/a")).body == PAGE


def test_a_429_with_retry_after_pauses_the_whole_host_not_only_its_request(server: NewsServer):
    # Real clock: after the 429, nothing reaches that host for 2 s; another host goes on.
    server.set("/a", b"busy", status=429, headers={"Retry-After": "2"}, then=make_route(PAGE))
    for path in ("/b", "/c"):
        server.set(path, PAGE)
    settings = FetchConfig(timeout=5, min_delay=0, retries=1, per_host=1)
    with NewsServer("127.0.0.2") as other:
        other.set("/x", PAGE)

        async def run(fetcher: Fetcher) -> list[Response]:
            async def elsewhere() -> Response:
                await asyncio.sleep(0.3)
                return await fetcher.fetch(other.url("/x"))

            paths = ("/a", "/b", "/c")
            first = [asyncio.ensure_future(fetcher.fetch(server.url(p))) for p in paths]
            return list(await asyncio.gather(*first, elsewhere()))

        responses = with_fetcher(run, settings)
        paused_at = server.answered("/a")[0]
        assert [r.status for r in responses] == [200] * 4
        later = [r.at - paused_at for r in server.requests if r.at > paused_at]
        assert len(later) == 3 and min(later) >= 1.95, later  # /a again, /b and /c
        assert other.requests[0].at - paused_at < 1.0  # the other host was not paused


def test_a_retry_after_beyond_the_limit_refuses_the_hosts_other_requests_too(
    server: NewsServer,
):
    server.set("/a", b"busy", status=503, headers={"Retry-After": "3600"})
    server.set("/b", PAGE)
    settings = FetchConfig(timeout=5, min_delay=0, retries=2, per_host=1)

    async def both(fetcher: Fetcher) -> str:
        with pytest.raises(FetchError, match="retry after 3600 s"):
            await fetcher.fetch(server.url("/a"))
        with pytest.raises(FetchError, match=r"asked for a pause \(3600 s left\)") as caught:
            await fetcher.fetch(server.url("/b"))
        return str(caught.value)

    assert with_fetcher(both, settings).startswith(server.url("/b") + ": ")
    assert server.hits("/b") == [] and len(server.hits("/a")) == 1

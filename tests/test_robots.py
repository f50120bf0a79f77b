"""robots.txt: read once per host, obeyed as search engines obey it, refusals explained."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from archiver.config import FetchConfig
from archiver.fetch.client import open_fetcher, user_agent
from archiver.fetch.robots import MAX_ROBOTS_BYTES, Robots, Verdict, product_token

from .newsserver import NewsServer

FAST = FetchConfig(timeout=5, min_delay=0, retries=0)
AGENT = user_agent()
T = TypeVar("T")


def with_robots(job: Callable[[Robots], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_fetcher(FAST, AGENT) as fetcher:
            return await job(Robots(fetcher))

    return asyncio.run(run())


def verdict(server: NewsServer, path: str, agent: str = AGENT) -> Verdict:
    return with_robots(lambda robots: robots.allowed(server.url(path), agent))


def host(server: NewsServer) -> str:
    return urlsplit(server.base).netloc


def test_disallowed_path_names_the_rule(server: NewsServer):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    refused = verdict(server, "/private/memo?id=3")
    assert refused == Verdict(
        False, f"robots.txt of {host(server)} disallows /private/ for archiver"
    )
    assert verdict(server, "/news/story").allowed


def test_our_group_wins_over_the_star_group(server: NewsServer):
    server.set(
        "/robots.txt",
        "User-agent: *\nDisallow: /\n\nUser-agent: archiver\nDisallow: /drafts/\n",
        content_type="text/plain",
    )
    assert verdict(server, "/news/story").allowed
    refused = verdict(server, "/drafts/story")
    assert not refused.allowed
    assert "/drafts/" in refused.reason


def test_only_the_product_token_of_our_user_agent_is_matched(server: NewsServer):
    # Our User-Agent's comment says "news change archive": a group for "news" is not ours.
    server.set("/robots.txt", "User-agent: news\nDisallow: /\n", content_type="text/plain")
    assert "news" in AGENT
    assert verdict(server, "/story", AGENT).allowed
    assert product_token(AGENT) == "archiver"


def test_missing_robots_allows_everything(server: NewsServer):
    result = verdict(server, "/private/anything")  # no /robots.txt route: a 404
    assert result.allowed
    assert result.reason == f"robots.txt of {host(server)} answered HTTP 404: everything allowed"


def test_forbidden_robots_counts_as_missing(server: NewsServer):
    server.set("/robots.txt", "no", status=403)
    assert verdict(server, "/story").allowed


def test_server_error_disallows_everything_with_the_reason(server: NewsServer):
    server.set("/robots.txt", "down", status=503)
    result = verdict(server, "/story")
    assert result == Verdict(
        False, f"robots.txt of {host(server)} unreachable (HTTP 503): not fetching", False
    )


def test_no_answer_disallows_everything():
    with socket.socket() as probe:  # a port that nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = with_robots(lambda robots: robots.allowed(f"http://127.0.0.1:{port}/a", AGENT))
    assert not result.allowed
    assert result.reason.startswith(f"robots.txt of 127.0.0.1:{port} unreachable (cannot fetch")
    assert result.reason.endswith("): not fetching")


def test_robots_fetched_once_per_host_across_many_checks(server: NewsServer):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    async def many(robots: Robots) -> list[Verdict]:
        paths = [f"/news/{n}" for n in range(20)] + [f"/private/{n}" for n in range(5)]
        first = await asyncio.gather(*(robots.allowed(server.url(p), AGENT) for p in paths))
        again = [await robots.allowed(server.url(p), AGENT) for p in paths]
        return [*first, *again]

    verdicts = with_robots(many)
    assert [v.allowed for v in verdicts].count(False) == 10
    assert len(server.hits("/robots.txt")) == 1


def test_failure_is_remembered_for_the_run(server: NewsServer):
    server.set("/robots.txt", "down", status=500)

    async def twice(robots: Robots) -> list[Verdict]:
        return [await robots.allowed(server.url(f"/s/{n}"), AGENT) for n in range(3)]

    assert not any(v.allowed for v in with_robots(twice))
    assert len(server.hits("/robots.txt")) == 1


def test_crawl_delay_is_read(server: NewsServer):
    server.set(
        "/robots.txt",
        "User-agent: archiver\nCrawl-delay: 2.5\nDisallow: /x/\n\nUser-agent: *\nCrawl-delay: 9\n",
        content_type="text/plain",
    )

    async def delays(robots: Robots) -> list[float | None]:
        before = robots.crawl_delay(host(server), AGENT)
        await robots.allowed(server.url("/story"), AGENT)
        return [
            before,
            robots.crawl_delay(host(server), AGENT),
            robots.crawl_delay(server.base, "archiver"),
            robots.crawl_delay(host(server), "otherbot/1.0"),
        ]

    assert with_robots(delays) == [None, 2.5, 2.5, 9.0]


def test_robots_served_as_html_is_still_read(server: NewsServer):
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/html")
    assert not verdict(server, "/private/x").allowed


def test_only_the_first_500_kib_are_read(server: NewsServer):
    filler = "# " + "x" * 97 + "\n"
    early = "User-agent: *\nDisallow: /early/\n"
    padding = filler * (MAX_ROBOTS_BYTES // len(filler) + 10)
    server.set("/robots.txt", early + padding + "Disallow: /late/\n", content_type="text/plain")
    assert not verdict(server, "/early/a").allowed
    assert verdict(server, "/late/a").allowed


def test_not_an_http_url_is_refused_without_fetching(server: NewsServer):
    result = with_robots(lambda robots: robots.allowed("ftp://example.org/a", AGENT))
    assert not result.allowed
    assert "not an http(s) URL" in result.reason

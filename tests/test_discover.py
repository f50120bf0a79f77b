"""Discovery: article URLs from feeds, sitemaps and section pages, merged and filtered."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.config import FetchConfig, SourceConfig
from archiver.discover import METHODS, Candidate, Discovery, Method, discover
from archiver.discover.base import Reader, _Found
from archiver.discover.pages import looks_like_article, section_links
from archiver.discover.sitemaps import MAX_CHILD_SITEMAPS, MAX_SITEMAP_BYTES
from archiver.errors import HTTPStatusError
from archiver.fetch.client import open_fetcher, user_agent

from .newsserver import (
    NewsServer,
    atom_feed,
    news_sitemap,
    rss_feed,
    section_page,
    sitemap,
    sitemap_index,
)

FAST = FetchConfig(timeout=5, min_delay=0, retries=0)
XML = "application/xml"


def run(**source: object) -> Discovery:
    async def go() -> Discovery:
        async with open_fetcher(FAST, user_agent()) as fetcher:
            return await discover(SourceConfig(name="daily", **source), fetcher)  # type: ignore[arg-type]

    return asyncio.run(go())


def urls(found: Discovery) -> list[str]:
    return [c.url for c in found.urls]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_rss_feed(server: NewsServer):
    feed = server.url("/rss.xml")
    server.set(
        "/rss.xml",
        rss_feed(
            [
                (server.url("/news/harbour-quotas"), "Harbour quotas cut", "2025-03-01T10:00:00Z"),
                (server.url("/news/old-bridge"), "Old bridge to close", "2025-03-01T08:00:00Z"),
            ]
        ),
        content_type="application/rss+xml",
    )
    found = run(feeds=(feed,))
    assert found.errors == []
    assert found.urls == [
        Candidate(
            server.url("/news/old-bridge"), feed, "Old bridge to close", utc("2025-03-01T08:00Z")
        ),
        Candidate(
            server.url("/news/harbour-quotas"), feed, "Harbour quotas cut", utc("2025-03-01T10:00Z")
        ),
    ]


def test_atom_feed_with_relative_links(server: NewsServer):
    feed = server.url("/atom.xml")
    server.set(
        "/atom.xml",
        atom_feed(
            [
                ("/news/budget-vote", "Budget vote delayed", "2025-03-02T07:30:00+01:00"),
                (server.url("/news/rail-strike"), "Rail strike called off", "2025-03-01T12:00:00Z"),
            ]
        ),
        content_type="application/atom+xml",
    )
    found = run(feeds=(feed,))
    assert found.errors == []
    assert [(c.url, c.title, c.published) for c in found.urls] == [
        (server.url("/news/rail-strike"), "Rail strike called off", utc("2025-03-01T12:00Z")),
        (server.url("/news/budget-vote"), "Budget vote delayed", utc("2025-03-02T06:30Z")),
    ]


def test_news_sitemap_gives_titles_and_publication_dates(server: NewsServer):
    server.set(
        "/news-sitemap.xml",
        news_sitemap(
            [
                (server.url("/a/flood-warning"), "Flood warning issued", "2025-03-03T09:15:00Z"),
                (server.url("/a/school-meals"), "School meals plan", "2025-03-02"),
            ]
        ),
        content_type=XML,
    )
    found = run(sitemaps=(server.url("/news-sitemap.xml"),))
    assert found.errors == []
    assert [(c.url, c.title, c.published, c.found_in) for c in found.urls] == [
        (
            server.url("/a/school-meals"),
            "School meals plan",
            utc("2025-03-02T00:00Z"),
            server.url("/news-sitemap.xml"),
        ),
        (
            server.url("/a/flood-warning"),
            "Flood warning issued",
            utc("2025-03-03T09:15Z"),
            server.url("/news-sitemap.xml"),
        ),
    ]


def test_sitemap_index_follows_children_one_gzipped(server: NewsServer):
    server.set(
        "/sitemap.xml",
        sitemap_index(
            [("/sitemaps/2025-02.xml", "2025-02-28"), ("/sitemaps/2025-03.xml.gz", "2025-03-01")]
        ),
        content_type=XML,
    )
    server.set("/sitemaps/2025-02.xml", sitemap([server.url("/a/february")]), content_type=XML)
    packed = gzip.compress(sitemap([server.url("/a/march-1"), server.url("/a/march-2")]).encode())
    server.set("/sitemaps/2025-03.xml.gz", packed, content_type="application/x-gzip")
    found = run(sitemaps=(server.url("/sitemap.xml"),))
    assert found.errors == []
    assert found.read == 3  # the index and its two children
    assert sorted(urls(found)) == [
        server.url("/a/february"),
        server.url("/a/march-1"),
        server.url("/a/march-2"),
    ]
    by_url = {c.url: c.found_in for c in found.urls}
    assert by_url[server.url("/a/march-1")] == server.url("/sitemaps/2025-03.xml.gz")


def test_sitemap_index_reads_only_the_most_recent_children(server: NewsServer):
    months = [f"/sitemaps/2024-{m:02d}.xml" for m in range(1, 9)]
    children: list[tuple[str, str | None]] = [
        (server.url(p), f"2024-{m:02d}-28") for m, p in enumerate(months, start=1)
    ]
    server.set(
        "/index.xml", sitemap_index([("/sitemaps/undated.xml", None), *children]), content_type=XML
    )
    for path in [*months, "/sitemaps/undated.xml"]:
        server.set(path, sitemap([server.url("/a" + path.removesuffix(".xml"))]), content_type=XML)
    found = run(sitemaps=(server.url("/index.xml"),))
    assert found.errors == []
    read = [p for p in [*months, "/sitemaps/undated.xml"] if server.hits(p)]
    assert read == months[-MAX_CHILD_SITEMAPS:]
    assert len(found.urls) == MAX_CHILD_SITEMAPS


def test_nested_sitemap_index_is_not_followed(server: NewsServer):
    server.set("/index.xml", sitemap_index([("/inner.xml", None)]), content_type=XML)
    server.set("/inner.xml", sitemap_index([("/deep.xml", None)]), content_type=XML)
    server.set("/deep.xml", sitemap([server.url("/a/deep-story")]), content_type=XML)
    found = run(sitemaps=(server.url("/index.xml"),))
    assert found.urls == []
    assert [e.url for e in found.errors] == [server.url("/inner.xml")]
    assert server.hits("/deep.xml") == []


def test_section_page_keeps_article_links_on_site(server: NewsServer):
    page = server.url("/world")
    server.set(
        "/world",
        section_page(
            [
                ("/world/europe", "Europe"),  # a subsection, not a story
                ("/world/europe/2025/03/01/ceasefire-talks", "Ceasefire talks resume"),
                ("story/harbour-quotas-cut-again#comments", "Harbour quotas cut again"),
                ("../news/12345678", "  Minister \n resigns  "),
                ("/politics/minister-resigns?utm_source=home&ref=top", "Minister resigns"),
                ("https://elsewhere.example/news/2025/03/01/off-site-story", "Elsewhere"),
                ("/logo.png", "Logo"),
                ("/world?page=2", "More"),
                ("javascript:void(0)", "Menu"),
            ]
        ),
    )
    found = run(pages=(page,))
    assert found.errors == []
    assert urls(found) == [
        server.url("/news/12345678"),
        server.url("/politics/minister-resigns?ref=top"),
        server.url("/story/harbour-quotas-cut-again"),
        server.url("/world/europe/2025/03/01/ceasefire-talks"),
    ]
    assert {c.found_in for c in found.urls} == {page}
    assert found.urls[0].title == "Minister resigns"


def test_section_page_with_include_patterns_skips_the_heuristic(server: NewsServer):
    server.set("/world", section_page([("/world/europe", "Europe"), ("/tag/news", "News")]))
    found = run(pages=(server.url("/world"),), include=(r"/(world|tag)/",))
    # The navigation's /tag/elections matches too; /world itself never counts.
    assert urls(found) == [
        server.url("/tag/elections"),
        server.url("/tag/news"),
        server.url("/world/europe"),
    ]


@pytest.mark.parametrize(
    "url, article",
    [
        ("https://example.org/news/uk-politics-68412345", True),
        ("https://example.org/2025/03/01/budget", True),
        ("https://example.org/minister-resigns-over-row", True),
        ("https://example.org/politics/minister-resigns", True),
        ("https://example.org/news/story.html", False),
        ("https://example.org/news/big-story.html", True),
        ("https://example.org/world/europe", False),
        ("https://example.org/politics", False),
        ("https://example.org/", False),
        ("https://example.org/tag/minister-resigns-over-row", False),
        ("https://example.org/author/jane-doe", False),
        ("https://example.org/topics/c1234567", False),
        ("https://example.org/video/2025/03/01/clip", False),
        ("https://example.org/images/2025/03/photo.jpg", False),
        ("https://example.org/section?page=2", False),
    ],
)
def test_article_heuristic(url: str, article: bool):
    assert looks_like_article(url, "https://example.org/section") is article


def test_section_links_keep_subdomains_of_the_site():
    page = """<html><head><base href="https://www.example.org/news/"></head><body>
    <a href="https://news.example.org/2025/story-one">1</a>
    <a href="https://example.org/2025/story-two">2</a>
    <a href="https://example.org.evil.test/2025/story-three">3</a>
    <a href="https://notexample.org/2025/story-four">4</a>
    <a href="2025/story-five">5</a>
    <a href="http://[::1/broken">6</a>
    </body></html>"""
    found = section_links(page, "https://www.example.org/world", "page", guess=True)
    assert [c.url for c in found.candidates] == [
        "https://news.example.org/2025/story-one",
        "https://example.org/2025/story-two",
        "https://www.example.org/news/2025/story-five",
    ]
    assert found.invalid == 1


def test_same_article_from_feed_and_sitemap_is_one_candidate(server: NewsServer):
    feed, site_map = server.url("/rss.xml"), server.url("/sitemap.xml")
    story = server.url("/news/harbour-quotas")
    server.set(
        "/rss.xml",
        rss_feed(
            [(story + "?utm_source=rss&utm_medium=feed#top", "Harbour", "2025-03-01T10:00:00Z")]
        ),
        content_type="application/rss+xml",
    )
    server.set(
        "/sitemap.xml",
        news_sitemap([(story, "Harbour quotas cut catch", "2025-03-01T09:00:00Z")]),
        content_type=XML,
    )
    found = run(feeds=(feed,), sitemaps=(site_map,))
    assert found.urls == [Candidate(story, feed, "Harbour", utc("2025-03-01T09:00Z"))]


def test_include_and_exclude_apply_to_every_method(server: NewsServer):
    server.set(
        "/rss.xml",
        rss_feed(
            [
                (server.url("/news/story-one"), "One", "2025-03-01T10:00:00Z"),
                (server.url("/news/live/story-two"), "Two", "2025-03-01T10:00:00Z"),
                (server.url("/sport/story-three"), "Three", "2025-03-01T10:00:00Z"),
            ]
        ),
        content_type="application/rss+xml",
    )
    server.set(
        "/sitemap.xml",
        sitemap([server.url("/news/story-four"), server.url("/news/live/story-five")]),
        content_type=XML,
    )
    found = run(
        feeds=(server.url("/rss.xml"),),
        sitemaps=(server.url("/sitemap.xml"),),
        include=(r"/news/",),
        exclude=(r"/live/",),
    )
    assert urls(found) == [server.url("/news/story-one"), server.url("/news/story-four")]
    assert found.filtered == 3


def test_malformed_feed_is_reported_by_url_and_others_still_count(server: NewsServer):
    server.set("/bad.xml", "<rss><channel><item><title>Oops", content_type="text/xml")
    server.set(
        "/good.xml",
        rss_feed([(server.url("/a/fine-story"), "Fine", "2025-03-01")]),
        content_type="application/rss+xml",
    )
    found = run(feeds=(server.url("/bad.xml"), server.url("/good.xml")))
    assert urls(found) == [server.url("/a/fine-story")]
    [error] = found.errors
    assert error.url == server.url("/bad.xml")
    assert error.reason.startswith("feed is not valid RSS/Atom (")
    assert str(error).startswith(server.url("/bad.xml") + ": feed is not valid RSS/Atom (")


def test_xml_that_is_not_a_feed_is_reported(server: NewsServer):
    server.set("/feed.xml", "<?xml version='1.0'?><catalog><book/></catalog>", content_type=XML)
    found = run(feeds=(server.url("/feed.xml"),))
    assert [e.url for e in found.errors] == [server.url("/feed.xml")]


def test_failing_feed_is_reported_and_others_still_count(server: NewsServer):
    server.set("/rss.xml", "Internal error", status=500)
    server.set("/sitemap.xml", sitemap([server.url("/a/still-here")]), content_type=XML)
    server.set("/world", section_page([("/world/2025/03/01/also-here", "Also here")]))
    found = run(
        feeds=(server.url("/rss.xml"),),
        sitemaps=(server.url("/sitemap.xml"), server.url("/missing.xml")),
        pages=(server.url("/world"),),
    )
    assert urls(found) == [server.url("/a/still-here"), server.url("/world/2025/03/01/also-here")]
    assert [(type(e), e.url, e.status) for e in found.errors] == [  # type: ignore[attr-defined]
        (HTTPStatusError, server.url("/rss.xml"), 500),
        (HTTPStatusError, server.url("/missing.xml"), 404),
    ]
    assert found.read == 2  # the source still works: two of its four documents were read


def test_invalid_urls_are_skipped_and_counted(server: NewsServer):
    server.set(
        "/sitemap.xml",
        sitemap(["javascript:alert(1)", "http:///no-host", "http://[::1/x", server.url("/a/ok")]),
        content_type=XML,
    )
    found = run(sitemaps=(server.url("/sitemap.xml"),))
    assert urls(found) == [server.url("/a/ok")]
    assert found.invalid == 3
    assert found.errors == []


def test_same_inputs_give_the_same_list(server: NewsServer):
    server.set(
        "/rss.xml",
        rss_feed(
            [
                (server.url(f"/news/story-{n}"), f"Story {n}", f"2025-03-0{1 + n % 3}T09:00:00Z")
                for n in range(9)
            ]
        ),
        delay=0.05,
    )
    server.set("/sitemap.xml", sitemap([server.url(f"/a/s{n}") for n in range(5, 0, -1)]))
    server.set("/world", section_page([("/world/2025/03/01/page-story", "Page story")]))
    source = {
        "feeds": (server.url("/rss.xml"),),
        "sitemaps": (server.url("/sitemap.xml"),),
        "pages": (server.url("/world"),),
    }
    first, second = run(**source), run(**source)
    assert first.urls == second.urls
    keys = [(c.published or datetime.max.replace(tzinfo=UTC), c.url) for c in first.urls]
    assert keys == sorted(keys)
    assert first.urls[-1].published is None


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE urlset [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://127.0.0.1/a/&lol9;</loc></url>
</urlset>"""


def test_billion_laughs_sitemap_does_not_expand(server: NewsServer):
    server.set("/sitemap.xml", BILLION_LAUGHS, content_type=XML)
    started = time.monotonic()
    found = run(sitemaps=(server.url("/sitemap.xml"),))
    assert time.monotonic() - started < 5
    assert found.urls == []
    assert [e.url for e in found.errors] == [server.url("/sitemap.xml")]


def test_external_entity_never_reads_a_local_file(server: NewsServer, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("leaked-secret-story")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{server.url("/a/")}&xxe;</loc></url>
<url><loc>{server.url("/a/plain-story")}</loc></url>
</urlset>"""
    server.set("/sitemap.xml", xxe, content_type=XML)
    feed = rss_feed([(server.url("/a/feed-story"), "&xxe;", "2025-03-01")]).replace(
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>',
    )
    server.set("/rss.xml", feed, content_type="application/rss+xml")
    found = run(sitemaps=(server.url("/sitemap.xml"),), feeds=(server.url("/rss.xml"),))
    assert "leaked-secret-story" not in repr(found)
    assert [e.url for e in found.errors] == [server.url("/sitemap.xml")]
    assert "entities" in found.errors[0].reason


def test_gzip_bomb_sitemap_is_refused(server: NewsServer):
    head = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    bomb = gzip.compress(head + b" " * (MAX_SITEMAP_BYTES + 1) + b"</urlset>", compresslevel=1)
    server.set("/sitemap.xml.gz", bomb, content_type="application/gzip")
    found = run(sitemaps=(server.url("/sitemap.xml.gz"),))
    assert found.urls == []
    [error] = found.errors
    assert "uncompressed" in error.reason


def test_feed_body_naming_a_local_file_is_not_opened(server: NewsServer, tmp_path: Path):
    # feedparser opens a str or bytes argument as a path when one exists by that name.
    secret = tmp_path / "feed.xml"
    secret.write_text(rss_feed([(server.url("/a/leaked-story"), "Leaked", "2025-03-01")]))
    server.set("/rss.xml", str(secret), content_type="application/rss+xml")
    found = run(feeds=(server.url("/rss.xml"),))
    assert found.urls == []
    assert [e.url for e in found.errors] == [server.url("/rss.xml")]


async def _read_url_list(reader: Reader, url: str) -> _Found:
    """A discovery method of the test's own: a text file of article URLs, one a line."""
    response = await reader.get(url, ("text/plain",))
    return _Found([Candidate(line, url) for line in response.body.decode().split()])


def test_each_source_field_is_read_by_the_method_registered_for_it(
    server: NewsServer, monkeypatch: pytest.MonkeyPatch
):
    listing = server.url("/urls.txt")
    server.set(
        "/urls.txt", f"{server.url('/b/two')}\n{server.url('/a/one')}\n", content_type="text/plain"
    )
    monkeypatch.setitem(METHODS, "sitemaps", Method(_read_url_list, kind="list", unit="URLs"))
    found = run(sitemaps=(listing,))
    assert found.errors == []
    assert [(c.url, c.found_in) for c in found.urls] == [
        (server.url("/a/one"), listing),
        (server.url("/b/two"), listing),
    ]

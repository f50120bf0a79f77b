"""Discovery: the article URLs a source's feeds, sitemaps and section pages list today.

Every feed, sitemap and page of a source is fetched at once (the Fetcher keeps each host's
limits); one that fails is reported in `Discovery.errors`, named by its URL, and the others
still count (`Discovery.read` counts those read: a source works while one is).

- Feeds: RSS 0.9x/1.0/2.0 and Atom, read by feedparser. A feed with no entries that
  feedparser cannot read either is an error; a readable but empty feed is not.
- Sitemaps: <urlset>, Google news sitemaps (news:publication_date is the published date,
  news:title the title; a plain <lastmod> is not a publication date and is not used), and
  <sitemapindex>, whose children are followed one level deep, at most MAX_CHILD_SITEMAPS of
  them, the most recent <lastmod> first (those without one last, in document order).
  gzip'd sitemaps are read whatever their name or content type. XML from the internet is
  parsed without entity expansion, DTD loading or network access, and a sitemap that
  declares entities is refused: sitemaps never need them.
- Section pages: the <a href> links of the page itself (one level, no crawling), resolved
  against the page (or its <base href>), kept when http(s) and on the page's site: its host
  without a leading "www.", or a subdomain of it (www.example.org keeps news.example.org; a
  public-suffix list would be needed to go further, and is not worth its upkeep here).

Which section-page links are articles: the source's include patterns decide when it has
any. Without them a link counts as an article when
  1. it is not the page itself (nor the page with another query, such as ?page=2),
  2. no path segment names an index page (tag, author, topics, section, video, search …,
     see INDEX_SEGMENT) and it is not a file such as .jpg, .pdf or .xml,
  3. and its path looks like a story: it holds a number of 4+ digits (an id or a date), or
     its last segment is a slug of 3+ words, or it has 2+ segments and the last is not a
     single plain word ("/politics/minister-resigns" is a story, "/world/europe" a section).

Then, for candidates from every method: each URL is made canonical (canonical_url: no
tracking parameters, no fragment); URLs that cannot be are skipped and counted in
`invalid`; the source's include patterns (at least one must match, when given) and exclude
patterns (none may match) are searched in the canonical URL, and those left out are
counted in `filtered`. One URL found several times is one candidate: the first place it
was found wins (feeds, then sitemaps, then pages, each in configured order, each in
document order), with the first title found and the earliest published date.

Order: by published date, oldest first, then by URL; undated candidates come last, by URL.
So the same documents give the same list however the fetches interleave, and articles
captured in this order are committed in the order they were published.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
import lxml.html
from lxml import etree

from archiver.config import SourceConfig
from archiver.errors import ArticleError, InvalidURL
from archiver.fetch.charset import decode_html
from archiver.fetch.client import HTML_TYPES, Fetcher, Response
from archiver.urls import canonical_url

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
SITEMAP_TYPES = (
    "application/xml",
    "text/xml",
    "application/gzip",
    "application/x-gzip",
    "application/octet-stream",  # how many servers label a .xml.gz
)
MAX_CHILD_SITEMAPS = 5  # of a sitemap index; news sites keep years of monthly sitemaps
MAX_SITEMAP_URLS = 50_000  # the sitemap protocol's limits for one file
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

# Path segments of listing pages rather than stories.
INDEX_SEGMENT = re.compile(
    r"tags?|authors?|topics?|sections?|categor(y|ies)|videos?|search|log-?in|sign-?in|"
    r"subscribe|subscriptions?|newsletters?|account|about(-us)?|contact(-us)?|privacy|terms|"
    r"cookies|help|feeds?|rss|page",
    re.IGNORECASE,
)
ASSET = re.compile(
    r"\.(jpe?g|png|gif|svg|webp|ico|pdf|zip|mp3|mp4|css|js|json|xml|rss|atom)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Candidate:
    """An article URL (canonical) and where it was first found."""

    url: str
    found_in: str  # the feed, sitemap or page that listed it
    title: str | None = None
    published: datetime | None = None  # timezone-aware, UTC


@dataclass
class Discovery:
    urls: list[Candidate] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    invalid: int = 0  # URLs skipped because they have no canonical form
    filtered: int = 0  # URLs left out by the source's include/exclude patterns
    read: int = 0  # feeds, sitemaps and pages fetched and read (child sitemaps included)


async def discover(source: SourceConfig, fetcher: Fetcher) -> Discovery:
    """The article URLs listed by the source's feeds, sitemaps and section pages."""
    reader = _Reader(fetcher, source.user_agent or None, source.min_delay)
    guess = not source.include  # the article heuristic stands in for include patterns
    found = await asyncio.gather(
        *(reader.feed(url) for url in source.feeds),
        *(reader.sitemap(url) for url in source.sitemaps),
        *(reader.page(url, guess) for url in source.pages),
    )
    return _merge(found, _Patterns.of(source))


@dataclass
class _Found:
    """What one document listed, in document order, before canonicalization."""

    candidates: list[Candidate] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    invalid: int = 0
    read: int = 1  # documents read: this one, unless it failed

    @classmethod
    def join(cls, parts: Iterable[_Found]) -> _Found:
        joined = cls(read=0)
        for part in parts:
            joined.candidates += part.candidates
            joined.errors += part.errors
            joined.invalid += part.invalid
            joined.read += part.read
        return joined


@dataclass(frozen=True)
class _Reader:
    """Fetches a source's documents with its user agent and delay, each failure caught."""

    fetcher: Fetcher
    agent: str | None
    min_delay: float | None

    async def feed(self, url: str) -> _Found:
        try:
            response = await self._get(url, FEED_TYPES)
            # Parsing a large document takes a while: off the loop, so other fetches go on.
            return _Found(await asyncio.to_thread(feed_candidates, response, url))
        except ArticleError as err:
            return _Found(errors=[err], read=0)

    async def sitemap(self, url: str, nested: bool = False) -> _Found:
        try:
            response = await self._get(url, SITEMAP_TYPES)
            urls, children = await asyncio.to_thread(read_sitemap, response, url)
        except ArticleError as err:
            return _Found(errors=[err], read=0)
        if not children:
            return _Found(urls)
        if nested:
            reason = "sitemap index inside a sitemap index: not followed (one level only)"
            return _Found(errors=[ArticleError(url, reason)], read=0)
        chosen = most_recent(children, MAX_CHILD_SITEMAPS)
        found = [_Found(), *await asyncio.gather(*(self.sitemap(c, True) for c in chosen))]
        return _Found.join(found)

    async def page(self, url: str, guess: bool) -> _Found:
        try:
            response = await self._get(url, HTML_TYPES)
            text = decode_html(response.body, response.charset, url)
        except ArticleError as err:
            return _Found(errors=[err], read=0)
        return section_links(text, response.final_url, url, guess)

    async def _get(self, url: str, accept: tuple[str, ...]) -> Response:
        return await self.fetcher.fetch(
            url, agent=self.agent, min_delay=self.min_delay, accept=accept
        )


# Feeds


def feed_candidates(response: Response, url: str) -> list[Candidate]:
    """The entries of an RSS or Atom feed; ArticleError if it is neither."""
    parsed = feedparser.parse(
        # A stream, never bytes or str: feedparser opens those as a path or URL when it can.
        io.BytesIO(response.body),
        response_headers={"content-type": response.headers.get("content-type", "")},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    candidates = [_entry(entry, response.final_url, url) for entry in parsed.entries]
    # feedparser recovers what it can from a broken feed; broken and nothing usable is an error.
    if not any(c.url for c in candidates) and (parsed.bozo or not parsed.version):
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise ArticleError(url, f"feed is not valid RSS/Atom ({_one_line(problem)})")
    return candidates


def _entry(entry: feedparser.FeedParserDict, base: str, found_in: str) -> Candidate:
    # FeedBurner rewrites links to its click counter and keeps the real one aside.
    link = entry.get("feedburner_origlink") or entry.get("link") or ""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return Candidate(
        _join(base, link),
        found_in,
        _clean(entry.get("title")),
        _from_struct(stamp),
    )


def _from_struct(stamp: time.struct_time | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime(*stamp[:6], tzinfo=UTC)  # feedparser normalizes to UTC
    except (TypeError, ValueError):
        return None


# Sitemaps


def read_sitemap(response: Response, url: str) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """(article candidates, child sitemaps as (url, lastmod)); one of the two is empty."""
    root = _xml_root(_gunzipped(response.body, url), url)
    kind = _local(root)
    base = response.final_url
    if kind == "urlset":
        entries = [e for e in root if _local(e) == "url"][:MAX_SITEMAP_URLS]
        return [_sitemap_url(e, url) for e in entries], []
    if kind == "sitemapindex":
        # Children are only fetched, never recorded: a path instead of a URL is forgiven.
        children = [
            (_join(base, _child_text(e, "loc")), _child_text(e, "lastmod"))
            for e in root
            if _local(e) == "sitemap" and _child_text(e, "loc")
        ]
        return [], [(c, m) for c, m in children if _is_http(c)]
    raise ArticleError(url, f"not a sitemap (root element <{kind}>)")


def most_recent(children: list[tuple[str, str]], cap: int) -> list[str]:
    """Up to `cap` child sitemaps, latest lastmod first; undated ones after, in order."""

    def key(child: tuple[str, str]) -> tuple[bool, float]:
        when = _w3c_date(child[1])
        return (when is None, -when.timestamp() if when else 0.0)

    return [url for url, _ in sorted(children, key=key)[:cap]]


def _sitemap_url(entry: etree._Element, found_in: str) -> Candidate:
    loc = _child_text(entry, "loc")
    news = next((c for c in entry if _local(c) == "news"), None)
    title = _clean(_child_text(news, "title")) if news is not None else None
    published = _w3c_date(_child_text(news, "publication_date")) if news is not None else None
    # Sitemap URLs must be absolute (the protocol says so): they are not resolved.
    return Candidate(loc, found_in, title, published)


def _gunzipped(body: bytes, url: str) -> bytes:
    """The XML of a sitemap, inflated when gzip'd, refused beyond the protocol's size."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        # Bounded output: a small .gz can inflate to gigabytes.
        data = zlib.decompressobj(wbits=31).decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as err:
        raise ArticleError(url, f"gzip'd sitemap cannot be inflated ({err})") from None
    if len(data) > MAX_SITEMAP_BYTES:
        raise ArticleError(url, f"sitemap larger than {MAX_SITEMAP_BYTES >> 20} MiB uncompressed")
    return data


def _xml_root(data: bytes, url: str) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise ArticleError(url, f"sitemap is not valid XML ({_one_line(err)})") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        # Unexpanded entities would silently cut URLs short; a sitemap has no use for them.
        raise ArticleError(url, "sitemap declares XML entities, which sitemaps never use")
    return root


def _local(element: etree._Element | None) -> str:
    """An element's name without its namespace ("" for entities and the like).

    Namespaces are not checked: sitemaps with a wrong or missing one are common."""
    tag = getattr(element, "tag", None)
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str:
    child = next((c for c in element if _local(c) == name), None)
    return (child.text or "").strip() if child is not None else ""


def _w3c_date(text: str) -> datetime | None:
    """A W3C datetime ("2025-03-01", "2025-03-01T09:00:00+01:00") in UTC; naive is UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


# Section pages


def section_links(text: str, base: str, found_in: str, guess: bool) -> _Found:
    """The same-site links of a page; only article-like ones when `guess`."""
    document = _html(text)
    if document is None:
        return _Found()
    base = _base(document, base)
    site = _site(urlsplit(base).hostname or "")
    found = _Found()
    for anchor in document.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            link = urldefrag(urljoin(base, href))[0]
            parts = urlsplit(link)
            host = parts.hostname or ""
        except ValueError:  # such as an unclosed IPv6 bracket
            found.invalid += 1
            continue
        if parts.scheme not in ("http", "https") or not _on_site(host, site):
            continue
        if link == urldefrag(base)[0] or (guess and not looks_like_article(link, base)):
            continue
        found.candidates.append(Candidate(link, found_in, _clean(anchor.text_content())))
    return found


def looks_like_article(url: str, page: str) -> bool:
    """The article heuristic of section pages; see the module's docstring."""
    path = urlsplit(url).path
    if path.rstrip("/") == urlsplit(page).path.rstrip("/"):
        return False
    segments = [s.lower() for s in path.split("/") if s]
    if not segments or ASSET.search(path) or any(INDEX_SEGMENT.fullmatch(s) for s in segments):
        return False
    if re.search(r"\d{4,}", path):
        return True
    last = re.sub(r"\.[a-z]{2,5}$", "", segments[-1])  # story.html → story
    if len([w for w in re.split(r"[-_.+]+", last) if w]) >= 3:
        return True
    return len(segments) >= 2 and not re.fullmatch(r"[a-z]+", last)


def _html(text: str) -> lxml.html.HtmlElement | None:
    # lxml refuses text that still declares its encoding; the text is already decoded.
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        return lxml.html.document_fromstring(text)
    except etree.ParserError:  # nothing but whitespace or comments
        return None


def _base(document: lxml.html.HtmlElement, url: str) -> str:
    """The URL links are relative to: <base href> when it is a usable http(s) URL."""
    tag = document.find(".//base[@href]")
    base = _join(url, tag.get("href")) if tag is not None else url
    return base if _is_http(base) else url


def _site(host: str) -> str:
    host = host.rstrip(".").lower()
    return host.removeprefix("www.")


def _on_site(host: str, site: str) -> bool:
    host = host.rstrip(".").lower()
    return host == site or host.endswith("." + site)


# Merging


@dataclass(frozen=True)
class _Patterns:
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, source: SourceConfig) -> _Patterns:
        return cls(
            tuple(re.compile(p) for p in source.include),
            tuple(re.compile(p) for p in source.exclude),
        )

    def admit(self, url: str) -> bool:
        if self.include and not any(p.search(url) for p in self.include):
            return False
        return not any(p.search(url) for p in self.exclude)


def _merge(found: Iterable[_Found], patterns: _Patterns) -> Discovery:
    result = Discovery()
    merged: dict[str, Candidate] = {}
    for part in found:
        result.errors += part.errors
        result.invalid += part.invalid
        result.read += part.read
        for candidate in part.candidates:
            try:
                url = canonical_url(candidate.url)
            except (InvalidURL, ValueError):  # ValueError: urlsplit's, on a malformed host
                result.invalid += 1
                continue
            if not patterns.admit(url):
                result.filtered += 1
                continue
            merged[url] = _combine(merged.get(url), replace(candidate, url=url))
    result.urls = sorted(merged.values(), key=lambda c: (c.published or FAR_FUTURE, c.url))
    return result


def _combine(first: Candidate | None, again: Candidate) -> Candidate:
    if first is None:
        return again
    dates = [d for d in (first.published, again.published) if d is not None]
    return replace(first, title=first.title or again.title, published=min(dates) if dates else None)


def _join(base: str, link: str) -> str:
    """`link` resolved against `base`; as it is when it cannot be parsed, to be counted as
    invalid later rather than to stop the document's other URLs."""
    link = link.strip()
    try:
        return urljoin(base, link) if link else ""
    except ValueError:  # such as an unclosed IPv6 bracket
        return link


def _is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _clean(text: object) -> str | None:
    """Whitespace collapsed; None when nothing is left."""
    collapsed = " ".join(str(text or "").split())
    return collapsed or None


def _one_line(problem: object) -> str:
    lines = str(problem).strip().splitlines()
    return lines[0][:200] if lines else type(problem).__name__

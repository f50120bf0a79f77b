"""Sitemaps: <urlset>, Google news sitemaps (news:publication_date is the published date,
news:title the title; a plain <lastmod> is not a publication date and is not used), and
<sitemapindex>, whose children are followed one level deep, at most MAX_CHILD_SITEMAPS of
them, the most recent <lastmod> first (those without one last, in document order).

gzip'd sitemaps are read whatever their name or content type. XML from the internet is
parsed without entity expansion, DTD loading or network access, and a sitemap that declares
entities is refused: sitemaps never need them.
"""

from __future__ import annotations

import asyncio
import zlib
from datetime import UTC, datetime

from lxml import etree

from archiver.discover.base import (
    Candidate,
    Method,
    Reader,
    _clean,
    _Found,
    _is_http,
    _join,
    _one_line,
)
from archiver.errors import ArticleError
from archiver.fetch.client import Response

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


async def discover_sitemap(reader: Reader, url: str, nested: bool = False) -> _Found:
    """The URLs of one sitemap, or of the children of a sitemap index; a sitemap that
    cannot be fetched or read is an error."""
    try:
        response = await reader.get(url, SITEMAP_TYPES)
        urls, children = await asyncio.to_thread(read_sitemap, response, url)
    except ArticleError as err:
        return _Found(errors=[err], read=0)
    if not children:
        return _Found(urls)
    if nested:
        reason = "sitemap index inside a sitemap index: not followed (one level only)"
        return _Found(errors=[ArticleError(url, reason)], read=0)
    chosen = most_recent(children, MAX_CHILD_SITEMAPS)
    found = [_Found(), *await asyncio.gather(*(discover_sitemap(reader, c, True) for c in chosen))]
    return _Found.join(found)


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


METHOD: Method = Method(discover_sitemap, kind="sitemap", unit="URLs")

"""Section pages: the <a href> links of the page itself (one level, no crawling), resolved
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
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from archiver.discover.base import Candidate, Method, Reader, _clean, _Found, _is_http, _join
from archiver.errors import ArticleError
from archiver.fetch.charset import decode_html
from archiver.fetch.client import HTML_TYPES

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


async def discover_page(reader: Reader, url: str) -> _Found:
    """The article links of one section page, or the error that it cannot be fetched."""
    try:
        response = await reader.get(url, HTML_TYPES)
        text = decode_html(response.body, response.charset, url)
    except ArticleError as err:
        return _Found(errors=[err], read=0)
    return section_links(text, response.final_url, url, reader.guess)


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


METHOD: Method = Method(discover_page, kind="page", unit="article links")

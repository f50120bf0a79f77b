"""What every discovery method shares: the candidates it finds, the reader that fetches a
source's documents, the entry each method module gives the registry (Method), and small
helpers for the URLs and text of documents from the internet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from archiver.errors import ArticleError
from archiver.fetch.client import Fetcher, Response


@dataclass(frozen=True)
class Candidate:
    """An article URL (canonical) and where it was first found."""

    url: str
    found_in: str  # the feed, sitemap or page that listed it
    title: str | None = None
    published: datetime | None = None  # timezone-aware, UTC


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
class Reader:
    """Fetches a source's documents with its user agent and delay, for every method."""

    fetcher: Fetcher
    agent: str | None
    min_delay: float | None
    guess: bool  # section pages: the article heuristic stands in for include patterns

    async def get(self, url: str, accept: tuple[str, ...]) -> Response:
        return await self.fetcher.fetch(
            url, agent=self.agent, min_delay=self.min_delay, accept=accept
        )


@dataclass(frozen=True)
class Method:
    """One way of finding a source's articles, as the registry (discover.METHODS) lists it:
    `read` gives what one of the source's URLs lists, every failure caught as an error of
    that URL; `kind` names one such URL and `unit` what it lists, in `source add`'s report."""

    read: Callable[[Reader, str], Awaitable[_Found]]
    kind: str  # "feed"
    unit: str  # "items"


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

"""What capture speaks in: the articles to check, what their checks found (the message
from the checking side to the one writer, plain data that survives JSON), the outcomes,
and the observer a run reports to."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from archiver import errors
from archiver.capture.worker import Comparison, Extracted
from archiver.errors import ArticleError
from archiver.extract.page import Page
from archiver.fetch.client import Exchange, Response
from archiver.store.document import Document
from archiver.store.state import ArticleState

GONE_STATUSES = (404, 410)
KEPT_HEADERS = ("etag", "last-modified")  # what the writer needs of a response's headers


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    RETURNED = "returned"
    REFORMATTED = "reformatted"
    GONE = "gone"  # answers 404/410 (or leads home), not yet for long enough to be removed
    SKIPPED = "skipped"  # robots.txt disallows it: policy, not a failure
    FAILED = "failed"


@dataclass(frozen=True)
class Target:
    """An article to check: a URL, its source, and what the store knows of it."""

    url: str
    source: str
    state: ArticleState | None = None


@dataclass(frozen=True)
class Result:
    url: str
    source: str
    outcome: Outcome
    reason: str = ""
    version: int = 0
    repeated: bool = False  # skipped for the very reason already reported for this URL


@dataclass(frozen=True)
class SourceRun:
    """What discovery made of one source's feeds, sitemaps and pages in a run."""

    read: int = 0  # documents fetched and read
    errors: tuple[ArticleError, ...] = ()


@dataclass
class RunReport:
    results: list[Result] = field(default_factory=list)
    discovered: int = 0
    source_errors: list[ArticleError] = field(default_factory=list)
    sources: dict[str, SourceRun] = field(default_factory=dict)  # when discovery ran
    refetched: int = 0  # reformat: articles with no capture of their version, fetched again

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def failed(self) -> int:
        """Articles and source documents that failed."""
        return len(self.failures) + len(self.source_errors)

    @property
    def worked(self) -> int:
        """Source documents read and articles checked without failing (skips are neither):
        none, while something failed, means everything tried failed."""
        read = sum(run.read for run in self.sources.values())
        return read + sum(r.outcome not in (Outcome.FAILED, Outcome.SKIPPED) for r in self.results)

    @property
    def checked(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]


@dataclass(frozen=True)
class Published:
    """A commit now on the branch: the article, its version, and what the commit records."""

    url: str
    version: int
    commit: str
    outcome: Outcome


class Observer:
    """What a run tells as it goes (the CLI draws a progress bar from it). Every method
    does nothing here: an observer overrides the events it wants."""

    def planned(self, articles: int) -> None:
        """How many articles the run will check (known after discovery)."""

    def checked(self, result: Result) -> None:
        """One article is done (its commit, if any, may not be published yet)."""

    def published(self, changes: list[Published]) -> None:
        """Commits just published: on the branch, and the state recorded up to them."""


# The message from the checks to the writer ------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """What the writer needs of a response: no body (that went to extraction)."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # KEPT_HEADERS only
    redirected: bool = False
    # Read from the capture a version was made from, not fetched: that very page.
    from_capture: bool = False

    @classmethod
    def of(cls, response: Response) -> Fetched:
        kept = {k: v for k in KEPT_HEADERS if (v := response.headers.get(k)) is not None}
        return cls(response.url, response.final_url, response.status, kept, response.redirected)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Failure:
    """A check that did not work, as data: the error's kind (its class in
    archiver.errors), the URL, the reason and, for an HTTP error, the status."""

    kind: str
    url: str
    reason: str
    status: int | None = None

    @classmethod
    def of(cls, error: ArticleError) -> Failure:
        return cls(type(error).__name__, error.url, error.reason, getattr(error, "status", None))

    @property
    def disallowed(self) -> bool:
        return self.kind == errors.Disallowed.__name__

    def error(self) -> ArticleError:
        """The exception it was made from."""
        kind: Any = getattr(errors, self.kind, ArticleError)  # one of errors' classes
        if self.status is not None and issubclass(kind, errors.HTTPStatusError):
            return kind(self.url, self.status, self.reason)
        return kind(self.url, self.reason)


@dataclass(frozen=True)
class Checked:
    """What one article's check found, before anything is written: what was fetched, and
    the extracted page or the failure, and (with captures on) the exchanges of the fetch
    as received, for the writer to keep. Plain data: to_json/from_json round-trip it."""

    target: Target
    fetched: Fetched | None = None
    extracted: Extracted | None = None
    failure: Failure | None = None
    url: str = ""  # the canonical URL to record the article under
    fetch_seconds: float = 0.0
    extract_seconds: float = 0.0
    exchanges: tuple[Exchange, ...] = ()  # every hop of the fetch, the page's answer last
    fetched_at: datetime | None = None  # when the fetch began, by the run's clock

    @property
    def page(self) -> Page | None:
        return self.extracted.page if self.extracted else None

    @property
    def gone(self) -> bool:
        """The page answers as a removed article does: 404/410, or a home-page redirect."""
        if self.failure is not None:
            return self.failure.status in GONE_STATUSES
        fetched = self.fetched
        return bool(fetched and fetched.redirected and is_home(fetched.final_url))

    def to_json(self) -> str:
        # Keys in their order, not sorted: a change's trailers are committed in that order.
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Checked:
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        target = self.target
        extracted = self.extracted
        return {
            "target": {
                "url": target.url,
                "source": target.source,
                "state": _state_to_dict(target.state) if target.state else None,
            },
            "fetched": asdict(self.fetched) if self.fetched else None,
            "extracted": _extracted_to_dict(extracted) if extracted else None,
            "failure": asdict(self.failure) if self.failure else None,
            "url": self.url,
            "fetch_seconds": self.fetch_seconds,
            "extract_seconds": self.extract_seconds,
            "exchanges": [_exchange_to_dict(e) for e in self.exchanges],
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checked:
        target, fetched, extracted, failure = (
            data["target"],
            data["fetched"],
            data["extracted"],
            data["failure"],
        )
        state = _state_from_dict(target["state"]) if target["state"] else None
        return cls(
            Target(target["url"], target["source"], state),
            Fetched(**fetched) if fetched else None,
            _extracted_from_dict(extracted) if extracted else None,
            Failure(**failure) if failure else None,
            data["url"],
            data["fetch_seconds"],
            data["extract_seconds"],
            tuple(_exchange_from_dict(e) for e in data.get("exchanges", ())),
            datetime.fromisoformat(data["fetched_at"]) if data.get("fetched_at") else None,
        )


def is_home(url: str) -> bool:
    return urlsplit(url).path in ("", "/")


_DATES = {f.name for f in fields(ArticleState) if "datetime" in str(f.type)}


def _state_to_dict(state: ArticleState) -> dict[str, Any]:
    data = asdict(state)
    for name in _DATES:
        data[name] = data[name].isoformat() if data[name] is not None else None
    data["signals"] = sorted(state.signals)
    data["blobs"] = list(state.blobs)
    return data


def _state_from_dict(data: dict[str, Any]) -> ArticleState:
    data = dict(data)
    for name in _DATES:
        data[name] = datetime.fromisoformat(data[name]) if data[name] is not None else None
    data["signals"] = frozenset(data["signals"])
    data["blobs"] = tuple(data["blobs"])
    return ArticleState(**data)


def _extracted_to_dict(extracted: Extracted) -> dict[str, Any]:
    page, comparison = extracted.page, extracted.comparison
    document = asdict(page.document)
    document["authors"] = list(page.document.authors)
    return {
        "page": {
            "document": document,
            "canonical": page.canonical,
            "signals": sorted(page.signals),
            "updated": page.updated,
        },
        "text": extracted.text,
        "comparison": asdict(comparison) if comparison else None,
        "dropped": list(extracted.dropped),
    }


def _extracted_from_dict(data: dict[str, Any]) -> Extracted:
    page, comparison = data["page"], data["comparison"]
    document = Document(**{**page["document"], "authors": tuple(page["document"]["authors"])})
    return Extracted(
        Page(document, page["canonical"], frozenset(page["signals"]), page["updated"]),
        data["text"],
        Comparison(**comparison) if comparison else None,
        tuple(data["dropped"]),
    )


def _exchange_to_dict(exchange: Exchange) -> dict[str, Any]:
    data = asdict(exchange)
    data["request"] = [list(h) for h in exchange.request]
    data["headers"] = [list(h) for h in exchange.headers]
    data["body"] = base64.b64encode(exchange.body).decode("ascii")
    return data


def _exchange_from_dict(data: dict[str, Any]) -> Exchange:
    return Exchange(
        url=data["url"],
        request=tuple((name, value) for name, value in data["request"]),
        status=data["status"],
        reason=data["reason"],
        headers=tuple((name, value) for name, value in data["headers"]),
        body=base64.b64decode(data["body"]),
        version=data["version"],
    )

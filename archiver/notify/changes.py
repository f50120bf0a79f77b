"""What a notification tells: the changes git history records, read from the commits
themselves (their trailers and the article files they wrote), which tables want them, and
the messages that say them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from archiver.config import NotifyConfig
from archiver.errors import ArchiverError
from archiver.store import format as trailer
from archiver.store.document import parse_document
from archiver.store.history import BlobReader, CommitRecord, iter_commits
from archiver.store.repository import Repo

TITLE_MAX = 250  # characters of a headline in a message; a hostile page's may be huge
DIGEST_MAX = 50  # changes in one digest; more make several


@dataclass(frozen=True)
class Change:
    """One commit worth telling, as plain data (kept as JSON in the outbox)."""

    commit: str
    source: str
    url: str
    version: int
    kinds: tuple[str, ...]  # of config.NOTIFY_ON
    title: str
    old_title: str  # the headline before, when this change made a new one
    summary: str  # what changed, in one line
    chars: int  # characters added and removed
    page: str  # its page on the site, from the site's root

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(**{**data, "kinds": tuple(data["kinds"])})

    def link(self, base_url: str) -> str:
        """The page's address: absolute with the site's base_url, else from the site's root."""
        return f"{base_url.rstrip('/')}/{self.page}" if base_url else self.page


def kinds_of(trailers: dict[str, str]) -> tuple[str, ...]:
    """What a commit is, in the words of [[notify]] `on`: none for a new article, a
    reformat or a commit that is not an article's."""
    event = trailers.get(trailer.EVENT)
    if event == trailer.EVENT_REMOVED:
        return ("removal",)
    if event == trailer.EVENT_RETURNED:
        return ("return",)
    recorded = None if event else trailer.read_change(trailers)
    if recorded is None:
        return ()
    stats, minor = recorded
    if minor:
        return ("minor",)
    kinds = ["headline"] if stats.title_changed else []
    kinds.append("edit")
    if trailer.REVERT_OF in trailers:
        kinds.append("revert")
    return tuple(kinds)


def wanted(table: NotifyConfig, change: Change) -> bool:
    """Whether a [[notify]] table asks to hear of this change. Minor edits only when `on`
    names them; min_chars_changed holds back edits told for being edits alone, never a new
    headline, a revert, a removal or a return."""
    if table.sources and change.source not in table.sources:
        return False
    if "minor" in change.kinds:
        return "minor" in table.on
    reasons = set(change.kinds) & set(table.on)
    if reasons == {"edit"}:
        return change.chars >= table.min_chars_changed
    return bool(reasons)


def read_changes(repo: Repo, since: str | None, not_before: datetime | None = None) -> list[Change]:
    """The changes worth telling among the commits after `since` (all of history when
    None), oldest first; with `not_before`, only those committed since then."""
    records = [
        (c, kinds)
        for c in iter_commits(repo, since)
        if (not_before is None or c.when >= not_before) and (kinds := kinds_of(c.trailers))
    ]
    if not records:
        return []
    with BlobReader(repo.git_dir) as blobs:
        titles = _titles(blobs, records)
    return [change for record, kinds in records if (change := _change(record, kinds, titles))]


def _titles(
    blobs: BlobReader, records: list[tuple[CommitRecord, tuple[str, ...]]]
) -> dict[str, str]:
    """The headline in each article file the changes wrote or replaced, by blob."""
    wanted_blobs: set[str] = set()
    for record, _ in records:
        file = record.article_change()
        if file is not None:
            wanted_blobs.update(b for b in (file.old_blob, file.new_blob) if b)
    titles = {}
    for sha, data in blobs.read_many(sorted(wanted_blobs)).items():
        try:
            titles[sha] = parse_document(data.decode("utf-8", "replace"), sha).title
        except ArchiverError:
            titles[sha] = ""
    return titles


def _change(record: CommitRecord, kinds: tuple[str, ...], titles: dict[str, str]) -> Change | None:
    file = record.article_change()
    version, url = record.version, record.url
    folder = trailer.pages_folder(file.path) if file else None
    if file is None or folder is None or version is None or url is None:
        return None
    new = titles.get(file.new_blob or "", "")
    old = titles.get(file.old_blob or "", "")
    title = new or old or url  # a removal deleted the file: its last headline is the old one
    trailers = record.trailers
    stats = trailer.read_change(trailers)
    summary = stats[0].summary() if stats else ""
    if "removal" in kinds:
        summary = f"removed from the site (HTTP {trailers.get(trailer.STATUS, '?')})"
    elif "return" in kinds:
        summary = "back on the site" + (f"; {summary}" if summary else "")
    elif "revert" in kinds:
        summary = f"back to the text of version {trailers[trailer.REVERT_OF]}; {summary}"
    page = (
        trailer.version_page(folder, version)
        if version > 1 and "removal" not in kinds
        else trailer.article_page(folder)
    )
    counts = (stats[0].chars_added + stats[0].chars_removed) if stats else 0
    return Change(
        commit=record.sha,
        source=trailers.get(trailer.SOURCE, ""),
        url=url,
        version=version,
        kinds=kinds,
        title=_clip(title),
        old_title=_clip(old) if "headline" in kinds and old != new else "",
        summary=summary,
        chars=counts,
        page=page,
    )


def _clip(text: str) -> str:
    text = " ".join(text.split())  # a headline is one line, whatever the page put in it
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1].rstrip() + "…"


# --- messages ------------------------------------------------------------------------------


def _what(change: Change) -> str:
    if "removal" in change.kinds:
        return "removed"
    if "return" in change.kinds:
        return "back"
    if "revert" in change.kinds:
        return "reverted"
    if "headline" in change.kinds:
        return "new headline"
    return "minor edit" if "minor" in change.kinds else "edited"


def _page_label(change: Change) -> str:
    return "Article page" if change.page.endswith("/index.html") else "Version page"


def headline_line(change: Change) -> str:
    if change.old_title:
        return f"{change.old_title} → {change.title}"
    return change.title


def message(change: Change, base_url: str) -> tuple[str, str]:
    """One change as a message's title and plain-text body."""
    title = f"{change.source}: {change.title}"
    body = "\n".join(
        (
            f"{change.source} · {_what(change)} · version {change.version}",
            f"Headline: {headline_line(change)}",
            f"Changed: {change.summary}",
            f"{_page_label(change)}: {change.link(base_url)}",
            f"Article: {change.url}",
        )
    )
    return title, body


def digest(changes: list[Change], base_url: str, site: str) -> tuple[str, str]:
    """Many changes to one target in one run, as one message."""
    count = len(changes)
    title = f"{site}: {count} change{'s' * (count != 1)}"
    blocks = [
        f"{c.source} · {_what(c)} · version {c.version}\n"
        f"{headline_line(c)}\n{c.summary}\n{c.link(base_url)}"
        for c in changes
    ]
    return title, "\n\n".join(blocks)


def in_digests(changes: Iterable[Change]) -> Iterator[list[Change]]:
    batch: list[Change] = []
    for change in changes:
        batch.append(change)
        if len(batch) == DIGEST_MAX:
            yield batch
            batch = []
    if batch:
        yield batch


SAMPLE = Change(
    commit="0" * 40,
    source="example",
    url="https://example.org/news/harbour-plan",
    version=2,
    kinds=("headline", "edit"),
    title="Ministers soften stance on harbour plan",
    old_title="Ministers back harbour plan",
    summary="headline changed; 1 sentence added; 1 sentence edited; +96/−12 characters",
    chars=108,
    page=trailer.version_page("articles/example/2025/03/01/harbour-plan-0a1b2c3d", 2),
)

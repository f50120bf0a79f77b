"""One article's pages: its page, a page per version, a diff per change, the comparison
page (which holds every version's text) and its feed. The unit of work of a build, run in worker
processes for a full build and in the builder's own process for an incremental one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, overload

from markupsafe import Markup

import archiver.site.html as sitehtml
from archiver.site.atom import (
    FEED_LENGTH,
    Feed,
    change_entry,
    entry_content,
    entry_xml,
    event_content,
    feed_entries,
    feed_id,
    link,
    render_feed,
    row_entry_id,
    updated,
    xml_id,
)
from archiver.site.buildstate import ArticleRow, VersionRow, stats_json
from archiver.site.config import SiteConfig
from archiver.site.model import (
    REMOVED,
    Captured,
    EventRef,
    VersionFacts,
    VersionRef,
    capture_of,
    load_document,
    output_dir,
    summary,
    version_facts,
)
from archiver.site.records import Texts, held_texts
from archiver.site.templates import render
from archiver.site.views import (
    blocks,
    comparison,
    diff_rows,
    language,
    later,
    rewritten,
    web_link,
)
from archiver.store.format import article_page, version_page
from archiver.store.history import BlobReader

ARTICLE_DEPTH = 6
# Where version.html puts its next_change.html include: article text is escaped, so this
# markup appears once on a version page, in its list of links.
_NEXT_CHANGE_BEFORE = '<li><a href="compare.html?a='
# articles/<source>/<yyyy>/<mm>/<dd>/<slug>-<id>/
ROOT = "../" * ARTICLE_DEPTH


@dataclass(frozen=True)
class ArticleJob:
    path: str
    refs: tuple[VersionRef, ...]  # every version, oldest first
    known: tuple[VersionRow, ...]  # rows remembered for the leading versions
    ordinal: int
    removed: int | None
    wanted: frozenset[int] = frozenset()  # versions whose feed entry the builder needs
    events: tuple[EventRef, ...] = ()  # every removal and return, oldest first
    events_known: int = 0  # how many of them the build state holds


@dataclass
class ArticleResult:
    article: ArticleRow
    rows: list[VersionRow]  # the versions that are new to the build state
    events: list[VersionRow] = field(default_factory=list)  # removals and returns, new to it
    entries: dict[tuple[str, int], str] = field(default_factory=dict)
    texts: Texts = field(default_factory=list)  # the new versions' text, for search
    written: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)


Write = Callable[[str, str | bytes], bool]


# An article of at most this many versions has every two compared on a page of their own;
# a longer one, each version with the first and with the latest (28 pages at most, then
# two a version: the site's size stays linear in its versions). Consecutive versions are
# compared on the newer one's page.
ALL_PAIRS_UP_TO = 8


def compared_pairs(versions: int) -> list[tuple[int, int]]:
    """The pairs (older, newer) of versions, not consecutive, with a comparison page."""
    if versions <= ALL_PAIRS_UP_TO:
        return [(a, b) for b in range(3, versions + 1) for a in range(1, b - 1)]
    with_first = [(1, b) for b in range(3, versions + 1)]
    with_latest = [(a, versions) for a in range(2, versions - 1)]
    return sorted({*with_first, *with_latest}, key=lambda pair: (pair[1], pair[0]))


def pair_page(old: int, new: int) -> str:
    """The page comparing two versions: the newer one's own page when they are consecutive."""
    return f"v{new}.html" if new == old + 1 else f"compare-{old}-{new}.html"


def article_files(path: str, versions: int, hidden: bool = False) -> list[str]:
    """Every file the build makes for an article with this many versions (one withheld
    from the site has its notice alone)."""
    folder = output_dir(path)
    assert folder is not None
    if versions == 0:
        return []
    if hidden:
        return [article_page(folder)]
    files = [article_page(folder), f"{folder}/feed.atom"]
    if versions > 1:  # an article's only version is the text on its own page
        files += [version_page(folder, n) for n in range(1, versions + 1)]
        files.append(f"{folder}/compare.html")
        files += [f"{folder}/{pair_page(a, b)}" for a, b in compared_pairs(versions)]
    return files


def no_longer_made(path: str, before: int, now: int) -> set[str]:
    """The files of an article the build made when it had `before` versions and makes no
    more with `now`: comparisons with what was the latest version, once past
    ALL_PAIRS_UP_TO; every page of a version history no longer has."""
    return set(article_files(path, before)) - set(article_files(path, now))


class Versions(Sequence[Captured]):
    """An article's versions as the site shows them, each read from git when first needed."""

    def __init__(
        self, reader: BlobReader, path: str, refs: list[tuple[str, str]], warnings: list[str]
    ) -> None:
        self._reader = reader
        self._path = path
        self._refs = refs  # (blob, stated update date)
        self._warnings = warnings
        self._loaded: dict[int, Captured] = {}

    def __len__(self) -> int:
        return len(self._refs)

    @overload
    def __getitem__(self, index: int) -> Captured: ...

    @overload
    def __getitem__(self, index: slice) -> list[Captured]: ...

    def __getitem__(self, index: int | slice) -> Captured | list[Captured]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        position = range(len(self))[index]  # IndexError past either end
        if position not in self._loaded:
            self.load([position])
        return self._loaded[position]

    def __iter__(self) -> Iterator[Captured]:
        self.load(range(len(self)))
        return (self._loaded[i] for i in range(len(self)))

    def load(self, positions: Iterable[int]) -> None:
        """Read the versions at these positions from git in one batch."""
        wanted = [i for i in positions if i not in self._loaded]
        data = self._reader.read_many(self._refs[i][0] for i in wanted)
        for i in wanted:
            blob, updated = self._refs[i]
            where = f"{self._path}@{blob[:10]}"
            document = load_document(data[blob], where, self._warnings.append)
            self._loaded[i] = Captured(document, updated)


class NextChecks(Protocol):
    """url → the state store's next check for the article ("" for none scheduled)."""

    def get(self, url: str, /) -> str | None: ...


class ArticleRenderer:
    """Renders whole articles; holds its own blob reader, so one per process."""

    def __init__(
        self,
        git_dir: str,
        site: SiteConfig,
        out: Path,
        write: Write,
        next_checks: NextChecks | None,
    ) -> None:
        self.reader = BlobReader(git_dir)
        self.site = site
        self.out = out
        self.write = write
        self.next_checks = next_checks

    def close(self) -> None:
        self.reader.close()

    def next_check(self, url: str) -> str | None:
        """The state store's value for the article, as stored (formatted on the page)."""
        if self.next_checks is None:
            return None
        return self.next_checks.get(url)

    def documents(
        self, path: str, refs: list[tuple[str, str]], warnings: list[str]
    ) -> list[Captured]:
        """The versions (blob, stated update date) as the site shows them."""
        return list(Versions(self.reader, path, refs, warnings))

    def process(self, job: ArticleJob) -> ArticleResult:
        warnings: list[str] = []
        documents = Versions(
            self.reader, job.path, [(r.blob, r.updated) for r in job.refs], warnings
        )
        # An incremental build needs the new versions and the one before them; the older ones
        # only when a page the last build wrote cannot be reused.
        # Comparisons made in advance need their older version too, often the first.
        start = len(job.known)
        paired = {n - 1 for pair in compared_pairs(len(job.refs)) if pair[1] > start for n in pair}
        documents.load(sorted(paired | set(range(max(0, start - 1), len(job.refs)))))
        known = [row.facts() for row in job.known]
        facts = version_facts(
            documents, [r.change for r in job.refs], known, [row.key for row in job.known]
        )
        rows = list(job.known)
        for index in range(len(job.known), len(job.refs)):
            rows.append(_version_row(job, index, facts[index], documents))
        article = self.article_row(job, documents[-1], facts)
        built = self.out if job.known else None  # what the last build wrote, to reuse
        events = event_rows(job, rows)
        pages = _ArticlePages(self.site, article, rows, documents, built, events)
        result = ArticleResult(
            article, rows[len(job.known) :], events[job.events_known :], warnings=warnings
        )
        if article.hidden:
            result.written = self.write(article_page(pages.folder), withheld_page(self.site))
            result.unchanged = 1 - result.written
            return result
        for name, content in pages.all(start=len(job.known)):
            changed = self.write(f"{pages.folder}/{name}", content)
            result.written += changed
            result.unchanged += not changed
        result.entries = pages.entries_for(job.wanted)
        new = range(len(job.known), len(job.refs))
        result.texts = held_texts((i + 1, documents[i].document) for i in new)
        return result

    def article_row(
        self, job: ArticleJob, latest: Captured, facts: list[VersionFacts]
    ) -> ArticleRow:
        return ArticleRow(
            path=job.path,
            source=job.path.split("/")[1],
            ordinal=job.ordinal,
            url=latest.document.url,
            title=latest.document.title,
            first_seen=job.refs[0].when,
            last_changed=job.refs[-1].when,
            versions=len(job.refs),
            changes=sum(1 for f in facts[1:] if not f.minor),
            removed=job.removed,
            next_check=self.next_check(latest.document.url),
            hidden=latest.document.url in self.site.hidden,
        )

    def main_page(
        self, article: ArticleRow, rows: list[VersionRow], events: list[VersionRow]
    ) -> bool:
        """Re-render only an article's own page (its next check moved)."""
        warnings: list[str] = []
        folder = output_dir(article.path)
        if article.hidden:
            return self.write(f"{folder}/index.html", withheld_page(self.site))
        latest = self.documents(article.path, [(rows[-1].blob, rows[-1].updated)], warnings)[-1]
        pages = _ArticlePages(self.site, article, rows, [latest], events=events)
        return self.write(article_page(pages.folder), pages.main())

    def entry(self, row: VersionRow, old_blob: tuple[str, str]) -> str:
        """A feed entry's content for one change, outside a whole-article render."""
        old, new = self.documents(row.path, [old_blob, (row.blob, row.updated)], [])
        return entry_content(diff_rows(old, new), row.summary, row.minor, row.revert_of)


def withheld_page(site: SiteConfig) -> str:
    """What an article withheld from the site shows instead of itself: nothing of it."""
    return render(
        "withheld.html",
        site=site,
        root=ROOT,
        page_title="Withheld article",
        current="",
        feed="",
        feed_title="",
    )


EVENT_SUMMARY = {REMOVED: "removed from its address", "returned": "back at its address"}


def event_rows(job: ArticleJob, rows: Sequence[VersionRow]) -> list[VersionRow]:
    """The article's removals and returns as rows of the version shown at the time."""
    found = []
    for event in job.events:
        then = [row for row in rows if row.seq <= event.seq] or rows[:1]
        shown = then[-1]
        found.append(
            VersionRow(
                path=job.path,
                number=shown.number,
                seq=event.seq,
                sha=event.sha,
                time=event.when,
                blob=shown.blob,
                updated=shown.updated,
                source=shown.source,
                title=shown.title,
                old_title="",
                key=shown.key,
                stats=None,
                summary=EVENT_SUMMARY.get(event.kind, event.kind),
                minor=False,
                revert_of=None,
                headline=False,
                event=event.kind,
            )
        )
    return found


def in_order(rows: Iterable[VersionRow]) -> list[VersionRow]:
    """Versions, removals and returns as lists of changes order them (seq, path, event)."""
    return sorted(rows, key=lambda row: (row.seq, row.event))


def _version_row(
    job: ArticleJob, index: int, facts: VersionFacts, documents: Sequence[Captured]
) -> VersionRow:
    ref = job.refs[index]
    stats = facts.stats
    headline = bool(stats and stats.title_changed)
    return VersionRow(
        path=job.path,
        number=index + 1,
        seq=ref.seq,
        sha=ref.sha,
        time=ref.when,
        blob=ref.blob,
        updated=ref.updated,
        source=job.path.split("/")[1],
        title=facts.title,
        old_title=documents[index - 1].document.title if headline else "",
        key=facts.key,
        stats=stats_json(stats),
        summary=summary(facts),
        minor=facts.minor,
        revert_of=facts.revert_of,
        headline=headline,
        capture=ref.capture,
        fetched=ref.fetched,
        origin=ref.origin,
    )


class _ArticlePages:
    """The pages of one article, rendered from its rows and documents."""

    def __init__(
        self,
        site: SiteConfig,
        article: ArticleRow,
        rows: list[VersionRow],
        documents: Sequence[Captured],
        built: Path | None = None,
        events: Sequence[VersionRow] = (),
    ) -> None:
        self.site = site
        self.article = article
        self.rows = rows
        self.events = events
        self.documents = documents
        self.latest = documents[-1]
        folder = output_dir(article.path)
        assert folder is not None
        self.folder = folder
        self.built = built
        self._diffs: dict[int, Any] = {}
        self._texts: dict[int, Markup] = {}
        self._entries: dict[int, str] = {}

    def common(self, page_title: str) -> dict[str, Any]:
        return {
            "site": self.site,
            "root": ROOT,
            "page_title": page_title,
            "current": "",
            "feed": "feed.atom",
            # Not the headline: the pages of older versions are not rewritten when it changes.
            "feed_title": "Changes to this article",
            "article": self.article,
        }

    def all(self, start: int) -> list[tuple[str, str]]:
        """Pages that can differ once versions after `start` exist: older version and diff
        pages never change, except the last one's link to its successor."""
        count = len(self.rows)
        pages = [("index.html", self.main()), ("feed.atom", self.feed())]
        if count == 1:
            return pages  # its only version is the text on its own page
        pages.append(("compare.html", self.compare()))
        for number in range(max(1, start), count + 1):
            page = self.relinked(number) if number == start else None
            pages.append((f"v{number}.html", page or self.version(number)))
        # A pair's page never changes: those of the versions before `start` were written.
        for old, new in compared_pairs(count):
            if new > start:
                pages.append((pair_page(old, new), self.pair(old, new)))
        return pages

    def relinked(self, number: int) -> str | None:
        """The page of what was the latest version, as the last build wrote it, given its
        link to the version after: the only thing a new version changes on it (the first
        version's page, which also gains a comparison link, is cheap to render again)."""
        if number >= len(self.rows) or number == 1:
            return None
        html = self.built_page(f"v{number}.html")
        if html is None or html.count(_NEXT_CHANGE_BEFORE) != 1 or 'rel="next"' in html:
            return None
        link = render("next_change.html", new=self.rows[number - 1])
        return html.replace(_NEXT_CHANGE_BEFORE, link + _NEXT_CHANGE_BEFORE)

    def main(self) -> str:
        article = self.article
        return render(
            "article.html",
            **self.common(article.title or "Untitled article"),
            url_link=web_link(article.url),
            versions=list(reversed(in_order([*self.rows, *self.events]))),
            address=sitehtml.address_history(in_order(self.events)),
            minor=sum(1 for r in self.rows[1:] if r.minor),
            captured=sum(1 for r in self.rows if capture_of(r.capture)),
            text=self.text(len(self.documents) - 1),
            byline=self.latest.document.byline,
        )

    def version(self, number: int) -> str:
        """A version's page: for every version after the first, what changed since the one
        before (its table reads as the new text too); for the first, its text."""
        row = self.rows[number - 1]
        document = self.documents[number - 1].document
        changes: dict[str, Any] = {"old": None}
        if number > 1:
            old = self.rows[number - 2]
            changes = {
                "old": old,
                "later": later(row.time - old.time),
                "diff_table": sitehtml.diff_table(self.diff_rows(number)),
                "rewritten": rewritten(self.diff_rows(number)),
            }
        return render(
            "version.html",
            **self.common(f"Version {number}: {row.title or 'Untitled'}"),
            **changes,
            row=row,
            document=document,
            updated=row.updated,
            url_link=web_link(document.url),
            capture=capture_of(row.capture),
            raw_capture=self.raw_capture(row, document.url),
            has_next=number < len(self.rows),
            text=self.text(0) if number == 1 else None,
        )

    def raw_capture(self, row: VersionRow, url: str) -> str:
        """The capture on the replay server, as served (`id_`), when the site names one."""
        if not self.site.replay_url or not row.capture or not web_link(url):
            return ""
        digits = "".join(c for c in row.fetched if c.isdigit())[:14]
        stamp = (
            digits if len(digits) == 14 else time.strftime("%Y%m%d%H%M%S", time.gmtime(row.time))
        )
        return f"{self.site.replay_url}/{stamp}id_/{url}"

    def text(self, index: int) -> Markup:
        """A version's text as markup (the latest one shows on two pages)."""
        if index not in self._texts:
            document = self.documents[index].document
            self._texts[index] = sitehtml.body(blocks(document.body), language(document))
        return self._texts[index]

    def diff_rows(self, number: int) -> Any:
        if number not in self._diffs:
            self._diffs[number] = diff_rows(self.documents[number - 2], self.documents[number - 1])
        return self._diffs[number]

    def built_page(self, name: str) -> str | None:
        """One of the article's pages as the last build wrote it, if there is one."""
        if self.built is None:
            return None
        try:
            return (self.built / self.folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def compare(self) -> str:
        """The page to pick two versions on: links to every comparison made in advance,
        newest first, and the same list for its script."""
        count = len(self.rows)
        against: dict[int, list[int]] = {b: [b - 1] for b in range(2, count + 1)}
        for a, b in compared_pairs(count):
            against[b].append(a)
        pairs = [
            (self.rows[b - 1], [(a, pair_page(a, b)) for a in sorted(against[b])])
            for b in range(count, 1, -1)
        ]
        pages = {f"{a}-{b}": pair_page(a, b) for b, olds in against.items() for a in olds}
        return render(
            "compare.html",
            **self.common(f"Compare versions: {self.article.title or 'Untitled'}"),
            versions=self.rows,
            pairs=pairs,
            pages={"versions": count, "pages": pages},
            all_pairs=count <= ALL_PAIRS_UP_TO,
        )

    def pair(self, old: int, new: int) -> str:
        """Two versions that are not consecutive, compared as a version page compares its
        own with the one before."""
        old_row, new_row = self.rows[old - 1], self.rows[new - 1]
        shown = comparison(self.documents[old - 1], self.documents[new - 1])
        return render(
            "pair.html",
            **self.common(f"Versions {old} and {new}: {new_row.title or 'Untitled'}"),
            old=old_row,
            row=new_row,
            later=later(new_row.time - old_row.time),
            diff_table=sitehtml.diff_table(shown.rows),
            summary=shown.summary,
            minor=shown.minor,
            rewritten=shown.rewritten,
        )

    def written_entries(self) -> dict[str, str]:
        """The entries of the feed the last build wrote, to be taken as they are: rendering
        them again would give the same, and an incremental build should not redo a diff
        per change of every article it touches."""
        feed = self.built_page("feed.atom")
        return feed_entries(feed) if feed is not None else {}

    def entry_html(self, number: int) -> str:
        if number not in self._entries:
            row = self.rows[number - 1]
            self._entries[number] = entry_content(
                self.diff_rows(number), row.summary, row.minor, row.revert_of
            )
        return self._entries[number]

    def feed(self) -> str:
        edits = [row for row in self.rows[1:] if not row.minor]
        changes = in_order([*edits, *self.events])[-FEED_LENGTH:]
        base = self.site.base_url
        written = self.written_entries()
        entries = [
            written.get(xml_id(row_entry_id(row, self.folder))) or self.entry(row)
            for row in reversed(changes)
        ]
        feed = Feed(
            id=feed_id("article", self.folder.rsplit("-", 1)[-1]),
            title=f"{self.site.title}: changes to “{self.article.title or 'Untitled'}”",
            updated=updated([r.time for r in changes], self.rows[0].time),
            author=self.site.title,
            self_href=link(base, self.folder, f"{self.folder}/feed.atom"),
            alternate=link(base, self.folder, article_page(self.folder)),
            entries=entries,
        )
        return render_feed(feed)

    def entry(self, row: VersionRow) -> str:
        if row.event:
            href = link(self.site.base_url, self.folder, article_page(self.folder))
            return entry_xml(change_entry(row, self.folder, href, event_content(row)))
        href = link(self.site.base_url, self.folder, version_page(self.folder, row.number))
        return entry_xml(change_entry(row, self.folder, href, self.entry_html(row.number)))

    def entries_for(self, wanted: frozenset[int]) -> dict[tuple[str, int], str]:
        """Feed entry contents the builder asked for (changes in its site-wide feeds)."""
        return {
            (self.article.path, n): self.entry_html(n)
            for n in sorted(wanted)
            if 2 <= n <= len(self.rows) and not self.rows[n - 1].minor
        }

"""The site's indexes and site-wide feeds, rendered from the build state alone.

Lists are cut into pages counted from the oldest item, so a page, once full, never changes:
an incremental build rewrites only the newest pages of a list (and, for article lists, the
pages holding articles that changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from archiver.site.atom import (
    FEED_LENGTH,
    Feed,
    change_entry,
    entry_xml,
    feed_id,
    link,
    render_feed,
    updated,
)
from archiver.site.buildstate import BuildState, Listed, VersionRow
from archiver.site.config import SiteConfig
from archiver.site.lookup import lookup_files
from archiver.site.model import output_dir
from archiver.site.templates import render
from archiver.site.views import PAGE_SIZE, ArticleItem, ChangeItem, Pager, plural
from archiver.store.format import article_page, version_page
from archiver.store.state import SourceHealthLine

MOST_CHANGED = 100
HOME_CHANGES = 10

Write = Callable[[str, str | bytes], bool]
EntryFor = Callable[[VersionRow], str]


def chunks(count: int) -> int:
    return (count + PAGE_SIZE - 1) // PAGE_SIZE


def change_item(row: VersionRow) -> ChangeItem:
    return ChangeItem(
        dir=_folder(row.path),
        source=row.source,
        number=row.number,
        time=row.time,
        title=row.title,
        summary=row.summary,
        minor=row.minor,
        revert_of=row.revert_of,
        old_title=row.old_title,
        event=row.event,
    )


def article_items(rows: Iterable[Listed]) -> list[ArticleItem]:
    return [ArticleItem(_folder(row[0]), *row[1:]) for row in rows]


def _folder(path: str) -> str:
    """An article's output folder (the build state holds only paths that have one)."""
    folder = output_dir(path)
    assert folder is not None
    return folder


@dataclass(frozen=True)
class ChangeList:
    """A list of changes: all, headline changes, or one source's."""

    folder: str  # where its pages live, from the site root
    heading: str
    intro: str
    source: str | None = None
    headlines: bool = False
    front: str = "index.html"  # the page with the latest changes
    page_prefix: str = "page-"

    def page(self, number: int) -> str:
        return f"{self.page_prefix}{number}.html"

    def lists(self, row: VersionRow) -> bool:
        """Whether this list shows the version (as BuildState's change filter selects)."""
        shown = row.headline if self.headlines else row.number > 1 or bool(row.event)
        return shown and (self.source is None or row.source == self.source)

    def files(self, count: int) -> list[str]:
        names = [self.front] + [self.page(k) for k in range(1, chunks(count) + 1)]
        return [f"{self.folder}/{name}" for name in names]


@dataclass
class Dirty:
    """What an incremental build must re-render: None everywhere means everything."""

    counts: dict[str, int] = field(default_factory=dict)  # list counts at the last build
    sources: set[str] = field(default_factory=set)  # sources with changed articles
    article_pages: dict[str, set[int]] = field(default_factory=dict)  # source → list pages
    article_pages_done: set[tuple[str, int]] = field(default_factory=set)  # written already
    new_rows: list[VersionRow] = field(default_factory=list)  # versions new to the build
    everything: bool = False


def most_changed_intro(shown: int) -> str:
    """What the most-changed list holds, as many as it shows: all of the changed articles
    until there are more than it lists."""
    minor = "not counting minor ones (punctuation, spacing or letter case only)"
    if shown >= MOST_CHANGED:
        return f"The {shown} articles with the most changes, {minor}."
    if shown == 0:
        return f"No article has changed yet. Articles are ranked here by their changes, {minor}."
    counted = plural(shown, "article")
    return f"Every article that has changed ({counted}), most changes first, {minor}."


class IndexRenderer:
    def __init__(
        self,
        state: BuildState,
        site: SiteConfig,
        write: Write,
        health: Mapping[str, SourceHealthLine] | None = None,
    ) -> None:
        self.state = state
        self.site = site
        self.write = write
        self.health = health  # the state store's, when it has one

    def common(self, folder: str, title: str, current: str = "") -> dict[str, Any]:
        depth = folder.count("/") + 1 if folder else 0
        return {
            "site": self.site,
            "root": "../" * depth,
            "page_title": title,
            "current": current,
            "feed": "../" * depth + "feed.atom",
            "feed_title": f"{self.site.title}: all changes",
        }

    # -- lists of changes

    def lists(self) -> list[ChangeList]:
        found = [
            ChangeList("changes", "Recent changes", "Every change recorded, newest first."),
            ChangeList(
                "headlines",
                "Headline changes",
                "Changes that rewrote an article's headline, newest first.",
                headlines=True,
            ),
        ]
        for source in self.state.sources():
            found.append(
                ChangeList(
                    f"sources/{source}",
                    f"Changes in {source}",
                    f"Every change recorded in articles from {source}, newest first.",
                    source=source,
                    page_prefix="changes-",
                )
            )
        return found

    def list_counts(self, dirty: Dirty | None = None) -> dict[str, int]:
        """How many changes each list holds: counted in the build state, or after an
        incremental build the last build's counts plus its new versions (counting grows
        with the archive: 25 ms a list at 300,000 versions)."""
        counts = {}
        for lst in self.lists():
            if dirty is not None and not dirty.everything and lst.folder in dirty.counts:
                added = sum(1 for row in dirty.new_rows if lst.lists(row))
                counts[lst.folder] = dirty.counts[lst.folder] + added
            else:
                counts[lst.folder] = self.state.change_count(lst.source, lst.headlines)
        return counts

    def render_lists(self, dirty: Dirty) -> dict[str, int]:
        counts = self.list_counts(dirty)
        for lst in self.lists():
            count = counts[lst.folder]
            before = dirty.counts.get(lst.folder, 0)
            if dirty.everything or count != before or lst.source in dirty.sources:
                self.change_list(lst, count, 1 if dirty.everything else max(1, chunks(before)))
            elif lst.source is not None:
                self.list_front(lst, count)  # its health line may have changed
        return counts

    def change_list(self, lst: ChangeList, count: int, first_page: int) -> None:
        total = chunks(count)
        self.list_front(lst, count)
        offset = (first_page - 1) * PAGE_SIZE
        stream = self.state.changes(offset, lst.source, lst.headlines, total=count)
        for number in range(first_page, total + 1):
            rows = list(islice(stream, PAGE_SIZE))
            pager = Pager(
                newer=lst.page(number + 1) if number < total else lst.front,
                older=lst.page(number - 1) if number > 1 else "",
                latest=lst.front,
            )
            self.write(
                f"{lst.folder}/{lst.page(number)}",
                render(
                    "changes.html",
                    **self.common(lst.folder, f"{lst.heading}, page {number}")
                    | self.list_feed(lst),
                    heading=f"{lst.heading}, page {number}",
                    intro=lst.intro,
                    items=[change_item(r) for r in reversed(rows)],
                    headlines=lst.headlines,
                    pager=pager,
                ),
            )

    def list_front(self, lst: ChangeList, count: int) -> None:
        """The list's page of its latest changes (a source's page, for a source)."""
        latest = [
            change_item(r) for r in self.state.last_changes(PAGE_SIZE, lst.source, lst.headlines)
        ]
        older = lst.page(chunks(count - PAGE_SIZE)) if count > PAGE_SIZE else ""
        if lst.source is None:
            self.write(
                f"{lst.folder}/{lst.front}",
                render(
                    "changes.html",
                    **self.common(lst.folder, lst.heading, lst.folder) | self.list_feed(lst),
                    heading=lst.heading,
                    intro=lst.intro,
                    items=latest,
                    headlines=lst.headlines,
                    pager=Pager(older=older),
                ),
            )
        else:
            self.source_front(lst.source, count, latest, older)

    def list_feed(self, lst: ChangeList) -> dict[str, str]:
        """The feed a list of changes points at: the headline feed beside its own list."""
        if lst.headlines:
            return {"feed": "feed.atom", "feed_title": f"{self.site.title}: headline changes"}
        return {}

    def source_front(self, source: str, count: int, latest: list[ChangeItem], older: str) -> None:
        folder = f"sources/{source}"
        articles = self.state.article_counts().get(source, 0)
        self.write(
            f"{folder}/index.html",
            render(
                "source.html",
                **{
                    **self.common(folder, source),
                    "feed": "feed.atom",
                    "feed_title": f"{self.site.title}: changes in {source}",
                },
                source=source,
                articles=articles,
                changes=count,
                items=latest,
                articles_page=f"articles-{max(1, chunks(articles))}.html",
                pager=Pager(older=older),
                health=self.health.get(source) if self.health is not None else None,
            ),
        )

    # -- lists of articles

    def article_lists(self, dirty: Dirty) -> None:
        for source, count in sorted(self.state.article_counts().items()):
            total = chunks(count)
            if dirty.everything:
                pages: Iterable[int] = range(1, total + 1)
            else:
                before = chunks(dirty.counts.get(f"articles:{source}", 0))
                pages = sorted(
                    set(dirty.article_pages.get(source, ())) | set(range(max(1, before), total + 1))
                )
            for number in pages:
                if (source, number) not in dirty.article_pages_done:
                    self.article_page(source, number, total)

    def article_page(self, source: str, number: int, total: int) -> None:
        folder = f"sources/{source}"
        rows = self.state.source_articles(source, (number - 1) * PAGE_SIZE, PAGE_SIZE)
        pager = Pager(
            newer=f"articles-{number + 1}.html" if number < total else "",
            older=f"articles-{number - 1}.html" if number > 1 else "",
            latest=f"articles-{total}.html",
        )
        self.write(
            f"{folder}/articles-{number}.html",
            render(
                "articles.html",
                **self.common(folder, f"Articles from {source}, page {number}"),
                heading=f"Articles from {source}, page {number}",
                intro=f"Articles from {source} in the order they were first seen, newest first.",
                items=article_items(reversed(rows)),
                ranked=False,
                pager=pager,
            ),
        )

    def article_counts(self) -> dict[str, int]:
        return {f"articles:{s}": n for s, n in self.state.article_counts().items()}

    # -- single pages

    def most_changed(self) -> None:
        rows = self.state.most_changed(MOST_CHANGED)
        self.write(
            "most-changed/index.html",
            render(
                "articles.html",
                **self.common("most-changed", "Most changed articles", "most-changed"),
                heading="Most changed articles",
                intro=most_changed_intro(len(rows)),
                items=article_items(rows),
                ranked=True,
                pager=Pager(),
            ),
        )

    def sources_page(self, counts: dict[str, int]) -> None:
        articles = self.state.article_counts()
        sources = [
            (name, articles.get(name, 0), counts.get(f"sources/{name}", 0))
            for name in self.state.sources()
        ]
        self.write(
            "sources/index.html",
            render(
                "sources.html",
                **self.common("sources", "Sources", "sources"),
                sources=sources,
            ),
        )

    def home(self, counts: dict[str, int]) -> None:
        articles, versions = self.state.totals()
        self.write(
            "index.html",
            render(
                "home.html",
                **self.common("", self.site.title, "home"),
                articles=articles,
                versions=versions,
                changes=counts.get("changes", 0),
                headlines=counts.get("headlines", 0),
                sources=len(self.state.sources()),
                items=[change_item(r) for r in self.state.last_changes(HOME_CHANGES)],
            ),
        )

    def removed_page(self) -> None:
        """The articles gone from their address now, with since when."""
        self.write(
            "removed/index.html",
            render(
                "articles.html",
                **self.common("removed", "Removed articles"),
                heading="Removed articles",
                intro="Articles whose address answers as gone now, most recently removed first."
                " The archive keeps every version they had.",
                items=article_items(self.state.removed_articles()),
                empty="No article is gone from its address now.",
                ranked=False,
                pager=Pager(),
            ),
        )

    def search_page(self) -> None:
        self.write(
            "search/index.html",
            render(
                "search.html",
                **self.common("search", "Search", "search"),
                bundles=[f"pagefind/{shard}/" for shard in self.state.shards()],
            ),
        )

    # -- site-wide feeds

    def feed_rows(self, source: str | None) -> list[VersionRow]:
        return self.state.last_changes(FEED_LENGTH, source, major=True)

    def feed(self, source: str | None, rows: list[VersionRow], entry_for: EntryFor) -> None:
        folder = "" if source is None else f"sources/{source}"
        self._feed(
            folder,
            feed_id("all") if source is None else feed_id("source", source),
            "all changes" if source is None else f"changes in {source}",
            rows,
            entry_for,
            0 if rows else self.latest_time(source),
        )

    def headline_rows(self) -> list[VersionRow]:
        return self.state.last_changes(FEED_LENGTH, headlines=True)

    def headline_feed(self, rows: list[VersionRow], entry_for: EntryFor) -> None:
        """The feed beside the headline index: changes that rewrote a headline."""
        fallback = 0 if rows else self.latest_time(None)
        self._feed("headlines", feed_id("headlines"), "headline changes", rows, entry_for, fallback)

    def _feed(
        self,
        folder: str,
        id: str,
        title: str,
        rows: list[VersionRow],
        entry_for: EntryFor,
        fallback: int,
    ) -> None:
        """The feed `folder`/feed.atom of `rows`, newest first, beside `folder`/index.html."""
        base = self.site.base_url
        entries = []
        for row in rows:
            article = _folder(row.path)
            if row.event:
                href = link(base, folder, article_page(article))
            else:
                href = link(base, folder, version_page(article, row.number))
            entries.append(entry_xml(change_entry(row, article, href, entry_for(row))))
        prefix = f"{folder}/" if folder else ""
        feed = Feed(
            id=id,
            title=f"{self.site.title}: {title}",
            updated=updated([r.time for r in rows], fallback),
            author=self.site.title,
            self_href=link(base, folder, f"{prefix}feed.atom"),
            alternate=link(base, folder, f"{prefix}index.html"),
            entries=entries,
        )
        self.write(f"{prefix}feed.atom", render_feed(feed))

    def latest_time(self, source: str | None) -> int:
        """When the latest version (of `source`) was captured: a feed without changes is as
        old as what it covers, so a build for another source's changes leaves it alone."""
        where, args = ("", ()) if source is None else (" AND source = ?", (source,))
        query = f"SELECT max(time) FROM versions WHERE hidden = 0{where}"
        rows = self.state.db.execute(query, args).fetchone()
        return int(rows[0] or 0)

    def files(self, counts: dict[str, int]) -> list[str]:
        """Every index file the build makes, given the list counts it made them for."""
        names = [
            "index.html",
            "feed.atom",
            "headlines/feed.atom",
            "sources/index.html",
            "most-changed/index.html",
            "removed/index.html",
            "search/index.html",
            *lookup_files(),
        ]
        for lst in self.lists():
            names += lst.files(counts.get(lst.folder, 0))
            if lst.source is not None:
                names.append(f"{lst.folder}/feed.atom")
                articles = counts.get(f"articles:{lst.source}", 0)
                names += [f"{lst.folder}/articles-{k}.html" for k in range(1, chunks(articles) + 1)]
        return names

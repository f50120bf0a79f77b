"""One build of the static site: full, or incremental from what the last one remembers.

Two phases, as in any static site generator: read history into a model (one `git log`
pass, blobs in bulk), then write pages from it. A build remembers what it built (see
site.buildstate), so the next one reads only the commits since and rewrites only the pages they
affect; a full build and an incremental one give byte-identical output. Files are written
only when their bytes change, and only files the build itself made are ever deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from archiver import __version__
from archiver.archive import Archive
from archiver.errors import BuildError
from archiver.site.articles import (
    ArticleJob,
    ArticleRenderer,
    ArticleResult,
    NextChecks,
    no_longer_made,
)
from archiver.site.atom import event_content
from archiver.site.buildstate import (
    ArticleRow,
    BuildPlace,
    BuildState,
    Known,
    VersionRow,
    output_stamp,
)
from archiver.site.config import SiteConfig
from archiver.site.indexes import Dirty, IndexRenderer, chunks
from archiver.site.lookup import shard as lookup_shard
from archiver.site.lookup import write_lookup
from archiver.site.model import (
    INDEX_BITS,
    ArticleLog,
    EventRef,
    History,
    Prior,
    VersionRef,
    in_capture_order,
    output_dir,
    read_history,
    reformed_refs,
    renumber,
    shard_of,
    source_of,
)
from archiver.site.output import (
    Made,
    OutputFolder,
    keep_out_of_git_status,
    make_output_folder,
    refuse_archive_places,
    refuse_others_files,
    resolved,
)
from archiver.site.records import Record, article_records, merged_texts
from archiver.site.search import pagefind_available, update_search_index
from archiver.site.templates import ASSETS, asset_bytes, environment, templates_fingerprint
from archiver.site.views import PAGE_SIZE
from archiver.site.workers import pool_rendering
from archiver.store.history import head_commit, is_ancestor
from archiver.store.state import SourceHealthLine, StateView

Progress = Callable[[str], None]

PARALLEL_FROM = 64  # fewer articles than this render in the builder's own process


@dataclass
class BuildReport:
    """What a build did. "Pages" are the files it makes: HTML, feeds, JSON, assets and the
    search bundles; unchanged ones were compared and left alone."""

    pages_written: int = 0
    pages_unchanged: int = 0
    pages_deleted: int = 0
    articles: int = 0  # articles on the site
    versions: int = 0
    articles_rendered: int = 0  # articles whose pages this build rendered
    commits: int = 0  # commits read
    seconds: float = 0.0
    incremental: bool = False
    commit: str | None = None
    search: str = ""  # what happened to the search index
    search_seconds: float = 0.0
    excluded: str = ""  # the pattern added to the archive's .git/info/exclude, if any
    warnings: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return self.pages_written + self.pages_unchanged

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


# --- the build ------------------------------------------------------------------------------


def build_site(
    archive: Archive | Sequence[Archive],
    out: Path,
    *,
    full: bool = False,
    progress: Progress | None = None,
    search: bool = True,
    workers: int | None = None,
    force: bool = False,
) -> BuildReport:
    """Build (or bring up to date) the static site of `archive` in `out`.

    Incremental unless `full`, there is no build state for `out`, the templates or settings
    changed, or history was rewritten. `search` runs pagefind when it is installed;
    `workers` caps the rendering processes of a full build (default: cores + 1). A folder
    holding files no build of this archive wrote is refused unless `force`.

    Several archives make one site over all of them (their source names must differ): the
    first gives the title and address, and keeps the build state; each archive's history
    is read from the commit its last build reached.
    """
    started = time.perf_counter()
    archives = [archive] if isinstance(archive, Archive) else list(archive)
    if not archives:
        raise BuildError("no archive to build")
    refuse_shared_sources(archives)
    out = resolved(Path(out))
    place = BuildPlace(archives[0].state_path.parent, out)
    known = place.known()
    # A folder built before passed the check of tracked files (a git run: 4 ms) then.
    for one in archives:
        refuse_archive_places(one, out, tracked=not known)
    make_output_folder(out)
    if not (force or known or place.legacy()):
        refuse_others_files(out)
    with place.locked():
        place.adopt_legacy()
        builder = _Builder(archives, out, place, progress, search, workers)
        excluded = [keep_out_of_git_status(one, out, builder.warn) for one in archives]
        builder.report.excluded = ", ".join(pattern for pattern in excluded if pattern)
        try:
            builder.run(full)
        except OSError as error:  # a full disk, a folder made read-only, …
            where = error.filename or out
            raise BuildError(f"{where}: {error.strerror or error}") from None
        finally:
            builder.close()
    report = builder.report
    report.pages_written += builder.writer.written
    report.pages_unchanged += builder.writer.unchanged
    report.seconds = time.perf_counter() - started
    return report


class _Builder:
    """One build: decides full or incremental, runs it, fills the report."""

    def __init__(
        self,
        archives: list[Archive],
        out: Path,
        place: BuildPlace,
        progress: Progress | None,
        search: bool,
        workers: int | None,
    ) -> None:
        archive = archives[0]
        self.archive = archive
        self.archives = archives
        self.multi = len(archives) > 1
        # source → the archive holding it (its index), for a site over several archives
        self.owners = {
            source: index for index, one in enumerate(archives) for source in one.config.sources
        }
        self.marks: dict[str, dict[str, str | int]] = {}  # each archive's head, seq and time
        self.out = out
        self.place = place
        self.notify = progress or (lambda message: None)
        self.report = BuildReport()
        self.writer = OutputFolder(out)
        self.search_wanted = search
        # One worker more than cores: a worker waiting on its git reader leaves a core idle
        # (measured 7-11 % faster on 2 cores than one worker per core).
        self.workers = workers or (os.cpu_count() or 1) + 1
        self.site = SiteConfig(
            title=archive.config.title,
            base_url=archive.config.base_url.rstrip("/"),
            search=search and pagefind_available(),
            hidden=frozenset(hidden for one in archives for hidden in one.config.hidden),
            replay_url=archive.config.replay_url.rstrip("/"),
        )
        # Articles whose withholding this build turns on or off: every page of theirs is
        # made again (or taken down), and the lists and feeds are made anew.
        self.reshown: set[str] = set()
        self.next_checks: NextChecks | None = None  # read by full() or incremental()
        self.health: dict[str, SourceHealthLine] | None = None  # each source's, likewise
        self._renderers: dict[int, ArticleRenderer] = {}
        self.stale_shards: set[str] = set()  # search shards whose articles changed
        self.stale_lookups: set[str] = set()  # URL lookup files whose articles changed

    @property
    def renderer(self) -> ArticleRenderer:
        return self.renderer_in(0)

    def renderer_in(self, index: int) -> ArticleRenderer:
        """The renderer reading blobs from the archive `index`."""
        if index not in self._renderers:
            # Its own writer: what it writes is counted in each result, not twice.
            self._renderers[index] = ArticleRenderer(
                str(self.archives[index].repo.git_dir),
                self.site,
                self.out,
                OutputFolder(self.out),
                self.next_checks,
            )
        return self._renderers[index]

    def owner(self, path: str) -> int:
        """The index of the archive whose history holds the article at `path`."""
        found = self.owners.get(source_of(path))
        if found is not None:
            return found
        for index, one in enumerate(self.archives):  # a source no longer configured
            if (one.root / path).exists():
                return index
        return 0

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        if isinstance(self.next_checks, StateView):
            self.next_checks.close()

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)
        self.notify(f"warning: {message}")

    def fingerprint(self) -> str:
        parts: tuple[str, ...] = (
            __version__,
            templates_fingerprint(),
            self.site.title,
            self.site.base_url,
            self.site.replay_url,
        )
        if self.multi:  # another set or order of archives numbers commits otherwise
            parts += tuple(str(one.root) for one in self.archives)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]

    def run(self, full: bool) -> None:
        environment()  # compile once, before any worker forks
        head = head_commit(self.archive.repo)
        self.report.commit = head
        old = self.place.open_state()
        reason = self._full_reason(old, head, full)
        # Left behind by a build that stopped part way, whose pages the state does not
        # describe (one may even be half written): the next build is a full one.
        unfinished = self.place.unfinished
        if reason is None and unfinished.exists():
            reason = "the last build did not finish"
        unfinished.touch()
        if reason is None:
            assert old is not None and head is not None
            self.report.incremental = True
            self.notify("incremental build")
            self.incremental(old, head)
        else:
            self.notify(f"full build ({reason})")
            self.full(old, head)
        unfinished.unlink()

    def _full_reason(self, old: BuildState | None, head: str | None, full: bool) -> str | None:
        if full:
            return "asked for"
        if old is None:
            if self.place.changed:
                return "the output folder changed since the last build"
            return "no previous build"
        if old.meta("fingerprint") != self.fingerprint():
            return "templates or settings changed"
        if self.multi:
            return self._multi_full_reason(old)
        built = old.meta("head")
        if not built or head is None or not is_ancestor(self.archive.repo, built, head):
            return "history was rewritten"
        return None

    def _multi_full_reason(self, old: BuildState) -> str | None:
        marks = _load_marks(old)
        for one in self.archives:
            built = str(marks.get(str(one.root), {}).get("head", ""))
            head = head_commit(one.repo)
            if built == (head or ""):
                continue
            if not built or head is None or not is_ancestor(one.repo, built, head):
                return f"history of {one.root} was rewritten"
        return None

    # -- full

    def full(self, old: BuildState | None, head: str | None) -> None:
        store = None if self.multi else StateView.find(self.archive.state_path)
        # Read in one query, read-only: the build never creates or rebuilds the store.
        self.next_checks = store.next_checks() if store is not None else self.merged_next_checks()
        self.health = store.source_health() if store is not None else self.merged_health()
        before = Made.of(old, self.site) if old else None
        if old is not None:
            old.close()
        state = BuildState.fresh(self.place.folder)
        try:
            self.notify("reading history")
            history = self.multi_history(None)[0] if self.multi else self.history(None, 0, None)
            jobs = self.full_jobs(history)
            entries: dict[tuple[str, int], str] = {}
            with self.rendering(jobs) as results:
                for result in results:
                    self.keep(state, result, entries)
            dirty = Dirty(everything=True)
            self.finish(state, self.read_up_to(history, head), history.commits, dirty, entries)
            if before is not None:
                stale = before.stale(Made.of(state, self.site))
                self.report.pages_deleted = self.writer.delete(stale)
            self.search_index(state)
            state.commit()
        finally:
            state.close()

    def merged_next_checks(self) -> dict[str, str] | None:
        """url → next check from every archive's state store, for several archives (each
        read in one query, as a full build reads one); None when none can be read."""
        if not self.multi:
            return None
        found: dict[str, str] | None = None
        for one in self.archives:
            store = StateView.find(one.state_path)
            if store is None:
                continue
            try:
                checks = store.next_checks()
            finally:
                store.close()
            if checks is not None:
                found = {**(found or {}), **checks}
        return found

    def merged_health(self) -> dict[str, SourceHealthLine] | None:
        """Each source's health from the state store of its archive, for several archives."""
        if not self.multi:
            return None
        health: dict[str, SourceHealthLine] = {}
        for one in self.archives:
            store = StateView.find(one.state_path)
            if store is not None:
                try:
                    health.update(store.source_health() or {})
                finally:
                    store.close()
        return health

    def multi_history(self, state: BuildState | None) -> tuple[History, dict[str, Known]]:
        """The union of every archive's history since its last build, commits numbered
        across them by time (see model.renumber), and what `state` holds of its articles."""
        marks = _load_marks(state) if state is not None else {}
        if state is not None:  # sources seen before, whether configured or not
            index_of = {str(one.root): index for index, one in enumerate(self.archives)}
            for source, root in json.loads(state.meta("owners") or "{}").items():
                if root in index_of:
                    self.owners.setdefault(source, index_of[root])
        merged = History(head="", commits=0, articles={})
        known: dict[str, Known] = {}
        for index, one in enumerate(self.archives):
            key = str(one.root)
            mark = marks.get(key, {})
            head = head_commit(one.repo)
            since = str(mark.get("head", "")) or None
            seq, last = int(mark.get("seq", 0)), int(mark.get("time", 0))
            if head is not None and head != since:
                prior = _Prior(state) if state is not None else None
                history = read_history(one.repo, since, seq, prior, self.warn)
                if prior is not None:
                    known.update(prior.known)
                last = renumber(history, index, last)
                self._merge(merged, history, index)
                seq += history.commits
                head = history.head  # what was read, should a sync have committed since
            self.marks[key] = {"head": head or "", "seq": seq, "time": last}
        self.report.commits = merged.commits
        return merged, known

    def _merge(self, merged: History, history: History, index: int) -> None:
        for path, log in history.articles.items():
            owner = self.owners.setdefault(log.source, index)
            if owner != index:
                first, second = self.archives[owner].root, self.archives[index].root
                raise BuildError(f"{first} and {second} both hold source {log.source!r}")
            merged.articles[path] = log
        merged.commits += history.commits

    def history(self, since: str | None, first_seq: int, prior: Prior | None) -> History:
        if head_commit(self.archive.repo) is None:
            return History(head="", commits=0, articles={})
        history = read_history(self.archive.repo, since, first_seq, prior, self.warn)
        self.report.commits = history.commits
        return history

    def full_jobs(self, history: History) -> list[ArticleJob]:
        logs = sorted(
            (log for log in history.articles.values() if log.versions),
            key=lambda log: (log.versions[0].seq, log.path),
        )
        wanted = _feed_candidates(logs)
        ordinals: Counter[str] = Counter()
        jobs = []
        for log in logs:
            jobs.append(
                ArticleJob(
                    path=log.path,
                    refs=tuple(log.versions),
                    known=(),
                    ordinal=ordinals[log.source],
                    removed=log.removed,
                    wanted=frozenset(wanted.get(log.path, ())),
                    events=tuple(log.events),
                )
            )
            ordinals[log.source] += 1
        return jobs

    @contextlib.contextmanager
    def rendering(self, jobs: list[ArticleJob]) -> Iterator[Iterator[ArticleResult]]:
        """The jobs' results as they come; the workers are already at them on entry."""
        if not self.multi:
            with self._rendering_in(0, jobs) as results:
                yield self._counted(results, len(jobs))
            return
        groups: dict[int, list[ArticleJob]] = {}
        for job in jobs:
            groups.setdefault(self.owner(job.path), []).append(job)
        chained = self._rendering_groups(groups)
        try:
            yield self._counted(chained, len(jobs))
        finally:
            chained.close()

    def _rendering_groups(
        self, groups: dict[int, list[ArticleJob]]
    ) -> Generator[ArticleResult, None, None]:
        for index, group in sorted(groups.items()):  # one archive's pool at a time
            with self._rendering_in(index, group) as results:
                yield from results

    @contextlib.contextmanager
    def _rendering_in(
        self, index: int, jobs: list[ArticleJob]
    ) -> Iterator[Iterator[ArticleResult]]:
        """Render jobs whose articles are in the archive `index`."""
        if self.workers < 2 or len(jobs) < PARALLEL_FROM:
            renderer = self.renderer_in(index)
            yield (renderer.process(job) for job in jobs)
            return
        git_dir = str(self.archives[index].repo.git_dir)
        with pool_rendering(
            jobs, self.workers, git_dir, self.out, self.site, self.next_checks
        ) as results:
            yield results

    def _counted(self, results: Iterator[ArticleResult], total: int) -> Iterator[ArticleResult]:
        for done, result in enumerate(results, 1):
            if done % 1000 == 0 or done == total:
                self.notify(f"rendered {done}/{total} articles")
            yield result

    def keep(
        self, state: BuildState, result: ArticleResult, entries: dict[tuple[str, int], str]
    ) -> None:
        state.put_articles([result.article])
        state.put_versions(result.rows)
        state.put_events(result.events)
        if result.article.hidden or result.article.path in self.reshown:
            state.mark_hidden(result.article.path, result.article.hidden)
        entries.update(result.entries)
        self.report.pages_written += result.written
        self.report.pages_unchanged += result.unchanged
        self.report.articles_rendered += 1
        self.stale_lookups.add(lookup_shard(result.article.url))
        path = result.article.path
        if before := result.article.versions - len(result.rows):  # grown since the last build
            dropped = no_longer_made(path, before, result.article.versions)
            self.report.pages_deleted += self.writer.delete(dropped)
        if result.rows:  # new versions: the text search indexes changed
            state.put_search_text(path, merged_texts(state.search_text(path), result.texts))
        if result.rows or path in self.reshown:  # what search indexes changed
            self.stale_shards.add(shard_of(path))
        for warning in result.warnings:
            self.warn(warning)

    # -- incremental

    def incremental(self, state: BuildState, head: str) -> None:
        try:
            store = None if self.multi else StateView.find(self.archive.state_path)
            # Looked up article by article; several archives' stores are read whole.
            self.next_checks = store if store is not None else self.merged_next_checks()
            self.health = store.source_health() if store is not None else self.merged_health()
            attached = store is not None and state.attach_store(store)
            built = state.meta("head")
            assert built is not None
            seq = int(state.meta("seq") or 0)
            turned = set(json.loads(state.meta("hidden") or "[]")) ^ self.site.hidden
            before = Made.of(state, self.site) if turned else None
            forced = state.known(state.paths_of(turned)) if turned else {}
            self.reshown = set(forced)
            if self.multi:
                history, known = self.multi_history(state)
            else:
                prior = _Prior(state)
                history = self.history(built, seq, prior)
                known = prior.known
            jobs, counts = self.incremental_jobs(state, history, known, forced)
            # Versions imported from older captures renumber their articles' versions: the
            # lists are counted and written again rather than extended.
            imported = any(log.imported for log in history.articles.values())
            dirty = Dirty(counts=_load_counts(state), everything=bool(forced) or imported)
            entries: dict[tuple[str, int], str] = {}
            lists = _ArticleListPages(IndexRenderer(state, self.site, self.writer), jobs, counts)
            with self.rendering(jobs) as results:
                # While the workers start on the first articles, which the builder waits for.
                self.refresh_next_checks(state, attached, {job.path for job in jobs})
                for result in results:
                    self.keep(state, result, entries)
                    dirty.sources.add(result.article.source)
                    dirty.new_rows += result.rows + result.events
                    lists.kept(result.article)
            dirty.article_pages = lists.pages
            dirty.article_pages_done = lists.done
            read = self.read_up_to(history, head)
            self.finish(state, read, history.commits, dirty, entries, seq)
            if before is not None:  # pages of articles withheld now, and of shorter lists
                stale = before.stale(Made.of(state, self.site))
                self.report.pages_deleted += self.writer.delete(stale)
            self.search_index(state)
            state.commit()
        finally:
            state.close()

    def incremental_jobs(
        self,
        state: BuildState,
        history: History,
        known: dict[str, Known],
        forced: dict[str, Known] | None = None,
    ) -> tuple[list[ArticleJob], dict[str, int]]:
        """The articles to render, and how many articles each source has with them; `known`
        holds what the build state has of them, `forced` the articles to render whole."""
        forced = forced or {}
        counts = state.article_counts()
        found = dict(history.articles)
        for path, whole in forced.items():
            found.setdefault(path, ArticleLog(path, removed=whole.article.removed))
        known = {**known, **forced}
        logs = sorted(
            found.values(),
            key=lambda log: (log.versions[0].seq if log.versions else 0, log.path),
        )
        jobs = []
        for log in logs:
            stored = known.get(log.path)
            rows = tuple(stored.versions) if stored else ()
            if not rows and not log.versions:
                continue
            if stored is not None:
                ordinal = stored.article.ordinal
            else:
                ordinal = counts.get(log.source, 0)
                counts[log.source] = ordinal + 1
            refs = tuple(
                VersionRef(
                    r.seq, r.sha, r.time, r.blob, r.updated, None, r.capture, r.fetched, r.origin
                )
                for r in rows
            ) + tuple(log.versions)
            known_events = stored.events if stored else []
            events = tuple(EventRef(r.seq, r.sha, r.time, r.event) for r in known_events)
            if log.path in forced:  # rendered whole, as a full build would
                rows, known_events = (), []
            if log.reformed:  # earlier versions in new forms: rendered again from the first
                refs = tuple(reformed_refs(refs, log.reformed))
                first = next((i for i, r in enumerate(rows) if r.sha in log.reformed), len(rows))
                rows = rows[:first]
            wanted = frozenset(range(len(rows) + 1, len(refs) + 1))
            ordered = tuple(in_capture_order(refs)) if log.imported else refs
            if ordered != refs:  # an older capture imported: every version renumbered
                refs, rows, known_events = ordered, (), []
                wanted = frozenset(range(1, len(refs) + 1))
            jobs.append(
                ArticleJob(
                    log.path,
                    refs,
                    rows,
                    ordinal,
                    log.removed,
                    wanted,
                    events + tuple(log.events),
                    len(known_events),
                )
            )
        return jobs, counts

    def refresh_next_checks(self, state: BuildState, attached: bool, rendered: set[str]) -> None:
        """Articles whose next check moved get their own page again, nothing else."""
        shown = bool(state.meta("next checks"))
        if self.multi:  # several stores: compared with what was read of them
            if self.next_checks is None and not shown:
                return
            moved = state.moved_next_checks_from(self.next_checks)
        else:
            if not attached and not shown:
                return  # no state store now nor at the last build: no page shows a next check
            moved = state.moved_next_checks(attached)
        changed = {path: value for path, value in moved.items() if path not in rendered}
        for path, value in sorted(changed.items()):
            article = state.article(path)
            assert article is not None
            article = replace(article, next_check=value)
            renderer = self.renderer_in(self.owner(path))
            written = renderer.main_page(article, state.versions(path), state.events(path))
            self.report.pages_written += written
            self.report.pages_unchanged += not written
        state.set_next_checks(changed)

    # -- both

    def read_up_to(self, history: History, head: str | None) -> str | None:
        """The commit the history was read up to: the head seen when reading began, later
        than the one the run started with when a sync committed meanwhile (recording the
        earlier one would have the next build read those commits again)."""
        return head if self.multi or not history.head else history.head

    def finish(
        self,
        state: BuildState,
        head: str | None,
        commits: int,
        dirty: Dirty,
        entries: dict[tuple[str, int], str],
        first_seq: int = 0,
    ) -> None:
        self.notify("writing indexes and feeds")
        indexes = IndexRenderer(state, self.site, self.writer, self.health)
        counts = indexes.render_lists(dirty)
        indexes.article_lists(dirty)
        indexes.most_changed()
        indexes.sources_page(counts)
        indexes.home(counts)
        indexes.removed_page()
        indexes.search_page()
        write_lookup(state, self.writer, None if dirty.everything else self.stale_lookups)
        used = self.feeds(state, indexes, dirty, entries)
        state.keep_entries(used)
        for name in ASSETS:
            self.writer(f"assets/{name}", asset_bytes(name))
        counts.update(indexes.article_counts())
        _save_counts(state, counts)
        state.set_meta("head", head or "")
        self.report.commit = head
        state.set_meta("seq", str(first_seq + commits))
        if self.multi:
            state.set_meta("archives", json.dumps(self.marks, sort_keys=True))
            owners = {source: str(self.archives[i].root) for source, i in self.owners.items()}
            state.set_meta("owners", json.dumps(owners, sort_keys=True))
        state.set_meta("fingerprint", self.fingerprint())
        state.set_meta("next checks", "shown" if self.next_checks is not None else "")
        state.set_meta("hidden", json.dumps(sorted(self.site.hidden)))
        state.set_meta("output", output_stamp(self.out))  # written above, as every build does
        self.report.articles, self.report.versions = state.totals()

    def feeds(
        self,
        state: BuildState,
        indexes: IndexRenderer,
        dirty: Dirty,
        fresh: dict[tuple[str, int], str],
    ) -> dict[tuple[str, int], str]:
        """Render the site-wide feeds that changed; returns the entry contents every
        site-wide feed holds now, which the build state keeps for the next build."""
        sources = state.sources()
        rows = {source: indexes.feed_rows(source) for source in [None, *sources]}
        headlines = indexes.headline_rows()
        listed = [*rows.values(), headlines]
        needed = {(r.path, r.number): r for rows_ in listed for r in rows_ if not r.event}
        cached = state.entries(needed.keys() - fresh.keys())
        contents: dict[tuple[str, int], str] = {}

        def entry_for(row: VersionRow) -> str:
            if row.event:  # a line, not a diff: made again each time
                return event_content(row)
            key = (row.path, row.number)
            if key not in contents:
                html = fresh.get(key) or cached.get(key)
                if html is None:
                    old = state.versions(row.path)[row.number - 2]
                    renderer = self.renderer_in(self.owner(row.path))
                    html = renderer.entry(row, (old.blob, old.updated))
                contents[key] = html
            return contents[key]

        for source in [None, *sources]:
            if source is None or dirty.everything or source in dirty.sources:
                indexes.feed(source, rows[source], entry_for)
        indexes.headline_feed(headlines, entry_for)  # as the global one, dated by it
        for row in needed.values():
            entry_for(row)
        return contents

    # -- search

    def search_index(self, state: BuildState) -> None:
        """One pagefind bundle per source and month: only the bundles whose articles gained
        versions are indexed again, and bundles of no shard are removed."""
        if not self.search_wanted:
            self.report.search = "skipped (not asked for)"
            return
        if not self.site.search:
            self.report.search = "skipped: pagefind is not installed (pip install 'pagefind[bin]')"
            return
        shards = state.shards()
        started = time.perf_counter()
        done = update_search_index(
            self.out,
            shards,
            self.stale_shards,
            partial(_shard_records, state),
            self.writer,
            self.place.folder,
            self.notify,
        )
        if done.failure:
            self.report.search = done.failure
            self.warn(done.failure)
            return
        self.report.pages_deleted += done.deleted
        self.report.search_seconds = time.perf_counter() - started
        indexed = f"indexed {done.shards} of {len(shards)} search shards"
        self.report.search = indexed if done.shards else "up to date"


class _ArticleListPages:
    """The article-list pages an incremental build rewrites, each written as soon as every
    changed article it lists is in the build state: while workers render the rest."""

    def __init__(self, indexes: IndexRenderer, jobs: list[ArticleJob], counts: dict[str, int]):
        self.indexes = indexes
        self.totals = {source: chunks(count) for source, count in counts.items()}
        self.pages: dict[str, set[int]] = {}
        self.waiting: Counter[tuple[str, int]] = Counter()
        for job in jobs:
            self.waiting[_list_page(source_of(job.path), job.ordinal)] += 1
        self.done: set[tuple[str, int]] = set()

    def kept(self, article: ArticleRow) -> None:
        key = _list_page(article.source, article.ordinal)
        self.pages.setdefault(key[0], set()).add(key[1])
        self.waiting[key] -= 1
        if self.waiting[key] == 0:
            self.indexes.article_page(*key, self.totals[key[0]])
            self.done.add(key)


def _list_page(source: str, ordinal: int) -> tuple[str, int]:
    return source, ordinal // PAGE_SIZE + 1


class _Prior:
    """The latest blob and removal time the build state holds for each article the history
    read asks about; what it holds of them is kept for their jobs."""

    def __init__(self, state: BuildState) -> None:
        self.reader = state.reader()
        self.known: dict[str, Known] = {}

    def ask(self, paths: Collection[str]) -> None:
        self.reader.ask(paths)

    def answers(self) -> dict[str, tuple[str | None, int | None]]:
        self.known = self.reader.result()
        return {
            path: (stored.versions[-1].blob if stored.versions else None, stored.article.removed)
            for path, stored in self.known.items()
        }


def _feed_candidates(logs: list[ArticleLog]) -> dict[str, set[int]]:
    """Changes likely to appear in the site-wide feeds, so workers render their entries
    while the article is at hand: the latest few per source and overall."""
    changes = sorted(
        (
            (ref.seq, log.path, number)
            for log in logs
            for number, ref in enumerate(log.versions, 1)
            if number > 1
        ),
        reverse=True,
    )
    limit = 2 * 50
    picked: dict[str, set[int]] = {}
    per_source: Counter[str] = Counter()
    for rank, (_, path, number) in enumerate(changes):
        source = path.split("/")[1]
        if rank < limit or per_source[source] < limit:
            picked.setdefault(path, set()).add(number)
        per_source[source] += 1
    return picked


def _shard_records(state: BuildState, shard: str) -> Iterator[Record]:
    """The search records of a shard's articles, from the build state."""
    for path, texts in state.shard_texts(shard):
        folder = output_dir(path)
        assert folder is not None  # only accepted paths are rendered
        titles = [row.title for row in state.versions(path)]
        yield from article_records(folder, json.loads(texts), titles)


def refuse_shared_sources(archives: Sequence[Archive]) -> None:
    """Article pages live under `articles/<source>/`: two archives may not share a source."""
    if len(archives) > 1 << INDEX_BITS:
        raise BuildError(f"{len(archives)} archives: one site holds at most {1 << INDEX_BITS}")
    seen: dict[str, Path] = {}
    roots: set[Path] = set()
    for one in archives:
        if one.root in roots:
            raise BuildError(f"{one.root}: the same archive is named twice")
        roots.add(one.root)
        for source in one.config.sources:
            if source in seen:
                raise BuildError(f"{seen[source]} and {one.root} both hold source {source!r}")
            seen[source] = one.root


def _load_marks(state: BuildState) -> dict[str, dict[str, str | int]]:
    """Each archive's head, commit count and latest commit time at the last build."""
    raw = state.meta("archives")
    return json.loads(raw) if raw else {}


def _load_counts(state: BuildState) -> dict[str, int]:
    raw = state.meta("counts")
    return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else {}


def _save_counts(state: BuildState, counts: dict[str, int]) -> None:
    state.set_meta("counts", json.dumps(counts, sort_keys=True))


__all__ = ["BuildReport", "build_site"]

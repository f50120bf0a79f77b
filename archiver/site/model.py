"""The site's model of the archive: article histories from one pass over git, the text of
versions read in bulk, and what changed between consecutive versions.

Everything here is a pure function of git objects, so a full build and an incremental one
that reach the same commit compute the same facts.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from archiver.diff import ChangeStats, Version, describe, is_minor
from archiver.errors import ArchiverError
from archiver.processes import collection_paused
from archiver.store import format as trailer
from archiver.store.document import Document, parse_document
from archiver.store.history import CommitRecord, FileChange, head_commit, iter_commits
from archiver.store.repository import Repo

# Past these sizes a text is compared as one opaque unit: difflib's matcher turns cubic on
# long or repetitive texts, and a hostile page must not stall a build.
_WORD = re.compile(r"\w+")

Warn = Callable[[str], None]


def output_dir(path: str) -> str | None:
    """`articles/<source>/<yyyy>/<mm>/<dd>/<slug>-<id>.md` → the folder of its pages, or
    None."""
    return trailer.pages_folder(path)


def source_of(path: str) -> str:
    return path.split("/", 2)[1]


def shard_of(path: str) -> str:
    """The search shard of an article: its source and month, `<source>/<yyyy>-<mm>`."""
    _, source, year, month, _ = path.split("/", 4)
    return f"{source}/{year}-{month}"


LOOKUP_SHARDS = 64  # files of lookup/ (see site.lookup)


def url_shard(url: str) -> str:
    """The file of lookup/ an article's URL is in: FNV-1a (32 bits) of its UTF-8 bytes,
    as two hex digits (assets/find.js computes the same)."""
    value = 0x811C9DC5
    for byte in url.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value % LOOKUP_SHARDS:02x}"


# --- history ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionRef:
    """Where one version of an article lives in git."""

    seq: int  # position of its commit in first-parent history, counting from 1
    sha: str
    when: int  # commit time, unix seconds
    blob: str
    updated: str = ""  # the modification date the page stated (a commit trailer)
    # The change from the version before as the commit's trailers record it, when they
    # describe exactly that pair: (counts, minor). Saves comparing the texts again.
    change: tuple[ChangeStats, bool] | None = None
    capture: str = ""  # the commit's Archiver-Capture trailer, as written (see capture_of)
    fetched: str = ""  # its Archiver-Fetched trailer: when the captured page was fetched
    origin: str = ""  # its Archiver-Origin trailer: a capture made elsewhere (see origin_of)


REMOVED, RETURNED = trailer.EVENT_REMOVED, trailer.EVENT_RETURNED


@dataclass(frozen=True, slots=True)
class EventRef:
    """A removal of an article from its address, or its return, where git records it."""

    seq: int
    sha: str
    when: int
    kind: str  # REMOVED or RETURNED


@dataclass(slots=True)
class ArticleLog:
    """The versions of one article found in a stretch of history."""

    path: str
    base_blob: str | None = None  # the latest blob before this stretch
    versions: list[VersionRef] = field(default_factory=list)
    removed: int | None = None  # when the article was recorded as gone, if it still is
    events: list[EventRef] = field(default_factory=list)  # removals and returns, in order
    # A history reformat's new forms: version commit → blob of its latest reformat.
    reformed: dict[str, str] = field(default_factory=dict)
    # A version imported from an older capture came in this stretch: versions are to be
    # put in capture order again (build.incremental_jobs).
    imported: bool = False

    @property
    def source(self) -> str:
        return source_of(self.path)


@dataclass
class History:
    """Article logs by path, for the commits after `since` up to `head`."""

    head: str
    commits: int
    articles: dict[str, ArticleLog]


SEQ_BITS, INDEX_BITS = 24, 8  # commits per second of one archive; archives on one site


def renumber(history: History, index: int, last: int) -> int:
    """Number the commits of the archive `index` (of a site over several) so that those of
    all archives sort by time: (time, archive, commit) in one integer, time held from going
    back so an archive's own order stays. `last` is the latest time numbered before; returns
    the latest now. A full build and an incremental one number alike."""
    times: dict[int, int] = {}
    for log in history.articles.values():
        for version in log.versions:
            times[version.seq] = version.when
        for event in log.events:
            times[event.seq] = event.when
    numbers: dict[int, int] = {}
    for seq in sorted(times):
        last = max(last, times[seq])
        numbers[seq] = (
            (last << (SEQ_BITS + INDEX_BITS)) | (index << SEQ_BITS) | (seq % (1 << SEQ_BITS))
        )
    for log in history.articles.values():
        log.versions = [replace(ref, seq=numbers[ref.seq]) for ref in log.versions]
        log.events = [replace(ref, seq=numbers[ref.seq]) for ref in log.events]
    return last


class Prior(Protocol):
    """What the last build knew of articles: asked for as the history read names them."""

    def ask(self, paths: Collection[str]) -> None: ...

    def answers(self) -> Mapping[str, tuple[str | None, int | None]]:
        """path → (latest blob, removal time), for the articles asked for it knew."""
        ...


ASK_EVERY = 32  # paths named by the history read before they are asked for


def read_history(
    repo: Repo, since: str | None, first_seq: int, prior: Prior | None, warn: Warn
) -> History:
    """One `git log` pass over the commits after `since`. `prior` tells, for the articles
    the previous build knew, their latest blob and removal time, so that a commit rewriting
    identical bytes is no new version and a removal keeps its first date."""
    with collection_paused():
        return _read_history(repo, since, first_seq, prior, warn)


def _read_history(
    repo: Repo, since: str | None, first_seq: int, prior: Prior | None, warn: Warn
) -> History:
    head = head_commit(repo)
    if head is None:
        raise ArchiverError(f"{repo.working_dir}: the archive has no commits yet")
    articles: dict[str, ArticleLog] = {}
    seq = first_seq
    refused: set[str] = set()
    # Up to the head named here: a sync committing meanwhile is read by the next build.
    commits: Iterable[CommitRecord] = iter_commits(repo, since=since, until=head)
    known: Mapping[str, tuple[str | None, int | None]] = {}
    if prior is not None:
        try:
            commits = _asking(commits, prior)
        finally:  # waited for also when git fails: the reads are over then
            known = prior.answers()
    for commit in commits:
        seq += 1
        _add_commit(articles, commit, seq, known, refused, warn)
    _apply_reformats(articles)
    return History(head=head, commits=seq - first_seq, articles=articles)


def article_log(repo: Repo, path: str, warn: Warn) -> ArticleLog:
    """One article's versions as the site numbers and compares them, from the commits
    that touch its file alone (what `archiver diff` shows)."""
    articles: dict[str, ArticleLog] = {}
    for seq, commit in enumerate(iter_commits(repo, paths=(path,)), 1):
        _add_commit(articles, commit, seq, {}, set(), warn)
    _apply_reformats(articles)
    return articles.get(path) or ArticleLog(path)


def _apply_reformats(articles: Mapping[str, ArticleLog]) -> None:
    for log in articles.values():
        if log.reformed:
            log.versions = reformed_refs(log.versions, log.reformed)


def _add_commit(
    articles: dict[str, ArticleLog],
    commit: CommitRecord,
    seq: int,
    known: Mapping[str, tuple[str | None, int | None]],
    refused: set[str],
    warn: Warn,
) -> None:
    when = int(commit.when.timestamp())
    event = commit.trailers.get(trailer.EVENT)
    if event == trailer.EVENT_REFORMAT:
        # The same version in a new extractor's form: not a version, not an edit. One
        # that names its version (`reformat --history`) is the form the site shows.
        _reformed(articles, commit, known)
        return
    if event == trailer.EVENT_RESTORED:
        # The current text written back after an older capture was stored: not a version.
        return
    removal = event == "removed"
    updated = printable(commit.trailers.get(trailer.PAGE_UPDATED, ""))
    capture = _capture_trailers(commit)
    origin = printable(commit.trailers.get(trailer.ORIGIN, "").strip())
    # Trailers describe a commit's one article; a commit of several says nothing each.
    recorded = trailer.read_change(commit.trailers) if len(commit.changes) == 1 else None
    for change in commit.changes:
        if not change.path.startswith("articles/"):
            continue
        if output_dir(change.path) is None:
            if change.path not in refused:
                refused.add(change.path)
                warn(f"{change.path}: not an article path the site accepts; skipped")
            continue
        log = articles.get(change.path)
        if log is None:
            base_blob, removed = known.get(change.path, (None, None))
            log = articles[change.path] = ArticleLog(change.path, base_blob, removed=removed)
        blob = change.new_blob or ""
        ref = VersionRef(seq, commit.sha, when, blob, updated, None, *capture, origin)
        _apply(log, change, ref, removal, recorded, trailer.ORIGIN in commit.trailers)


def _reformed(
    articles: dict[str, ArticleLog],
    commit: CommitRecord,
    known: Mapping[str, tuple[str | None, int | None]],
) -> None:
    sha = commit.trailers.get(trailer.REFORMAT_OF, "")
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        return
    for change in commit.changes:
        if change.new_blob is None or output_dir(change.path) is None:
            continue
        log = articles.get(change.path)
        if log is None:
            base_blob, removed = known.get(change.path, (None, None))
            log = articles[change.path] = ArticleLog(change.path, base_blob, removed=removed)
        log.reformed[sha] = change.new_blob


def reformed_refs(refs: Sequence[VersionRef], reformed: Mapping[str, str]) -> list[VersionRef]:
    """The versions with the new forms history reformats gave them; the change a commit
    recorded no longer describes a pair of which either side was given a new form."""
    out: list[VersionRef] = []
    touched = False
    for ref in refs:
        blob = reformed.get(ref.sha)
        if blob is not None:
            out.append(replace(ref, blob=blob, change=None))
            touched = True
        elif touched and ref.change is not None:
            out.append(replace(ref, change=None))
            touched = False
        else:
            out.append(ref)
            touched = False
    return out


def _capture_trailers(commit: CommitRecord) -> tuple[str, str]:
    """The commit's capture trailer and fetch time, when it names a capture it can."""
    try:
        ref = trailer.read_capture(commit.trailers)
    except ValueError:
        return "", ""
    if ref is None:
        return "", ""
    value = trailer.capture_trailer(ref)[trailer.CAPTURE]
    return value, printable(commit.trailers.get(trailer.FETCHED, ""))


def capture_of(value: str) -> trailer.CaptureRef | None:
    """A version's capture, from the trailer value kept with it (checked again on the way
    out of the build state, which is a file like any other)."""
    if not value:
        return None
    try:
        return trailer.read_capture({trailer.CAPTURE: value})
    except ValueError:
        return None


def origin_of(value: str) -> trailer.Origin | None:
    """Where a version's capture was made, when elsewhere (a WARC file, a replay server),
    from the trailer value kept with it; None for a version archiver fetched itself."""
    return trailer.read_origin({trailer.ORIGIN: value}) if value else None


def _asking(commits: Iterable[CommitRecord], prior: Prior) -> list[CommitRecord]:
    """The commits, their articles asked of `prior` as they come, in batches: its answers
    are read while git goes on."""
    read: list[CommitRecord] = []
    asked: set[str] = set()
    waiting: list[str] = []
    for commit in commits:
        read.append(commit)
        for change in commit.changes:
            if change.path not in asked:
                asked.add(change.path)
                waiting.append(change.path)
        if len(waiting) >= ASK_EVERY:
            prior.ask(waiting)
            waiting = []
    prior.ask(waiting)
    return read


def _apply(
    log: ArticleLog,
    change: FileChange,
    ref: VersionRef,
    removal: bool,
    recorded: tuple[ChangeStats, bool] | None,
    imported: bool = False,
) -> None:
    blob = change.new_blob
    if blob is None or removal:
        if log.removed is None:
            log.removed = ref.when
            log.events.append(EventRef(ref.seq, ref.sha, ref.when, REMOVED))
    elif log.removed is not None:
        log.removed = None
        log.events.append(EventRef(ref.seq, ref.sha, ref.when, RETURNED))
    if blob is None:
        return
    previous = log.versions[-1].blob if log.versions else log.base_blob
    if blob == previous:
        return
    # The trailers compare with the file's blob before the commit: they hold for the site's
    # pair only when that is the version the site shows before this one (no reformat or
    # removal between).
    if imported:
        log.imported = True
        if log.versions and ref.when < log.versions[-1].when:
            _insert(log, ref)  # an older capture, imported after newer ones
            return
    if recorded is not None and previous is not None and change.old_blob == previous:
        ref = replace(ref, change=recorded)
    log.versions.append(ref)


def _insert(log: ArticleLog, ref: VersionRef) -> None:
    """A version in its place by capture time. Neither it nor the version after it has a
    recorded change that holds: each now follows another version than its commit saw."""
    at = bisect.bisect_right([v.when for v in log.versions], ref.when)
    log.versions.insert(at, ref)
    if at + 1 < len(log.versions):
        log.versions[at + 1] = replace(log.versions[at + 1], change=None)


def in_capture_order(refs: Sequence[VersionRef]) -> list[VersionRef]:
    """An article's versions by capture time (commits are dated by their captures), with
    the changes recorded for pairs no longer next to each other dropped."""
    ordered = sorted(refs, key=lambda r: (r.when, r.seq))
    if ordered == list(refs):
        return ordered
    return [
        r if i and ordered[i - 1] is _before(refs, r) else replace(r, change=None)
        for i, r in enumerate(ordered)
    ]


def _before(refs: Sequence[VersionRef], ref: VersionRef) -> VersionRef | None:
    index = list(refs).index(ref)
    return refs[index - 1] if index else None


@dataclass(frozen=True)
class Captured:
    """A version as the site shows it: the stored document, and the modification date the
    page stated when it was captured (kept in the commit, not the document)."""

    document: Document
    updated: str = ""

    @property
    def version(self) -> Version:
        """As compared, made once: a version's pages, feed entries and data all need it.
        (Not a cached_property, which takes a lock on every read in Python 3.11.)"""
        made = self.__dict__.get("_version")
        if made is None:
            made = self.__dict__["_version"] = self.document.version()
        return made


def load_document(data: bytes, where: str, warn: Warn) -> Document:
    """A stored version, with text any page can hold; an unreadable one stays a (blank)
    version so numbering holds."""
    try:
        document = parse_document(data.decode("utf-8", errors="replace"), where)
    except ArchiverError as err:
        warn(f"{err}; shown as an empty version")
        return Document(url="", source="", title="(unreadable version)", body="")
    return printable_document(document)


# Code points HTML and XML 1.0 forbid in text, which an article's text can carry, and the
# carriage return, which XML parsers rewrite (feeds are read back by incremental builds).
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    if not _FORBIDDEN.search(text):
        return text
    return _FORBIDDEN.sub(lambda m: " " if m.group() == "\r" else "", text)


def printable_document(document: Document) -> Document:
    """The document with every text field printable (checked once here, not per page)."""
    changes: dict[str, Any] = {}
    for name, value in document.__dict__.items():
        if isinstance(value, str) and printable(value) != value:
            changes[name] = printable(value)
    if any(printable(a) != a for a in document.authors):
        changes["authors"] = tuple(printable(a) for a in document.authors)
    return replace(document, **changes) if changes else document


# --- comparison -----------------------------------------------------------------------------


def date_line(captured: Captured) -> str:
    parts = []
    if captured.document.published:
        parts.append(f"published {captured.document.published}")
    if captured.updated:
        parts.append(f"updated {captured.updated}")
    return ", ".join(parts)


def as_version(captured: Captured) -> Version:
    """As capture compares it: the page's stated update time is not part of the article."""
    return captured.version


def content_key(captured: Captured) -> str:
    """Equal for versions a reader sees as the same (title, byline and text, as
    Document.same_reading): what a revert returns to."""
    document = captured.document
    text = "\x1f".join((document.title, document.byline, document.body))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class VersionFacts:
    """What the site says about one version: its change from the version before."""

    number: int
    title: str
    key: str
    stats: ChangeStats | None = None  # None for the first version
    minor: bool = False
    revert_of: int | None = None


def version_facts(
    documents: Sequence[Captured],
    recorded: list[tuple[ChangeStats, bool] | None],
    known: list[VersionFacts],
    keys: list[str],
) -> list[VersionFacts]:
    """Facts for every version. `recorded` holds each version's change as its commit
    recorded it, if it did; `known` facts already computed for the leading versions, `keys`
    their content keys (enough to recognise a revert)."""
    facts = list(known)
    keys = list(keys)
    for index in range(len(known), len(documents)):
        document = documents[index]
        key = content_key(document)
        if index == 0:
            facts.append(VersionFacts(1, document.document.title, key))
        else:
            change = recorded[index] or compared(documents[index - 1], document)
            # A return to a version before the previous one: flip-flops are news.
            revert_of = next((k + 1 for k in range(len(keys) - 2, -1, -1) if keys[k] == key), None)
            facts.append(VersionFacts(index + 1, document.document.title, key, *change, revert_of))
        keys.append(key)
    return facts


def compared(old: Captured, new: Captured) -> tuple[ChangeStats, bool]:
    """The change between two versions whose commit did not record it."""
    a, b = as_version(old), as_version(new)
    stats = describe(a, b)
    return stats, stats.is_empty or is_minor(a, b)


def summary(facts: VersionFacts) -> str:
    """One line on what a change did, e.g. "headline changed; 2 sentences added; +120/−4"."""
    return "first version" if facts.stats is None else facts.stats.summary()

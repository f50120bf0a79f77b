"""The archive format, in one place: article paths, commit messages and their trailers.

docs/archive-format.md describes exactly this module; tests/test_docs.py checks that every
key here is documented there. Anything written into or read from a commit message goes
through these names, so the format can be read, searched and changed in one file.

A commit message is a subject line (`<source>: <headline>`), an optional body, a blank line
and `Key: value` trailers, one per line, which `git log --format=%(trailers)` reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.diff import ChangeStats, Version, describe, is_minor
from archiver.errors import InvalidURL
from archiver.urls import SOURCE_NAME, article_id, slug

# --- article paths ----------------------------------------------------------------------------

ARTICLES_DIR = "articles"
# articles/<source>/<yyyy>/<mm>/<dd>/<slug>-<id>.md; anything else under articles/ is refused
# by the readers (the site turns only these into pages).
ARTICLE_PATH = re.compile(
    r"articles/(?P<source>[a-z0-9][a-z0-9_-]{0,39})/(?P<year>[0-9]{4})/(?P<month>0[1-9]|1[0-2])"
    r"/(?P<day>0[1-9]|[12][0-9]|3[01])/(?P<name>[a-z0-9][a-z0-9-]{0,100})\.md"
)
ARTICLE_SUFFIX = ".md"


def article_file(source: str, first_seen: datetime, name: str) -> str:
    """The path of the article `name` (`<slug>-<id>`) first seen at `first_seen`. A folder
    per day keeps folders small: every commit rewrites its article folder's tree."""
    return f"{ARTICLES_DIR}/{source}/{first_seen:%Y/%m/%d}/{name}{ARTICLE_SUFFIX}"


def article_path(source: str, first_seen: datetime, url: str) -> str:
    """The archive path of an article: articles/<source>/<yyyy>/<mm>/<dd>/<slug>-<id>.md."""
    if not SOURCE_NAME.match(source):
        raise InvalidURL(url, f"source name {source!r} is not a valid name")
    return article_file(source, first_seen, f"{slug(url)}-{article_id(url)}")


def is_article_file(path: str) -> bool:
    return path.startswith(ARTICLES_DIR + "/") and path.endswith(ARTICLE_SUFFIX)


# --- the site's pages of an article: the one URL scheme the site and the notifications share


def pages_folder(path: str) -> str | None:
    """`articles/<source>/<yyyy>/<mm>/<dd>/<slug>-<id>.md` → the folder of its pages on the
    site, relative to the site's root; None for a path that is not an article's."""
    if ARTICLE_PATH.fullmatch(path) is None:
        return None
    return path[: -len(ARTICLE_SUFFIX)]


def article_page(folder: str) -> str:
    """An article's main page: its latest text and the list of its versions."""
    return f"{folder}/index.html"


def version_page(folder: str, number: int) -> str:
    """The page of version `number`, which shows what it changed (an article with a single
    version has none: its text is on its main page)."""
    return f"{folder}/v{number}.html"


# --- commit messages ----------------------------------------------------------------------

COMMITTER = ("archiver", "archiver@archiver.invalid")
SUBJECT_MAX = 72


def subject_line(source: str, title: str) -> str:
    """`bbc: Red Wall Labour MPs want tougher message…`, at most SUBJECT_MAX characters."""
    subject = f"{source}: {title or 'untitled'}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def source_identity(source: str) -> tuple[str, str]:
    """Commits are authored by the source whose page changed."""
    return source, f"{source}@sources.archiver.invalid"


# --- trailers: every commit ---------------------------------------------------------------

URL = "Archiver-URL"
SOURCE = "Archiver-Source"
VERSION = "Archiver-Version"
STATUS = "Archiver-Status"
FETCHED = "Archiver-Fetched"
# --- versions
EXTRACTOR = "Archiver-Extractor"
PAGE_UPDATED = "Archiver-Page-Updated"
SIGNALS = "Archiver-Signals"
CHANGE = "Archiver-Change"
REVERT_OF = "Archiver-Revert-Of"
RULES = "Archiver-Rules"
REDIRECT = "Archiver-Redirect"
# --- removals, returns, reformats
EVENT = "Archiver-Event"
GONE_SINCE = "Archiver-Gone-Since"
# --- edits: NewsEdits-style counts
SENTENCES_ADDED = "Archiver-Sentences-Added"
SENTENCES_REMOVED = "Archiver-Sentences-Removed"
SENTENCES_EDITED = "Archiver-Sentences-Edited"
SENTENCES_MOVED = "Archiver-Sentences-Moved"
CHARS_ADDED = "Archiver-Chars-Added"
CHARS_REMOVED = "Archiver-Chars-Removed"
CHANGED_FIELDS = "Archiver-Changed-Fields"
# --- the response a commit was made from, kept in a WARC file (see "captures" below)
CAPTURE = "Archiver-Capture"
# --- history reformats: the commit of the version a reformat re-reads from its capture
REFORMAT_OF = "Archiver-Reformat-Of"
# --- a version made from a web archive's capture (import, backfill): where that capture was
ORIGIN = "Archiver-Origin"

# Values of CHANGE and EVENT.
CHANGE_NEW, CHANGE_EDIT, CHANGE_MINOR = "new", "edit", "minor"
EVENT_REMOVED, EVENT_RETURNED, EVENT_REFORMAT = "removed", "returned", "reformat"
# The current text written back after a version older than it was stored (an import or
# backfill of an earlier capture): not a version; readers order versions by FETCHED.
EVENT_RESTORED = "restored"

_COUNTS = {
    SENTENCES_ADDED: "sentences_added",
    SENTENCES_REMOVED: "sentences_removed",
    SENTENCES_EDITED: "sentences_edited",
    SENTENCES_MOVED: "sentences_moved",
    CHARS_ADDED: "chars_added",
    CHARS_REMOVED: "chars_removed",
}
_FIELDS = ("title", "byline", "date", "body")

TRAILERS = (
    URL,
    SOURCE,
    VERSION,
    STATUS,
    FETCHED,
    EXTRACTOR,
    PAGE_UPDATED,
    SIGNALS,
    CHANGE,
    REVERT_OF,
    RULES,
    REDIRECT,
    EVENT,
    GONE_SINCE,
    *_COUNTS,
    CHANGED_FIELDS,
    CAPTURE,
    REFORMAT_OF,
    ORIGIN,
)


def stats_trailers(stats: ChangeStats) -> dict[str, str]:
    """A change's counts and changed fields as trailers (read back by read_stats)."""
    trailers = {key: str(getattr(stats, attr)) for key, attr in _COUNTS.items()}
    trailers[CHANGED_FIELDS] = ",".join(stats.changed_fields) or "none"
    return trailers


def read_stats(trailers: Mapping[str, str]) -> ChangeStats:
    """The inverse of stats_trailers. Keys match case-insensitively (as in git); missing
    counts read as 0. Raises ValueError on a malformed value."""
    lowered = {key.lower(): value.strip() for key, value in trailers.items()}
    counts: dict[str, int] = {}
    for key, attr in _COUNTS.items():
        value = int(lowered.get(key.lower(), "0"))
        if value < 0:
            raise ValueError(f"{key}: negative count {value}")
        counts[attr] = value
    raw = lowered.get(CHANGED_FIELDS.lower(), "none")
    names = set() if raw == "none" else {n.strip() for n in raw.split(",") if n.strip()}
    if unknown := names - set(_FIELDS):
        raise ValueError(f"{CHANGED_FIELDS}: unknown field(s) {sorted(unknown)}")
    flags = {f"{name}_changed": name in names for name in _FIELDS}
    values: dict[str, Any] = {**counts, **flags}
    return ChangeStats(**values)


def change_trailers(old: Version, new: Version) -> dict[str, str]:
    """How a version differs from the one before it, as a commit records it: minor or an
    edit, and NewsEdits-style counts (read back by read_change)."""
    trailers = {CHANGE: CHANGE_MINOR if is_minor(old, new) else CHANGE_EDIT}
    trailers.update(stats_trailers(describe(old, new)))
    return trailers


def read_change(trailers: Mapping[str, str]) -> tuple[ChangeStats, bool] | None:
    """The change a commit's trailers record, as (counts, minor); None when they record
    none or cannot be read, and the change must then be computed from the texts."""
    kind = trailers.get(CHANGE)
    if kind not in (CHANGE_MINOR, CHANGE_EDIT) or CHANGED_FIELDS not in trailers:
        return None
    try:
        stats = read_stats(trailers)
    except ValueError:
        return None
    return stats, kind == CHANGE_MINOR or stats.is_empty


# --- captures: the responses versions were made from, in WARC files beside git -----------

CAPTURES_DIR = "captures"  # git-ignored: WARC files are large, binary, and not history
# captures/<yyyy>/<mm>/<dd>/<source>-<run stamp>[-<n>].warc.gz: the day and stamp (UTC) of
# the run that wrote it; -<n> for the next file of a run (rotated at a size limit) or of a
# run whose name was taken. Nothing else is read, so no trailer can name a file elsewhere.
CAPTURE_PATH = re.compile(
    r"captures/(?P<year>[0-9]{4})/(?P<month>0[1-9]|1[0-2])/(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"/(?P<source>[a-z0-9][a-z0-9_-]{0,39})-(?P<stamp>[0-9]{8}T[0-9]{6}Z)"
    r"(?:-(?P<n>[1-9][0-9]{0,5}))?\.warc\.gz"
)
RECORD_ID = re.compile(r"<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>")
PAYLOAD_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
RUN_STAMP = "%Y%m%dT%H%M%SZ"


def capture_file(source: str, run: datetime, n: int = 0) -> str:
    """The archive path of the `n`th capture file (from 0) of a run started at `run`."""
    if not SOURCE_NAME.match(source):
        raise ValueError(f"source name {source!r} is not a valid name")
    suffix = f"-{n}" if n else ""
    return f"{CAPTURES_DIR}/{run:%Y/%m/%d}/{source}-{run:{RUN_STAMP}}{suffix}.warc.gz"


@dataclass(frozen=True)
class CaptureRef:
    """Where a version's response is: a capture file (relative to the archive), the
    WARC-Record-ID of its response (or revisit) record, and the sha256 of the record's
    payload (the HTTP body as served, content-encoding kept) as `sha256:<hex>`."""

    path: str
    record_id: str
    digest: str

    def __post_init__(self) -> None:
        if not CAPTURE_PATH.fullmatch(self.path):
            raise ValueError(f"{CAPTURE}: not a capture file path: {self.path[:200]!r}")
        if not RECORD_ID.fullmatch(self.record_id):
            raise ValueError(f"{CAPTURE}: not a WARC record id: {self.record_id[:200]!r}")
        if not PAYLOAD_DIGEST.fullmatch(self.digest):
            raise ValueError(f"{CAPTURE}: not a sha256:<hex> digest: {self.digest[:200]!r}")

    @property
    def hexdigest(self) -> str:
        return self.digest.removeprefix("sha256:")


def capture_trailer(ref: CaptureRef) -> dict[str, str]:
    """The trailer naming a version's capture (read back by read_capture)."""
    return {CAPTURE: f"{ref.path} {ref.record_id} {ref.digest}"}


def read_capture(trailers: Mapping[str, str]) -> CaptureRef | None:
    """The capture a commit names, None when it names none. Keys match case-insensitively
    (as in git). Raises ValueError on a malformed value, a path outside captures/ included."""
    wanted = CAPTURE.lower()
    value = next((v for k, v in trailers.items() if k.lower() == wanted), None)
    if value is None:
        return None
    parts = value.split()
    if len(parts) != 3:
        raise ValueError(f"{CAPTURE}: expected '<path> <record-id> sha256:<hex>', got {value!r}")
    return CaptureRef(*parts)


# --- origins: where a version's capture came from, when not from a fetch of the page ------

_ORIGINAL_MODIFIER = re.compile(r"/([0-9]{4,14})id_/")
ORIGIN_RECORD = re.compile(r"(?P<file>\S.*?) (?P<record><[^<>\s]{1,200}>)")


@dataclass(frozen=True)
class Origin:
    """A capture made elsewhere: a record of a WARC or WACZ file (its name, never the
    folder it was read from, and the record id), or a replay server's capture URL."""

    file: str = ""  # "crawl.warc.gz", "export.wacz/archive/data.warc.gz"
    record_id: str = ""
    url: str = ""  # https://web.archive.org/web/20240301061200id_/https://…

    @property
    def value(self) -> str:
        return self.url or f"{self.file} {self.record_id}"

    @property
    def holder(self) -> str:
        """Who holds the capture, as a reader is told: "the Internet Archive", a replay
        server's host, or the file's name."""
        if not self.url:
            return self.file
        host = self.url.split("/")[2] if self.url.count("/") >= 2 else self.url
        return "the Internet Archive" if host == "web.archive.org" else host

    @property
    def replay(self) -> str:
        """A server's capture as a reader browses it: its address without `id_`."""
        return _ORIGINAL_MODIFIER.sub(r"/\1/", self.url, count=1) if self.url else ""


def origin_trailer(origin: Origin) -> dict[str, str]:
    """The trailer naming where a version's capture came from (read back by read_origin)."""
    return {ORIGIN: origin.value}


def read_origin(trailers: Mapping[str, str]) -> Origin | None:
    """Where a commit's capture came from, None for a version fetched by archiver itself
    (or a value that cannot be read)."""
    value = trailers.get(ORIGIN, "").strip()
    if value.startswith(("http://", "https://")) and " " not in value:
        return Origin(url=value)
    if found := ORIGIN_RECORD.fullmatch(value):
        return Origin(file=found["file"], record_id=found["record"])
    return None

"""The library API of the commands that read articles: finding one by the name a user
gives it, searching titles and URLs, an article's versions and their diffs."""

from __future__ import annotations

import difflib
import subprocess
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from archiver.archive import Archive
from archiver.errors import ArchiverError, UnknownArticle, UnknownVersion
from archiver.site.model import Captured, article_log, compared, load_document
from archiver.site.views import Comparison, comparison
from archiver.store import format as trailer
from archiver.store.document import parse_document
from archiver.store.history import BlobReader, Version, article_versions, read_blob
from archiver.store.state import ArticleState
from archiver.urls import canonical_url

SHOWN_CANDIDATES = 3  # of an ambiguous name, in its error line


@dataclass(frozen=True)
class VersionSummary:
    number: int
    sha: str
    when: datetime
    title: str
    chars_added: int
    chars_removed: int
    origin: str = ""  # for a version from a web archive: "from <holder>, captured <time>"
    link: str = ""  # the capture on its replay server, when there is one


def find_article(archive: Archive, name: str) -> ArticleState:
    """The tracked article `name` names: its URL, its file's path (in the archive, or from
    the current folder), its file name or slug, or a part of its URL no other URL has.

    UnknownArticle when none does, or when several do (naming a few of them)."""
    text = name.strip().lower()
    if not text:
        raise UnknownArticle("no article given: name it by its URL, file path or slug")
    state = _by_url(archive, name) or _by_path(archive, name)
    if state is not None:
        return state
    everything = list(archive.state.all())
    matches = [a for a in everything if _slug_matches(a.path, text)] or [
        a for a in everything if text in a.url.lower()
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        why = held_reason(archive, name) if "://" in name else ""
        raise UnknownArticle(
            f"{name}: not tracked in {archive.root}{why or ' (no URL, path or slug has it)'}"
        )
    shown = ", ".join(a.url for a in matches[:SHOWN_CANDIDATES])
    more = f" and {len(matches) - SHOWN_CANDIDATES} more" if len(matches) > SHOWN_CANDIDATES else ""
    raise UnknownArticle(
        f"{name}: matches {len(matches)} articles: {shown}{more}; give more of the URL"
    )


def held_reason(archive: Archive, url: str) -> str:
    """Why an untracked URL is not tracked, when the state store holds a verdict on it."""
    try:
        held = archive.state.held(canonical_url(url))
    except ArchiverError:
        return ""
    if held is None:
        return ""
    tries = f", {held.tries} times in a row" if held.tries > 1 else ""
    until = f"{held.until:%Y-%m-%d %H:%M} UTC"
    return f" ({held.kind}{tries}: {held.reason}; asked again after {until})"


def _by_url(archive: Archive, name: str) -> ArticleState | None:
    if "://" not in name:
        return None
    try:
        return archive.state.get(canonical_url(name))
    except ArchiverError:  # not a URL we could have stored: try the other ways
        return None


def _by_path(archive: Archive, name: str) -> ArticleState | None:
    """By the article file's path, relative to the archive or to the current folder."""
    if not name.endswith(".md"):
        return None
    candidates = {PurePosixPath(name).as_posix()}
    with suppress(ValueError):  # a path outside the archive
        candidates.add(Path(name).resolve().relative_to(archive.root).as_posix())
    wanted = {c for c in candidates if c.startswith("articles/")}
    return next((a for a in archive.state.all() if a.path in wanted), None) if wanted else None


def _slug_matches(path: str, text: str) -> bool:
    """Whether `text` is the article's file name, its stem, or the slug before its id."""
    file = PurePosixPath(path)
    return text in (file.name, file.stem, file.stem.rpartition("-")[0])


@dataclass(frozen=True)
class Match:
    """An article `find` found, with its current title."""

    state: ArticleState
    title: str


def find(archive: Archive, text: str) -> list[Match]:
    """Articles whose current title or URL contains `text` (case-insensitive), those first
    seen most recently first."""
    needle = " ".join(text.split()).lower()
    if not needle:
        raise ArchiverError("find: give some text to look for in titles and URLs")
    by_title = _paths_with_title(archive, needle)
    candidates = [a for a in archive.state.all() if needle in a.url.lower() or a.path in by_title]
    titles = _titles(archive, candidates)
    found = [
        Match(a, titles.get(a.path, ""))
        for a in candidates
        if needle in a.url.lower() or needle in titles.get(a.path, "").lower()
    ]
    found.sort(key=lambda m: (m.state.first_seen, m.state.url), reverse=True)
    return found


def _paths_with_title(archive: Archive, needle: str) -> set[str]:
    """Article files at HEAD with `needle` on their title line, found by git grep: an
    archive of many thousands of articles is searched in C, not read into Python."""
    done = subprocess.run(
        ["git", "grep", "-i", "-I", "--name-only", "-e", "^title: ", "--and", "-e",
         _basic_regex(needle), "HEAD", "--", "articles/"],
        cwd=archive.root,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    return {line.partition(":")[2] for line in done.stdout.splitlines()}  # "HEAD:path"


def _basic_regex(text: str) -> str:
    """`text` as a POSIX basic regular expression matching it literally."""
    return "".join("\\" + c if c in ".[]*^$\\" else c for c in text)


def _titles(archive: Archive, articles: list[ArticleState]) -> dict[str, str]:
    """The current title of each article (its file at HEAD)."""
    with BlobReader(archive.repo.git_dir) as reader:
        texts = {a.path: reader.read(f"HEAD:{a.path}") for a in articles}
    return {
        path: parse_document(data.decode("utf-8")).title for path, data in texts.items() if data
    }


def _article_path(archive: Archive, name: str) -> tuple[str, str]:
    state = find_article(archive, name)
    return state.url, state.path


def versions(archive: Archive, url: str) -> list[Version]:
    url, path = _article_path(archive, url)
    found = article_versions(archive.repo, path)
    if not found:
        raise UnknownArticle(f"{url}: no stored versions")
    return found


def log(archive: Archive, url: str) -> list[VersionSummary]:
    """Each version with its title and how many characters it added and removed: the
    site's counts for a change it shows, a word count of the text for the others (the
    first version, a removal)."""
    summaries, previous = [], ""
    found = versions(archive, url)
    counts = _site_counts(archive, find_article(archive, url).path)
    for version in found:
        text = read_blob(archive.repo, version.blob) if version.blob else ""
        added, removed = counts.get(version.sha) or char_delta(previous, text)
        title = parse_document(text).title if text else "(removed)"
        origin = trailer.read_origin(version.trailers)
        summaries.append(
            VersionSummary(
                version.number,
                version.sha,
                version.when,
                title,
                added,
                removed,
                f"from {origin.holder}, captured {version.when:%Y-%m-%d %H:%M}" if origin else "",
                origin.replay if origin else "",
            )
        )
        previous = text
    return summaries


@dataclass(frozen=True)
class Difference:
    """Two versions of an article compared exactly as the site compares them."""

    url: str
    old: int  # version numbers, as the site numbers them
    new: int
    old_when: int  # commit times, unix seconds
    new_when: int
    comparison: Comparison


def diff(archive: Archive, name: str, a: int | None = None, b: int | None = None) -> Difference:
    """Versions `a` and `b` (default: the last two) of an article: the site's rows and
    counts, from the same diff (a version page's counts are its commit's, as there)."""
    state = find_article(archive, name)
    refs = article_log(archive.repo, state.path, lambda message: None).versions
    if not refs:
        raise UnknownArticle(f"{state.url}: no stored versions")
    b = len(refs) if b is None else b
    a = max(1, b - 1) if a is None else a
    for number in (a, b):
        if not 1 <= number <= len(refs):
            raise UnknownVersion(f"{state.url}: no version {number} (it has {len(refs)})")
    old, new = refs[a - 1], refs[b - 1]
    with BlobReader(archive.repo.git_dir) as reader:
        data = reader.read_many([old.blob, new.blob])
    documents = [
        Captured(
            load_document(data[ref.blob], f"{state.path}@{ref.blob[:10]}", _no_warning), ref.updated
        )
        for ref in (old, new)
    ]
    recorded = new.change if b == a + 1 else None
    shown = comparison(documents[0], documents[1], recorded)
    return Difference(state.url, a, b, old.when, new.when, shown)


def _site_counts(archive: Archive, path: str) -> dict[str, tuple[int, int]]:
    """commit → (characters added, removed) as the site's page of that change says."""
    refs = article_log(archive.repo, path, _no_warning).versions
    with BlobReader(archive.repo.git_dir) as reader:
        data = reader.read_many(ref.blob for ref in refs)
    shown = [Captured(load_document(data[r.blob], path, _no_warning), r.updated) for r in refs]
    counts = {}
    for index in range(1, len(refs)):
        stats, _ = refs[index].change or compared(shown[index - 1], shown[index])
        counts[refs[index].sha] = (stats.chars_added, stats.chars_removed)
    return counts


def _no_warning(message: str) -> None:
    """An unreadable version is shown as an empty one, as on the site."""


def char_delta(old: str, new: str) -> tuple[int, int]:
    """Characters added and removed between two texts, by a word-level diff."""
    a, b = old.split(), new.split()
    added = removed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += sum(len(w) + 1 for w in a[i1:i2])
        if op in ("insert", "replace"):
            added += sum(len(w) + 1 for w in b[j1:j2])
    return added, removed

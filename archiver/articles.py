"""The library API of the commands that read one article: its versions and their diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from .archive import Archive
from .document import parse_document
from .errors import UnknownArticle
from .history import Version, article_versions, pick_version, read_blob
from .urls import canonical_url


@dataclass(frozen=True)
class VersionSummary:
    number: int
    sha: str
    when: datetime
    title: str
    chars_added: int
    chars_removed: int


def _article_path(archive: Archive, url: str) -> tuple[str, str]:
    url = canonical_url(url)
    state = archive.state.get(url)
    if state is None:
        raise UnknownArticle(f"{url}: not tracked in {archive.root}")
    return url, state.path


def versions(archive: Archive, url: str) -> list[Version]:
    url, path = _article_path(archive, url)
    found = article_versions(archive.repo, path)
    if not found:
        raise UnknownArticle(f"{url}: no stored versions")
    return found


def log(archive: Archive, url: str) -> list[VersionSummary]:
    """Each version with its title and how many characters it added and removed."""
    summaries, previous = [], ""
    for version in versions(archive, url):
        text = read_blob(archive.repo, version.blob) if version.blob else ""
        added, removed = char_delta(previous, text)
        title = parse_document(text).title if text else "(removed)"
        summaries.append(
            VersionSummary(version.number, version.sha, version.when, title, added, removed)
        )
        previous = text
    return summaries


def diff(archive: Archive, url: str, a: int | None = None, b: int | None = None) -> str:
    """A unified diff of two versions (default: the last two) of the article file."""
    found = versions(archive, url)
    b = b if b is not None else found[-1].number
    a = a if a is not None else max(1, b - 1)
    old, new = pick_version(found, a, url), pick_version(found, b, url)
    old_text = read_blob(archive.repo, old.blob) if old.blob else ""
    new_text = read_blob(archive.repo, new.blob) if new.blob else ""
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"version {a} ({old.when:%Y-%m-%d %H:%M} UTC)",
        tofile=f"version {b} ({new.when:%Y-%m-%d %H:%M} UTC)",
    )
    return "".join(lines)


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

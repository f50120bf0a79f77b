"""Rebuilding the state store from git history alone, in one pass."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .history import iter_commits
from .schedule import next_check
from .state import ArticleState

if TYPE_CHECKING:
    from .archive import Archive


def rebuild_state(archive: Archive) -> int:
    """Recreate every article's record from commit trailers; returns the article count."""
    articles: dict[str, ArticleState] = {}
    for commit in iter_commits(archive.repo):
        change = commit.article_change()
        url = commit.url
        if change is None or url is None:
            continue
        previous = articles.get(url)
        article = previous or ArticleState(
            url=url,
            source=commit.trailers.get("Archiver-Source", ""),
            path=change.path,
            first_seen=commit.when,
        )
        event = commit.trailers.get("Archiver-Event", "")
        blobs = article.blobs
        if change.new_blob and event == "reformat":
            blobs = (*blobs[:-1], change.new_blob)
        elif change.new_blob and change.new_blob not in blobs[-1:]:
            blobs = (*blobs, change.new_blob)
        articles[url] = article.update(
            blobs=blobs,
            rules=commit.trailers.get("Archiver-Rules", article.rules),
            path=change.path,
            last_checked=commit.when,
            last_changed=commit.when,
            versions=commit.version or article.versions,
            blob=change.new_blob or article.blob,
            removed=event == "removed" or change.new_blob is None,
            signals=frozenset(
                s for s in commit.trailers.get("Archiver-Signals", "").split(",") if s
            ),
        )
    now = archive.clock.now()
    state = archive._state
    assert state is not None
    state.put_many(
        a.update(
            next_check=next_check(
                now, a.last_changed or a.first_seen, archive.config.source(a.source).schedule
            )
        )
        for a in articles.values()
    )
    state.set_meta("rebuilt_at", archive.repo.head.commit.hexsha)
    state.commit()
    return len(articles)

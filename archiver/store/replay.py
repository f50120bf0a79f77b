"""Keeping the state store in step with git, the single source of truth for content.

`rebuild_state` recreates the store from history in one pass when it is missing;
`catch_up` replays the commits a killed run published before it could record them, so a
run never stores a change twice. Both refill the captured responses later identical
payloads are revisits of, from the commits' capture trailers: known by ref alone until a
revisit needs the target URI and date its record holds (capture.recorder reads them).
"""

from __future__ import annotations

from collections.abc import Callable

import git

from archiver.clock import Clock
from archiver.config import Config
from archiver.schedule import next_check
from archiver.store import format as trailer
from archiver.store.captures import Captured
from archiver.store.history import CommitRecord, head_commit, is_ancestor, iter_commits
from archiver.store.state import ArticleState, StateStore

HEAD_KEY = "head"  # the commit the state store has recorded everything up to


def rebuild_state(repo: git.Repo, state: StateStore, config: Config, clock: Clock) -> int:
    """Recreate every article's record from commit trailers; returns the article count."""
    articles, captured = _replay(repo, None, lambda url: None)
    _save(repo, state, config, clock, articles, captured)
    return len(articles)


def catch_up(repo: git.Repo, state: StateStore, config: Config, clock: Clock) -> int:
    """Record the commits published since the store last recorded one; returns how many
    articles they touched."""
    recorded, head = state.meta(HEAD_KEY), head_commit(repo)
    if recorded == head:
        return 0
    if recorded is None or head is None or not is_ancestor(repo, recorded, head):
        # History was rewritten: start again from git.
        return rebuild_state(repo, state, config, clock)
    articles, captured = _replay(repo, recorded, state.get)
    _save(repo, state, config, clock, articles, captured)
    return len(articles)


def _replay(
    repo: git.Repo, since: str | None, known: Callable[[str], ArticleState | None]
) -> tuple[dict[str, ArticleState], list[tuple[str, Captured]]]:
    """The articles the commits touch, as they leave them, and the captures they name."""
    articles: dict[str, ArticleState] = {}
    captured: list[tuple[str, Captured]] = []
    for commit in iter_commits(repo, since=since):
        url = commit.url
        if url is None or commit.article_change() is None:
            continue
        articles[url] = _apply(articles.get(url) or known(url), commit)
        if (ref := _capture_ref(commit)) is not None:
            captured.append((url, Captured(ref, uri="", date="")))
    return articles, captured


def _capture_ref(commit: CommitRecord) -> trailer.CaptureRef | None:
    try:
        return trailer.read_capture(commit.trailers)
    except ValueError:  # a trailer that names no capture it can: none to revisit
        return None


def _apply(article: ArticleState | None, commit: CommitRecord) -> ArticleState:
    change = commit.article_change()
    assert change is not None and commit.url is not None
    article = article or ArticleState(
        url=commit.url,
        source=commit.trailers.get(trailer.SOURCE, ""),
        path=change.path,
        first_seen=commit.when,
    )
    event = commit.trailers.get(trailer.EVENT, "")
    blobs = article.blobs
    if change.new_blob and event == "reformat":
        blobs = (*blobs[:-1], change.new_blob)
    elif change.new_blob and change.new_blob not in blobs[-1:]:
        blobs = (*blobs, change.new_blob)
    signals = commit.trailers.get(trailer.SIGNALS, "")
    return article.update(
        blobs=blobs,
        rules=commit.trailers.get(trailer.RULES, article.rules),
        path=change.path,
        last_checked=commit.when,
        last_changed=commit.when,
        versions=commit.version or article.versions,
        blob=change.new_blob or article.blob,
        removed=event == "removed" or change.new_blob is None,
        gone_since=None,
        failures=0,
        signals=frozenset(s for s in signals.split(",") if s) if signals else article.signals,
    )


def _save(
    repo: git.Repo,
    state: StateStore,
    config: Config,
    clock: Clock,
    articles: dict[str, ArticleState],
    captured: list[tuple[str, Captured]],
) -> None:
    now = clock.now()
    state.put_many(
        a.update(
            next_check=next_check(
                now, a.last_changed or a.first_seen, config.source(a.source).schedule
            )
        )
        for a in articles.values()
    )
    # Oldest first: an article's first capture of a payload is the response later ones name
    # (one the store already knows is kept as it is).
    for url, capture in captured:
        state.add_captured(url, capture)
    state.set_meta(HEAD_KEY, head_commit(repo) or "")
    state.commit()

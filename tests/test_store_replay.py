"""The state store replayed from git alone: a repository, a store, the config and a clock,
with no opened archive (the replay sits below `archiver.archive`)."""

from __future__ import annotations

from pathlib import Path

from archiver.archive import Archive
from archiver.clock import FixedClock
from archiver.store.history import head_commit
from archiver.store.replay import HEAD_KEY, catch_up, rebuild_state
from archiver.store.state import StateStore
from archiver.sync import add

from .conftest import START
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR


def test_a_store_rebuilt_from_git_alone_matches_the_one_the_runs_kept(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    server.set("/news/bridge", article_html("Old bridge to close", BRIDGE))
    server.set("/news/harbour", article_html("Harbour reopens", HARBOUR))
    add(archive, [server.url("/news/bridge"), server.url("/news/harbour")])
    server.set("/news/bridge", article_html("Old bridge to close for repairs", BRIDGE_EDITED))
    add(archive, [server.url("/news/bridge")])
    kept = {a.url: (a.path, a.versions, a.blobs) for a in archive.state.all()}

    store = StateStore(tmp_path / "state.db", START)
    assert rebuild_state(archive.repo, store, archive.config, FixedClock(START)) == 2
    rebuilt = {a.url: (a.path, a.versions, a.blobs) for a in store.all()}
    assert rebuilt == kept
    assert kept[server.url("/news/bridge")][1] == 2
    assert store.meta(HEAD_KEY) == head_commit(archive.repo)
    assert catch_up(archive.repo, store, archive.config, FixedClock(START)) == 0

    # A change published after the store last recorded one is caught up, and only it.
    server.set(
        "/news/harbour",
        article_html(
            "Harbour reopens at last",
            [*HARBOUR, "Ferries will run again from Monday, the harbour office said today."],
        ),
    )
    add(archive, [server.url("/news/harbour")])
    assert catch_up(archive.repo, store, archive.config, FixedClock(START)) == 1
    assert store.get(server.url("/news/harbour")).versions == 2  # type: ignore[union-attr]
    assert store.meta(HEAD_KEY) == head_commit(archive.repo)
    store.close()

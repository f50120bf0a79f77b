"""A run killed at any moment leaves a repository git accepts, and the next run carries on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from archiver.archive import Archive
from archiver.store.history import iter_commits
from archiver.sync import add

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import HARBOUR

ARTICLES = 40


def _pages(server: NewsServer, edition: int, delay: float = 0.05) -> list[str]:
    urls = []
    for n in range(ARTICLES):
        paragraphs = [f"{p} Edition {edition} of story {n}." for p in HARBOUR]
        page = article_html(f"Story {n}, edition {edition}", paragraphs)
        server.set(f"/story/{n}", page, delay=delay)  # a run long enough to be stopped midway
        urls.append(server.url(f"/story/{n}"))
    return urls


def _sync(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "sync", "--all", "--archive", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_killed_syncs_leave_a_valid_repository(archive: Archive, server: NewsServer):
    add(archive, _pages(server, 0))
    root = archive.root
    archive.close()
    for edition, delay in enumerate([0.3, 0.8, 1.3, 1.9, 2.6], start=1):
        _pages(server, edition)
        process = _sync(root)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        git(root, "fsck", "--strict", "--no-dangling")
        finish = _sync(root)
        assert finish.wait(timeout=120) in (0, 1)
        git(root, "fsck", "--strict", "--no-dangling")
        assert git(root, "status", "--porcelain") == ""

    reopened = Archive.open(root)
    versions: dict[str, list[int]] = {}
    for commit in iter_commits(reopened.repo):
        if commit.url:
            versions.setdefault(commit.url, []).append(commit.version or 0)
    assert len(versions) == ARTICLES
    for numbers in versions.values():
        assert numbers == list(range(1, 7)), numbers  # every edition once, none twice
    for url, numbers in versions.items():
        text = (root / reopened.state.get(url).path).read_text()
        assert "edition 5" in text and len(numbers) == 6
    reopened.close()


def test_interrupt_stops_cleanly_and_keeps_what_was_captured(archive: Archive, server: NewsServer):
    add(archive, _pages(server, 0))
    root = archive.root
    archive.close()
    _pages(server, 1, delay=0.25)
    before = len(server.requests)
    process = _sync(root)
    while len(server.requests) < before + 10:  # the run is under way
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)
    status, stderr = process.wait(timeout=60), process.stderr.read().decode()  # type: ignore[union-attr]
    assert status == 130, stderr
    assert "interrupted; every change captured before is stored" in stderr
    git(root, "fsck", "--strict", "--no-dangling")
    assert git(root, "status", "--porcelain") == ""
    stored = sum(1 for c in iter_commits(Archive.open(root).repo) if c.version == 2)
    assert _sync(root).wait(timeout=120) == 0
    after = sum(1 for c in iter_commits(Archive.open(root).repo) if c.version == 2)
    assert after == ARTICLES >= stored


def test_commits_a_killed_run_could_not_record_are_never_stored_twice(
    archive: Archive, server: NewsServer
):
    """A run killed after git published its commits but before the state store recorded
    them: the next run replays those commits instead of storing the changes again."""
    urls = _pages(server, 0, delay=0)
    add(archive, urls)
    root, clock = archive.root, archive.clock
    archive.close()
    db = root / ".archiver" / "state.db"
    before = db.read_bytes()
    _pages(server, 1, delay=0)
    assert _sync(root).wait(timeout=120) == 0
    for suffix in ("-wal", "-shm"):
        (root / f".archiver/state.db{suffix}").unlink(missing_ok=True)
    db.write_bytes(before)  # the store as it was before that run recorded anything

    reopened = Archive.open(root, clock)
    assert _sync(root).wait(timeout=120) == 0
    versions = [c.version for c in iter_commits(reopened.repo) if c.url]
    assert sorted(versions) == [1] * ARTICLES + [2] * ARTICLES
    assert reopened.state.get(urls[0]).versions == 2
    reopened.close()

"""A sync stopped by a signal sent to its main process alone (`timeout`, systemd, a container
stop, `kill -9`) leaves no worker behind and no lock held, and the next run carries on."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.store.history import iter_commits
from archiver.sync import add

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import HARBOUR

ARTICLES = 40


def _pages(server: NewsServer, edition: int, delay: float) -> list[str]:
    urls = []
    for n in range(ARTICLES):
        paragraphs = [f"{p} Edition {edition} of story {n}." for p in HARBOUR]
        server.set(
            f"/story/{n}", article_html(f"Story {n}, edition {edition}", paragraphs), delay=delay
        )
        urls.append(server.url(f"/story/{n}"))
    return urls


def _sync(root: Path) -> subprocess.Popen[bytes]:
    # Its own process group, so that the test can find its workers once it is gone; stderr
    # to a file, which a worker left behind could not keep the test waiting on.
    with (root.parent / "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "archiver", "sync", "--all", "--archive", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def _stderr(root: Path) -> str:
    return (root.parent / "stderr").read_text()


def _started(
    root: Path, server: NewsServer, groups: list[int]
) -> tuple[subprocess.Popen[bytes], int]:
    """A sync of slow pages, well under way: some answers are in, most are not."""
    before = len(server.requests)
    process = _sync(root)
    groups.append(process.pid)
    deadline = time.monotonic() + 60
    while len(server.requests) < before + 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.6)  # the first answers are extracted and written
    return process, before


def _group(pgid: int) -> list[int]:
    """The processes alive in a process group, from /proc."""
    return _processes(lambda ppid, pgrp: pgrp == pgid)


def _children(parent: int) -> list[int]:
    """The processes a process started (its workers, and git in sessions of its own)."""
    return _processes(lambda ppid, pgrp: ppid == parent)


def _processes(match: Callable[[int, int], bool]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
        if match(int(fields[1]), int(fields[2])) and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _no_group_within(pgid: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def groups() -> Iterator[list[int]]:
    """Process groups the test started: whatever is left of them is ended afterwards."""
    started: list[int] = []
    yield started
    for pgid in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def _versions(root: Path) -> dict[str, list[int]]:
    with Archive.open(root) as reopened:
        versions: dict[str, list[int]] = {}
        for commit in iter_commits(reopened.repo):
            if commit.url:
                versions.setdefault(commit.url, []).append(commit.version or 0)
        return versions


def _archive_of_slow_pages(archive: Archive, server: NewsServer) -> Path:
    add(archive, _pages(server, 0, delay=0))
    archive.close()
    _pages(server, 1, delay=0.25)
    return archive.root


@pytest.mark.parametrize("to_group", [False, True], ids=["main process", "process group"])
def test_terminated_sync_stops_cleanly_and_releases_the_lock(
    archive: Archive, server: NewsServer, groups: list[int], to_group: bool
):
    root = _archive_of_slow_pages(archive, server)
    process, _ = _started(root, server, groups)
    if to_group:  # as `timeout` and systemd do
        os.killpg(process.pid, signal.SIGTERM)
    else:  # as `docker stop` does
        os.kill(process.pid, signal.SIGTERM)
    status, stderr = process.wait(timeout=60), _stderr(root)

    assert status == 143, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == ["error: interrupted; every change captured before is stored"], stderr
    assert _no_group_within(process.pid, 5) == []  # no worker left behind
    with Archive.open(root) as reopened, reopened.writing():  # the lock is free
        stored = {a.url: a.versions for a in reopened.state.all()}
    git(root, "fsck", "--strict", "--no-dangling")
    assert git(root, "status", "--porcelain") == ""
    versions = _versions(root)
    assert 0 < sum(2 in v for v in versions.values()) < ARTICLES  # stopped midway
    assert stored == {url: len(v) for url, v in versions.items()}  # what git has is recorded

    finish = _sync(root)
    assert finish.wait(timeout=120) == 0, _stderr(root)
    assert all(v == [1, 2] for v in _versions(root).values())


def test_killed_sync_leaves_no_worker_and_the_next_run_takes_the_lock(
    archive: Archive, server: NewsServer, groups: list[int]
):
    root = _archive_of_slow_pages(archive, server)
    process, _ = _started(root, server, groups)
    children = _children(process.pid)
    os.kill(process.pid, signal.SIGKILL)  # the main process only
    process.wait(timeout=10)

    assert _no_group_within(process.pid, 5) == []  # the workers died with it
    deadline = time.monotonic() + 5
    while (
        alive := set(children) & set(_processes(lambda *_: True))
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive == set()  # and git's processes too
    git(root, "fsck", "--strict", "--no-dangling")
    finish = _sync(root)
    status, stderr = finish.wait(timeout=120), _stderr(root)
    assert status == 0, stderr
    assert all(v == [1, 2] for v in _versions(root).values())
    logs = "".join(p.read_text() for p in (root / ".archiver" / "logs").glob("sync-*.log"))
    assert f"pid {process.pid}" in logs  # the next run said it took over the lock left behind


# A program that opens and ends forked pools the way the commands do (under their SIGTERM
# handler), printing what a worker's signals are set to and how many pools it got through.
_POOLS = """
import signal, sys
from archiver.processes import forked_pool, terminate_stops

def dispositions(_):
    term, interrupt = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    return term == signal.SIG_DFL, interrupt == signal.SIG_IGN

with terminate_stops():
    with forked_pool(2) as pool:
        print(*pool.map(dispositions, range(4)))
    for n in range(int(sys.argv[1])):
        with forked_pool(2) as pool:
            assert sorted(pool.imap_unordered(abs, range(-n % 5))) == list(range(-n % 5))
print("ended", n + 1)
"""


def test_forked_pools_end_under_the_commands_sigterm_handler() -> None:
    """A pool ends its workers with SIGTERM; a worker that kept the command's Python handler
    could miss it just before blocking on the pool's queue and hold the pool's end forever
    (it did, once in some tens of pools). The workers keep no handler of their parent's."""
    ended = subprocess.run(
        [sys.executable, "-c", _POOLS, "300"], capture_output=True, text=True, timeout=120
    )
    assert ended.returncode == 0, ended.stderr
    assert ended.stdout.split("\n")[:2] == [" ".join(["(True, True)"] * 4), "ended 300"]

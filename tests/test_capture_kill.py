"""`kill -9` of a real `archiver sync` writing captures: no commit names a record that is
not fully on disk, every WARC file reads up to its last complete record (a torn member at
its end included), and the next run carries on in a file of its own."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.store import format as archive_format
from archiver.store.captures import CaptureReader, capture_files
from archiver.store.history import iter_commits
from archiver.verify import verify

from .conftest import git
from .newsserver import NewsServer
from .test_captures import WARCIO
from .test_lifecycle import (
    ARTICLES,
    _archive_of_slow_pages,
    _no_group_within,
    _started,
    _stderr,
    _sync,
    _versions,
    groups,  # noqa: F401  (the fixture)
)


def _named_refs(root: Path) -> list[archive_format.CaptureRef]:
    with Archive.open(root) as reopened:
        commits = [c for c in iter_commits(reopened.repo) if c.url]
    refs = [archive_format.read_capture(c.trailers) for c in commits]
    assert all(refs), "a version without a capture"
    return [r for r in refs if r]


def _warcio_check(paths: list[Path]) -> None:
    done = subprocess.run([str(WARCIO), "check", *map(str, paths)], capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _records_before_the_tear(path: Path) -> int:
    """How many records warcio reads from the file before it meets the torn member."""
    from warcio.archiveiterator import ArchiveIterator

    count = 0
    with path.open("rb") as stream:
        try:
            for _ in ArchiveIterator(stream):
                count += 1
        except Exception:  # the torn member: warcio stops there
            pass
    return count


@pytest.mark.parametrize("after", [0.3, 1.2])
def test_kill_9_leaves_every_named_capture_on_disk(
    archive: Archive,
    server: NewsServer,
    groups: list[int],  # noqa: F811  (the fixture, imported)
    after: float,
) -> None:
    root = _archive_of_slow_pages(archive, server)
    process, _ = _started(root, server, groups)
    time.sleep(after)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert _no_group_within(process.pid, 5) == []
    git(root, "fsck", "--strict", "--no-dangling")

    # Every commit on the branch names a record that is there, whole, with its digest.
    refs = _named_refs(root)
    reader = CaptureReader(root)
    for ref in refs:
        assert reader.read(ref).status == 200
    versions = _versions(root)
    assert sum(2 in v for v in versions.values()) < ARTICLES  # it was killed midway
    files = [root / p for p in capture_files(root)]
    assert all(not reader.records(p.relative_to(root).as_posix()).error for p in files)
    _warcio_check(files)

    # A write torn by a crash: half a gzip member at the end of the killed run's file.
    killed = files[-1]
    member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + os.urandom(4000))
    with killed.open("ab") as out:
        out.write(member[: len(member) // 2])
    whole = len(CaptureReader(root).records(killed.relative_to(root).as_posix()).offsets)
    assert _records_before_the_tear(killed) == whole  # warcio reads up to the tear

    finish = _sync(root)
    assert finish.wait(timeout=120) == 0, _stderr(root)
    assert all(v == [1, 2] for v in _versions(root).values())
    after_files = [root / p for p in capture_files(root)]
    assert killed in after_files and len(after_files) > len(files)  # a new file, not appended
    assert killed.read_bytes().endswith(member[: len(member) // 2])
    with Archive.open(root) as reopened:
        report = verify(reopened)
    assert report.problems == []
    assert report.backed == report.verified == report.versions == len(_named_refs(root))
    assert [n.split(":")[0] for n in report.notes] == [killed.relative_to(root).as_posix()]
    _warcio_check([p for p in after_files if p != killed])

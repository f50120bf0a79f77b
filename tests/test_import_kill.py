"""`kill -9` of a real import between checkpoints: the repository is valid, every commit
names a capture that is whole on disk, and importing the same file again takes up the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import app
from archiver.store.captures import CaptureReader, capture_files
from archiver.verify import verify

from .conftest import git
from .newsserver import article_html
from .test_capture_kill import _named_refs, _warcio_check
from .warcs import Record, at, write_warc

RECORDS = 240
BATCH = 16  # versions per checkpoint in the killed import: several before it is killed


def crawl() -> list[Record]:
    start = at("2024-03-01T06:00:00")
    return [
        Record(
            f"https://news.example.org/2024/03/01/story-{n}",
            start + timedelta(minutes=n),
            article_html(
                f"Story number {n} of the day",
                [f"Paragraph {p} of story {n}, long enough to be kept as text." for p in range(6)],
            ).encode(),
        )
        for n in range(RECORDS)
    ]


def _import(root: Path, warc: Path) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from pathlib import Path; from archiver.archive import Archive; "
        "from archiver.imports.files import import_files; "
        "archive = Archive.open(Path(sys.argv[1])); "
        f"import_files(archive, [Path(sys.argv[2])], batch={BATCH})"
    )
    with (root.parent / "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", code, str(root), str(warc)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def _commits(root: Path) -> int:
    done = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True
    )
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


def test_kill_9_of_an_import_leaves_a_valid_archive_and_the_next_import_finishes(
    archive: Archive, tmp_path: Path
) -> None:
    root = archive.root
    warc = write_warc(tmp_path / "crawl.warc.gz", crawl()).path
    before = _commits(root)
    archive.close()
    process = _import(root, warc)
    deadline = time.monotonic() + 120
    while _commits(root) < before + 2 * BATCH and time.monotonic() < deadline:
        assert process.poll() is None, (root.parent / "stderr").read_text()
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    git(root, "fsck", "--strict", "--no-dangling")

    refs = _named_refs(root)
    assert 2 * BATCH <= len(refs) < RECORDS  # killed midway, after checkpoints
    reader = CaptureReader(root)
    assert all(reader.read(ref).status == 200 for ref in refs)
    files = [root / p for p in capture_files(root)]
    assert all(not reader.records(p.relative_to(root).as_posix()).error for p in files)
    _warcio_check(files)

    result = CliRunner().invoke(app, ["import", str(warc), "--archive", str(root)])
    assert result.exit_code == 0, result.output
    assert len(_named_refs(root)) == RECORDS  # the rest, none twice
    with Archive.open(root) as reopened:
        report = verify(reopened)
    assert report.problems == []
    assert report.versions == RECORDS

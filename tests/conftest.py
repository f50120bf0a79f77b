"""Shared fixtures: real git archives in temporary folders, a real news site on loopback."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.archive import Archive, init_archive
from archiver.clock import FixedClock

from .newsserver import NewsServer

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SEED = CORPUS.parent / "seed"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[NewsServer]:
    with NewsServer() as news:
        yield news


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def configure(archive: Archive, **fetch: object) -> Archive:
    """Set [fetch] options in archiver.toml and reopen the archive."""
    path = archive.root / "archiver.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in fetch.items():
        text = re.sub(rf"(?m)^{key} = \S+", f"{key} = {value}", text)
    path.write_text(text, encoding="utf-8")
    git(archive.root, "commit", "-qm", "Configure fetching", "--", "archiver.toml")
    archive.close()
    return Archive.open(archive.root, archive.clock)


@pytest.fixture
def archive(tmp_path: Path, clock: FixedClock) -> Iterator[Archive]:
    # No delay between requests: every test page lives on one loopback host.
    opened = configure(init_archive(tmp_path / "archive", clock), min_delay=0)
    yield opened
    opened.close()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the corpus of real pages is absent ({CORPUS})")
    return CORPUS


def git(root: Path, *args: str) -> str:
    """Plain git, as a user without archiver would run it."""
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout

"""The commits written outside fast-import (creating an archive, editing its config) hold
exactly the files named, with the archive's identity, as git itself would write them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from archiver.archive import Archive, init_archive
from archiver.clock import FixedClock
from archiver.errors import ConfigError, NotAnArchive
from archiver.store.format import COMMITTER
from archiver.store.repository import commit_config, commit_files, open_repository

from .conftest import START, git


def _edit_config(root: Path) -> None:
    path = root / "archiver.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def _git_commit_only(root: Path, message: str) -> None:
    """The config commit as `git commit --only` makes it, with the archive's identity."""
    stamp = f"{int(START.timestamp())} +0000"
    name, email = COMMITTER
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
    env |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(
        ["git", "commit", "-q", "--only", "-m", message, "--", "archiver.toml"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def test_a_config_commit_is_the_one_git_commit_makes(tmp_path: Path) -> None:
    ours = init_archive(tmp_path / "ours", FixedClock(START))
    theirs = init_archive(tmp_path / "theirs", FixedClock(START))
    for archive in (ours, theirs):
        _edit_config(archive.root)
    assert commit_config(ours.root, "Add source daily", START)
    _git_commit_only(theirs.root, "Add source daily")
    assert git(ours.root, "rev-parse", "HEAD") == git(theirs.root, "rev-parse", "HEAD")
    assert git(ours.root, "status", "--porcelain") == ""


def test_a_config_commit_leaves_other_staged_changes_staged(archive: Archive) -> None:
    (archive.root / "notes.txt").write_text("mine\n", encoding="utf-8")
    git(archive.root, "add", "notes.txt")
    _edit_config(archive.root)
    before = git(archive.root, "rev-parse", "HEAD").strip()
    assert commit_config(archive.root, "Add source daily", START)
    assert git(archive.root, "rev-parse", "HEAD^").strip() == before
    assert git(archive.root, "show", "--name-only", "--format=", "HEAD").split() == [
        "archiver.toml"
    ]
    assert git(archive.root, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert git(archive.root, "log", "-1", "--format=%B", "HEAD") == "Add source daily\n\n"


def test_nothing_is_committed_when_the_files_match_head(archive: Archive) -> None:
    head = git(archive.root, "rev-parse", "HEAD")
    assert not commit_config(archive.root, "Add source daily", START)
    assert not commit_files(archive.root, ["archiver.toml"], "Nothing", START)
    assert git(archive.root, "rev-parse", "HEAD") == head


def test_a_config_commit_that_git_refuses_is_a_config_error(archive: Archive) -> None:
    _edit_config(archive.root)
    (Path(archive.repo.git_dir) / "HEAD.lock").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"archiver\.toml: saved but not committed \(.+\)"):
        commit_config(archive.root, "Add source daily", START)


def test_creating_an_archive_is_one_commit_of_its_two_files(tmp_path: Path) -> None:
    archive = init_archive(tmp_path / "archive", FixedClock(START))
    root = archive.root
    assert git(root, "ls-tree", "--name-only", "HEAD").split() == [".gitignore", "archiver.toml"]
    assert git(root, "log", "--format=%an <%ae> %at|%cn <%ce> %ct|%B") == (
        f"{COMMITTER[0]} <{COMMITTER[1]}> {int(START.timestamp())}|"
        f"{COMMITTER[0]} <{COMMITTER[1]}> {int(START.timestamp())}|Create archive\n"
    )
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "branch", "--show-current").strip() == "main"


def test_an_existing_repository_keeps_its_history_and_its_staged_files(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    (root / "README").write_text("hello\n", encoding="utf-8")
    git(root, "add", "README")
    git(root, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "Start")
    (root / "draft.txt").write_text("not yet\n", encoding="utf-8")
    git(root, "add", "draft.txt")
    init_archive(root, FixedClock(START)).close()
    assert git(root, "log", "--format=%s").splitlines() == ["Create archive", "Start"]
    assert git(root, "ls-tree", "--name-only", "HEAD").split() == [
        ".gitignore",
        "README",
        "archiver.toml",
    ]
    assert git(root, "diff", "--cached", "--name-only").split() == ["draft.txt"]


def test_a_folder_inside_another_repository_gets_its_own(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    inner = (tmp_path / "inner").resolve()
    inner.mkdir()
    with pytest.raises(NotAnArchive, match="not a git repository"):
        open_repository(inner)
    archive = init_archive(inner, FixedClock(START))
    assert Path(archive.repo.git_dir) == inner / ".git"
    assert git(tmp_path, "status", "--porcelain") == "?? inner/\n"

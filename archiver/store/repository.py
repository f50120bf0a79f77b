"""The archive's git repository: opening it, creating it, and the few commits written
outside the fast-import stream (the archive's creation, its config edits).

These commits go through git's plumbing with a private index, so they hold exactly the
files named: whatever else the user has staged stays staged and out of the commit.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import git

from archiver.config import CONFIG_FILE
from archiver.errors import ConfigError, NotAnArchive
from archiver.store.format import COMMITTER

Repo = git.Repo  # the type the rest of the package holds an archive's repository as


def open_repository(root: Path) -> git.Repo:
    """The git repository whose working tree is exactly `root`."""
    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise NotAnArchive(f"{root}: not an archive (not a git repository)") from None
    if Path(repo.working_tree_dir or "").resolve() != root:
        repo.close()
        raise NotAnArchive(f"{root}: not an archive (it is inside another git repository)")
    return repo


def init_repository(root: Path) -> git.Repo:
    """The git repository at `root`, created (on branch main) unless `root` is already the
    top of one; a folder inside another repository gets its own."""
    try:
        return open_repository(root)
    except NotAnArchive:
        return git.Repo.init(root, initial_branch="main")


def commit_files(root: Path, files: Sequence[str], message: str, when: datetime) -> bool:
    """Commit these files as they are on disk, and nothing else, on top of HEAD, with the
    archive's identity as author and committer at `when`; the message is stored as given.
    Returns False, committing nothing, when they already match HEAD."""
    parent = _head(root)
    with tempfile.TemporaryDirectory(prefix="archiver-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if parent:
            _git(root, "read-tree", parent, env=index)
        _git(root, "update-index", "--add", "--remove", "--", *files, env=index)
        tree = _git(root, "write-tree", env=index).strip()
    if parent and tree == _git(root, "rev-parse", f"{parent}^{{tree}}").strip():
        return False
    stamp = f"{int(when.timestamp())} +0000"
    name, email = COMMITTER
    identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": stamp}
    identity |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    identity["GIT_COMMITTER_DATE"] = stamp
    parents = ["-p", parent] if parent else []
    commit = _git(
        root, "commit-tree", "--no-gpg-sign", tree, *parents, env=identity, stdin=message
    ).strip()
    subject = message.split("\n", 1)[0]
    reflog = f"commit{'' if parent else ' (initial)'}: {subject}"
    _git(root, "update-ref", "-m", reflog, "HEAD", commit, *([parent] if parent else []))
    _git(root, "update-index", "--add", "--remove", "--", *files)  # the index follows HEAD
    return True


def commit_config(root: Path, message: str, when: datetime) -> bool:
    """Commit archiver.toml as it is on disk, and nothing else (other staged changes stay
    staged); False when it already matches HEAD. The caller holds the archive's lock."""
    try:
        return commit_files(root, [CONFIG_FILE], message + "\n", when)
    except subprocess.CalledProcessError as err:
        reason = (err.stderr.strip().splitlines() or ["git commit failed"])[-1]
        raise ConfigError(f"{root / CONFIG_FILE}: saved but not committed ({reason})") from None


def _head(root: Path) -> str | None:
    """The commit HEAD names, or None before the first."""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
        cwd=root,
        capture_output=True,
        encoding="utf-8",
        check=False,
        start_new_session=True,
    )
    return found.stdout.strip() if found.returncode == 0 else None


def _git(root: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, **(env or {})},
        check=True,
        start_new_session=True,
    )
    return done.stdout

"""Writing versions into the archive's git repository: one commit per detected change.

Commits are streamed through one `git fast-import` process per run: git's index costs
seconds per commit once an archive holds 100,000 files, while fast-import writes objects and
commits directly. Refs move only at checkpoints, after which the working tree and index
are brought in step for the paths written, so a killed run leaves HEAD on a complete
commit and `git fsck` clean; a journal lets the next run finish an interrupted tree update.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import git

from archiver.errors import ArchiverError
from archiver.store.format import COMMITTER, SUBJECT_MAX, source_identity, subject_line
from archiver.store.history import BlobReader, head_commit

__all__ = ["COMMITTER", "SUBJECT_MAX", "Change", "CommitStream", "source_identity", "subject_line"]

JOURNAL = "archiver/worktree-pending"


@dataclass(frozen=True)
class Change:
    """One commit to write: files to set (path → text) or delete, a message, a time."""

    source: str
    subject: str
    trailers: Mapping[str, str]
    when: datetime
    files: Mapping[str, str] = field(default_factory=dict)
    deletions: tuple[str, ...] = ()
    body: str = ""

    def message(self) -> str:
        lines = [self.subject, ""]
        if self.body:
            lines += [self.body, ""]
        lines += [f"{key}: {value}" for key, value in self.trailers.items()]
        return "\n".join(lines) + "\n"


def blob_id(text: str) -> str:
    """The id git gives a file with this text, without asking git."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class CommitStream:
    """A `git fast-import` session appending commits to the current branch.

    Use as a context manager; `checkpoint()` publishes what was written so far.
    """

    def __init__(self, repo: git.Repo, checkpoint_every: int = 500) -> None:
        self.repo = repo
        self.checkpoint_every = checkpoint_every
        self._branch = _current_branch(repo)
        self._process: subprocess.Popen[bytes] | None = None
        self._mark = 0
        self._unpublished: list[str] = []
        # Paths written since the last checkpoint, with the text now at HEAD (None: deleted).
        self._pending_paths: dict[str, bytes | None] = {}
        self.published = 0

    def __enter__(self) -> CommitStream:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()

    def commit(self, change: Change) -> None:
        if self._process is None:
            self._start()
        self._mark += 1
        out = [
            f"commit {self._branch}\nmark :{self._mark}\n".encode(),
            _identity("author", *source_identity(change.source), change.when),
            _identity("committer", *COMMITTER, change.when),
            _data(change.message().encode("utf-8")),
        ]
        if self._mark == 1 and self._has_head():
            out.append(f"from {self._branch}^0\n".encode())
        for path, text in sorted(change.files.items()):
            out.append(f"M 100644 inline {_quote(path)}\n".encode())
            out.append(_data(text.encode("utf-8")))
        out.extend(f"D {_quote(path)}\n".encode() for path in change.deletions)
        out.append(b"\n")
        self._write(b"".join(out))
        self._pending_paths.update((p, t.encode("utf-8")) for p, t in change.files.items())
        self._pending_paths.update(dict.fromkeys(change.deletions))
        self._unpublished.append(change.subject)
        if len(self._unpublished) >= self.checkpoint_every:
            self.checkpoint()

    def checkpoint(self) -> int:
        """Publish every commit written so far; returns how many were published."""
        if self._process is None or not self._unpublished:
            return 0
        self._write_journal()
        self._write(b"checkpoint\nprogress archiver-checkpoint\n")
        self._wait_for(b"progress archiver-checkpoint")
        return self._published()

    def close(self) -> int:
        """Publish and end the stream."""
        if self._process is None:
            return 0
        self._write_journal()
        self._write(b"done\n")
        assert self._process.stdin is not None
        self._process.stdin.close()
        code = self._process.wait()
        stderr = (
            self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
        )
        self._process = None
        if code != 0:
            raise ArchiverError(f"git fast-import failed: {stderr.strip() or code}")
        published = self._published()
        _compact(self.repo)
        return published

    def _published(self) -> int:
        count = len(self._unpublished)
        self.published += count
        self._unpublished.clear()
        _write_worktree(self.repo, self._pending_paths)
        self._pending_paths.clear()
        return count

    def _write_journal(self) -> None:
        journal = Path(self.repo.git_dir) / JOURNAL
        journal.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(journal, "".join(f"{p}\n" for p in sorted(self._pending_paths)))

    def _start(self) -> None:
        self._process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done", "--date-format=raw"],
            cwd=self.repo.working_tree_dir or self.repo.git_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "GIT_DIR": self.repo.git_dir},
            # Ctrl-C reaches archiver only: it ends the stream cleanly, after a checkpoint.
            start_new_session=True,
        )

    def _has_head(self) -> bool:
        # HEAD names the branch the stream writes to (see _current_branch).
        return head_commit(self.repo) is not None

    def _write(self, data: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(data)
        except BrokenPipeError:
            self._fail()

    def _wait_for(self, line: bytes) -> None:
        assert self._process is not None and self._process.stdin and self._process.stdout
        self._process.stdin.flush()
        while True:
            got = self._process.stdout.readline()
            if not got:
                self._fail()
            if got.rstrip(b"\n") == line:
                return

    def _fail(self) -> None:
        assert self._process is not None
        self._process.kill()
        stderr = (
            self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
        )
        self._process = None
        raise ArchiverError(f"git fast-import failed: {stderr.strip()}")


def sync_worktree(repo: git.Repo, paths: Iterable[str]) -> None:
    """Make the working tree and index match HEAD for these paths, then clear the journal."""
    with BlobReader(repo.git_dir) as reader:
        contents = {path: reader.read(f"HEAD:{path}") for path in paths}
    _write_worktree(repo, contents)


def _write_worktree(repo: git.Repo, contents: Mapping[str, bytes | None]) -> None:
    """Write (or delete, for None) these files as HEAD has them, update the index for
    them, then clear the journal."""
    root = Path(repo.working_tree_dir or "")
    if contents and repo.working_tree_dir:
        for path, data in sorted(contents.items()):
            target = root / path
            if data is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic_bytes(target, data)
        _update_index(repo, "".join(f"{p}\n" for p in sorted(contents)))
    (Path(repo.git_dir) / JOURNAL).unlink(missing_ok=True)


def _compact(repo: git.Repo) -> None:
    """Each checkpoint leaves a pack: let git merge them once there are many (a no-op most
    runs). Versions of one article delta-compress only with `git repack -adf`, a periodic
    job for large archives (see docs/performance.md)."""
    subprocess.run(
        ["git", "-c", "gc.autoDetach=false", "-c", "gc.autoPackLimit=16", "gc", "--auto", "-q"],
        cwd=repo.git_dir,
        capture_output=True,
        start_new_session=True,
    )


def recover(repo: git.Repo) -> list[str]:
    """Finish the working-tree update a killed run left pending; returns the paths fixed."""
    journal = Path(repo.git_dir) / JOURNAL
    if not journal.exists():
        return []
    paths = [p for p in journal.read_text(encoding="utf-8").splitlines() if p]
    sync_worktree(repo, paths)
    return paths


def _update_index(repo: git.Repo, listing: str) -> None:
    subprocess.run(
        ["git", "update-index", "--add", "--remove", "--stdin"],
        cwd=repo.working_tree_dir,
        input=listing.encode("utf-8"),
        check=True,
        capture_output=True,
        start_new_session=True,
    )


def _current_branch(repo: git.Repo) -> str:
    try:
        return repo.head.ref.path  # refs/heads/main
    except TypeError:
        raise ArchiverError(
            f"{repo.working_tree_dir}: HEAD is detached; check out a branch"
        ) from None


def _identity(role: str, name: str, email: str, when: datetime) -> bytes:
    return f"{role} {name} <{email}> {int(when.timestamp())} +0000\n".encode()


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _quote(path: str) -> str:
    if any(c in path for c in '"\\\n') or path.startswith('"'):
        raise ArchiverError(f"{path}: not a storable archive path")
    return path


def _write_atomic(path: Path, text: str) -> None:
    _write_atomic_bytes(path, text.encode("utf-8"))


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

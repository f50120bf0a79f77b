"""An archive: a git repository with archiver.toml at its root, its lock and its state."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import git

from .clock import Clock, SystemClock
from .config import CONFIG_FILE, DEFAULT_CONFIG, Config, load_config
from .errors import ArchiveLocked, ArchiverError, NotAnArchive
from .state import STATE_DIR, STATE_FILE, StateStore
from .store import COMMITTER, recover

GITIGNORE = f"{STATE_DIR}/\n"
LOCK_FILE = "archiver.lock"


class Archive:
    """An opened archive. Reading needs no lock; `writing()` holds it for a run."""

    def __init__(self, root: Path, repo: git.Repo, config: Config, clock: Clock) -> None:
        self.root = root
        self.repo = repo
        self.config = config
        self.clock = clock
        self._state: StateStore | None = None

    @classmethod
    def open(cls, root: Path, clock: Clock | None = None) -> Archive:
        root = Path(root).resolve()
        if not (root / CONFIG_FILE).is_file():
            raise NotAnArchive(f"{root}: not an archive (no {CONFIG_FILE}; run `archiver init`)")
        try:
            repo = git.Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise NotAnArchive(f"{root}: not an archive (not a git repository)") from None
        if Path(repo.working_tree_dir or "").resolve() != root:
            raise NotAnArchive(f"{root}: not an archive (it is inside another git repository)")
        return cls(root, repo, load_config(root), clock or SystemClock())

    @property
    def state_path(self) -> Path:
        """Where the state store lives (it may not exist yet)."""
        return self.root / STATE_DIR / STATE_FILE

    @property
    def state(self) -> StateStore:
        """The state store, rebuilt from git history when missing."""
        if self._state is None:
            self._state = StateStore(self.state_path)
            if self._state.created:
                from .rebuild import rebuild_state

                rebuild_state(self)
        return self._state

    def state_store(self) -> StateStore:
        """The state store as it is, without rebuilding it (for the rebuild itself)."""
        if self._state is None:
            self._state = StateStore(self.state_path)
        return self._state

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None
        self.repo.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the archive's lock: two runs never write one archive at once."""
        path = Path(self.repo.git_dir) / LOCK_FILE
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ArchiveLocked(
                f"{self.root}: another archiver run ({holder}) is writing this archive; try later"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            recover(self.repo)
            from .rebuild import catch_up

            catch_up(self)  # what a killed run published but could not record
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def init_archive(root: Path, clock: Clock | None = None) -> Archive:
    """Create an archive (or make an existing git repository one) and commit its config."""
    root = Path(root).resolve()
    if (root / CONFIG_FILE).exists():
        raise ArchiverError(f"{root}: already an archive ({CONFIG_FILE} exists)")
    root.mkdir(parents=True, exist_ok=True)
    try:
        repo = git.Repo(root)
        if Path(repo.working_tree_dir or "").resolve() != root:
            raise git.InvalidGitRepositoryError(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        repo = git.Repo.init(root, initial_branch="main")
    (root / CONFIG_FILE).write_text(DEFAULT_CONFIG, encoding="utf-8")
    ignore = root / ".gitignore"
    existing = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    if GITIGNORE.strip() not in existing.splitlines():
        ignore.write_text(existing + GITIGNORE, encoding="utf-8")
    repo.index.add([CONFIG_FILE, ".gitignore"])
    clock = clock or SystemClock()
    actor, when = git.Actor(*COMMITTER), f"{int(clock.now().timestamp())} +0000"
    repo.index.commit(
        "Create archive", author=actor, committer=actor, author_date=when, commit_date=when
    )
    return Archive(root, repo, load_config(root), clock)

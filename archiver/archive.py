"""An archive: a git repository with archiver.toml at its root, its lock and its state."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from archiver.clock import Clock, SystemClock
from archiver.config import CONFIG_FILE, DEFAULT_CONFIG, Config, load_config
from archiver.errors import ArchiveLocked, ArchiverError, NotAnArchive, shorten
from archiver.processes import LockHeld, process_lock
from archiver.store.commits import recover
from archiver.store.format import CAPTURES_DIR
from archiver.store.replay import catch_up, rebuild_state
from archiver.store.repository import Repo, commit_files, init_repository, open_repository
from archiver.store.state import STATE_DIR, STATE_FILE, StateStore

# Local state and the capture files (large, binary, not history) stay out of git.
GITIGNORE = f"{STATE_DIR}/\n/{CAPTURES_DIR}/\n"
LOCK_FILE = "archiver.lock"

log = logging.getLogger(__name__)


class Archive:
    """An opened archive. Reading needs no lock; `writing()` holds it for a run."""

    def __init__(self, root: Path, repo: Repo, config: Config, clock: Clock) -> None:
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
        repo = open_repository(root)
        return cls(root, repo, load_config(root), clock or SystemClock())

    @property
    def state_path(self) -> Path:
        """Where the state store lives (it may not exist yet)."""
        return self.root / STATE_DIR / STATE_FILE

    @property
    def state(self) -> StateStore:
        """The state store, rebuilt from git history when missing."""
        if self._state is None:
            self._state = StateStore(self.state_path, self.clock.now())
            if self._state.created:
                rebuild_state(self.repo, self._state, self.config, self.clock)
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
        with _locked(Path(self.repo.git_dir) / LOCK_FILE, self.root):
            recover(self.repo)
            # What a killed run published but could not record.
            catch_up(self.repo, self.state, self.config, self.clock)
            yield


@contextmanager
def _locked(path: Path, root: Path) -> Iterator[None]:
    """The archive's lock, held by this process alone (see processes.process_lock)."""
    stack = ExitStack()
    try:
        left = stack.enter_context(process_lock(path))
    except LockHeld as held:
        raise _refused(root, _pid(held.holder) if held.holder else "another process") from None
    except OSError as err:
        raise ArchiverError(describe_os_error(err)) from None
    with stack:
        if left:
            log.warning("%s: taking over the lock left by a run that ended (%s)", path, _pid(left))
        yield


def _pid(holder: str) -> str:
    # Files an earlier version wrote already say "pid N".
    return holder if holder.startswith("pid ") else f"pid {holder}"


def _refused(root: Path, holder: str) -> ArchiveLocked:
    return ArchiveLocked(
        f"{root}: another archiver run ({holder}) is writing this archive; try later"
    )


def describe_os_error(error: OSError) -> str:
    """One line for a file archiver could not write or read: a read-only archive is named as
    such (its folder, found from the file), anything else by the file and the reason."""
    name = str(error.filename or "")
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and name:
        root = _archive_above(Path(name))
        if root is not None:
            return f"{root}: the archive folder is not writable ({error.strerror}: {shorten(name)})"
    return f"{shorten(name)}: {error.strerror}" if name else str(error)


def _archive_above(path: Path) -> Path | None:
    for folder in [path, *path.parents]:
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None


def init_archive(root: Path, clock: Clock | None = None) -> Archive:
    """Create an archive (or make an existing git repository one) and commit its config."""
    root = Path(root).resolve()
    if (root / CONFIG_FILE).exists():
        raise ArchiverError(f"{root}: already an archive ({CONFIG_FILE} exists)")
    root.mkdir(parents=True, exist_ok=True)
    repo = init_repository(root)
    (root / CONFIG_FILE).write_text(DEFAULT_CONFIG, encoding="utf-8")
    ignore = root / ".gitignore"
    existing = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    missing = [line for line in GITIGNORE.splitlines() if line not in existing.splitlines()]
    if missing:
        sep = "" if not existing or existing.endswith("\n") else "\n"
        ignore.write_text(
            existing + sep + "".join(f"{line}\n" for line in missing), encoding="utf-8"
        )
    clock = clock or SystemClock()
    commit_files(root, [CONFIG_FILE, ".gitignore"], "Create archive", clock.now())
    return Archive(root, repo, load_config(root), clock)

"""The output folder: what a build may write there, and how.

The site is written only into a folder of its own (never over the archive, its git or state
folders, or files no build of this archive wrote), a file only when its bytes change and
never through a link out of the folder, and only files a build made are ever deleted.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from archiver.archive import Archive
from archiver.errors import BuildError
from archiver.site.articles import no_longer_made
from archiver.site.buildstate import BuildState
from archiver.site.config import SiteConfig
from archiver.site.indexes import IndexRenderer
from archiver.site.templates import ASSETS

# --- writing ------------------------------------------------------------------------------


class OutputFolder:
    """Writes a file only when its bytes change, and never outside the output folder.

    Files are overwritten in place rather than through a temporary file and a rename: on
    ext4 a rename over an existing file starts writing its data to disk at once, which
    made an incremental build wait on the disk (0.4-1.1 ms a page against 0.03 ms)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written = 0
        self.unchanged = 0
        self._folders: set[str] = set()

    def __call__(self, relative: str, content: str | bytes) -> bool:
        # "replace": a lone surrogate from a hand-made archive must not stop a build.
        data = content.encode("utf-8", "replace") if isinstance(content, str) else content
        target = self._target(relative)
        try:  # a new page first: most of a full build's pages are
            fd = os.open(target, _CREATE, 0o666)
        except FileExistsError:
            existing = _open_own(target)
            if existing is not None:
                return self._rewrite(existing, data)
            fd = os.open(target, _CREATE, 0o666)  # a link stood there and was removed
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        self.written += 1
        return True

    def _rewrite(self, fd: int, data: bytes) -> bool:
        with os.fdopen(fd, "r+b") as file:
            if os.fstat(file.fileno()).st_size == len(data) and file.read() == data:
                self.unchanged += 1
                return False
            file.seek(0)
            file.write(data)
            file.truncate()
        self.written += 1
        return True

    def _target(self, relative: str) -> Path:
        folder, _, name = relative.rpartition("/")
        if not name or name.startswith(".") or ".." in relative.split("/"):
            raise BuildError(f"{relative}: not a path the site writes")
        if folder not in self._folders:
            self._make_folder(folder, relative)
        return self.out / relative

    def _make_folder(self, folder: str, relative: str) -> None:
        path = self.out / folder
        # A folder whose parent is known to be inside the output folder needs only its last
        # step checked: a folder made now, or one already there that is no link.
        known_parent = bool(folder) and folder.rpartition("/")[0] in self._folders
        if not (known_parent and _made_or_real_folder(path)):
            # Checked before creating anything: a symlink inside the output folder must not
            # lead the build to make folders, or write files, elsewhere.
            if not path.resolve().is_relative_to(self.out):
                raise BuildError(f"{relative}: resolves outside {self.out}; not written")
            path.mkdir(parents=True, exist_ok=True)
        self._folders.add(folder)

    def delete(self, relatives: Iterable[str]) -> int:
        """Remove files the build made before and makes no more, then emptied folders."""
        deleted = 0
        for relative in sorted(relatives):
            target = self.out / relative
            if not target.resolve().is_relative_to(self.out):
                continue
            try:
                target.unlink()
                deleted += 1
            except FileNotFoundError:
                continue
            _remove_empty_parents(target.parent, self.out)
        return deleted


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


def _made_or_real_folder(path: Path) -> bool:
    """Make the folder `path`; True when it is now a folder of its own, not a link."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    return True


def _open_own(target: Path) -> int | None:
    """A descriptor for reading and rewriting the page at `target`; None when there is
    none. A symbolic link or a file linked from elsewhere in its place is removed, never
    written through: it could lead outside the output folder."""
    try:
        fd = os.open(target, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno != errno.ELOOP:
            raise
        target.unlink()
        return None
    if os.fstat(fd).st_nlink > 1:
        os.close(fd)
        target.unlink()
        return None
    return fd


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# --- what the build made -------------------------------------------------------------------


@dataclass
class Made:
    """What a build made, as the counts its file names follow from: enough to tell which
    files a later build no longer makes, without listing every file."""

    articles: dict[str, int]  # path → versions
    indexes: set[str]

    @classmethod
    def of(cls, state: BuildState, site: SiteConfig) -> Made:
        indexes = IndexRenderer(state, site, lambda name, content: False)
        counts = {**indexes.list_counts(), **indexes.article_counts()}
        files = set(indexes.files(counts))
        files.update(f"assets/{name}" for name in ASSETS)
        return cls(dict(state.all_articles()), files)

    def stale(self, now: Made) -> set[str]:
        gone = self.indexes - now.indexes
        for path, versions in self.articles.items():
            kept = now.articles.get(path, 0)
            if kept != versions:  # fewer versions, or more: comparisons with the latest move
                gone.update(no_longer_made(path, versions, kept))
        return gone


def files_under(folder: Path, out: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return [path.relative_to(out).as_posix() for path in folder.rglob("*") if path.is_file()]


# --- where the site goes -------------------------------------------------------------------


def resolved(out: Path) -> Path:
    try:
        return out.resolve()
    except (OSError, RuntimeError) as error:  # a loop of links
        raise BuildError(f"{out}: not a usable output folder ({error})") from None


def make_output_folder(out: Path) -> None:
    try:
        if out.exists() and not out.is_dir():
            raise BuildError(f"{out}: not a folder; the site needs a folder of its own")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"{out}: cannot create the output folder ({error.strerror})") from None


def refuse_archive_places(archive: Archive, out: Path, tracked: bool = True) -> None:
    """The site is never written over the archive, in its git or state folder, or among
    its tracked files (checked when `tracked`): it would land in the repository."""
    root = archive.root
    advice = f"the site needs a folder of its own, e.g. {root / 'site'}"
    if out == root:
        raise BuildError(f"{out}: is the archive itself; {advice}")
    if root.is_relative_to(out):
        raise BuildError(f"{out}: holds the archive {root}; {advice}")
    git_dirs = {Path(archive.repo.git_dir).resolve(), Path(archive.repo.common_dir).resolve()}
    if any(out.is_relative_to(folder) for folder in git_dirs):
        raise BuildError(f"{out}: inside the archive's git folder; {advice}")
    if out.is_relative_to(archive.state_path.parent):
        raise BuildError(f"{out}: inside the archive's state folder; {advice}")
    if out.is_relative_to(root):
        top = out.relative_to(root).parts[0]
        # articles/ even before the first capture tracks a file there.
        if top == "articles" or (
            tracked and archive.repo.git.ls_files("-z", "--", f":(literal){top}")
        ):
            raise BuildError(f"{out}: among the archive's tracked files ({top}/); {advice}")


def refuse_others_files(out: Path) -> None:
    """An output folder no build of this archive wrote: whatever it holds is someone
    else's, and a build could overwrite it."""
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return
    found = []
    for folder, folders, names in os.walk(out):
        links = [name for name in folders if os.path.islink(os.path.join(folder, name))]
        for name in names + links:
            found.append(Path(folder, name).relative_to(out).as_posix())
    if found:
        many = f"{len(found)} files" if len(found) > 1 else "a file"
        raise BuildError(
            f"{out}: holds {many} archiver did not write, e.g. {min(found)};"
            " use an empty folder or --force"
        )


def keep_out_of_git_status(archive: Archive, out: Path, warn: Callable[[str], None]) -> str:
    """A site inside the archive is added to the repository's own ignore list,
    `.git/info/exclude`, which no commit holds, unless git ignores it already. Returns the
    pattern added, or ""."""
    if not out.is_relative_to(archive.root):
        return ""
    relative = out.relative_to(archive.root).as_posix()
    if "\n" in relative:
        return ""  # no ignore pattern can name it
    pattern = "/" + re.sub(r"([\\*?\[])", r"\\\1", relative) + "/"
    exclude = Path(archive.repo.common_dir) / "info" / "exclude"
    try:
        text = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
        if pattern in text.splitlines() or _ignored(archive.root, relative):
            return ""
        exclude.parent.mkdir(exist_ok=True)
        with exclude.open("a", encoding="utf-8") as file:
            file.write(("\n" if text and not text.endswith("\n") else "") + pattern + "\n")
    except OSError as error:
        warn(f"{relative}/ shows in git status: cannot add it to {exclude} ({error.strerror})")
        return ""
    return pattern


def _ignored(root: Path, relative: str) -> bool:
    command = ["git", "check-ignore", "-q", "--", f"{relative}/"]
    return subprocess.run(command, cwd=root, capture_output=True, check=False).returncode == 0

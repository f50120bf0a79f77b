"""Reading the archive's history: commits as a stream, in one `git log` pass.

Everything archiver knows about an article's versions comes from commit trailers and the
blobs they point to; the site, the state-store rebuild and the CLI all read it here.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import IO

import git

from archiver.clock import isoformat
from archiver.errors import UnknownVersion
from archiver.store import format as trailer

_RECORD = "\x1e"
_FIELD = "\x1f"
_TRAILER = re.compile(r"^(Archiver-[A-Za-z-]+): ?(.*)$", re.MULTILINE)
_NULL = "0" * 40


@dataclass(frozen=True)
class FileChange:
    path: str
    old_blob: str | None
    new_blob: str | None  # None when the file was deleted


@dataclass(frozen=True)
class CommitRecord:
    sha: str
    when: datetime
    subject: str
    trailers: dict[str, str]
    changes: tuple[FileChange, ...]

    @property
    def url(self) -> str | None:
        return self.trailers.get(trailer.URL)

    @property
    def version(self) -> int | None:
        value = self.trailers.get(trailer.VERSION, "")
        return int(value) if value.isdigit() else None

    def article_change(self) -> FileChange | None:
        """The article file this commit touched, if it is an archiver commit."""
        for change in self.changes:
            if change.path.startswith("articles/") and change.path.endswith(".md"):
                return change
        return None


def parse_trailers(message: str) -> dict[str, str]:
    return {key: value.strip() for key, value in _TRAILER.findall(message)}


# git maps pack files into memory in windows of 1 GiB, up to 8 GiB: reading a whole large
# archive, each git process would hold the pack resident (2 GB at 300,000 versions).
# Smaller windows under a cap keep a reader's memory flat for a few percent more time.
BOUNDED_PACK_MAPS = ("-c", "core.packedGitWindowSize=32m", "-c", "core.packedGitLimit=256m")


def iter_commits(
    repo: git.Repo, since: str | None = None, paths: tuple[str, ...] = (), until: str = "HEAD"
) -> Iterator[CommitRecord]:
    """Commits oldest first (since `since`, exclusive, up to `until`), each with the files
    it changed."""
    revision = f"{since}..{until}" if since else until
    args = [
        "git",
        *BOUNDED_PACK_MAPS,
        "log",
        "--reverse",
        "--no-renames",
        "--raw",
        "--no-abbrev",
        "--first-parent",
        "-m",
        f"--format={_RECORD}%H{_FIELD}%ct{_FIELD}%B{_FIELD}",
        revision,
    ]
    if paths:
        args += ["--", *paths]
    process = repo.git.execute(args, as_process=True, stdout_as_string=False)
    proc = process.proc  # held through `process`, which kills git if dropped early
    assert proc is not None and proc.stdout is not None
    try:
        yield from _parse_stream(_chunks(proc.stdout))
    finally:
        proc.stdout.close()
        proc.wait()


def _chunks(stream: IO[bytes]) -> Iterator[str]:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := stream.read(1 << 16):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _parse_stream(chunks: Iterator[str]) -> Iterator[CommitRecord]:
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(_RECORD)
        for record in complete:
            if record.strip():
                yield _parse_record(record)
    if buffer.strip():
        yield _parse_record(buffer)


def _parse_record(record: str) -> CommitRecord:
    sha, timestamp, message, raw = record.split(_FIELD, 3)
    changes = []
    for line in raw.splitlines():
        if not line.startswith(":"):
            continue
        meta, _, path = line.partition("\t")
        _, _, old, new, status = meta.split()[:5]
        changes.append(
            FileChange(
                path=path,
                old_blob=None if old == _NULL else old,
                new_blob=None if status.startswith("D") or new == _NULL else new,
            )
        )
    return CommitRecord(
        sha=sha,
        when=datetime.fromtimestamp(int(timestamp), UTC),
        subject=message.split("\n", 1)[0],
        trailers=parse_trailers(message),
        changes=tuple(changes),
    )


@dataclass(frozen=True)
class Version:
    """One stored version of an article."""

    number: int
    sha: str
    when: datetime
    blob: str | None
    trailers: dict[str, str]


# Commits of an article that are no version: the same version in a new extractor's form,
# and the current text written back after an older capture was stored.
NOT_VERSIONS = (trailer.EVENT_REFORMAT, trailer.EVENT_RESTORED)


def article_versions(repo: git.Repo, path: str) -> list[Version]:
    """An article's versions in capture order (their Archiver-Fetched times; commits are
    appended, so a version imported from an older capture comes later in git), numbered
    so (for one article: the site reads all at once)."""
    versions = []
    for commit in iter_commits(repo, paths=(path,)):
        change = next((c for c in commit.changes if c.path == path), None)
        number = commit.version
        if change is None or number is None or commit.trailers.get(trailer.EVENT) in NOT_VERSIONS:
            continue
        versions.append(Version(number, commit.sha, commit.when, change.new_blob, commit.trailers))
    times = [v.trailers.get(trailer.FETCHED) or isoformat(v.when) for v in versions]
    imported = any(trailer.ORIGIN in v.trailers for v in versions)
    if not imported or times == sorted(times):
        return versions  # as written: numbered by their trailers
    ordered = [v for _, v in sorted(zip(times, versions, strict=True), key=lambda p: p[0])]
    return [replace(v, number=n) for n, v in enumerate(ordered, 1)]


class BlobReader:
    """Reads objects through one `git cat-file --batch` process.

    Started in its own session, so a Ctrl-C meant for archiver does not kill it while a
    run is finishing its last commits."""

    # Requests per round trip in read_many: small enough that git's stdin pipe never fills
    # while we wait for answers.
    BATCH = 256

    def __init__(self, git_dir: str | os.PathLike[str]) -> None:
        self._process = subprocess.Popen(
            ["git", *BOUNDED_PACK_MAPS, "cat-file", "--batch"],
            cwd=git_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "GIT_DIR": os.fspath(git_dir)},
            start_new_session=True,
        )

    def read(self, spec: str) -> bytes | None:
        """The object named by `spec` (a sha, or "HEAD:path"); None when it doesn't exist."""
        self._request([spec])
        return self._answer()

    def read_many(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Many objects, a batch per round trip; every one must exist."""
        wanted = list(dict.fromkeys(shas))
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), self.BATCH):
            chunk = wanted[start : start + self.BATCH]
            self._request(chunk)
            for sha in chunk:
                data = self._answer()
                if data is None:
                    raise UnknownVersion(f"blob {sha}: missing from the repository")
                found[sha] = data
        return found

    def _request(self, specs: list[str]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write("".join(f"{spec}\n" for spec in specs).encode("utf-8"))
        self._process.stdin.flush()

    def _answer(self) -> bytes | None:
        assert self._process.stdout is not None
        header = self._process.stdout.readline().split()
        if len(header) != 3:
            return None
        data = self._process.stdout.read(int(header[2]) + 1)
        return data[:-1]

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def head_commit(repo: git.Repo) -> str | None:
    """The commit HEAD names; None in a repository with no commits yet."""
    found = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD")
    return found.stdout.decode().strip() or None


def is_ancestor(repo: git.Repo, older: str, newer: str) -> bool:
    return _git(repo, "merge-base", "--is-ancestor", older, newer).returncode == 0


def _git(repo: git.Repo, *args: str) -> subprocess.CompletedProcess[bytes]:
    # Its own session: a Ctrl-C meant for archiver never kills it mid-answer.
    return subprocess.run(
        ["git", *args], cwd=repo.git_dir, capture_output=True, start_new_session=True
    )


def read_blob(repo: git.Repo, blob: str) -> str:
    with BlobReader(repo.git_dir) as reader:
        data = reader.read(blob)
    if data is None:
        raise UnknownVersion(f"{repo.working_tree_dir}: object {blob} is missing")
    return data.decode("utf-8")


def pick_version(versions: list[Version], number: int, url: str) -> Version:
    for version in versions:
        if version.number == number:
            return version
    raise UnknownVersion(f"{url}: no version {number} (it has {len(versions)})")

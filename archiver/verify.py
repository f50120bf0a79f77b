"""`archiver verify`: each version checked against the response it was made from.

History is read in one pass; each commit that names a capture (`Archiver-Capture`) has its
record read from the capture files, its payload's digest compared with the one the commit
records, its status with `Archiver-Status`, and, for a version or reformat, its body
extracted again with the source's rules and compared with the committed text. A version
whose rules (`Archiver-Rules`) are not the source's rules of today cannot be re-extracted
with them: it is counted as backed, and said to be, not taken for a wrong one. Versions
from before captures (no trailer) are "not backed": counted, not errors, unless strict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from archiver.archive import Archive
from archiver.articles import find_article
from archiver.capture.worker import extraction_job, fingerprint
from archiver.config import SourceConfig
from archiver.errors import ArchiverError, CaptureDigestMismatch, CaptureError, CaptureMissing
from archiver.store import format as trailer
from archiver.store.captures import CapturedResponse, CaptureReader, capture_files
from archiver.store.document import parse_document
from archiver.store.history import BlobReader, CommitRecord, iter_commits


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one version: the article file, the commit, what is wrong."""

    path: str
    commit: str
    version: str
    reason: str

    def line(self) -> str:
        return f"{self.path} @ {self.commit[:12]} (version {self.version}): {self.reason}"


@dataclass
class VerifyReport:
    versions: int = 0  # article commits looked at: versions, reformats, removals
    backed: int = 0  # … naming a capture that was found and matches its digest
    verified: int = 0  # … whose capture also re-extracts to the committed text (or status)
    not_backed: int = 0  # … naming no capture (made before captures, or with them off)
    other_rules: int = 0  # backed, but made under rules other than the source's today
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # capture files with a torn or damaged end

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        parts = [
            f"{self.versions} versions",
            f"{self.backed} backed",
            f"{self.verified} verified",
        ]
        if self.not_backed:
            parts.append(f"{self.not_backed} not backed (no capture)")
        if self.other_rules:
            parts.append(f"{self.other_rules} made under other rules (not re-extracted)")
        if self.problems:
            parts.append(f"{len(self.problems)} problems")
        return ", ".join(parts)


def verify(
    archive: Archive,
    source: str | None = None,
    names: Iterable[str] = (),
    strict: bool = False,
) -> VerifyReport:
    """Check every version of the archive's articles (of `source`, or those `names`
    name) against its capture; see the module's docstring. With `strict`, a version
    naming no capture is a problem too."""
    wanted = {find_article(archive, name).path for name in names}
    report = VerifyReport()
    reader = CaptureReader(archive.root)
    rules: dict[str, str] = {}
    with BlobReader(archive.repo.git_dir) as blobs:
        for commit, path in _article_commits(archive, source, wanted):
            report.versions += 1
            _check(archive, commit, path, reader, blobs, rules, report, strict)
    for name in capture_files(archive.root):
        index = reader.records(name)
        if index.error:
            report.notes.append(f"{name}: unreadable from {index.error}")
    return report


def _article_commits(
    archive: Archive, source: str | None, wanted: set[str]
) -> Iterator[tuple[CommitRecord, str]]:
    """Commits of articles, each with the article file it touches."""
    if source is not None and source not in archive.config.sources:
        known = {a.source for a in archive.state.all()}
        if source not in known:
            raise ArchiverError(f"--source {source}: no such source in {archive.root}")
    for commit in iter_commits(archive.repo):
        if not commit.url or (source is not None and commit.trailers.get(trailer.SOURCE) != source):
            continue
        paths = [c.path for c in commit.changes if trailer.is_article_file(c.path)]
        if not paths or (wanted and paths[0] not in wanted):
            continue
        yield commit, paths[0]


def _check(
    archive: Archive,
    commit: CommitRecord,
    path: str,
    reader: CaptureReader,
    blobs: BlobReader,
    rules: dict[str, str],
    report: VerifyReport,
    strict: bool,
) -> None:
    version = commit.trailers.get(trailer.VERSION, "?")

    def problem(reason: str) -> None:
        report.problems.append(Problem(path, commit.sha, version, reason))

    try:
        ref = trailer.read_capture(commit.trailers)
    except ValueError as err:
        problem(str(err))
        return
    if ref is None:
        report.not_backed += 1
        if strict:
            problem("no capture (the commit names none)")
        return
    try:
        response = reader.read(ref)
    except CaptureError as err:
        problem(f"capture {_kind(err)}: {err}")
        return
    report.backed += 1
    status = commit.trailers.get(trailer.STATUS, "")
    if status and status != str(response.status):
        problem(f"{ref.path}: record {ref.record_id}: status {response.status}, not {status}")
        return
    change = next(c for c in commit.changes if c.path == path)
    if change.new_blob is None:  # a removal: the 404/410 answer (or the redirect) is the proof
        report.verified += 1
        return
    source = commit.trailers.get(trailer.SOURCE, "")
    settings = archive.config.source(source)
    current = rules.get(source)
    if current is None:
        current = rules[source] = fingerprint(settings)
    if commit.trailers.get(trailer.RULES, current) != current:
        report.other_rules += 1
        return
    data = blobs.read(change.new_blob)
    committed = data.decode("utf-8") if data is not None else ""
    mismatch = _reextracted(response, commit, committed, settings)
    if mismatch:
        problem(f"{ref.path}: record {ref.record_id}: {mismatch}")
        return
    report.verified += 1


def _reextracted(
    response: CapturedResponse, commit: CommitRecord, committed: str, settings: SourceConfig
) -> str:
    """Why the capture does not re-extract to the committed text ("" when it does)."""
    url = commit.trailers.get(trailer.URL, response.url)
    try:
        extracted = extraction_job(response.body, response.charset, url, settings)
    except ArchiverError as err:
        return f"does not re-extract: {err}"
    text = extracted.with_url(url).text
    if text == committed:
        return ""
    # A return with the text it had is committed with that very text: it reads the same.
    returned = commit.trailers.get(trailer.EVENT) == trailer.EVENT_RETURNED
    if returned and parse_document(committed, url).same_reading(extracted.page.document):
        return ""
    return "re-extracts to other text than the commit's"


def _kind(error: CaptureError) -> str:
    if isinstance(error, CaptureMissing):
        return "missing"
    if isinstance(error, CaptureDigestMismatch):
        return "digest mismatch"
    return "unreadable"

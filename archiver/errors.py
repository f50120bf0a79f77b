"""One exception hierarchy: every failure a user can meet is an ArchiverError.

Each message is one line naming the URL, file or option involved and what is wrong.
"""

from __future__ import annotations


def shorten(value: str, limit: int = 120) -> str:
    """A value to echo in a message, cut in the middle when long: a 5,000-character URL
    keeps its start and end, which tell which one it was."""
    if len(value) <= limit:
        return value
    keep = limit - 1
    return value[: keep - keep // 3] + "…" + value[len(value) - keep // 3 :]


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (Ctrl-C, SIGTERM); what was captured is stored."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class ArchiverError(Exception):
    """Base of every error archiver reports to its users."""


class ConfigError(ArchiverError):
    """archiver.toml, or an option, is not what was expected."""


class NotAnArchive(ArchiverError):
    """The folder is not an archiver archive."""


class StateError(ArchiverError):
    """The state store (.archiver/state.db) cannot be opened or written."""


class BuildError(ArchiverError):
    """The site could not be built, or served."""


class ExportError(ArchiverError):
    """An export could not be written: nothing chosen to export, or a bad output path."""


class ArchiveLocked(ArchiverError):
    """Another archiver run is writing this archive."""


class UnknownArticle(ArchiverError):
    """The archive does not track this URL."""


class UnknownVersion(ArchiverError):
    """The article has no such version."""


class ClusterError(ArchiverError):
    """`--scheduler` cannot be used: Dask missing here, the scheduler unreachable, no
    workers, or workers without the same archiver."""


class ArticleError(ArchiverError):
    """One article failed; the others go on. Carries the URL it concerns."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{shorten(url)}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Raised in extraction worker processes: pickle by the constructor's arguments.
        return (type(self), (self.url, self.reason))


class InvalidURL(ArticleError):
    """The URL is not an http(s) URL archiver can fetch."""


class FetchError(ArticleError):
    """The page could not be fetched (network, timeout, size cap)."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(url, reason)
        self.status = status


class Disallowed(FetchError):
    """robots.txt disallows the URL, or a redirect's target: policy, not a failure."""


class NotHTML(FetchError):
    """The response is not an HTML page."""


class ExtractionError(ArticleError):
    """The page gave no article text worth storing."""


class CaptureError(ArchiverError):
    """A version's capture (its WARC record) cannot be read, or is not what its commit says."""

    def __init__(self, path: str, record_id: str, reason: str) -> None:
        where = f"{path}: record {record_id}" if record_id else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.record_id = record_id
        self.reason = reason


class CaptureMissing(CaptureError):
    """The capture file, or the record in it, is not there."""


class CaptureDigestMismatch(CaptureError):
    """The captured payload is not the one the commit's digest vouches for."""

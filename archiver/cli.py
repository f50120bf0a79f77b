"""The command line: parse, open the archive, call one library function, report.

Expected failures are one line on stderr naming the URL, file or option; the exit status
says what kind of failure it was (see ExitStatus).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import signal
import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

try:  # typer 0.26 and later carry their own copy of click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    # Which of these mypy sees depends on whether click is installed too (datasette's).
    from click.exceptions import (  # type: ignore[no-redef, import-not-found, assignment, unused-ignore]
        ClickException,
    )

from archiver import __version__, articles, health, preview
from archiver import sync as sync_api
from archiver.archive import Archive, describe_os_error, init_archive
from archiver.capture.checker import source_for
from archiver.capture.model import Observer, Outcome, Result, RunReport
from archiver.config import CONFIG_FILE, FetchConfig, add_source
from archiver.errors import ArchiverError, ArticleError, ConfigError, shorten
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
from archiver.fetch.client import Response, open_fetcher, user_agent
from archiver.processes import terminate_stops
from archiver.site.views import DiffRow
from archiver.store.document import Document
from archiver.store.state import STATE_DIR, ArticleState, Held
from archiver.urls import canonical_url

if TYPE_CHECKING:
    from archiver.imports.ingest import ImportReport


class ExitStatus(IntEnum):
    OK = 0  # nothing failed (URLs robots.txt disallows are skipped, not failed)
    PARTIAL = 1  # an article or a source's feed, sitemap or page failed; something worked
    USAGE = 2  # a bad option or argument (typer's own code)
    FAILED = 3  # something was tried and all of it failed (nothing read, nothing checked)
    ERROR = 4  # the archive could not be used at all (not an archive, locked, bad config)
    INTERRUPTED = 130  # stopped by Ctrl-C; what was captured before is stored
    TERMINATED = 143  # stopped by SIGTERM; likewise


app = typer.Typer(
    name="archiver",
    help="A git-backed archive of how online news articles change.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion
    rich_markup_mode="markdown",  # docstrings are rewrapped to the terminal
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ArchiveOption = Annotated[
    Path, typer.Option("--archive", "-a", help="The archive folder.", show_default="current folder")
]


def main() -> None:
    """The `archiver` command. Usage errors are one line too, naming the option and the
    help to read, rather than typer's boxed usage text."""
    try:
        status = app(standalone_mode=False)
    except ClickException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # `archiver` alone: its help, shown
            sys.exit(ExitStatus.USAGE)
        context = getattr(error, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        err.print(f"error: {error.format_message()}{hint}", markup=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except typer.Abort:
        err.print("error: interrupted", markup=False)
        sys.exit(ExitStatus.INTERRUPTED)
    sys.exit(status if isinstance(status, int) else ExitStatus.OK)


def _fail(message: str, status: ExitStatus = ExitStatus.ERROR) -> typer.Exit:
    # Messages name what they concern; whatever long value one still echoes is cut short.
    err.print(f"error: {shorten(message, 500)}", markup=False, soft_wrap=True)
    return typer.Exit(status)


@contextmanager
def _errors():
    """Turn library errors into one line and an exit status, and warnings into lines on
    stderr; SIGTERM stops a command as Ctrl-C does (exit status 143 instead of 130)."""
    shown = _WarningLines()
    logging.getLogger("archiver").addHandler(shown)
    try:
        with terminate_stops():
            yield
    except ArchiverError as error:
        raise _fail(str(error)) from None
    except OSError as error:  # a file archiver needs could not be written or read
        raise _fail(describe_os_error(error)) from None
    except KeyboardInterrupt as stop:
        signum = getattr(stop, "signum", signal.SIGINT)
        raise _fail(
            "interrupted; every change captured before is stored",
            ExitStatus.TERMINATED if signum == signal.SIGTERM else ExitStatus.INTERRUPTED,
        ) from None
    finally:
        logging.getLogger("archiver").removeHandler(shown)


class _WarningLines(logging.Handler):
    """What the library warns about (a damaged state store set aside, a lock taken over from
    a run that ended) as one `warning:` line each on stderr, besides the run's log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"warning: {record.getMessage()}", markup=False, soft_wrap=True)


def _open(archive: Path) -> Archive:
    return Archive.open(archive)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"archiver {__version__}")
        raise typer.Exit()


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the archive.")] = Path("."),
) -> None:
    """Create an archive: a git repository with archiver.toml at its root."""
    with _errors():
        archive = init_archive(directory)
        out.print(f"Created archive in {archive.root}", markup=False)
        archive.close()


@app.command()
def add(
    urls: Annotated[list[str], typer.Argument(help="Article URLs to track.")],
    source: Annotated[
        str | None, typer.Option(help="Source name (default: a configured source, or the host).")
    ] = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Track articles and capture them now."""
    with _errors(), _open(archive) as opened, _run_log(opened, "add"):
        report = _with_progress(lambda p: sync_api.add(opened, urls, source, progress=p))
    _finish(report, every_skip=True)


@app.command()
def sync(
    check_all: Annotated[
        bool, typer.Option("--all", help="Check every tracked article now, due or not.")
    ] = False,
    no_discover: Annotated[
        bool, typer.Option("--no-discover", help="Only re-check tracked articles.")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="tcp://HOST:PORT",
            help="Run the checks on this Dask scheduler's workers (archiver[cluster]).",
        ),
    ] = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Discover new articles from the sources, and check new and due articles."""
    with _errors(), _open(archive) as opened, _run_log(opened, "sync"):
        report = _with_progress(
            lambda p: sync_api.sync(
                opened, check_all, progress=p, discover_new=not no_discover, scheduler=scheduler
            )
        )
    _finish(report)


@app.command()
def reformat(
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Read every version again from its capture, not only the latest."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Name each article left as it is.")
    ] = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """Record the new form of each article after an upgrade or a rule change.

    Each new extraction (by a new extractor, normalizer or rules) is a reformat commit, not
    a version. The current version is read from its capture, the response it was made
    from; an article stored before captures were kept is fetched again (a page edited
    since gets a reformat of its last version, then the edit as a version). With
    `--history` every version is read from its capture and the whole history recorded in
    the new form; articles with a version that has no capture are left as they are."""
    with _errors(), _open(archive) as opened, _run_log(opened, "reformat"):
        report = _with_progress(lambda p: sync_api.reformat(opened, progress=p, history=history))
    left = [r for r in report.results if r.outcome is Outcome.SKIPPED]
    for result in left if verbose else ():
        err.print(f"left as it is: {shorten(result.url)}: {result.reason}", markup=False)
    if left and not verbose:
        err.print(
            f"{len(left)} articles have a version with no capture and were left as they are"
            " (--verbose names them)",
            markup=False,
            soft_wrap=True,
        )
    if report.refetched:
        err.print(
            f"{report.refetched} articles have no capture of their current version: fetched again",
            markup=False,
            soft_wrap=True,
        )
    _finish(report)


# The window of capture times `import` and `backfill` take.
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Captures from this date or time (UTC).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Captures up to this date (inclusive) or time.")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts (see README: For scripts).")
]


@app.command()
def status(
    article: Annotated[
        str | None, typer.Argument(help="One article: its URL, file path, slug or part of URL.")
    ] = None,
    as_json: JsonOption = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """How each source is doing, or one article's schedule and state."""
    with _errors(), _open(archive) as opened:
        if article:
            state = articles.find_article(opened, article)
            held = opened.state.held(state.url)
            if as_json:
                _print_json(_article_json(state))
            else:
                _print_article(state, held)
            return
        sources = health.source_health(opened)
    if as_json:
        _print_json({"sources": [_source_json(source) for source in sources]})
        return
    for source in sources:
        _print_source(source)


def _print_article(state: ArticleState, held: Held | None = None) -> None:
    rows = {
        "url": state.url,
        "source": state.source,
        "file": state.path,
        "versions": str(state.versions),
        "first seen": _when(state.first_seen),
        "last changed": _when(state.last_changed),
        "last checked": _when(state.last_checked),
        "next check": _when(state.next_check) if state.next_check else "never (no longer tracked)",
        "status": "removed" if state.removed else str(state.last_status or ""),
    }
    if state.last_error:  # cut to the terminal (--json has it whole); URL and file stay whole
        reason = f"{_printable(state.last_error)} ({state.failures} in a row)"
        rows["last error"] = _clip(reason, out.width - 14)
    if held is not None and held.kind == "skipped":
        rows["skipped"] = f"{held.reason} (asked again after {_when(held.until)})"
    for key, value in rows.items():
        out.print(f"{key + ':':<14}{_printable(value)}", markup=False, soft_wrap=True)


def _print_source(source: health.SourceHealth) -> None:
    last = _when(source.last_success) if source.last_success else "never"
    out.print(
        _clip(
            f"{source.name}: {source.tracked} tracked, {source.due} due, {source.removed} removed"
        ),
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"  24 h: {source.checked_24h} checked, {source.changed_24h} changed; "
        f"last successful fetch {last}",
        markup=False,
        soft_wrap=True,
    )
    if source.source_error:
        since = _when(source.failing_since)
        out.print(
            f"  source failing since {since}: {source.source_error}", markup=False, soft_wrap=True
        )
    for warning in source.warnings:
        out.print(_clip(f"  warning: {_printable(warning)}"), markup=False, soft_wrap=True)
    for url, reason in source.failures[:10]:
        # The URL whole, to be copied; the reason cut to the terminal.
        line = f"  failing: {url}: "
        reason = _clip(_printable(reason), out.width - cell_len(line))
        out.print(line + reason, markup=False, soft_wrap=True)
    if len(source.failures) > 10:
        out.print(f"  … and {len(source.failures) - 10} more failing")


def _article_json(state: ArticleState) -> dict[str, object]:
    return {
        "url": state.url,
        "source": state.source,
        "path": state.path,
        "versions": state.versions,
        "first_seen": _iso(state.first_seen),
        "last_changed": _iso(state.last_changed),
        "last_checked": _iso(state.last_checked),
        "next_check": _iso(state.next_check),
        "removed": state.removed,
        "last_status": state.last_status,
        "last_error": state.last_error,
        "failures": state.failures,
    }


def _source_json(source: health.SourceHealth) -> dict[str, object]:
    return {
        "name": source.name,
        "tracked": source.tracked,
        "due": source.due,
        "removed": source.removed,
        "checked_24h": source.checked_24h,
        "changed_24h": source.changed_24h,
        "last_success": _iso(source.last_success),
        "failing": [{"url": url, "reason": reason} for url, reason in source.failures],
        "warnings": source.warnings,
    }


def _when(when: datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC" if when else "—"


def _iso(when: datetime | None) -> str | None:
    """UTC, to the second, with a Z: what scripts parse most easily."""
    return f"{when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" if when else None


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _printable(text: str) -> str:
    """Text from the internet with its control characters (escape sequences, newlines)
    made spaces, so a title cannot move the cursor or recolour the terminal."""
    return "".join(c if c.isprintable() else " " for c in text)


MIN_TITLE = 20  # cells a clipped title keeps, whatever else is on its line


def _clip(text: str, room: int | None = None) -> str:
    """`text` cut to `room` terminal cells (default: the terminal's width), ending in …"""
    room = out.width if room is None else max(room, MIN_TITLE)
    if cell_len(text) <= room:
        return text
    return set_cell_size(text, room - 1) + "…"


source_app = typer.Typer(help="Show and edit the sources in archiver.toml.", no_args_is_help=True)
app.add_typer(source_app, name="source")


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="Source name: lower-case letters, digits, - or _.")],
    feed: Annotated[list[str] | None, typer.Option(help="An RSS or Atom feed URL.")] = None,
    sitemap: Annotated[list[str] | None, typer.Option(help="An XML sitemap URL.")] = None,
    page: Annotated[
        list[str] | None, typer.Option(help="A section or home page whose links to follow.")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option(help="Regex article URLs must match.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Regex article URLs must not match.")
    ] = None,
    check: Annotated[
        bool, typer.Option(help="Try each new URL once and say what it lists.")
    ] = True,
    archive: ArchiveOption = Path("."),
) -> None:
    """Add a source (or more feeds, sitemaps, pages to one) in archiver.toml, and commit it.

    Each new feed, sitemap or page is tried once (robots.txt permitting): what it lists is
    shown, and one that cannot be read is a warning, not a failure."""
    from archiver.config import source_after_add
    from archiver.discover.probe import probe_source
    from archiver.store.repository import commit_config

    lists = {"feeds": feed or [], "sitemaps": sitemap or [], "pages": page or []}
    patterns = {"include": include or [], "exclude": exclude or []}
    with _errors(), _open(archive) as opened:
        for url in [*lists["feeds"], *lists["sitemaps"], *lists["pages"]]:
            canonical_url(url)
        planned = source_after_add(opened.root, name, **lists, **patterns)  # checked, unsaved
        if check:
            urls = {kind[:-1]: items for kind, items in lists.items()}
            for found in probe_source(opened, planned, urls):
                if found.problem:
                    err.print(f"warning: {found.describe()}", markup=False, soft_wrap=True)
                else:
                    out.print(found.describe(), markup=False, soft_wrap=True)
        existed = name in opened.config.sources
        with opened.writing():
            add_source(opened.root, name, **lists, **patterns)
            verb = "Extend" if existed else "Add"
            committed = commit_config(opened.root, f"{verb} source {name}", opened.clock.now())
    what = "saved and committed" if committed else "unchanged"
    out.print(f"Source {name} {what} in {opened.root / 'archiver.toml'}", markup=False)


@source_app.command("remove")
def source_remove(
    name: Annotated[str, typer.Argument(help="The source to remove.")],
    archive: ArchiveOption = Path("."),
) -> None:
    """Remove a source from archiver.toml, and commit it.

    No new articles are discovered for it. Its articles stay in the archive with their
    history, and those still tracked are re-checked on their schedule until quiet."""
    from archiver.config import remove_source
    from archiver.store.repository import commit_config

    with _errors(), _open(archive) as opened, opened.writing():
        remove_source(opened.root, name)
        commit_config(opened.root, f"Remove source {name}", opened.clock.now())
        tracked = sum(1 for _ in opened.state.all(name))
    kept = f"; its {tracked} articles stay in the archive" if tracked else ""
    out.print(
        f"Source {name} removed from {opened.root / 'archiver.toml'} and committed{kept}",
        markup=False,
        soft_wrap=True,
    )


@source_app.command("list")
def source_list(as_json: JsonOption = False, archive: ArchiveOption = Path(".")) -> None:
    """List the configured sources."""
    kinds = ("feeds", "sitemaps", "pages", "include", "exclude")
    with _errors(), _open(archive) as opened:
        sources = list(opened.config.sources.values())
    if as_json:
        listed = [{"name": s.name} | {k: list(getattr(s, k)) for k in kinds} for s in sources]
        _print_json({"sources": listed})
        return
    for source in sources:
        out.print(source.name, markup=False)
        for kind in kinds:
            for value in getattr(source, kind):
                out.print(
                    f"  {kind[:-1] if kind.endswith('s') else kind}: {value}",
                    markup=False,
                    soft_wrap=True,
                )


notify_app = typer.Typer(
    help="Notifications of changes: the [[notify]] tables in archiver.toml.", no_args_is_help=True
)
app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def notify_test(archive: ArchiveOption = Path(".")) -> None:
    """Send a sample message to each [[notify]] target, once, and say which got it (exit
    status 1 when any did not)."""
    from archiver.notify import send_sample

    with _errors(), _open(archive) as opened:
        if not opened.config.notify:
            raise _fail(f"{opened.root / CONFIG_FILE}: no [[notify]] table to send to")
        tried = send_sample(opened.config)
    for one in tried:
        if one.error is None:
            out.print(f"sent: {one.target}", markup=False, soft_wrap=True)
        else:
            err.print(f"failed: {one.target}: {one.error}", markup=False, soft_wrap=True)
    if any(one.error is not None for one in tried):
        raise typer.Exit(ExitStatus.PARTIAL)


@app.command()
def build(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("site"),
    full: Annotated[bool, typer.Option(help="Rebuild every page, not only what changed.")] = False,
    search: Annotated[bool, typer.Option(help="Build the search index.")] = True,
    force: Annotated[
        bool,
        typer.Option(help="Build into a folder holding files archiver did not write."),
    ] = False,
    archive: Annotated[
        list[Path] | None,
        typer.Option(
            "--archive",
            "-a",
            help="The archive folder; repeat it for one site over several archives.",
            show_default="current folder",
        ),
    ] = None,
) -> None:
    """Build the static site from the archive's history (incrementally, after the first)."""
    from archiver.site import build_site

    with _errors(), ExitStack() as stack:
        opened = [stack.enter_context(_open(one)) for one in archive or [Path(".")]]
        report = build_site(opened, out_dir, full=full, search=search, force=force)
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    if report.excluded:
        out.print(
            f"The site is inside the archive: {report.excluded} added to .git/info/exclude,"
            " so git status does not list it",
            markup=False,
            soft_wrap=True,
        )
    out.print(
        f"Built {out_dir}: {report.pages_written} files written, {report.pages_unchanged} "
        f"unchanged, {report.pages_deleted} deleted ({report.articles} articles, "
        f"{report.versions} versions; {'incremental' if report.incremental else 'full'} build, "
        f"{report.seconds:.1f} s; search: {report.search or 'off'})",
        markup=False,
        soft_wrap=True,
    )


@app.command("export-wacz")
def export_wacz(
    out_file: Annotated[Path, typer.Argument(help="The WACZ file to write (OUT.wacz).")],
    urls: Annotated[
        list[str] | None,
        typer.Argument(help="Articles to export, by URL, path or slug (default: all)."),
    ] = None,
    sources: Annotated[
        list[str] | None, typer.Option("--source", help="Export this source's articles.")
    ] = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Write the captures of articles' versions as a WACZ, for ReplayWeb.page and pywb.

    Each version's response is copied as recorded (record ids and digests kept), with a
    CDXJ index, a page per version and the package's sha256 digests."""
    from archiver.export.wacz import export_wacz as export

    with _errors(), _open(archive) as opened:
        chosen = [articles.find_article(opened, name).url for name in urls or ()]
        report = export(opened, out_file, sources or (), chosen)
    for problem in report.problems:
        err.print(f"warning: {problem}", markup=False, soft_wrap=True)
    uncaptured = f"; {report.uncaptured} versions without a capture" if report.uncaptured else ""
    out.print(
        f"Wrote {report.out}: {report.versions} versions of {report.articles} articles, "
        f"{report.records} records{uncaptured}",
        markup=False,
        soft_wrap=True,
    )
    if report.problems:
        raise typer.Exit(ExitStatus.PARTIAL)


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="WARC (.warc, .warc.gz) or WACZ files.")],
    source: Annotated[
        str | None, typer.Option("--source", help="Store every page under this source.")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only URLs matching this pattern.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="No URL matching this pattern.")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Store the HTML pages captured in WARC or WACZ files as versions, dated by capture.

    Each page's captures are taken in capture-time order and stored as a sync stores a
    fetch: the same extraction and comparison, a version only when the text changed, the
    record kept in captures/. Other records are counted and skipped."""
    from archiver.imports.files import Filters, import_files

    with _errors(), _open(archive) as opened:
        filters = Filters.of(include or (), exclude or (), since, until)
        report = import_files(opened, paths, source, filters)
    _finish_import(report)


@app.command()
def backfill(
    urls: Annotated[
        list[str] | None,
        typer.Argument(help="Articles to backfill, by URL (default: every tracked article)."),
    ] = None,
    collection: Annotated[
        str,
        typer.Option(
            "--from",
            help="The replay collection: https://web.archive.org/web, or http://HOST:PORT/NAME.",
        ),
    ] = "https://web.archive.org/web",
    cdx: Annotated[
        str | None, typer.Option("--cdx", help="Its CDX API, when not COLLECTION/cdx.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source's articles.")
    ] = None,
    max_per_article: Annotated[
        int | None, typer.Option("--max-per-article", help="At most N captures an article.")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Store the captures a Wayback-compatible server holds of articles, as versions.

    Asks the server's CDX API which captures it has, fetches those the archive lacks in
    their original form, politely, and stores each as a sync stores a fetch, dated by its
    capture and linked to it."""
    from archiver.imports.backfill import Server
    from archiver.imports.backfill import backfill as run_backfill
    from archiver.imports.files import Filters

    with _errors(), _open(archive) as opened:
        server = Server.of(collection, cdx)
        filters = Filters.of(since=since, until=until)
        report = run_backfill(opened, server, urls or (), source, max_per_article, filters)
    _finish_import(report)


def _finish_import(report: ImportReport) -> None:
    for problem in report.problems:
        err.print(f"warning: {problem}", markup=False, soft_wrap=True)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(report.skipped.items()))
    out.print(
        f"Stored {report.versions} versions of {len(report.articles)} articles "
        f"from {report.records} pages" + (f"; skipped {skipped}" if skipped else ""),
        markup=False,
        soft_wrap=True,
    )


@app.command()
def export(
    out_path: Annotated[
        Path, typer.Argument(metavar="OUT", help="The SQLite file, or the jsonl folder.")
    ],
    format: Annotated[str, typer.Option(help="sqlite, jsonl (parquet: see docs).")] = "sqlite",
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles first seen on this day (YYYY-MM-DD) or later.")
    ] = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Export articles, versions and sentence edits for research (again: adds what is new).

    Tables `articles`, `versions` and `edits` in one SQLite file (full-text search on
    titles and text; `datasette OUT` browses it) or a folder of JSON lines files."""
    from archiver.export.research import export_research, parse_since

    with _errors(), _open(archive) as opened:
        day = parse_since(since) if since is not None else None
        report = export_research(opened, out_path, format, source or (), day)
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    kind = "added to" if report.incremental else "exported into"
    out.print(
        f"{report.versions} versions, {report.edits} edits of {report.articles} articles "
        f"{kind} {out_path} ({report.commits} commits read, up to {report.head[:12]}; "
        f"{report.seconds:.1f} s)",
        markup=False,
        soft_wrap=True,
    )


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Argument(help="Where to put the demo archive and site.")
    ] = Path("demo"),
) -> None:
    """Replay the embedded sample sites on loopback into an archive, and build its site."""
    from archiver.demo import run_demo
    from archiver.site import build_site

    def step(when: datetime, report: RunReport) -> None:
        changes = report.count(Outcome.NEW) + report.count(Outcome.CHANGED)
        out.print(
            f"{_when(when)}  discovered {report.discovered:>2}, checked {report.checked:>2}, "
            f"stored {changes:>2}, failed {report.count(Outcome.FAILED)}",
            markup=False,
        )

    with _errors():
        opened = run_demo(directory, step=step)
        with opened:
            # A previous demo's site: its build state went with the archive just replaced.
            site = build_site(opened, directory / "site", full=True, force=True)
    # Paths whole, each on its own line, to be copied.
    for line in (
        "",
        f"Archive: {opened.root}",
        f"  read its history: git -C {opened.root} log --stat",
        f"Site: {directory / 'site'} ({site.pages_written} pages)",
        f"  browse it: archiver serve {directory / 'site'}",
    ):
        out.print(line, markup=False, soft_wrap=True)


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="The built site.")] = Path("site"),
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8000,
) -> None:
    """Preview the built site on http://127.0.0.1:PORT/."""
    from archiver.site import serve as serve_site

    if not (directory / "index.html").is_file():
        raise _fail(f"{directory}: no built site here (run `archiver build --out {directory}`)")
    try:
        _check_port(port)  # before saying it serves
        out.print(f"Serving {directory} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", markup=False)
        with suppress(KeyboardInterrupt):
            serve_site(directory, port=port)
    except OSError as error:  # the port was taken in between, or cannot be had
        raise _port_error(port, error) from None


def _check_port(port: int) -> None:
    """Raise OSError unless the port can be listened on, as http.server will (reusing an
    address in TIME_WAIT)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def _port_error(port: int, error: OSError) -> typer.Exit:
    reason = "in use" if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
    return _fail(f"127.0.0.1:{port}: {reason}; choose another port with --port")


@app.command()
def extract(
    page: Annotated[str, typer.Argument(help="An HTML file, or an http(s) URL.")],
    url: Annotated[str | None, typer.Option(help="The page's URL, when PAGE is a file.")] = None,
    source: Annotated[str | None, typer.Option(help="Source name to record.")] = None,
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            "-a",
            help="The archive whose source rules and fetch settings apply.",
            show_default="the current folder, when it is an archive",
        ),
    ] = None,
) -> None:
    """Print the normalized document of a page, without storing it. In an archive, it is
    what a sync would store: the source's rules and fetch settings apply."""
    with _errors():
        if archive is not None or (Path(".") / CONFIG_FILE).is_file():
            with _open(archive or Path(".")) as opened:
                document = _extract_in(opened, page, url, source)
        else:
            document = _extract_alone(page, url, source)
    sys.stdout.write(document.render())


def _extract_in(archive: Archive, page: str, url: str | None, source: str | None) -> Document:
    path = Path(page)
    if path.is_file():
        where = canonical_url(url) if url else path.resolve().as_uri()
        return preview.extract_file(archive, path.read_bytes(), where, source)
    return preview.extract_url(archive, page, source)


def _extract_alone(page: str, url: str | None, source: str | None) -> Document:
    """Outside an archive: default fetch settings, no source rules, any length."""
    path = Path(page)
    if path.is_file():
        body, charset = path.read_bytes(), None
        url = canonical_url(url) if url else path.resolve().as_uri()
    else:
        url = canonical_url(page)
        response = asyncio.run(_fetch_once(url))
        body, charset = response.body, response.charset
    name = source or (source_for(url, []) if url.startswith("http") else "local")
    return extract_page(decode_html(body, charset, url), url, name, min_chars=1).document


async def _fetch_once(url: str) -> Response:
    async with open_fetcher(FetchConfig(), user_agent()) as fetcher:
        return await fetcher.fetch(url)


ArticleArgument = Annotated[
    str, typer.Argument(help="The article: its URL, file path, slug or a unique part of URL.")
]


@app.command()
def log(
    article: ArticleArgument,
    as_json: JsonOption = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """List an article's versions."""
    with _errors(), _open(archive) as opened:
        state = articles.find_article(opened, article)
        versions = articles.log(opened, state.url)
    if as_json:
        listed = [
            {
                "number": v.number,
                "sha": v.sha,
                "when": _iso(v.when),
                "title": v.title,
                "chars_added": v.chars_added,
                "chars_removed": v.chars_removed,
                # a version from a web archive: where it came from, and its replay address
                **({"origin": v.origin, "capture_url": v.link or None} if v.origin else {}),
            }
            for v in versions
        ]
        about = {"url": state.url, "source": state.source, "path": state.path}
        _print_json(about | {"versions": listed})
        return
    for v in versions:
        line = f"v{v.number:<3} {_when(v.when)}  {v.sha[:8]}  "
        line += f"+{v.chars_added}/-{v.chars_removed}  "
        title = _clip(_printable(v.title), out.width - cell_len(line))
        out.print(line + title, markup=False, soft_wrap=True)
        if v.origin:  # a version from a web archive: where, and its capture's address
            link = f" {_printable(v.link)}" if v.link else ""
            out.print(f"     {_printable(v.origin)}{link}", markup=False, soft_wrap=True)


@app.command()
def diff(
    article: ArticleArgument,
    a: Annotated[
        int | None, typer.Argument(help="Older version (default: the one before B).")
    ] = None,
    b: Annotated[int | None, typer.Argument(help="Newer version (default: the latest).")] = None,
    as_json: JsonOption = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """Show the change between two versions of an article, as the site shows it.

    One line per changed row: deleted words red (or [-so-] without colour), inserted
    green (or {+so+}); the version numbers are the site's."""
    with _errors(), _open(archive) as opened:
        found = articles.diff(opened, article, a, b)
    shown = found.comparison
    if as_json:
        _print_json(_difference_json(found))
        return
    head = f"version {found.old} ({_when(_utc(found.old_when))}) → "
    out.print(head + f"version {found.new} ({_when(_utc(found.new_when))})", markup=False)
    out.print(
        ("minor change: " if shown.minor else "") + shown.summary, markup=False, soft_wrap=True
    )
    if shown.rewritten:
        out.print(f"rewritten: {shown.rewritten} paragraphs replaced", markup=False)
    plain = out.no_color or out.color_system is None
    for row in shown.rows:
        if row.kind != "same":
            out.print(_diff_line(row, plain), soft_wrap=True)


_ROW_MARKS = {"changed": "~", "field": "~", "added": "+", "removed": "-", "moved": ">"}
_ROW_MARKS |= {"moved-away": " ", "replaced": "≠"}
_SPAN_STYLES = {"delete": "red strike", "insert": "green underline", "equal": ""}
_SPAN_MARKS = {"delete": ("[-", "-]"), "insert": ("{+", "+}"), "equal": ("", "")}


def _diff_line(row: DiffRow, plain: bool) -> Text:
    """A row of the site's diff as one terminal line: where it is, then its words."""
    line = Text(_ROW_MARKS.get(row.kind, "?") + " ")
    if row.kind == "moved-away":
        return line.append(row.note)
    if row.label:
        line.append(f"{row.label}: ")
    else:
        numbers = [f"¶{c.number}" for c in (row.old, row.new) if c is not None and c.number]
        line.append(
            " → ".join(dict.fromkeys(numbers)) + (f" ({row.note})" if row.note else "") + ": "
        )
    for span in row.inline:
        start, end = _SPAN_MARKS[span.op] if plain else ("", "")
        line.append(start + _printable(span.text) + end, style=_SPAN_STYLES[span.op])
    return line


def _difference_json(found: articles.Difference) -> dict[str, object]:
    shown = found.comparison
    return {
        "url": found.url,
        "old": {"number": found.old, "when": _iso(_utc(found.old_when))},
        "new": {"number": found.new, "when": _iso(_utc(found.new_when))},
        "summary": shown.summary,
        "minor": shown.minor,
        "rewritten": shown.rewritten,
        "rows": [
            {
                "kind": row.kind,
                "label": row.label,
                "old": row.old.number if row.old else None,
                "new": row.new.number if row.new else None,
                "note": row.note,
                "spans": [[span.op, span.text] for span in row.inline],
            }
            for row in shown.rows
        ],
    }


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@app.command()
def verify(
    urls: Annotated[
        list[str] | None, typer.Argument(help="Articles to verify (default: every one).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only this source's articles.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="A version naming no capture is a problem too.")
    ] = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """Check every version against its capture: the file and record are there, the digest
    matches, the text re-extracts the same. One line per problem; exit status 1 if any."""
    from archiver.verify import verify as verify_api

    with _errors(), _open(archive) as opened:
        report = verify_api(opened, source, urls or (), strict)
    for problem in report.problems:
        out.print(problem.line(), markup=False, soft_wrap=True)
    for note in report.notes:
        err.print(f"warning: {note}", markup=False, soft_wrap=True)
    out.print(report.summary(), markup=False, soft_wrap=True)
    if report.not_backed and not strict:
        out.print(
            "versions naming no capture were stored before captures or with captures off:"
            " not errors (--strict makes them errors)",
            markup=False,
            soft_wrap=True,
        )
    if not report.ok:
        raise typer.Exit(ExitStatus.PARTIAL)


@app.command()
def find(
    text: Annotated[str, typer.Argument(help="Text to look for in titles and URLs.")],
    as_json: JsonOption = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """Find articles by title or URL: one line each, the newest first.

    Each line: the day it was first seen, its source, its current title, its URL."""
    with _errors(), _open(archive) as opened:
        found = articles.find(opened, text)
    if as_json:
        _print_json({"articles": [_match_json(m) for m in found]})
        return
    if not found:
        err.print(f"no article has {text!r} in its title or URL", markup=False, soft_wrap=True)
        raise typer.Exit(ExitStatus.PARTIAL)
    for match in found:
        state = match.state
        start = f"{state.first_seen:%Y-%m-%d}  {state.source}  "
        end = f"  {state.url}"
        room = max(out.width - cell_len(start) - cell_len(end), MIN_TITLE)  # URLs stay whole
        title = _printable(match.title) or "(removed)"
        out.print(start + _clip(title, room) + end, markup=False, soft_wrap=True)


def _match_json(match: articles.Match) -> dict[str, object]:
    state = match.state
    return {
        "url": state.url,
        "source": state.source,
        "title": match.title,
        "path": state.path,
        "first_seen": _iso(state.first_seen),
        "versions": state.versions,
    }


class _Bar(Observer):
    def __init__(self, bar: RichProgress) -> None:
        self.bar = bar
        self.task = bar.add_task("checking", total=None, counts="")
        self.counts: Counter[Outcome] = Counter()

    def planned(self, articles: int) -> None:
        self.bar.update(self.task, total=articles)

    def checked(self, result: Result) -> None:
        self.counts[result.outcome] += 1
        summary = ", ".join(f"{n} {o.value}" for o, n in self.counts.items() if n)
        self.bar.update(self.task, advance=1, counts=summary)


def _with_progress(run: Callable[[Observer], RunReport]) -> RunReport:
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with RichProgress(*columns, console=err, transient=True) as bar:
        return run(_Bar(bar))


@contextmanager
def _run_log(archive: Archive, command: str) -> Iterator[Path]:
    """Each run writes a log file under .archiver/logs: what was checked, and why not."""
    folder = archive.root / STATE_DIR / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{command}-{archive.clock.now():%Y%m%dT%H%M%SZ}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("archiver")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()


def _finish(report: RunReport, every_skip: bool = False) -> None:
    """The run's failures and new skips, its counts, and its exit status (see ExitStatus);
    a URL skipped for a reason already told is told again only when asked for by name."""
    for error in report.source_errors:
        err.print(
            f"source failed: {shorten(error.url)}: {error.reason}", markup=False, soft_wrap=True
        )
    for failure in report.failures:
        err.print(f"failed: {shorten(failure.url)}: {failure.reason}", markup=False, soft_wrap=True)
    for result in report.results:
        if result.outcome is Outcome.SKIPPED and (every_skip or not result.repeated):
            err.print(
                f"skipped: {shorten(result.url)}: {result.reason}", markup=False, soft_wrap=True
            )
    counts = [
        f"{report.count(Outcome.NEW)} new",
        f"{report.count(Outcome.CHANGED)} changed",
        f"{report.count(Outcome.UNCHANGED)} unchanged",
    ]
    counts += [
        f"{report.count(o)} {o.value}"
        for o in (
            Outcome.REMOVED,
            Outcome.RETURNED,
            Outcome.REFORMATTED,
            Outcome.GONE,
            Outcome.SKIPPED,
        )
        if report.count(o)
    ]
    counts.append(f"{report.count(Outcome.FAILED)} failed")
    found = f"discovered {report.discovered}, " if report.discovered else ""
    failing = len(report.source_errors)
    sources = f"; {failing} source document{'s' * (failing != 1)} failed" if failing else ""
    summary = f"{found}checked {report.checked}: {', '.join(counts)}{sources}"
    out.print(summary, markup=False, soft_wrap=True)  # one line, even in a log file
    if report.failed:
        raise typer.Exit(ExitStatus.PARTIAL if report.worked else ExitStatus.FAILED)


__all__ = ["ArticleError", "ConfigError", "ExitStatus", "app", "main"]

"""The command line: parse, open the archive, call one library function, report.

Expected failures are one line on stderr naming the URL, file or option; the exit status
says what kind of failure it was (see ExitStatus).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from . import __version__, articles, health
from . import sync as sync_api
from .archive import Archive, describe_os_error, init_archive
from .capture import Outcome, Progress, Result, RunReport, source_for
from .config import add_source, load_config
from .errors import ArchiverError, ArticleError, ConfigError, shorten
from .extract import decode_html, extract_page
from .fetch import open_fetcher, user_agent
from .processes import terminate_stops
from .state import STATE_DIR, ArticleState
from .urls import canonical_url


class ExitStatus(IntEnum):
    OK = 0
    PARTIAL = 1  # some articles failed, the others were stored
    USAGE = 2  # a bad option or argument (typer's own code)
    FAILED = 3  # every article failed
    ERROR = 4  # the archive could not be used at all (not an archive, locked, bad config)
    INTERRUPTED = 130  # stopped by Ctrl-C; what was captured before is stored
    TERMINATED = 143  # stopped by SIGTERM; likewise


app = typer.Typer(
    name="archiver",
    help="A git-backed archive of how online news articles change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ArchiveOption = Annotated[
    Path, typer.Option("--archive", "-a", help="The archive folder.", show_default="current folder")
]


def main() -> None:
    app()


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
    _finish(report)


@app.command()
def sync(
    check_all: Annotated[
        bool, typer.Option("--all", help="Check every tracked article now, due or not.")
    ] = False,
    no_discover: Annotated[
        bool, typer.Option("--no-discover", help="Only re-check tracked articles.")
    ] = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """Discover new articles from the sources, and check new and due articles."""
    with _errors(), _open(archive) as opened, _run_log(opened, "sync"):
        report = _with_progress(
            lambda p: sync_api.sync(opened, check_all, progress=p, discover_new=not no_discover)
        )
    _finish(report)


@app.command()
def reformat(archive: ArchiveOption = Path(".")) -> None:
    """Record new extractions made by a new extractor, normalizer or rules as reformat
    commits, which are not versions. Run it right after upgrading or editing rules: it
    assumes the pages were not edited since their last check."""
    with _errors(), _open(archive) as opened, _run_log(opened, "reformat"):
        report = _with_progress(lambda p: sync_api.reformat(opened, progress=p))
    _finish(report)


@app.command()
def status(
    url: Annotated[str | None, typer.Argument(help="One article's URL.")] = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """How each source is doing, or one article's schedule and state."""
    with _errors(), _open(archive) as opened:
        if url:
            _print_article(health.article_status(opened, url))
            return
        for source in health.source_health(opened):
            _print_source(source)


def _print_article(state: ArticleState) -> None:
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
    if state.last_error:
        rows["last error"] = f"{state.last_error} ({state.failures} in a row)"
    for key, value in rows.items():
        out.print(f"{key + ':':<14}{value}", markup=False, soft_wrap=True)


def _print_source(source: health.SourceHealth) -> None:
    last = _when(source.last_success) if source.last_success else "never"
    out.print(
        f"{source.name}: {source.tracked} tracked, {source.due} due, {source.removed} removed; "
        f"24 h: {source.checked_24h} checked, {source.changed_24h} changed; "
        f"last successful fetch {last}",
        markup=False,
        soft_wrap=True,
    )
    for warning in source.warnings:
        out.print(f"  warning: {warning}", markup=False, soft_wrap=True)
    for url, reason in source.failures[:10]:
        out.print(f"  failing: {url}: {reason}", markup=False, soft_wrap=True)
    if len(source.failures) > 10:
        out.print(f"  … and {len(source.failures) - 10} more failing")


def _when(when: datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC" if when else "—"


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
    archive: ArchiveOption = Path("."),
) -> None:
    """Add a source (or more feeds, sitemaps, pages to one) in archiver.toml."""
    with _errors():
        root = Archive.open(archive).root
        for url in [*(feed or []), *(sitemap or []), *(page or [])]:
            canonical_url(url)
        add_source(
            root,
            name,
            feeds=feed or [],
            sitemaps=sitemap or [],
            pages=page or [],
            include=include or [],
            exclude=exclude or [],
        )
        out.print(f"Source {name} saved in {root / 'archiver.toml'}", markup=False)


@source_app.command("list")
def source_list(archive: ArchiveOption = Path(".")) -> None:
    """List the configured sources."""
    with _errors(), _open(archive) as opened:
        for source in opened.config.sources.values():
            out.print(source.name, markup=False)
            for kind in ("feeds", "sitemaps", "pages", "include", "exclude"):
                for value in getattr(source, kind):
                    out.print(
                        f"  {kind[:-1] if kind.endswith('s') else kind}: {value}", markup=False
                    )


@app.command()
def build(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("site"),
    full: Annotated[bool, typer.Option(help="Rebuild every page, not only what changed.")] = False,
    search: Annotated[bool, typer.Option(help="Build the search index.")] = True,
    archive: ArchiveOption = Path("."),
) -> None:
    """Build the static site from the archive's history (incrementally, after the first)."""
    from .site import build_site

    with _errors(), _open(archive) as opened:
        report = build_site(opened, out_dir, full=full, search=search)
    for warning in report.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    out.print(
        f"Built {out_dir}: {report.pages_written} files written, {report.pages_unchanged} "
        f"unchanged, {report.pages_deleted} deleted ({report.articles} articles, "
        f"{report.versions} versions; {'incremental' if report.incremental else 'full'} build, "
        f"{report.seconds:.1f} s; search: {report.search or 'off'})",
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
    from .demo import run_demo
    from .site import build_site

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
            site = build_site(opened, directory / "site", full=True)
    out.print(
        f"\nArchive: {opened.root} (try `git -C {opened.root} log --stat`)\n"
        f"Site: {directory / 'site'} ({site.pages_written} pages); "
        f"browse it with `archiver serve {directory / 'site'}`",
        markup=False,
    )


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="The built site.")] = Path("site"),
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Preview the built site on http://127.0.0.1:PORT/."""
    from .site import serve as serve_site

    if not (directory / "index.html").is_file():
        raise _fail(f"{directory}: no built site here (run `archiver build --out {directory}`)")
    out.print(f"Serving {directory} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", markup=False)
    with suppress(KeyboardInterrupt):
        serve_site(directory, port=port)


@app.command()
def extract(
    page: Annotated[str, typer.Argument(help="An HTML file, or an http(s) URL.")],
    url: Annotated[str | None, typer.Option(help="The page's URL, when PAGE is a file.")] = None,
    source: Annotated[str | None, typer.Option(help="Source name to record.")] = None,
) -> None:
    """Print the normalized document of a page, without storing it."""
    with _errors():
        path = Path(page)
        if path.is_file():
            body, charset = path.read_bytes(), None
            url = canonical_url(url) if url else path.resolve().as_uri()
        else:
            url = canonical_url(page)
            response = asyncio.run(_fetch_once(url))
            body, charset = response.body, response.charset
        name = source or (source_for(url, []) if url.startswith("http") else "local")
        document = extract_page(decode_html(body, charset, url), url, name, min_chars=1).document
    sys.stdout.write(document.render())


async def _fetch_once(url: str):  # type: ignore[no-untyped-def]
    settings = load_config(Path(".")).fetch if Path("archiver.toml").is_file() else None
    from .config import FetchConfig

    async with open_fetcher(settings or FetchConfig(), user_agent()) as fetcher:
        return await fetcher.fetch(url)


@app.command()
def log(
    url: Annotated[str, typer.Argument(help="A tracked article's URL.")],
    archive: ArchiveOption = Path("."),
) -> None:
    """List an article's versions."""
    with _errors(), _open(archive) as opened:
        for v in articles.log(opened, url):
            out.print(
                f"v{v.number:<3} {v.when:%Y-%m-%d %H:%M} UTC  {v.sha[:10]}  "
                f"+{v.chars_added}/-{v.chars_removed}  {v.title}",
                markup=False,
                soft_wrap=True,
            )


@app.command()
def diff(
    url: Annotated[str, typer.Argument(help="A tracked article's URL.")],
    a: Annotated[
        int | None, typer.Argument(help="Older version (default: the one before B).")
    ] = None,
    b: Annotated[int | None, typer.Argument(help="Newer version (default: the latest).")] = None,
    archive: ArchiveOption = Path("."),
) -> None:
    """Show the change between two versions of an article."""
    with _errors(), _open(archive) as opened:
        text = articles.diff(opened, url, a, b)
    sys.stdout.write(text or "(no difference)\n")


class _Bar(Progress):
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


def _with_progress(run: Callable[[Progress], RunReport]) -> RunReport:
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


def _finish(report: RunReport) -> None:
    for error in report.source_errors:
        err.print(
            f"source failed: {shorten(error.url)}: {error.reason}", markup=False, soft_wrap=True
        )
    for failure in report.failures:
        err.print(f"failed: {shorten(failure.url)}: {failure.reason}", markup=False, soft_wrap=True)
    counts = [
        f"{report.count(Outcome.NEW)} new",
        f"{report.count(Outcome.CHANGED)} changed",
        f"{report.count(Outcome.UNCHANGED)} unchanged",
    ]
    counts += [
        f"{report.count(o)} {o.value}"
        for o in (Outcome.REMOVED, Outcome.RETURNED)
        if report.count(o)
    ]
    counts.append(f"{report.count(Outcome.FAILED)} failed")
    found = f"discovered {report.discovered}, " if report.discovered else ""
    out.print(f"{found}checked {report.checked}: {', '.join(counts)}")
    failed = len(report.failures) + len(report.source_errors)
    if failed and not (report.checked - len(report.failures)):
        raise typer.Exit(ExitStatus.FAILED)
    if failed:
        raise typer.Exit(ExitStatus.PARTIAL)


__all__ = ["ArticleError", "ConfigError", "ExitStatus", "app", "main"]

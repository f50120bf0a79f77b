"""The command line: parse, open the archive, call one library function, report.

Expected failures are one line on stderr naming the URL, file or option; the exit status
says what kind of failure it was (see ExitStatus).
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__, articles
from . import sync as sync_api
from .archive import Archive, init_archive
from .capture import Outcome, Result, RunReport, source_for
from .config import load_config
from .errors import ArchiverError, ArticleError, ConfigError
from .extract import decode_html, extract_page
from .fetch import Fetcher, user_agent
from .urls import canonical_url


class ExitStatus(IntEnum):
    OK = 0
    PARTIAL = 1  # some articles failed, the others were stored
    USAGE = 2  # a bad option or argument (typer's own code)
    FAILED = 3  # every article failed
    ERROR = 4  # the archive could not be used at all (not an archive, locked, bad config)
    INTERRUPTED = 130  # stopped by Ctrl-C; what was captured before is stored


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
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(status)


@contextmanager
def _errors():
    """Turn library errors into one line and an exit status."""
    try:
        yield
    except ArchiverError as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        raise _fail(
            "interrupted; every change captured before is stored", ExitStatus.INTERRUPTED
        ) from None


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
    with _errors(), _open(archive) as opened:
        report = _with_progress(len(urls), lambda p: sync_api.add(opened, urls, source, progress=p))
    _finish(report)


@app.command()
def sync(
    check_all: Annotated[
        bool, typer.Option("--all", help="Check every tracked article now.")
    ] = False,
    archive: ArchiveOption = Path("."),
) -> None:
    """Re-check the tracked articles that are due."""
    with _errors(), _open(archive) as opened:
        total = len(sync_api.due_targets(opened, check_all))
        report = _with_progress(total, lambda p: sync_api.sync(opened, check_all, progress=p))
    _finish(report)


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

    async with httpx.AsyncClient(trust_env=False) as client:
        return await Fetcher(client, settings or FetchConfig(), user_agent()).fetch(url)


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


def _with_progress(total: int, run) -> RunReport:  # type: ignore[no-untyped-def]
    counts = {o: 0 for o in Outcome}
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True, disable=total < 2) as bar:
        task = bar.add_task("checking", total=total, counts="")

        def step(result: Result) -> None:
            counts[result.outcome] += 1
            summary = ", ".join(f"{n} {o.value}" for o, n in counts.items() if n)
            bar.update(task, advance=1, counts=summary)

        return run(step)


def _finish(report: RunReport) -> None:
    for failure in report.failures:
        err.print(f"failed: {failure.url}: {failure.reason}", markup=False, soft_wrap=True)
    out.print(
        f"checked {report.checked}: {report.count(Outcome.NEW)} new, "
        f"{report.count(Outcome.CHANGED)} changed, {report.count(Outcome.UNCHANGED)} unchanged, "
        f"{report.count(Outcome.FAILED)} failed"
    )
    failed = len(report.failures)
    if failed and failed == report.checked:
        raise typer.Exit(ExitStatus.FAILED)
    if failed:
        raise typer.Exit(ExitStatus.PARTIAL)


__all__ = ["ArticleError", "ConfigError", "ExitStatus", "app", "main"]

"""Sync speed on loopback against plain extraction of the same real news pages.

    python -m benchmarks.sync_bench [--articles 300] [--changed 30] [--rounds 5]
                                    [--repeat 3] [--corpus DIR] [--write-docs]

The corpus's real pages (../shared/corpus, beside the checkout; absent in a user's clone,
then this says so and stops) are served as N articles, /a/0 … /a/N-1, cycling through the
pages. Each URL's copy carries an invented sentence in one paragraph of its article text,
so every URL is its own article; "changing" an article rotates that paragraph's words.
First, `--rounds` times in turn (A, B, C, A, B, C …): a first sync of all N into a new
archive; the fetched floor, plain `trafilatura.extract` (archiver's options) in as many new
worker processes as a sync forks, each fetching its pages from the same site over one
kept-alive connection; the from-memory floor, the same with the pages' bytes already in the
workers (benchmarks/sync_floor.py). Each with its CPU by process (benchmarks/ab.py).
Then, on one archive, with `archiver.sync.sync` itself:

1. first sync: N new articles, found in an RSS feed listing all of them;
2. unchanged sync (check_all): every article should cost one conditional request answered
   304 and a state update: no extraction, no commit. Repeated, then once under cProfile,
   then with a new connection per request instead of kept-alive ones (see WHAT_IFS);
3. changed sync (check_all) with the same M articles changed before each run: only those
   M need extraction, and comparing with their stored versions. `--rounds` times in turn
   with its floor (all N fetched with the ETag of an earlier fetch, the M answered 200
   extracted), once under cProfile, then with that comparison made in the archiver
   process, as it once was.

The runs' extraction is routed through a wrapper that logs each page the workers extracted
(to count them and check each URL's sentence was found), except in the first syncs measured
against the floor, which run archiver's code untouched.

Then the cost of captures (`--captures-only` measures just this): two archives, one
keeping `versions` (the default), one `none`, first synced alike; then `--rounds` changed
syncs of each in turn (A, B, A, B …), the same M articles edited before each, their wall
times compared per round; the bytes of WARC written per version stored; and, in a third
archive keeping `all`, an unchanged sync with the site's validators off (every article a
200 of the bytes already captured), the WARC bytes per unchanged check (revisits).

Politeness is off (min_delay = 0, per_host = IN_FLIGHT): this measures archiver's own
overhead, not the waits it keeps for real sites. The site runs in its own process, so its
request handling takes no share of the archiver process's interpreter, as a remote site's
would not; it still shares the machine's cores, and its CPU time is reported. The machine is
shared and noisy, so only ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import multiprocessing
import os
import platform
import pstats
import re
import resource
import shutil
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from archiver.archive import Archive, init_archive
from archiver.capture import checker, worker
from archiver.capture.checker import IN_FLIGHT
from archiver.capture.model import RunReport
from archiver.clock import FixedClock
from archiver.config import FetchConfig, add_source
from archiver.errors import ArticleError
from archiver.extract.page import Page, extract_page
from archiver.fetch import client as fetch
from archiver.fetch.charset import decode_html
from archiver.sync import sync
from tests.conftest import CORPUS, configure
from tests.corpus import html_pages
from tests.newsserver import NewsServer, rss_feed

from .ab import CpuMeter, CpuUse, Load, Spread, interleaved, machine_load, ratios, spread
from .sync_floor import FloorRun, fetched_floor, memory_floor

SOURCE = "bench"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
FEED = "/feed.xml"
FEED_RECENT = 50  # items a news feed lists once the first sync is done
PER_HOST = IN_FLIGHT  # no request waits for a host slot while a check is in flight
BACKLOG = 1024
DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
BEGIN, END = "<!-- sync_bench: begin -->", "<!-- sync_bench: end -->"
CAPTURES_BEGIN, CAPTURES_END = (
    "<!-- sync_bench captures: begin -->",
    "<!-- sync_bench captures: end -->",
)
# An invented word: it marks each URL's copy of a page, and finds that copy in the text.
MARK = b"Kestrelvale"
TEXT_NODE = re.compile(rb">([^<]{80,})<")
MIN_WORDS = 12
PROBE_WORDS = 6
WIDTH = 92  # docs/performance.md's line length
REPEAT, REPEAT_FROM = 3, 200  # smaller runs are smoke tests: once is enough


def article_path(n: int) -> str:
    return f"/a/{n}"


# Pages: the corpus's pages, each with one paragraph that can be marked and edited ------


@dataclass(frozen=True)
class Template:
    """A corpus page split around one paragraph of its article text."""

    before: bytes
    words: tuple[bytes, ...]
    after: bytes

    def render(self, n: int, edition: int = 0) -> bytes:
        """URL n's copy: the paragraph ends with an invented sentence naming n; each edition
        rotates the paragraph's words by one more place (a real edit of its text)."""
        words = [*self.words, MARK, b"bulletin", b"number", str(n).encode() + b"."]
        shift = edition % len(words)
        return self.before + b" ".join(words[shift:] + words[:shift]) + self.after


def calibrate(pages: Sequence[Path], workers: int) -> tuple[list[Template], list[str]]:
    """Templates for the pages whose article text has a paragraph found in the raw HTML
    (extracted once, to know which text is the article's); the others, named, are left out."""
    bodies = [page.read_bytes() for page in pages]
    # Largest first, one at a time: a few big pages take most of the time.
    order = sorted(range(len(bodies)), key=lambda i: -len(bodies[i]))
    with _pool(workers) as pool:
        found = dict(zip(order, pool.map(_article_text, [bodies[i] for i in order]), strict=True))
    templates, skipped = [], []
    for i, (page, body) in enumerate(zip(pages, bodies, strict=True)):
        text = found[i]
        template = _template(body, text) if text else None
        if template is None:
            skipped.append(page.name)
        else:
            templates.append(template)
    return templates, skipped


def corpus_pages(corpus: Path) -> list[Path]:
    """The corpus's pages, smallest first: URL n serves page n mod P, so a short run (the
    smoke test) gets the quick pages and a long one cycles through all of them."""
    return sorted(html_pages(corpus), key=lambda page: (page.stat().st_size, page))


def _article_text(body: bytes) -> str | None:
    try:
        page = extract(body)
    except ArticleError:
        return None
    return " ".join(page.document.body.split())


def _template(body: bytes, text: str) -> Template | None:
    """The longest text node outside scripts whose opening words are in the article text."""
    best: re.Match[bytes] | None = None
    for match in TEXT_NODE.finditer(body):
        words = match.group(1).split()
        if len(words) < MIN_WORDS or _in_script(body, match.start(1)):
            continue
        probe = html.unescape(b" ".join(words[:PROBE_WORDS]).decode("utf-8", "replace"))
        if probe in text and (best is None or len(words) > len(best.group(1).split())):
            best = match
    if best is None:
        return None
    node = best.group(1)
    # Whitespace around the node stays as it was: only the words change.
    lead = node[: len(node) - len(node.lstrip())]
    trail = node[len(node.rstrip()) :]
    return Template(
        body[: best.start(1)] + lead,
        tuple(node.split()),
        trail + body[best.end(1) :],
    )


def _in_script(body: bytes, at: int) -> bool:
    tag = body[body.rfind(b"<", 0, at) + 1 : at].lstrip().lower()
    return tag.startswith((b"script", b"style", b"noscript", b"textarea"))


# The site: a NewsServer in its own process ---------------------------------------------


class CountingServer(NewsServer):
    """A NewsServer that counts the statuses it answers with (304s above all); it counts
    the connections it accepts itself."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        super().__init__()
        # socketserver listens with a backlog of 5: with more connections opening at once
        # the kernel drops SYNs, and each dropped one costs the client a 1 s retransmit,
        # which would be measured as archiver's time. A real site's backlog is hundreds.
        self._httpd.socket.listen(BACKLOG)

    def _handler(self) -> type:  # type: ignore[override]
        statuses, lock = self.statuses, self._lock

        class Counting(super()._handler()):  # type: ignore[misc]
            def send_response(self, code: int, message: str | None = None) -> None:
                with lock:
                    statuses[code] += 1
                super().send_response(code, message)

        return Counting


@dataclass(frozen=True)
class SiteStats:
    """What the site saw: answers by status, requests, connections, its CPU seconds."""

    statuses: Counter[int]
    requests: int
    connections: int
    cpu: float

    def since(self, before: SiteStats) -> SiteStats:
        statuses = Counter(self.statuses)
        statuses.subtract(before.statuses)
        return SiteStats(
            +statuses,
            self.requests - before.requests,
            self.connections - before.connections,
            self.cpu - before.cpu,
        )


class Site:
    """What the site process does when told: publish articles, edit some, list them."""

    def __init__(self, server: CountingServer, templates: Sequence[Template]) -> None:
        self.server = server
        self.templates = templates
        self.editions: dict[int, int] = {}

    def publish(self, count: int) -> None:
        for n in range(count):
            self._serve(n, 0)

    def edit(self, articles: Sequence[int]) -> None:
        for n in articles:
            self._serve(n, self.editions[n] + 1)

    def feed(self, first: int, count: int) -> None:
        """An RSS feed of articles first … first+count-1, one minute apart in that order."""
        items = [
            (self.server.url(article_path(n)), f"Story {n}", _published(n).isoformat())
            for n in range(first, first + count)
        ]
        self.server.set(FEED, rss_feed(items), content_type="application/rss+xml")

    def stats(self) -> SiteStats:
        with self.server._lock:
            return SiteStats(
                Counter(self.server.statuses),
                len(self.server.requests),
                self.server.connections,
                time.process_time(),
            )

    def without_validators(self) -> None:
        """Every page answers 200 in full from now on, conditional requests or not."""
        for route in self.server.routes.values():
            route.etag = False

    def _serve(self, n: int, edition: int) -> None:
        self.editions[n] = edition
        template = self.templates[n % len(self.templates)]
        self.server.set(article_path(n), template.render(n, edition))


def _published(n: int) -> datetime:
    return START - timedelta(days=1) + timedelta(minutes=n)


def _serve(conn: Connection, templates: Sequence[Template]) -> None:
    with CountingServer() as server:
        conn.send(server.base)
        site = Site(server, templates)
        while (command := conn.recv())[0] != "stop":
            name, *args = command
            conn.send(getattr(site, name)(*args))
        conn.send(None)


class SiteProcess:
    """The loopback site in a forked process, driven over a pipe."""

    def __init__(self, templates: Sequence[Template]) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, templates), daemon=True)
        self.base = ""

    def __enter__(self) -> SiteProcess:
        self._process.start()
        self.base = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self.call("stop")
        self._process.join(5)

    def call(self, name: str, *args: object) -> Any:
        self._conn.send((name, *args))
        return self._conn.recv()

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid


# Extraction as the runs do it, timed inside the workers ---------------------------------

_timings: Path | None = None  # set before a run forks its workers, which inherit it
_original_job = worker.extraction_job
_send_stored = True  # False: the workers are not sent stored texts, so the writer compares


def _timed_job(*args: Any, **kwargs: Any) -> worker.Extracted:
    """worker.extraction_job, recording when it ran and whether the URL's mark was found."""
    sys.setprofile(None)  # a worker forked during a profiled run inherits the profiler
    started = time.perf_counter()  # CLOCK_MONOTONIC: one timeline for every process
    marked = False
    try:
        extracted = _original_job(*args, **kwargs) if _send_stored else _original_job(*args[:4])
        marked = MARK.decode() in extracted.page.document.body
        return extracted
    finally:
        if _timings is not None:
            with (_timings / str(os.getpid())).open("a") as log:
                log.write(f"{started} {time.perf_counter()} {int(marked)}\n")


def extract(body: bytes) -> Page:
    """A page extracted as a run extracts it for a source with default settings."""
    url = "http://bench.invalid/a"
    return extract_page(decode_html(body, None, url), url, SOURCE)


@dataclass(frozen=True)
class Extractions:
    intervals: list[tuple[float, float]]
    workers: int  # processes that extracted
    marked: int  # pages whose extracted text held the URL's mark

    @property
    def seconds(self) -> float:
        return sum(end - start for start, end in self.intervals)


@contextmanager
def timed_extraction() -> Iterator[Callable[[], Extractions]]:
    """Route the runs' extraction through _timed_job; yields a reader of what it logged."""
    global _timings
    with tempfile.TemporaryDirectory() as folder:
        _timings = Path(folder)
        checker.extraction_job = _timed_job
        try:
            yield lambda: _collect(Path(folder))
        finally:
            checker.extraction_job = _original_job
            _timings = None


def _collect(folder: Path) -> Extractions:
    """What the workers logged since the last call (the logs are then cleared)."""
    intervals, marked, workers = [], 0, 0
    for log in folder.iterdir():
        workers += 1
        for line in log.read_text().splitlines():
            start, end, mark = line.split()
            intervals.append((float(start), float(end)))
            marked += int(mark)
        log.unlink()
    return Extractions(intervals, workers, marked)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


# Runs ------------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    wall: float
    report: RunReport
    commits: int
    site: SiteStats
    extractions: Extractions
    cpu: float  # of the archiver process
    children_cpu: float  # of its finished children: extraction workers, git
    profile: pstats.Stats | None = None
    use: CpuUse | None = None  # CPU by process over the sync call
    outcomes: Counter[str] = field(default_factory=Counter)
    walls: list[float] = field(default_factory=list)  # of every repeat, when repeated

    def __post_init__(self) -> None:
        self.outcomes = Counter(r.outcome.value for r in self.report.results)

    @property
    def not_modified(self) -> int:
        return self.site.statuses[304]

    @property
    def checked(self) -> int:
        return self.report.checked


class Bench:
    """One archive, one site, and the runs made against them."""

    def __init__(
        self,
        root: Path,
        site: SiteProcess,
        extracted: Callable[[], Extractions],
        captures: str = "versions",
    ):
        self.site = site
        self.clock = FixedClock(START)
        self.archive = _archive(root, self.clock, site.url(FEED), captures)
        self.extracted = extracted

    def run(self, label: str, profiled: bool = False, **options: Any) -> Run:
        self.clock.advance(timedelta(hours=1))
        commits, before = self._commits(), self.site.call("stats")
        self.extracted()  # nothing before this run counts
        profiler = cProfile.Profile() if profiled else None
        cpu, children = time.process_time(), _children_cpu()
        started = time.perf_counter()
        with CpuMeter(self.site.pid) as meter:
            if profiler:
                report = profiler.runcall(sync, self.archive, **options)
            else:
                report = sync(self.archive, **options)
        wall = time.perf_counter() - started
        # Taken before anything else runs: counting commits starts a git process.
        cpu, children = time.process_time() - cpu, _children_cpu() - children
        return Run(
            label,
            wall,
            report,
            self._commits() - commits,
            self.site.call("stats").since(before),
            self.extracted(),
            cpu,
            children,
            pstats.Stats(profiler) if profiler else None,
            meter.result,
        )

    def repeated(
        self, label: str, times: int, before: Callable[[], object] | None = None, **options: Any
    ) -> Run:
        """The run of median wall time of `times` alike (`before` readies each)."""
        runs = []
        for _ in range(times):
            if before:
                before()
            runs.append(self.run(label, **options))
        runs.sort(key=lambda run: run.wall)
        median = runs[len(runs) // 2]
        median.walls = [run.wall for run in runs]
        return median

    def _commits(self) -> int:
        return int(self.archive.repo.git.rev_list("--count", "HEAD"))

    def close(self) -> None:
        self.archive.close()


def _children_cpu() -> float:
    """CPU seconds of the children that have ended and been waited for: a run's workers
    (shut down at its end) and git processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _archive(root: Path, clock: FixedClock, feed: str, captures: str = "versions") -> Archive:
    """A new archive with one source, politeness off, no per-run cap, and `captures`."""
    archive = init_archive(root, clock)
    add_source(root, SOURCE, feeds=[feed])
    config = root / "archiver.toml"
    text = config.read_text().replace('captures = "versions"', f'captures = "{captures}"')
    config.write_text(text + f"\n[sources.{SOURCE}.schedule]\nmax_per_run = 1000000\n")
    return configure(archive, min_delay=0, per_host=PER_HOST)


def changed_set(articles: int, changed: int) -> list[int]:
    """`changed` articles spread evenly over the run (as due articles interleave)."""
    step = articles / changed
    return sorted({int(i * step) for i in range(changed)})


# Profiles: the archiver process's time, by what it was spent on -------------------------

# What each module's own time counts as. Modules are named as _module() names them.
BUCKETS: tuple[tuple[str, frozenset[str]], ...] = (
    ("idle: the event loop waiting for the site or the workers", frozenset({"select.epoll"})),
    (
        "HTTP client (aiohttp, yarl, multidict, …)",
        frozenset(
            {
                "aiohttp",
                "yarl",
                "multidict",
                "propcache",
                "aiohappyeyeballs",
                "frozenlist",
                "aiosignal",
                "attr",
                "idna",
                "_ssl",
                "ssl",
                "certifi",
                "select",
            }
        ),
    ),
    ("imports", frozenset({"importlib", "_imp", "_distutils_hack"})),
    (
        "event loop and sockets (asyncio, selectors, socket)",
        frozenset({"asyncio", "_asyncio", "selectors", "socket", "_socket", "_contextvars"}),
    ),
    (
        "archiver: fetch, robots, discovery (feed)",
        frozenset(
            {
                "archiver.fetch.client",
                "archiver.fetch.robots",
                "archiver.fetch.charset",
                "archiver.discover",
                "archiver.discover.base",
                "archiver.discover.feeds",
                "archiver.discover.sitemaps",
                "archiver.discover.pages",
                "feedparser",
            }
        ),
    ),
    (
        "archiver: plan, check, write in order (and compare, when the writer does)",
        frozenset(
            {
                "archiver.sync",
                "archiver.capture.checker",
                "archiver.capture.decide",
                "archiver.capture.model",
                "archiver.capture.recorder",
                "archiver.capture.worker",
                "archiver.diff",
                "archiver.diff.align",
                "archiver.diff.stats",
                "archiver.diff.text",
                "archiver.diff.words",
                "archiver.schedule",
                "archiver.store.document",
                "archiver.urls",
                "archiver.clock",
                "archiver.config",
                "difflib",
                "yaml",
            }
        ),
    ),
    ("state store (sqlite3)", frozenset({"archiver.store.state", "sqlite3"})),
    (
        "git (fast-import stream and its pipes, working tree, GitPython)",
        frozenset(
            {
                "archiver.store.commits",
                "archiver.store.history",
                "git",
                "subprocess",
                "_posixsubprocess",
                "_io",
            }
        ),
    ),
    (
        "worker processes (fork, shutdown, pages handed back)",
        frozenset({"concurrent", "multiprocessing", "_pickle", "posix", "threading", "_thread"}),
    ),
)
OTHER = "other Python (str, dict, re, dataclasses, enum, urllib, logging …)"
_BUILTIN = re.compile(r"<(?:built-in method |method '\w+' of '|function )(?:([\w.]+)\.)?")


def _module(file: str, name: str) -> str:
    """A profiled function's module: 'httpx', 'archiver.sync', 'sqlite3', 'select.epoll'."""
    if file == "~":  # a built-in: "<method 'execute' of 'sqlite3.Connection' objects>"
        if "select.epoll" in name:
            return "select.epoll"
        match = _BUILTIN.match(name)
        return (match.group(1) or "builtins").split(".")[0] if match else "builtins"
    if file.startswith("<frozen importlib"):
        return "importlib"
    parts = Path(file).parts
    if "archiver" in parts:  # archiver/capture/worker.py → archiver.capture.worker
        inside = parts[len(parts) - 1 - parts[::-1].index("archiver") :]
        module = ".".join(inside).removesuffix(".py").removesuffix(".__init__")
        return module
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    stdlib = [i for i, part in enumerate(parts) if part.startswith("python3")]
    return parts[stdlib[-1] + 1].removesuffix(".py") if stdlib else Path(file).stem


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Own time (tottime) of every profiled function, summed by bucket."""
    buckets = {module: label for label, modules in BUCKETS for module in modules}
    shares: Counter[str] = Counter()
    for (file, _, name), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        shares[buckets.get(_module(file, name), OTHER)] += own
    return dict(shares.most_common())


def top_functions(stats: pstats.Stats, count: int = 12) -> list[tuple[str, float]]:
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    return [(_where(key), own) for key, (_, _, own, _, _) in rows[:count]]


def _where(key: tuple[str, int, str]) -> str:
    file, line, name = key
    if file == "~":
        return name
    parts = Path(file).parts
    short = "/".join(parts[parts.index("site-packages") + 1 :]) if "site-packages" in parts else ""
    return f"{short or '/'.join(parts[-2:])}:{line} {name}"


# Report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    runs: dict[str, Run]  # by role: first, unchanged, unchanged-profiled, …
    ab: AB
    workers: int
    pages: int
    corpus_pages: int
    skipped: list[str]
    args: argparse.Namespace
    load: Load  # before and after: was the machine busy?

    def __getitem__(self, role: str) -> Run:
        return self.runs[role]


def summary_table(results: Results) -> str:
    rows = [
        "| run | articles | outcomes | commits | 304s | connections | pages extracted | wall "
        "| per article | articles/s | archiver process CPU per article |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows += [_summary_row(run) for role, run in results.runs.items() if "profiled" not in role]
    return "\n".join(rows)


def _summary_row(run: Run) -> str:
    outcomes = ", ".join(f"{count:,} {name}" for name, count in sorted(run.outcomes.items()))
    return (
        f"| {run.label} | {run.checked:,} | {outcomes} | {run.commits:,} "
        f"| {run.not_modified:,} | {run.site.connections:,} | {len(run.extractions.intervals):,} "
        f"| {_wall(run)} "
        f"| {run.wall / run.checked * 1000:.2f} ms | {run.checked / run.wall:,.0f} "
        f"| {run.cpu / run.checked * 1000:.2f} ms |"
    )


def _wall(run: Run) -> str:
    if len(run.walls) < 2:
        return f"{run.wall:.2f} s"
    return f"{run.wall:.2f} s ({min(run.walls):.2f}–{max(run.walls):.2f})"


def ab_table(results: Results) -> str:
    """archiver's first and changed syncs against their floors, rounds interleaved: wall
    time, throughput and CPU by process, medians and ranges over the rounds."""
    ab, n, m = results.ab, results.args.articles, results.args.changed
    rows = [
        "| run | wall | pages/s | archiver main CPU | workers CPU | git CPU | site CPU "
        "| unattributed | all CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _ab_row(f"first sync, {n:,} new", [r.use for r in ab.first], n),
        _ab_row("floor: fetched + `trafilatura.extract`", [r.cpu for r in ab.first_floor], n),
        _ab_row("floor: from memory, `trafilatura.extract`", [r.cpu for r in ab.first_memory], n),
        _ab_row(f"changed sync, {m:,} of {n:,}", [_use(r) for r in ab.changed], m),
        _ab_row(
            f"floor: {n:,} fetched conditionally, {m:,} extracted",
            [r.cpu for r in ab.changed_floor],
            m,
        ),
    ]
    return "\n".join(rows)


def _use(run: Run) -> CpuUse:
    assert run.use is not None
    return run.use


def _ab_row(label: str, uses: Sequence[CpuUse], pages: int) -> str:
    cells = [
        spread([u.wall for u in uses]).show(),
        spread([pages / u.wall for u in uses]).show("", 0),
    ]
    for role in ("main", "workers", "git", "site"):
        cells.append(spread([u.get(role) for u in uses]).show())
    cells.append(spread([u.unattributed for u in uses]).show())
    cells.append(spread([u.total for u in uses]).show())
    return f"| {label} | " + " | ".join(cells) + " |"


def ab_ratios(results: Results) -> dict[str, Spread]:
    """Throughput against each floor, round by round (floor's wall ÷ the sync's)."""
    ab = results.ab
    first = [r.wall for r in ab.first]
    changed = [r.wall for r in ab.changed]
    return {
        "First sync's throughput ÷ the fetched floor's (target ≥ 0.90)": ratios(
            [f.wall for f in ab.first_floor], first
        ),
        "First sync's throughput ÷ the from-memory floor's": ratios(
            [f.wall for f in ab.first_memory], first
        ),
        "Changed sync's throughput ÷ its fetched floor's": ratios(
            [f.wall for f in ab.changed_floor], changed
        ),
        "First sync's CPU (all processes) ÷ the fetched floor's": ratios(
            [r.use.total for r in ab.first], [f.cpu.total for f in ab.first_floor]
        ),
    }


def ab_lines(results: Results) -> list[str]:
    ab = results.ab
    lines = [f"{name}: {ratio.show('×')}" for name, ratio in ab_ratios(results).items()]
    lines.append(
        "Floors' checks: first-sync floor extracted "
        + ", ".join(str(f.extracted) for f in ab.first_floor)
        + f" of {results.args.articles:,} pages; changed floor extracted "
        + ", ".join(str(f.extracted) for f in ab.changed_floor)
        + " (answered 304: "
        + ", ".join(str(f.not_modified) for f in ab.changed_floor)
        + "); first syncs stored "
        + ", ".join(str(r.new) for r in ab.first)
        + " new articles."
    )
    return lines


def breakdown_table(results: Results) -> str:
    """Each bucket's share of the profiled run, and what that share is per article at the
    unprofiled run's speed (an estimate: profiling slows Python code more than C)."""
    pairs = [(results[r], results[f"{r}-profiled"]) for r in ("unchanged", "changed")]
    parts = [breakdown(profiled.profile) for _, profiled in pairs if profiled.profile]
    labels = list(dict.fromkeys(label for part in parts for label in part))
    head = " | ".join(run.label for run, _ in pairs)
    rows = [f"| archiver process: own time of | {head} |", "|---" + "|---:" * len(pairs) + "|"]
    for label in labels:
        cells = []
        for (run, _), part in zip(pairs, parts, strict=True):
            share = part.get(label, 0.0) / sum(part.values())
            cells.append(f"{share:.0%} ≈ {share * run.wall / run.checked * 1000:.2f} ms/article")
        rows.append(f"| {label} | {' | '.join(cells)} |")
    totals = [
        f"{run.wall / run.checked * 1000:.2f} ms/article (profiled run: {profiled.wall:.2f} s)"
        for run, profiled in pairs
    ]
    rows.append(f"| total | {' | '.join(totals)} |")
    return "\n".join(rows)


def checks(results: Results) -> list[str]:
    """What an unchanged sync must not do, and what the changed sync must find."""
    first, u, c = results["first"], results["unchanged"], results["changed"]
    verdict = "as expected" if _only_conditional(u, first.outcomes["new"]) else "NOT as expected"
    lines = [
        f"First sync: {first.outcomes['new']:,} of {first.checked:,} stored as new articles; "
        f"each URL's invented sentence found in {first.extractions.marked:,} extracted texts.",
        f"Unchanged sync: {u.checked:,} checked, {u.outcomes['unchanged']:,} unchanged, "
        f"{u.not_modified:,} answered 304 (of {u.site.requests:,} requests: robots.txt and the "
        f"feed too), {len(u.extractions.intervals)} pages extracted, {u.commits} commits: "
        f"{verdict}.",
        f"Changed sync: {c.outcomes['changed']:,} changed of {results.args.changed:,} edited, "
        f"{c.not_modified:,} answered 304, {len(c.extractions.intervals)} pages extracted, "
        f"{c.commits} commits.",
    ]
    calls = _calls(results["changed-profiled"], "archiver", "compare")
    lines.append(
        f"Stored versions compared in the archiver process during the profiled changed sync: "
        f"{calls} (the workers compare when they are sent the stored text)."
    )
    return lines


def _only_conditional(run: Run, tracked: int) -> bool:
    return (
        run.commits == 0
        and not run.extractions.intervals
        and run.not_modified == tracked == run.outcomes["unchanged"] == run.checked
    )


def _calls(run: Run, package: str, function: str) -> int:
    if run.profile is None:
        return 0
    return sum(
        calls
        for (file, _, name), (_, calls, _, _, _) in run.profile.stats.items()  # type: ignore[attr-defined]
        if name == function and f"/{package}/" in file
    )


def section(results: Results, command: str) -> str:
    """The generated part of docs/performance.md's ## Sync section."""
    return "\n\n".join(
        [
            _wrap(_how_taken(results, command)),
            summary_table(results),
            _wrap(_ab_intro(results)),
            ab_table(results),
            "\n".join(_wrap(f"- {line}", indent="  ") for line in ab_lines(results)),
            _wrap(
                "Where the archiver process's time goes: cProfile of a repeat of each run, own "
                "time of every function summed by package, as a share of the run, and that share "
                "of the unprofiled run's time per article. *Idle* is the event loop waiting for "
                "the site's answers or the workers' pages."
            ),
            breakdown_table(results),
            "\n".join(_wrap(f"- {line}", indent="  ") for line in checks(results)),
        ]
    )


def _wrap(text: str, indent: str = "") -> str:
    """Prose wrapped as the rest of docs/performance.md is (tables stay one line a row)."""
    return textwrap.fill(
        text, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


def _ab_intro(results: Results) -> str:
    a, w = results.args, os.cpu_count() or 1
    return (
        f"archiver against its floor, {a.rounds} rounds interleaved in this run (first sync, "
        "fetched floor, from-memory floor; then changed sync, its floor): median and range. "
        f"The floors are plain `trafilatura.extract` with archiver's options in {w} new "
        "worker processes, as many as a sync forks. *Fetched*: each worker fetches its pages "
        "from the same loopback site over one kept-alive connection (`If-None-Match` with "
        "the ETag of an earlier fetch for the changed floor, so the unchanged pages are "
        "answered 304) and extracts each page answered 200. *From memory*: the pages' bytes "
        "already in the workers. CPU is per process over the run: *archiver main* (this "
        "process, getrusage), *workers* and *git* (its descendants, sampled from /proc every "
        "0.1 s), *site* (the loopback site's process), *unattributed* (children's CPU getrusage "
        "counted that no sample saw). The machine was shared with other work throughout."
    )


def _how_taken(results: Results, command: str) -> str:
    a = results.args
    cpu = sum(run.site.cpu for run in results.runs.values())
    requests = sum(run.site.requests for run in results.runs.values())
    skipped = f" ({len(results.skipped)} left out: no paragraph of their article text found)"
    return (
        f"Taken {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {results.load.show()}: `{command}`. "
        f"{a.articles:,} articles cycling through "
        f"{results.pages} of the corpus's {results.corpus_pages} pages"
        + (skipped if results.skipped else "")
        + f"; {a.changed:,} of them changed for the changed sync. `min_delay = 0`, "
        f"`per_host = {PER_HOST}` ({IN_FLIGHT} checks in flight, extraction in "
        f"{results.workers} worker processes): politeness waits are off, so this is "
        "archiver's own overhead. The site ran in its own process on the same cores "
        f"({cpu / requests * 1000:.2f} ms of its CPU per request). "
        + (
            f"Each run but the first was made {a.repeat} times: the median is shown, the "
            "range in brackets. "
            if a.repeat > 1
            else ""
        )
        + "Two alternatives are tried from outside archiver (nothing under archiver/ "
        "changed): *a new connection per request*, the HTTP session closing each connection "
        "after its answer instead of keeping it; *compared in the archiver process*, the "
        "workers not sent the stored text, so the writer compares (as it did before)."
    )


def write_docs(path: Path, generated: str) -> None:
    """Put the figures between the markers in ## Sync, keeping every other line of the file
    (other sections are written by hand and by other benchmarks). Read just before writing."""
    block = f"{BEGIN}\n{generated}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        text = head + block + rest.partition(END)[2]
    else:
        intro = "" if text else "# Performance\n\nMeasured speed of archiver's parts.\n"
        text = text.rstrip("\n") + ("\n\n" if text else intro + "\n") + _new_section(block)
    path.write_text(text, encoding="utf-8")


def _new_section(block: str) -> str:
    intro = (
        "A sync on loopback with real news pages: `python -m benchmarks.sync_bench "
        "[--articles 1000] [--changed 100]` (its docstring says how it is taken)."
    )
    return f"## Sync\n\n{_wrap(intro)}\n\n{block}\n"


# Changes worth trying, tried from outside archiver -------------------------------------


@contextmanager
def connection_per_request() -> Iterator[None]:
    """For one run, the HTTP session closes each connection after its answer."""
    original = fetch.new_session

    def closing(settings: FetchConfig, proxy: str | None = None) -> Any:
        session = original(settings, proxy)
        session.connector._force_close = True  # type: ignore[union-attr]  # aiohttp's flag
        return session

    fetch.new_session = closing  # type: ignore[assignment]
    try:
        yield
    finally:
        fetch.new_session = original  # type: ignore[assignment]


@contextmanager
def compared_in_parent() -> Iterator[None]:
    """For one run, the workers are not sent stored texts: the writer compares."""
    global _send_stored
    _send_stored = False
    try:
        yield
    finally:
        _send_stored = True


# Changes tried on an unchanged sync: (role, label, context).
WHAT_IFS: tuple[tuple[str, str, Callable[[], AbstractContextManager[None]]], ...] = (
    (
        "unchanged-per-request",
        "unchanged sync, a new connection per request",
        connection_per_request,
    ),
)


# Main ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstSync:
    """One first sync into a new archive, timed as a whole with CPU by process."""

    use: CpuUse
    new: int  # articles stored as new

    @property
    def wall(self) -> float:
        return self.use.wall


@dataclass(frozen=True)
class AB:
    """Interleaved rounds of archiver against its floors, in one run."""

    first: list[FirstSync]
    first_floor: list[FloorRun]  # fetched from the site
    first_memory: list[FloorRun]  # from memory
    changed: list[Run]
    changed_floor: list[FloorRun]


def first_sync_round(root: Path, site: SiteProcess) -> FirstSync:
    """A first sync of every article into a new archive (made before the clock starts)."""
    bench = Bench(root, site, _none)
    try:
        with CpuMeter(site.pid) as meter:
            report = sync(bench.archive)
    finally:
        bench.close()
    shutil.rmtree(root)
    assert meter.result is not None
    new = sum(r.outcome.value == "new" for r in report.results)
    return FirstSync(meter.result, new)


def first_sync_ab(
    root: Path, site: SiteProcess, templates: Sequence[Template], args: argparse.Namespace
) -> tuple[list[FirstSync], list[FloorRun], list[FloorRun]]:
    """archiver's first sync, the fetched floor, the from-memory floor: A, B, C, A, B, C …"""
    n, workers = args.articles, os.cpu_count() or 1
    urls = [site.url(article_path(i)) for i in range(n)]
    bodies = [templates[i % len(templates)].render(i, 0) for i in range(n)]
    rounds = iter(range(args.rounds))
    syncs, fetched, memory = interleaved(
        args.rounds,
        [
            lambda: first_sync_round(root / f"first-{next(rounds)}", site),
            lambda: fetched_floor(urls, workers, site.pid),
            lambda: memory_floor(bodies, workers, site.pid),
        ],
    )
    return syncs, fetched, memory  # type: ignore[return-value]


def _none() -> Extractions:
    return Extractions([], 0, 0)


def measure(root: Path, args: argparse.Namespace) -> Results:
    pages = corpus_pages(args.corpus)
    templates, skipped = calibrate(pages[: args.articles], os.cpu_count() or 1)
    with machine_load() as load, SiteProcess(templates) as site:
        site.call("publish", args.articles)
        site.call("feed", 0, args.articles)
        syncs, fetched, memory = first_sync_ab(root.parent, site, templates, args)
        with timed_extraction() as extracted:
            bench = Bench(root, site, extracted)
            try:
                runs, changed, changed_floor = _runs(bench, site, fetched[-1].etags, args)
            finally:
                bench.close()
    workers = max(runs["first"].extractions.workers, 1)
    ab = AB(syncs, fetched, memory, changed, changed_floor)
    return Results(runs, ab, workers, len(templates), len(pages), skipped, args, load[0])


def _runs(
    bench: Bench, site: SiteProcess, etags: dict[str, str | None], args: argparse.Namespace
) -> tuple[dict[str, Run], list[Run], list[FloorRun]]:
    """The runs, in order; the changed sync's rounds interleaved with its floor's."""
    n, m, times = args.articles, args.changed, args.repeat
    runs = {"first": bench.run("first sync")}
    site.call("feed", max(0, n - FEED_RECENT), min(n, FEED_RECENT))  # all known by now
    runs["unchanged"] = bench.repeated("unchanged sync", times, check_all=True)
    runs["unchanged-profiled"] = bench.run("unchanged sync", profiled=True, check_all=True)
    for role, label, fix in WHAT_IFS:
        with fix():
            runs[role] = bench.repeated(label, times, check_all=True)
    # The same articles change before every changed run: the same pages to extract each time.
    edited = changed_set(n, m)
    edit = lambda: site.call("edit", edited)  # noqa: E731
    changed = f"changed sync ({m:,} of {n:,})"
    urls = [site.url(article_path(i)) for i in range(n)]
    workers = os.cpu_count() or 1
    syncs, floors = interleaved(
        args.rounds,
        [
            lambda: (edit(), bench.run(changed, check_all=True))[1],
            lambda: (edit(), fetched_floor(urls, workers, site.pid, etags))[1],
        ],
    )
    runs["changed"] = _median_run(syncs)  # type: ignore[arg-type]
    edit()
    runs["changed-profiled"] = bench.run(changed, profiled=True, check_all=True)
    with compared_in_parent():
        label = f"{changed}, compared in the archiver process"
        runs["changed-parent-compare"] = bench.repeated(label, times, edit, check_all=True)
    return runs, syncs, floors  # type: ignore[return-value]


def _median_run(runs: Sequence[Run]) -> Run:
    ordered = sorted(runs, key=lambda run: run.wall)
    median = ordered[len(ordered) // 2]
    median.walls = [run.wall for run in ordered]
    return median


# The cost of captures: versions against none, A/B, and the size of what is kept --------


@dataclass(frozen=True)
class CaptureCost:
    kept: list[Run]  # changed syncs keeping `versions`
    none: list[Run]  # changed syncs keeping nothing
    version_bytes: int  # WARC bytes the kept runs wrote
    versions: int  # versions (commits) the kept runs stored
    unchanged_bytes: int  # WARC bytes of `all`'s unchanged sync
    unchanged_checks: int  # its checks (all unchanged 200s)
    unchanged_revisits: int  # the revisit records it wrote
    load: Load

    @property
    def ratio(self) -> Spread:
        return ratios([r.wall for r in self.kept], [r.wall for r in self.none])


def _capture_bytes(archive: Archive) -> int:
    return sum(p.stat().st_size for p in (archive.root / "captures").rglob("*.warc.gz"))


def _revisits(archive: Archive) -> int:
    from warcio.archiveiterator import ArchiveIterator

    count = 0
    for path in (archive.root / "captures").rglob("*.warc.gz"):
        with path.open("rb") as stream:
            count += sum(r.rec_type == "revisit" for r in ArchiveIterator(stream))
    return count


def capture_cost(root: Path, args: argparse.Namespace) -> CaptureCost:
    """See the module's docstring: captures `versions` against `none`, rounds interleaved."""
    n, m = args.articles, args.changed
    pages = corpus_pages(args.corpus)
    templates, _ = calibrate(pages[:n], os.cpu_count() or 1)
    with machine_load() as load, SiteProcess(templates) as site:
        site.call("publish", n)
        site.call("feed", 0, n)
        benches = {
            mode: Bench(root / mode, site, _none, captures=mode)
            for mode in ("versions", "none", "all")
        }
        try:
            for bench in benches.values():
                bench.run("first sync")
            site.call("feed", max(0, n - FEED_RECENT), min(n, FEED_RECENT))
            edited = changed_set(n, m)
            kept_bench, none_bench = benches["versions"], benches["none"]
            before = _capture_bytes(kept_bench.archive)
            kept, none = interleaved(
                args.rounds,
                [
                    lambda: (site.call("edit", edited), kept_bench.run("versions", check_all=True))[
                        1
                    ],
                    lambda: (site.call("edit", edited), none_bench.run("none", check_all=True))[1],
                ],
            )
            version_bytes = _capture_bytes(kept_bench.archive) - before
            every = benches["all"]
            every.run("catch up", check_all=True)  # stores the edits the rounds made
            site.call("without_validators")
            before, revisits = _capture_bytes(every.archive), _revisits(every.archive)
            unchanged = every.run("unchanged, all", check_all=True)
            unchanged_bytes = _capture_bytes(every.archive) - before
            revisits = _revisits(every.archive) - revisits
        finally:
            for bench in benches.values():
                bench.close()
    return CaptureCost(
        kept,  # type: ignore[arg-type]
        none,  # type: ignore[arg-type]
        version_bytes,
        sum(r.commits for r in kept),  # type: ignore[attr-defined]
        unchanged_bytes,
        unchanged.outcomes["unchanged"],
        revisits,
        load[0],
    )


def capture_section(cost: CaptureCost, args: argparse.Namespace) -> str:
    n, m = args.articles, args.changed
    kept = spread([r.wall for r in cost.kept])
    none = spread([r.wall for r in cost.none])
    per_version = cost.version_bytes / max(cost.versions, 1)
    per_check = cost.unchanged_bytes / max(cost.unchanged_checks, 1)
    lines = [
        "| changed sync, " + f"{m:,} of {n:,} changed | wall |",
        "|---|---|",
        f"| captures `versions` | {kept.show()} |",
        f"| captures `none` | {none.show()} |",
        f"| `versions` / `none`, per round | {cost.ratio.show(unit='', digits=3)} |",
        "",
        _wrap(
            f"Captures written by the `versions` rounds: {cost.version_bytes:,} bytes for "
            f"{cost.versions:,} versions, {per_version:,.0f} bytes (gzip'd WARC) per stored "
            f"version. `all`, an unchanged sync with the site's validators off: "
            f"{cost.unchanged_checks:,} unchanged checks wrote {cost.unchanged_bytes:,} bytes "
            f"({cost.unchanged_revisits:,} revisit records), {per_check:,.0f} bytes per "
            f"unchanged check. Machine {cost.load.show()}; {args.rounds} rounds, "
            f"{os.cpu_count()} cores."
        ),
    ]
    return "\n".join(lines)


def write_capture_docs(path: Path, generated: str) -> None:
    """Put the capture figures between their markers in docs/performance.md."""
    text = path.read_text(encoding="utf-8")
    block = f"{CAPTURES_BEGIN}\n{generated}\n{CAPTURES_END}"
    if CAPTURES_BEGIN in text and CAPTURES_END in text:
        head, _, rest = text.partition(CAPTURES_BEGIN)
        text = head + block + rest.partition(CAPTURES_END)[2]
    else:
        text = text.rstrip("\n") + "\n\n## Captures\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def report(results: Results, command: str, top: int) -> str:
    out = [section(results, command)]
    if results.skipped:
        out.append("Left out: " + ", ".join(results.skipped))
    for role in ("unchanged-profiled", "changed-profiled"):
        run = results[role]
        if top and run.profile:
            lines = [f"  {own:7.3f} s  {where}" for where, own in top_functions(run.profile, top)]
            out.append(f"Top functions by own time, {run.label} (profiled):\n" + "\n".join(lines))
    return "\n\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sync_bench", description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs of each kind but the first, the median shown "
        f"(default {REPEAT} from {REPEAT_FROM} articles, else 1: a smoke test)",
    )
    parser.add_argument("--top", type=int, default=15, help="functions listed per profile")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"put the figures in {DOCS.name} under ## Sync"
    )
    parser.add_argument("--tmp", type=Path, help="folder for the scratch archive")
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds of each sync and its floors"
    )
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help=f"real pages (default {CORPUS})"
    )
    parser.add_argument(
        "--captures-only", action="store_true", help="measure only the cost of captures"
    )
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = REPEAT if args.articles >= REPEAT_FROM else 1
    if not args.corpus.is_dir():
        print(
            f"sync_bench: the corpus of real pages is absent ({args.corpus}); nothing to measure."
        )
        return 0
    if not 0 < args.changed <= args.articles:
        parser.error("--changed must be between 1 and --articles")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if shutil.which("git") is None:
        parser.error("git is not on PATH")
    command = (
        f"python -m benchmarks.sync_bench --articles {args.articles} --changed {args.changed}"
        f" --repeat {args.repeat} --rounds {args.rounds}"
    )
    if not args.captures_only:
        with tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
            results = measure(Path(scratch) / "archive", args)
        print(report(results, command, args.top))
        if args.write_docs:
            write_docs(DOCS, section(results, command))
            print(f"\nWritten to {DOCS}")
    with tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
        cost = capture_cost(Path(scratch), args)
    captured = f"`{command}{' --captures-only' if args.captures_only else ''}`:\n\n"
    captured += capture_section(cost, args)
    print("\n" + captured)
    if args.write_docs:
        write_capture_docs(DOCS, captured)
        print(f"\nWritten to {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What runs in an extraction worker process: the page extracted, rendered as it would be
stored, and compared with the stored version sent along (change counts, minor or not).
That is extraction's work, and it leaves the process that fetches and writes free to do
just that."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from archiver.config import SourceConfig
from archiver.extract.boilerplate import rules_fingerprint
from archiver.extract.normalize import NORMALIZER_VERSION
from archiver.extract.page import EXTRACTOR, Page, extract_page, selector_drops
from archiver.fetch.charset import decode_html
from archiver.processes import worker_started
from archiver.store import format as trailer
from archiver.store.commits import blob_id
from archiver.store.document import Document, parse_document


@dataclass(frozen=True)
class Comparison:
    """A capture against the stored version it may become the next version of."""

    blob: str  # the stored version's blob: the comparison holds for that version only
    same_reading: bool
    change: dict[str, str] = field(default_factory=dict)  # its trailers, when not the same


@dataclass(frozen=True)
class Extracted:
    """What an extraction worker hands back."""

    page: Page
    text: str  # page.document as stored: the file's text
    comparison: Comparison | None = None  # when a stored version was sent along
    dropped: tuple[str, ...] = ()  # for a reformat: the paragraphs the source's selectors drop

    @classmethod
    def of(cls, page: Page, stored: str | None = None, stored_blob: str = "") -> Extracted:
        return cls(page, page.document.render()).compared(stored, stored_blob)

    def compared(self, stored: str | None, stored_blob: str) -> Extracted:
        """This extraction with its comparison against the stored version (its text and
        blob), when there is one to make."""
        if stored is None or blob_id(self.text) == stored_blob:
            return self  # nothing stored, or the very same text: no comparing
        previous = parse_document(stored, self.page.document.url)
        return replace(self, comparison=compare(previous, self.page.document, stored_blob))

    def with_url(self, url: str) -> Extracted:
        """The capture recorded under another URL (the page's declared canonical one)."""
        page = replace(self.page, document=replace(self.page.document, url=url))
        return Extracted(page, page.document.render())


def extraction_job(
    body: bytes,
    charset: str | None,
    url: str,
    source: SourceConfig,
    stored: str | None = None,
    stored_blob: str = "",
    reformat: bool = False,
) -> Extracted:
    """Runs in a worker process: the page extracted, rendered, and compared with the stored
    version (its text and blob) when one is given; for a reformat, also what the source's
    selectors drop from it."""
    text = decode_html(body, charset, url)
    rules = (source.min_chars, source.drop_selectors, source.drop_lines)
    page = extract_page(text, url, source.name, *rules)
    extracted = Extracted.of(page, stored, stored_blob)
    return replace(extracted, dropped=selector_drops(page, text, *rules)) if reformat else extracted


def compare(stored: Document, document: Document, stored_blob: str) -> Comparison:
    """Whether a reader sees the same article, and if not how the new text differs from
    the stored one: NewsEdits-style counts, and minor or not."""
    if stored.same_reading(document):
        return Comparison(stored_blob, same_reading=True)
    old, new = stored.version(), document.version()
    return Comparison(stored_blob, same_reading=False, change=trailer.change_trailers(old, new))


def fingerprint(source: SourceConfig) -> str:
    """What shaped a version's text besides the page: extractor, normalizer, rules."""
    rules = rules_fingerprint(source.drop_selectors, source.drop_lines)
    return f"{EXTRACTOR}; normalizer {NORMALIZER_VERSION}; rules {rules}"


@contextmanager
def extraction_workers(jobs: int, fewest: int = 2) -> Iterator[Executor | None]:
    """Warm worker processes for extraction, at most one a core, forked on entry (call it
    before any thread starts) and shut down on exit; none when fewer than `fewest` would
    run (one article, one core)."""
    workers = min(jobs, os.cpu_count() or 1)
    if workers < fewest:
        yield None
        return
    import multiprocessing

    # Forked workers inherit the imported extractor: no cold start per process.
    executor = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=worker_started,
        initargs=(os.getpid(),),
    )
    try:
        executor.submit(int).result()  # fork the workers now, before any thread starts
        yield executor
    finally:
        executor.shutdown(cancel_futures=True)

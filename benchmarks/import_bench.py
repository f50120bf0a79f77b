"""Import throughput against plain extraction of the same real news pages, in one run.

    python -m benchmarks.import_bench [--records 5000] [--corpus DIR]

A WARC of N responses is written to a temporary folder (never into the project) from the
corpus's real pages (../shared/corpus beside the checkout; absent in a user's clone, then
this says so and stops), cycling through them, each under a URL of its own. Then, in turn:
`archiver import` of that WARC into a new archive (index, read, extract, decide, commit,
capture copy), after plain extraction of the same pages (decode_html and extract_page, as
the import does for each, warmed up first), both in this one process.
The machine is shared and noisy:
only the ratio within one run means much.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive import init_archive
from archiver.clock import FixedClock
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
from archiver.imports.files import import_files

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
START = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)


def corpus_pages(corpus: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(corpus.rglob("*.html"))]


def write_warc(path: Path, pages: list[bytes], records: int) -> list[tuple[str, bytes]]:
    made = []
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        for n in range(records):
            body = pages[n % len(pages)]
            url = f"https://news.example.org/{n // 1000}/story-{n}"
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            when = (START + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": when},
            )
            writer.write_record(record)
            made.append((url, body))
    return made


def extract_only(made: list[tuple[str, bytes]]) -> int:
    extracted = 0
    for url, body in made:
        try:
            extract_page(decode_html(body, None, url), url, "news-example-org")
            extracted += 1
        except Exception:
            pass
    return extracted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"the corpus of real pages is absent ({args.corpus}): nothing measured")
        return 0
    pages = corpus_pages(args.corpus)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warc = folder / "bench.warc.gz"
        made = write_warc(warc, pages, args.records)
        extract_only(made[:5])  # the extractor's first calls load what it needs
        started = time.perf_counter()
        extracted = extract_only(made)
        plain = time.perf_counter() - started
        archive = init_archive(folder / "archive", FixedClock(START + timedelta(days=30)))
        started = time.perf_counter()
        report = import_files(archive, [warc])
        imported = time.perf_counter() - started
        archive.close()
    records = args.records
    print(f"{records} responses from {len(pages)} corpus pages")
    print(
        f"import:       {imported:7.2f} s  {records / imported:7.1f} records/s  "
        f"{report.versions / imported:7.1f} versions/s  ({report.versions} versions)"
    )
    print(f"extract only: {plain:7.2f} s  {records / plain:7.1f} records/s  ({extracted} pages)")
    print(f"import / extraction time: {imported / plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

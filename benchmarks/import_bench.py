"""Import throughput against plain extraction of the same real news pages, in one run.

    python -m benchmarks.import_bench [--records 5000] [--rounds 3] [--corpus DIR]

A WARC of N responses is written to a temporary folder (never into the project) from the
corpus's real pages (../shared/corpus beside the checkout; absent in a user's clone, then
this says so and stops), cycling through them, each under a URL of its own. Then, in
`--rounds` interleaved rounds (A, B, A, B …, as benchmarks/ab.py runs them): plain
extraction of the same pages (decode_html and extract_page, as the import does for each,
warmed up first) in this process, and `archiver import` of that WARC into a new archive
(index, read, decide, commit and capture copy in this process, extraction in its worker
processes: one a core beside this one). CPU is accounted per process as benchmarks/ab.py
does (this process, the extraction workers, git): the import's all-CPU figure against the
extraction's is its cost in work, the wall figure what a user waits. The machine is shared
and noisy: only the per-round ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.archive import init_archive
from archiver.clock import FixedClock
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
from archiver.imports.files import import_files

from .ab import CpuMeter, CpuUse, interleaved, machine_load, ratios, spread

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
START = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    use: CpuUse
    count: int  # pages extracted, or versions stored


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


def timed_extraction(made: list[tuple[str, bytes]]) -> Run:
    os.sync()  # the previous round's writes are not this one's to wait for
    with CpuMeter() as meter:
        extracted = extract_only(made)
    assert meter.result is not None
    return Run(meter.result, extracted)


def timed_import(warc: Path, folder: Path) -> Run:
    shutil.rmtree(folder, ignore_errors=True)
    archive = init_archive(folder, FixedClock(START + timedelta(days=30)))
    os.sync()
    with CpuMeter() as meter:
        report = import_files(archive, [warc])
    archive.close()
    assert meter.result is not None
    return Run(meter.result, report.versions)


def table(records: int, imports: Sequence[Run], plain: Sequence[Run]) -> str:
    def row(label: str, runs: Sequence[Run], what: str) -> str:
        walls = [r.use.wall for r in runs]
        rate = spread([records / w for w in walls]).show("", 1)
        counted = spread([r.count / r.use.wall for r in runs]).show("", 1)
        roles = ("main", "workers", "git")
        cpu = " | ".join(spread([r.use.get(role) for r in runs]).show() for role in roles)
        total = spread([r.use.total for r in runs]).show()
        return f"| {label} | {spread(walls).show()} | {rate} | {counted} {what} | {cpu} | {total} |"

    lines = [
        "| run | wall | records/s | versions or pages/s | main CPU | workers CPU | git CPU"
        " | all CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        row("import", imports, f"versions/s ({imports[0].count})"),
        row("extraction only", plain, f"pages/s ({plain[0].count})"),
        "",
        "import ÷ extraction, wall time: "
        + ratios([r.use.wall for r in imports], [r.use.wall for r in plain]).show("×"),
        "import ÷ extraction, all CPU: "
        + ratios([r.use.total for r in imports], [r.use.total for r in plain]).show("×"),
        "import ÷ extraction, extraction's process (workers ÷ main): "
        + ratios([r.use.get("workers") for r in imports], [r.use.get("main") for r in plain]).show(
            "×"
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds, interleaved")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"the corpus of real pages is absent ({args.corpus}): nothing measured")
        return 0
    pages = corpus_pages(args.corpus)
    with machine_load() as load, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warc = folder / "bench.warc.gz"
        made = write_warc(warc, pages, args.records)
        extract_only(made[:5])  # the extractor's first calls load what it needs
        plain, imports = interleaved(
            args.rounds,
            [lambda: timed_extraction(made), lambda: timed_import(warc, folder / "archive")],
        )
    print(f"{args.records} responses from {len(pages)} corpus pages, {args.rounds} rounds")
    print(table(args.records, imports, plain))
    print(f"Machine {load[0].show()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

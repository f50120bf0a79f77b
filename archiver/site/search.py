"""The search index: pagefind bundles of the search records (site/records.py), one per
source and month (pagefind's memory grows with the text it indexes, so one index of every
article would not fit)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from archiver.site.output import OutputFolder, files_under
from archiver.site.records import Record, record_page


@dataclass(frozen=True)
class Indexed:
    """What bringing the search bundles up to date did."""

    shards: int  # shards indexed again
    deleted: int  # files of bundles no shard has any more, removed
    failure: str | None = None  # what went wrong, which stopped it


def update_search_index(
    out: Path,
    shards: list[str],
    stale: set[str],
    records_of: Callable[[str], Iterable[Record]],
    write: OutputFolder,
    scratch_in: Path,
    notify: Callable[[str], None],
) -> Indexed:
    """Index again the bundles of `stale` shards (those whose articles gained versions) and
    of shards with no bundle yet, from their `records_of(shard)`, and remove the bundles of
    no shard in `shards`."""
    bundles = out / "pagefind"
    wanted = [
        shard
        for shard in shards
        if shard in stale or not (bundles / shard / "pagefind-entry.json").is_file()
    ]
    for number, shard in enumerate(wanted, 1):
        notify(f"indexing for search: {shard} ({number}/{len(wanted)})")
        failure = run_pagefind(out, shard, records_of(shard), write, scratch_in)
        if failure:
            return Indexed(len(wanted), 0, failure)
    known = set(shards)
    orphans = [name for name in files_under(bundles, out) if _shard_of_file(name) not in known]
    return Indexed(len(wanted), write.delete(orphans))


def pagefind_available() -> bool:
    return importlib.util.find_spec("pagefind") is not None


def run_pagefind(
    out: Path, shard: str, records: Iterable[Record], write: OutputFolder, scratch_in: Path
) -> str | None:
    """Index one shard's records with pagefind: each written as a page into a scratch folder
    in `scratch_in` (the output folder holds only what is published), the bundle made in
    another, then `pagefind/<shard>/` brought in step with it file by file (pagefind never
    removes stale files itself). Returns what went wrong, or None."""
    with tempfile.TemporaryDirectory(prefix="pagefind-", dir=scratch_in) as scratch:
        pages, bundle_dir = Path(scratch, "records"), Path(scratch, "bundle")
        pages.mkdir()
        # Files named by number: an article can have two records that link to one page.
        for number, record in enumerate(records):
            Path(pages, f"{number}.html").write_text(record_page(record), encoding="utf-8")
        command = [sys.executable, "-m", "pagefind", "--site", str(pages)]
        command += ["--output-path", str(bundle_dir), "--silent"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip().splitlines()
            return f"search index of {shard} failed: {message[-1] if message else done.returncode}"
        fresh = {p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if p.is_file()}
        for name in sorted(fresh):
            write(f"pagefind/{shard}/{name}", (bundle_dir / name).read_bytes())
    bundle = out / "pagefind" / shard
    stale = [
        name
        for name in files_under(bundle, out)
        if name.removeprefix(f"pagefind/{shard}/") not in fresh
    ]
    write.delete(stale)
    return None


def _shard_of_file(name: str) -> str:
    """pagefind/<source>/<yyyy>-<mm>/… → <source>/<yyyy>-<mm>; "" for anything else."""
    parts = name.split("/")
    return "/".join(parts[1:3]) if len(parts) > 3 else ""

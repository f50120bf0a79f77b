"""Finding an article's page by its address: `lookup/urls-XX.json`, a static map of
canonical URL → page (from the site root), cut into SHARDS files by a hash of the URL, so
a lookup fetches one small file. `assets/find.js` makes a pasted address canonical as
archiver records URLs, hashes it the same way (FNV-1a, 32 bits, over its UTF-8 bytes) and
fetches its file; withheld articles are in no file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

from archiver.site.buildstate import BuildState
from archiver.site.model import output_dir

SHARDS = 64
FOLDER = "lookup"

Write = Callable[[str, str | bytes], bool]


def shard(url: str) -> str:
    """The file a URL is looked up in: two hex digits (find.js computes the same)."""
    value = 0x811C9DC5
    for byte in url.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value % SHARDS:02x}"


def lookup_files() -> list[str]:
    return [f"{FOLDER}/urls-{n:02x}.json" for n in range(SHARDS)]


def write_lookup(state: BuildState, write: Write, shards: Collection[str] | None) -> None:
    """The lookup files of `shards` (all when None), from the build state's articles."""
    wanted = {f"{n:02x}" for n in range(SHARDS)} if shards is None else set(shards)
    if not wanted:
        return
    maps: dict[str, dict[str, str]] = {name: {} for name in wanted}
    for url, path in state.article_urls():
        name = shard(url)
        folder = output_dir(path)
        if name in maps and folder is not None:
            maps[name][url] = f"{folder}/index.html"
    for name, found in sorted(maps.items()):
        text = json.dumps(found, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        write(f"{FOLDER}/urls-{name}.json", text + "\n")

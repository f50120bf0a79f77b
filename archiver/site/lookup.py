"""Finding an article's page by its address: `lookup/urls-XX.json`, a static map of
canonical URL → page (from the site root), cut into SHARDS files by a hash of the URL, so
a lookup fetches one small file. `assets/find.js` makes a pasted address canonical as
archiver records URLs, hashes it the same way (FNV-1a, 32 bits, over its UTF-8 bytes) and
fetches its file; withheld articles are in no file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable

from archiver.site.buildstate import BuildState
from archiver.site.model import LOOKUP_SHARDS as SHARDS
from archiver.site.model import output_dir
from archiver.site.model import url_shard as shard

FOLDER = "lookup"

Write = Callable[[str, str | bytes], bool]


def _add(maps: dict[str, dict[str, str]], articles: Iterable[tuple[str, str]]) -> None:
    for url, path in articles:
        folder = output_dir(path)
        if folder is not None:
            maps[shard(url)][url] = f"{folder}/index.html"


def lookup_files() -> list[str]:
    return [f"{FOLDER}/urls-{n:02x}.json" for n in range(SHARDS)]


def write_lookup(state: BuildState, write: Write, shards: Collection[str] | None) -> None:
    """The lookup files of `shards` (all when None), from the build state's articles: a
    file's articles are read by its index, so a build pays for the files it rewrites."""
    maps: dict[str, dict[str, str]] = {}
    if shards is None:
        maps = {f"{n:02x}": {} for n in range(SHARDS)}
        _add(maps, state.article_urls())
    for name in sorted(set(shards or ())):
        maps[name] = {}
        _add(maps, state.article_urls(name))
    for name, found in sorted(maps.items()):
        text = json.dumps(found, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        write(f"{FOLDER}/urls-{name}.json", text + "\n")

"""Golden output: a committed copy of a few pages of the demo's site.

A change to how pages look shows up as a reviewable diff of these files instead of passing
unnoticed. `make golden` rebuilds the demo and rewrites them on purpose; `test_golden.py`
fails, with a diff, when the site differs from them.

    python -m tests.golden [DIR]     # rewrite tests/golden/ (DIR: where to build the demo)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
_ARTICLE = "articles/northgate-herald/2025/03/03/ferry-street-bridge-closure-c6ab59979a9d"
# An article page, a diff page (a paragraph inserted), the comparison picker and a
# comparison made in advance, the article's feed, a list page and the site-wide feed:
# between them every template and the diff renderer.
PAGES = (
    f"{_ARTICLE}/index.html",
    f"{_ARTICLE}/v3.html",
    f"{_ARTICLE}/compare.html",
    f"{_ARTICLE}/compare-1-4.html",
    f"{_ARTICLE}/feed.atom",
    "changes/index.html",
    "feed.atom",
)


def build_demo_site(folder: Path) -> Path:
    """The demo's archive replayed into folder/archive and its site built in folder/site."""
    from archiver.demo import run_demo
    from archiver.site import build_site

    with run_demo(folder) as archive:
        build_site(archive, folder / "site", full=True, search=False)
    return folder / "site"


def rewrite(site: Path) -> list[str]:
    """Copy PAGES from a built site into tests/golden/; the pages whose bytes changed."""
    changed = []
    for page in PAGES:
        target = GOLDEN / page
        data = (site / page).read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            changed.append(page)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return changed


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(argv[0]) if argv else Path(scratch)
        if folder.exists() and argv:
            shutil.rmtree(folder)
        changed = rewrite(build_demo_site(folder))
    print(f"golden pages rewritten: {', '.join(changed) or 'none changed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

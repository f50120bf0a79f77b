"""The sample archive's recorded captures (sample-archive/): what `archiver demo` replays.

Fast and offline: the committed files are read, the generator is re-run into a temporary
folder, and pages go through the real extraction. The cases the demo must handle come from
CASES in sample-archive/make_captures.py (kind → (url, before, after)).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import itertools
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType

import feedparser
import pytest

from archiver.config import parse_config
from archiver.diff import Version, is_minor, paragraphs
from archiver.discover.feeds import feed_candidates
from archiver.discover.sitemaps import read_sitemap
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
from archiver.fetch.client import Response
from archiver.store.document import Document

from .conftest import SEED

SAMPLE = Path(__file__).resolve().parents[1] / "sample-archive"
CAPTURES = SAMPLE / "captures"
GONE = ".gone"


def load_generator() -> ModuleType:
    """sample-archive/make_captures.py, imported by path (the folder is not a package)."""
    name = "sample_archive_make_captures"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLE / "make_captures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


gen = load_generator()


@cache
def captured() -> dict[str, bytes]:
    """Every committed capture file: "<time>/<host>/<path>" → bytes."""
    return {
        path.relative_to(CAPTURES).as_posix(): path.read_bytes()
        for path in sorted(CAPTURES.rglob("*"))
        if path.is_file()
    }


@cache
def times() -> list[str]:
    return sorted({name.split("/", 1)[0] for name in captured()})


def when(stamp: str) -> datetime:
    return datetime.strptime(stamp, gen.TIME_FORMAT).replace(tzinfo=UTC)


def feed_files() -> set[str]:
    return {outlet.host + outlet.feed_path for outlet in gen.OUTLETS.values()}


def page_captures() -> dict[str, bytes]:
    """Article page files (not feeds, not .gone markers)."""
    feeds = feed_files()
    return {
        name: body
        for name, body in captured().items()
        if not name.endswith(GONE) and name.split("/", 1)[1] not in feeds
    }


def served(path: str, stamp: str) -> str | None:
    """The capture file served for a stored path at a time: the latest at or before it,
    None when there is none or the latest is a .gone marker."""
    files = captured()
    for earlier in reversed([s for s in times() if s <= stamp]):
        if f"{earlier}/{path}{GONE}" in files:
            return None
        if f"{earlier}/{path}" in files:
            return f"{earlier}/{path}"
    return None


def url_of(name: str) -> str:
    path = name.split("/", 1)[1]
    return "http://" + (path.removesuffix("index.html") if path.endswith("/index.html") else path)


def document(name: str, url: str) -> Document:
    return extract_page(decode_html(captured()[name]), url, "sample").document


def version(doc: Document) -> Version:
    return Version(doc.title, paragraphs(doc.body), doc.byline, doc.published or "")


# --- the files -------------------------------------------------------------------------------


def test_config_is_valid_for_the_demo() -> None:
    config = parse_config(tomllib.loads((SAMPLE / "archiver.toml").read_text("utf-8")))
    assert config.title and config.contact
    assert config.fetch.min_delay == 0
    schedule = config.schedule
    assert (schedule.first_check, schedule.min_interval, schedule.max_interval) == (30, 30, 180)
    assert (schedule.stop_after_days, schedule.max_per_run) == (30, 200)
    assert set(config.sources) == {outlet.key for outlet in gen.OUTLETS.values()}
    for outlet in gen.OUTLETS.values():
        source = config.sources[outlet.key]
        listed = source.sitemaps if outlet.feed_kind == "news-sitemap" else source.feeds
        assert listed == (f"http://{outlet.host}{outlet.feed_path}",)


def test_enough_articles_and_captures() -> None:
    pages = page_captures()
    urls = {url_of(name) for name in pages}
    assert len(urls) >= 20
    assert len(pages) >= 60
    assert urls == {gen.url_of(story) for story in gen.STORIES}


def test_capture_times_are_sorted_and_three_hours_apart() -> None:
    stamps = times()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", s) for s in stamps)
    assert [p.name for p in sorted(CAPTURES.iterdir())] == stamps  # nothing else in captures/
    moments = [when(s) for s in stamps]
    assert all(b - a >= timedelta(hours=3) for a, b in itertools.pairwise(moments))
    assert timedelta(days=4) <= moments[-1] - moments[0] <= timedelta(days=6)
    first = {name.split("/", 1)[1] for name in captured() if name.startswith(stamps[0] + "/")}
    assert feed_files() <= first  # the first capture is when every feed first lists articles


def test_markers_are_empty_and_follow_a_served_page() -> None:
    for name, body in captured().items():
        if name.endswith(GONE):
            stamp, path = name.removesuffix(GONE).split("/", 1)
            assert body == b""
            earlier = [s for s in times() if s < stamp]
            assert earlier and served(path, earlier[-1]) is not None


def test_sample_archive_is_small() -> None:
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 3_000_000


def test_generator_reproduces_the_captures(tmp_path: Path) -> None:
    out = tmp_path / "captures"
    subprocess.run(
        [sys.executable, str(SAMPLE / "make_captures.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    regenerated = {
        p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
    }
    assert sorted(regenerated) == sorted(captured())
    assert [n for n in regenerated if regenerated[n] != captured()[n]] == []


def test_story_files_load_into_every_story() -> None:
    files = sorted(SAMPLE.glob("stories/*/*.toml"))
    assert [f"{p.parent.name}/{p.stem}" for p in files] == sorted(
        f"{s.outlet}/{s.key}" for s in gen.STORIES
    )
    assert all(s.paragraphs and s.first.tzinfo is UTC for s in gen.STORIES)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("herald/bad.toml", 'path = "/x"\n', "herald/bad.toml: missing section, first"),
        ("herald/bad.toml", "path = \n", "herald/bad.toml: Invalid value"),
        ("nowhere/bad.toml", "", "nowhere/bad.toml: 'nowhere' is not an outlet"),
    ],
)
def test_a_bad_story_file_is_named(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.parent.mkdir()
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError, match=re.escape(message)):
        gen.load_stories(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[[edits.sub]]", "[[edits.swap]]", "unexpected keyword argument 'swap'"),
        ('byline = ["Helen Crane"]', 'byline = "Helen Crane"', "byline must be a list of strings"),
        ("old = ", "was = ", "each [[edits.sub]] takes old and new, nothing else"),
    ],
)
def test_a_bad_field_is_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    source = (SAMPLE / "stories" / "herald" / "bridge.toml").read_text("utf-8")
    assert old in source
    (tmp_path / "herald").mkdir()
    (tmp_path / "herald" / "bridge.toml").write_text(source.replace(old, new, 1), "utf-8")
    with pytest.raises(ValueError, match=r"herald/bridge\.toml: .*" + re.escape(message)):
        gen.load_stories(tmp_path)


HOSTILE = '<b>Tom\'s "big" & bold</b>'


@pytest.mark.parametrize("stamp", ["2025-03-03T06:00Z", "2025-03-06T06:00Z"])
@pytest.mark.parametrize("outlet", sorted(gen.OUTLETS))
def test_templates_escape_everything_they_print(outlet: str, stamp: str) -> None:
    """Headline, byline, role, section, summary and text, on every page template (the
    Herald's before and after its redesign) and every feed, JSON-LD included."""
    story = next(s for s in gen.STORIES if s.outlet == outlet)
    story = dataclasses.replace(story, section=HOSTILE, role=HOSTILE, summary=HOSTILE)
    state = gen.StoryState(HOSTILE, (HOSTILE, HOSTILE), [HOSTILE, "## " + HOSTILE])
    states = {story.key: state}
    page = gen.render_page(story, state, states, when(stamp))
    feed = gen.render_feed(gen.OUTLETS[outlet], [story], states, when(stamp))
    for text in (page, feed):
        assert "<b>" not in text and "& " not in text
        assert "&lt;b&gt;Tom" in text


# --- feeds -----------------------------------------------------------------------------------


def listed_urls(outlet: object, name: str) -> list[str]:
    body = captured()[name]
    url = f"http://{outlet.host}{outlet.feed_path}"  # type: ignore[attr-defined]
    response = Response(url, url, 200, {"content-type": "application/xml"}, body)
    if outlet.feed_kind == "news-sitemap":  # type: ignore[attr-defined]
        assert b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' in body
        found, children = read_sitemap(response, url)
        assert children == []
        assert all(c.title and c.published for c in found)
        return [c.url for c in found]
    parsed = feedparser.parse(io.BytesIO(body))
    assert not parsed.bozo, f"{name}: {parsed.get('bozo_exception')}"
    assert parsed.version == {"rss": "rss20", "atom": "atom10"}[outlet.feed_kind]  # type: ignore[attr-defined]
    urls = [entry.link for entry in parsed.entries]
    assert [c.url for c in feed_candidates(response, url)] == urls
    return urls


def test_feeds_parse_and_list_what_is_served() -> None:
    config = parse_config(tomllib.loads((SAMPLE / "archiver.toml").read_text("utf-8")))
    for stamp in times():
        for key, outlet in gen.OUTLETS.items():
            name = served(outlet.host + outlet.feed_path, stamp)
            assert name, f"{outlet.name} has no feed at {stamp}"
            urls = listed_urls(outlet, name)
            live = {
                gen.url_of(story)
                for story in gen.STORIES
                if story.outlet == key and served(gen.file_of(gen.url_of(story)), stamp)
            }
            assert urls and set(urls) == live, f"{name} at {stamp}"
            include = [re.compile(p) for p in config.sources[outlet.key].include]
            assert all(any(p.search(u) for p in include) for u in urls)


def test_feeds_list_newest_first() -> None:
    published = {gen.url_of(s): s.published for s in gen.STORIES}
    for outlet in gen.OUTLETS.values():
        for name in captured():
            if name.split("/", 1)[1] == outlet.host + outlet.feed_path:
                dates = [published[u] for u in listed_urls(outlet, name)]
                assert dates == sorted(dates, reverse=True), name


# --- extraction ------------------------------------------------------------------------------


def test_every_page_extracts_to_its_article_and_nothing_else() -> None:
    """Title, byline and paragraphs exactly: no cookie banner, share counts, timestamps or
    related stories in the body."""
    expected = gen.articles()
    assert set(expected) == set(page_captures())
    published = {gen.url_of(s): s.published.strftime("%Y-%m-%d") for s in gen.STORIES}
    for name, article in expected.items():
        doc = document(name, article.url)
        assert (doc.title, doc.authors, doc.body) == (
            article.headline,
            article.byline,
            article.body,
        ), name
        assert doc.published == published[article.url], name


def test_cases_name_every_kind_of_change() -> None:
    kinds = {
        "headline_softened",
        "qualifier_added",
        "quote_added",
        "quote_removed",
        "paragraph_inserted",
        "paragraph_moved",
        "name_expanded",
        "correction_appended",
        "byline_changed",
        "removed",
        "restored",
        "redesign",
        "boilerplate_only",
        "headline_flip",
        "headline_revert",
        "minor_fix",
        "unchanged",
    }
    assert kinds <= set(gen.CASES)
    readme = (SAMPLE / "README.md").read_text("utf-8")
    assert all(f"`{kind}`" in readme for kind in gen.CASES)


def pair(kind: str) -> tuple[Document, Document, bytes, bytes]:
    """The documents (and raw pages) a reader saw at a case's two times."""
    case = gen.CASES[kind]
    path = gen.file_of(case.url)
    before = case.before
    if kind in gen.RETURNS:  # `before` is when it went: compare with the page it had then
        before = [s for s in times() if s < case.before][-1]
    old, new = served(path, before), served(path, case.after)
    assert old and new, kind
    return (
        document(old, case.url),
        document(new, case.url),
        captured()[old],
        captured()[new],
    )


@pytest.mark.parametrize("kind", sorted(gen.SAME_TEXT))
def test_page_changes_that_are_not_versions(kind: str) -> None:
    old, new, old_html, new_html = pair(kind)
    assert old_html != new_html
    assert old.render() == new.render()


EDITS = sorted(set(gen.CASES) - gen.SAME_TEXT - gen.REMOVAL - {"unchanged"})


@pytest.mark.parametrize("kind", EDITS)
def test_edits_are_versions(kind: str) -> None:
    old, new, _, _ = pair(kind)
    assert not old.same_reading(new)
    assert is_minor(version(old), version(new)) == (kind in gen.MINOR)


def test_what_each_edit_changes() -> None:
    def diff(kind: str) -> tuple[Document, Document]:
        old, new, _, _ = pair(kind)
        return old, new

    old, new = diff("headline_softened")
    assert old.title != new.title and old.body == new.body
    old, new = diff("byline_changed")
    assert old.authors != new.authors and old.body == new.body and old.title == new.title
    old, new = diff("headline_flip")
    flipped = new.title
    assert old.title != flipped and old.body == new.body
    old, new = diff("headline_revert")
    assert old.title == flipped and new.title == diff("headline_flip")[0].title
    old, new = diff("qualifier_added")
    assert len(paragraphs(old.body)) == len(paragraphs(new.body))
    old, new = diff("name_expanded")
    assert len(paragraphs(old.body)) == len(paragraphs(new.body))
    for kind, delta in (("quote_added", 1), ("quote_removed", -1), ("paragraph_inserted", 1)):
        old, new = diff(kind)
        assert len(paragraphs(new.body)) - len(paragraphs(old.body)) == delta, kind
    old, new = diff("paragraph_moved")
    assert sorted(paragraphs(old.body)) == sorted(paragraphs(new.body))
    assert paragraphs(old.body) != paragraphs(new.body)
    old, new = diff("correction_appended")
    assert paragraphs(new.body)[-1].startswith("Correction:")


def test_removal_persists_then_the_article_returns() -> None:
    for kind in sorted(gen.RETURNS):
        case = gen.CASES[kind]
        path = gen.file_of(case.url)
        assert f"{case.before}/{path}{GONE}" in captured()
        gone = [s for s in times() if case.before <= s < case.after]
        assert all(served(path, s) is None for s in gone)
        assert len(gone) >= 3 and when(gone[-1]) - when(gone[0]) >= timedelta(hours=6)
        assert served(path, case.after) == f"{case.after}/{path}"
    removed = gen.CASES["removed"]
    assert served(gen.file_of(removed.url), removed.before)
    assert served(gen.file_of(removed.url), removed.after) is None


def test_the_unchanged_article_is_captured_once() -> None:
    case = gen.CASES["unchanged"]
    path = gen.file_of(case.url)
    assert [n for n in captured() if n.split("/", 1)[1] == path] == [f"{case.before}/{path}"]
    assert case.after == times()[-1]


def test_no_sentence_of_the_seed_page_is_used() -> None:
    seed = SEED / "bbc-red-wall-versions-2-3.txt"
    if not seed.is_file():
        pytest.skip("no seed page in ../shared/seed")
    sentences = {
        s.strip()
        for line in seed.read_text("utf-8").splitlines()
        for s in re.split(r"(?<=[.!?\"])\s+", line)
        if len(s.split()) >= 6
    }
    ours = [(SAMPLE / "make_captures.py").read_text("utf-8"), (SAMPLE / "README.md").read_text()]
    ours += [path.read_text("utf-8") for path in sorted(SAMPLE.glob("stories/*/*.toml"))]
    ours += [body.decode("utf-8") for body in captured().values()]
    text = " ".join(" ".join(part.split()) for part in ours)
    assert [s for s in sentences if " ".join(s.split()) in text] == []

"""Generate the sample archive's captures: invented local news, edited over five days.

    python make_captures.py [--out DIR]      # default: captures/ next to this file

Three invented papers publish 25 invented stories between Monday 3 and Friday 7 March 2025.
Each story is a data file, stories/<outlet>/<key>.toml: its first text, then dated edits (a
headline, a byline, a substitution, a paragraph inserted, dropped, moved or appended, a
removal, a return, or a re-render that changes only the page around the article). Each paper
has its own page template, pages/<name>.html (one paper is redesigned mid-week), and its feed
template, pages/<kind>.xml. At every capture time the generator writes what changed:

    captures/<YYYY-MM-DDTHH:MMZ>/<host>/<path>        a page, feed or sitemap, new or changed
    captures/<YYYY-MM-DDTHH:MMZ>/<host>/<path>.gone   from then on, <path> answers 404

A URL path ending in "/" is stored as ".../index.html". Files accumulate: a file is served
from its capture time until a later capture replaces it or marks it gone.

The output is a pure function of this file, stories/ and pages/: no clock, no randomness.
CASES names, for each kind of change the demo must handle, the article and the two capture
times to compare.
Import this file by path (it is not a package); register the module in sys.modules first,
as dataclasses need it:

    spec = importlib.util.spec_from_file_location("make_captures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_captures"] = module
    spec.loader.exec_module(module)
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import re
import shutil
import sys
import tomllib
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

HERE = Path(__file__).resolve().parent
TIME_FORMAT = "%Y-%m-%dT%H:%MZ"
GONE_SUFFIX = ".gone"


def t(day: int, hour: int) -> datetime:
    """A capture time in March 2025, UTC. Captures are made at 06, 09, 12, 15, 18 and 21."""
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def stamp(when: datetime) -> str:
    """A capture time as its directory name: 2025-03-03T06:00Z."""
    return when.strftime(TIME_FORMAT)


def para(text: str) -> str:
    """Source text as one paragraph: hard wrapping and indentation collapse to single spaces."""
    return " ".join(text.split())


# --- stories ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """What changes in a story at one capture time. Operations apply in field order.

    An Edit with no operation re-renders the page (share counts, related stories and the
    "Updated" stamp change) while the article stays word for word the same."""

    at: datetime
    headline: str | None = None
    byline: tuple[str, ...] | None = None
    drop: tuple[str, ...] = ()  # anchors: a substring found in exactly one paragraph
    sub: tuple[tuple[str, str], ...] = ()  # (old, new): old occurs exactly once in the body
    move: tuple[tuple[str, str], ...] = ()  # (anchor, anchor of the paragraph it will follow)
    insert: tuple[tuple[str, str], ...] = ()  # (anchor of the paragraph to follow or "", text)
    append: tuple[str, ...] = ()
    gone: bool = False  # the page answers 404 from now on (and leaves the feed)
    back: bool = False  # the page returns
    restamp: bool = True  # whether the page's "Updated" time moves (A/B headlines do not)


@dataclass(frozen=True)
class Story:
    key: str
    outlet: str
    path: str
    section: str
    first: datetime  # the capture time at which the feed first lists it
    byline: tuple[str, ...]
    number: int  # its id in the outlet's publishing system
    role: str
    headline: str
    summary: str
    text: str  # paragraphs separated by blank lines; "## " starts a crosshead
    edits: tuple[Edit, ...] = ()

    @property
    def paragraphs(self) -> list[str]:
        return [para(block) for block in re.split(r"\n\s*\n", self.text) if block.strip()]

    @property
    def published(self) -> datetime:
        """Published some minutes before the capture that first sees it."""
        return self.first - timedelta(minutes=12 + zlib.crc32(self.key.encode()) % 95)


# --- outlets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outlet:
    key: str  # the source name in archiver.toml
    name: str
    host: str
    feed_path: str
    feed_kind: str  # "rss", "atom" or "news-sitemap": its template is pages/<kind>.xml
    templates: dict[datetime, str]  # pages/<name> in use from a time on

    def template(self, when: datetime) -> str:
        """The template in use at a time: the latest one introduced at or before it."""
        return self.templates[max(start for start in self.templates if start <= when)]

    @property
    def redesigns(self) -> list[datetime]:
        return sorted(self.templates)[1:]


OUTLETS: dict[str, Outlet] = {
    "herald": Outlet(
        key="northgate-herald",
        name="Northgate Herald",
        host="northgate-herald.example",
        feed_path="/rss.xml",
        feed_kind="rss",
        templates={t(3, 6): "herald-v1.html", t(6, 6): "herald-v2.html"},
    ),
    "courier": Outlet(
        key="fenmouth-courier",
        name="Fenmouth Courier",
        host="fenmouth-courier.example",
        feed_path="/feed/atom.xml",
        feed_kind="atom",
        templates={t(3, 6): "courier.html"},
    ),
    "ledger": Outlet(
        key="vale-ledger",
        name="The Vale Ledger",
        host="vale-ledger.example",
        feed_path="/sitemap-news.xml",
        feed_kind="news-sitemap",
        templates={t(3, 6): "ledger.html"},
    ),
}


def url_of(story: Story) -> str:
    return f"http://{OUTLETS[story.outlet].host}{story.path}"


# --- loading the stories: stories/<outlet>/<key>.toml ----------------------------------------

# The edit operations that take pairs, as tables: [[edits.sub]] old = "…" new = "…".
PAIRS = {"sub": ("old", "new"), "move": ("paragraph", "after"), "insert": ("after", "text")}
STORY_FIELDS = ("path", "section", "first", "number", "byline", "role", "headline", "summary")


def strings(data: dict[str, Any], name: str) -> None:
    """A list of strings in the file becomes a tuple (a lone string would become letters)."""
    if name in data:
        if not isinstance(data[name], list) or not all(isinstance(v, str) for v in data[name]):
            raise ValueError(f"{name} must be a list of strings")
        data[name] = tuple(data[name])


def load_edit(table: dict[str, Any]) -> Edit:
    fields = dict(table)
    for name in ("byline", "drop", "append"):
        strings(fields, name)
    for name, keys in PAIRS.items():
        pairs = fields.get(name, ())
        if any(sorted(pair) != sorted(keys) for pair in pairs):
            raise ValueError(f"each [[edits.{name}]] takes {keys[0]} and {keys[1]}, nothing else")
        fields[name] = tuple((pair[keys[0]], pair[keys[1]]) for pair in pairs)
    return Edit(**fields)


def load_story(path: Path) -> Story:
    """One story file; its folder names the outlet and its name the story's key."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        missing = [name for name in (*STORY_FIELDS, "text") if name not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        strings(data, "byline")
        edits = tuple(load_edit(table) for table in data.pop("edits", ()))
        return Story(key=path.stem, outlet=path.parent.name, edits=edits, **data)
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


def load_stories(folder: Path) -> list[Story]:
    """Every story, in the outlets' order and then by number, the order ties are broken in."""
    order = list(OUTLETS)
    stories = []
    for path in sorted(folder.glob("*/*.toml")):
        if path.parent.name not in OUTLETS:
            raise ValueError(f"{path}: {path.parent.name!r} is not an outlet ({', '.join(order)})")
        stories.append(load_story(path))
    for attribute in ("key", "number"):
        seen = [getattr(s, attribute) for s in stories]
        if len(set(seen)) != len(seen):
            raise ValueError(f"{folder}: two stories have the same {attribute}")
    return sorted(stories, key=lambda s: (order.index(s.outlet), s.number))


try:
    STORIES: list[Story] = load_stories(HERE / "stories")
except ValueError as error:
    if __name__ != "__main__":
        raise
    raise SystemExit(str(error)) from None


# --- the cases the demo must handle ----------------------------------------------------------


class Change(NamedTuple):
    """One kind of change: the article's URL and two capture times to compare.

    The page served at `before` (the latest capture at or before it) against the page
    served at `after`. For "removed", `after` is the time its .gone marker appears; for
    "restored" and "restored_with_edit", `before` is that time and `after` the return, so
    compare the page served just before `before` with the one at `after`. For "unchanged",
    the page is written once, at `before`, and served unchanged until `after` (the last
    capture time)."""

    url: str
    before: str
    after: str


def _url(key: str) -> str:
    return url_of(next(s for s in STORIES if s.key == key))


CASES: dict[str, Change] = {
    # Real edits: each must become a new version.
    "headline_softened": Change(_url("flood-report"), "2025-03-03T09:00Z", "2025-03-03T18:00Z"),
    "qualifier_added": Change(_url("bridge"), "2025-03-03T06:00Z", "2025-03-03T12:00Z"),
    "quote_added": Change(_url("school-merger"), "2025-03-03T12:00Z", "2025-03-03T21:00Z"),
    "quote_removed": Change(_url("school-merger"), "2025-03-03T21:00Z", "2025-03-04T15:00Z"),
    "paragraph_inserted": Change(_url("bridge"), "2025-03-03T12:00Z", "2025-03-03T18:00Z"),
    "paragraph_moved": Change(_url("hospital-parking"), "2025-03-04T06:00Z", "2025-03-04T12:00Z"),
    "name_expanded": Change(_url("market-traders"), "2025-03-04T09:00Z", "2025-03-04T18:00Z"),
    "correction_appended": Change(_url("evening-buses"), "2025-03-04T15:00Z", "2025-03-05T12:00Z"),
    "byline_changed": Change(_url("harbour-wall"), "2025-03-03T06:00Z", "2025-03-03T15:00Z"),
    "headline_flip": Change(_url("lenn-meadows"), "2025-03-05T09:00Z", "2025-03-05T15:00Z"),
    "headline_revert": Change(_url("lenn-meadows"), "2025-03-05T15:00Z", "2025-03-05T21:00Z"),
    "minor_fix": Change(_url("rugby-clubhouse"), "2025-03-05T06:00Z", "2025-03-05T15:00Z"),
    # Removal and return.
    "removed": Change(_url("pier-sale"), "2025-03-03T12:00Z", "2025-03-04T09:00Z"),
    "restored": Change(_url("pier-sale"), "2025-03-04T09:00Z", "2025-03-05T09:00Z"),
    "restored_with_edit": Change(_url("care-home"), "2025-03-05T15:00Z", "2025-03-06T09:00Z"),
    # The page changes around an unchanged article: no new version.
    "redesign": Change(_url("library-hours"), "2025-03-03T06:00Z", "2025-03-06T06:00Z"),
    "boilerplate_only": Change(_url("crab-limits"), "2025-03-03T15:00Z", "2025-03-04T12:00Z"),
    "restamped": Change(_url("crab-limits"), "2025-03-04T12:00Z", "2025-03-06T15:00Z"),
    # Never edited, never re-rendered.
    "unchanged": Change(_url("beach-huts"), "2025-03-04T12:00Z", "2025-03-07T12:00Z"),
}

# Kinds whose two captures must extract to the same document: no new version.
SAME_TEXT = frozenset({"redesign", "boilerplate_only", "restamped", "restored"})
# A change of punctuation only: a new version, marked minor.
MINOR = frozenset({"minor_fix"})
# The article answers 404 at `after`.
REMOVAL = frozenset({"removed"})
# The article comes back at `after` (`before` is the time it went).
RETURNS = frozenset({"restored", "restored_with_edit"})


# --- replay state ------------------------------------------------------------------------------


@dataclass
class StoryState:
    headline: str
    byline: tuple[str, ...]
    paragraphs: list[str]
    updated: datetime | None = None
    live: bool = True


def _find(paragraphs: list[str], anchor: str, story: Story) -> int:
    hits = [i for i, text in enumerate(paragraphs) if para(anchor) in text]
    if len(hits) != 1:
        raise ValueError(f"{story.key}: anchor {anchor!r} matches {len(hits)} paragraphs")
    return hits[0]


def apply(edit: Edit, state: StoryState, story: Story) -> None:
    """Apply one edit to a story's state, checking every anchor matches exactly once."""
    paras = state.paragraphs
    if edit.headline is not None:
        state.headline = edit.headline
    if edit.byline is not None:
        state.byline = edit.byline
    for anchor in edit.drop:
        del paras[_find(paras, anchor, story)]
    for old, new in edit.sub:
        old, new = para(old), para(new)
        count = sum(text.count(old) for text in paras)
        if count != 1:
            raise ValueError(f"{story.key}: {old!r} occurs {count} times")
        i = next(i for i, text in enumerate(paras) if old in text)
        paras[i] = paras[i].replace(old, new)
    for anchor, after in edit.move:
        moved = paras.pop(_find(paras, anchor, story))
        paras.insert(_find(paras, after, story) + 1, moved)
    for anchor, text in edit.insert:
        position = _find(paras, anchor, story) + 1 if anchor else 0
        paras.insert(position, para(text))
    paras.extend(para(text) for text in edit.append)
    if edit.gone:
        state.live = False
    if edit.back:
        state.live = True
    if edit.restamp and not edit.gone:
        # Editors save a few minutes before the capture that sees the change.
        minutes = 7 + zlib.crc32(f"{story.key}{edit.at}".encode()) % 50
        state.updated = edit.at - timedelta(minutes=minutes)


def file_of(url: str) -> str:
    """The stored path of a URL under a capture time: host/path, "/" → "/index.html"."""
    rest = url.split("://", 1)[1]
    return rest + "index.html" if rest.endswith("/") else rest


def grid() -> list[datetime]:
    """Every time a capture could be made; only those where something changed are kept."""
    return [t(day, hour) for day in range(3, 8) for hour in (6, 9, 12, 15, 18, 21)]


def shares(story: Story, when: datetime) -> int:
    hours = max(1.0, (when - story.published).total_seconds() / 3600)
    return int((25 + zlib.crc32(story.key.encode()) % 70) * hours**0.7)


def comments(story: Story, when: datetime) -> int:
    hours = max(1.0, (when - story.published).total_seconds() / 3600)
    return int((1 + zlib.crc32(story.key.encode()[::-1]) % 8) * hours**0.5)


class Article(NamedTuple):
    """What a page capture shows a reader: the text extraction must recover, exactly."""

    url: str
    headline: str
    byline: tuple[str, ...]
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        """The paragraphs as normalized markdown (crossheads as "## ")."""
        return "\n\n".join(self.paragraphs) + "\n"


def build() -> dict[str, bytes]:
    """Every capture file: "<time>/<host>/<path>" → bytes."""
    return build_with_articles()[0]


def articles() -> dict[str, Article]:
    """Every page capture ("<time>/<host>/<path>") → the article it shows."""
    return build_with_articles()[1]


def build_with_articles() -> tuple[dict[str, bytes], dict[str, Article]]:
    for story in STORIES:
        times = [e.at for e in story.edits]
        if sorted(set(times)) != times or (times and times[0] <= story.first):
            raise ValueError(f"{story.key}: edits must be dated after it appears, in order")
        if story.first not in grid() or any(time not in grid() for time in times):
            raise ValueError(f"{story.key}: every date must be a capture time")
    states: dict[str, StoryState] = {}
    files: dict[str, bytes] = {}
    shown: dict[str, Article] = {}
    feeds: dict[str, object] = {}
    for when in grid():
        written: set[str] = set()  # keys of stories whose page is written now
        for story in STORIES:
            if story.first == when:
                states[story.key] = StoryState(story.headline, story.byline, story.paragraphs)
                written.add(story.key)
            for edit in story.edits:
                if edit.at == when:
                    apply(edit, states[story.key], story)
                    written.add(story.key)
        for story in STORIES:
            state = states.get(story.key)
            outlet = OUTLETS[story.outlet]
            if state and state.live and when in outlet.redesigns:
                written.add(story.key)
        for story in STORIES:
            if story.key not in written:
                continue
            state = states[story.key]
            name = f"{stamp(when)}/{file_of(url_of(story))}"
            if state.live:
                files[name] = render_page(story, state, states, when).encode("utf-8")
                shown[name] = Article(
                    url_of(story), state.headline, state.byline, tuple(state.paragraphs)
                )
            else:
                files[name + GONE_SUFFIX] = b""
        for key, outlet in OUTLETS.items():
            listing = live_stories(key, states)
            content = [(url_of(s), states[s.key].headline, states[s.key].updated) for s in listing]
            if feeds.get(key) != content:
                feeds[key] = content
                name = f"{stamp(when)}/{outlet.host}{outlet.feed_path}"
                files[name] = render_feed(outlet, listing, states, when).encode("utf-8")
    check(files)
    return files, shown


def live_stories(outlet: str, states: dict[str, StoryState]) -> list[Story]:
    """The outlet's stories served now, newest first."""
    live = [s for s in STORIES if s.outlet == outlet and s.key in states and states[s.key].live]
    return sorted(live, key=lambda s: s.published, reverse=True)


# --- rendering: the templates in pages/ ----------------------------------------------------------


@dataclass(frozen=True)
class PageContext:
    """Everything a template needs to render one article page at one capture time."""

    outlet: Outlet
    story: Story
    url: str
    headline: str
    byline: tuple[str, ...]
    paragraphs: list[str]
    published: datetime
    updated: datetime | None
    when: datetime
    related: list[tuple[str, str, datetime]]  # (url, headline, published)
    latest: list[tuple[str, str, datetime]]  # the outlet's other stories, newest first
    most_read: list[tuple[str, str, datetime]]  # the outlet's other stories, most shared first
    shares: int
    comments: int
    number: int  # the story's id in the outlet's publishing system


def render_page(
    story: Story, state: StoryState, states: dict[str, StoryState], when: datetime
) -> str:
    outlet = OUTLETS[story.outlet]
    others = [s for s in live_stories(story.outlet, states) if s.key != story.key]
    same_section = [s for s in others if s.section == story.section]
    picks = (same_section + [s for s in others if s not in same_section])[:3]
    ranked = sorted(others, key=lambda s: (-shares(s, when), s.key))
    ctx = PageContext(
        outlet=outlet,
        story=story,
        url=url_of(story),
        headline=state.headline,
        byline=state.byline,
        paragraphs=list(state.paragraphs),
        published=story.published,
        updated=state.updated,
        when=when,
        related=[(url_of(s), states[s.key].headline, s.published) for s in picks],
        latest=[(url_of(s), states[s.key].headline, s.published) for s in others or [story]],
        most_read=[(url_of(s), states[s.key].headline, s.published) for s in ranked or [story]],
        shares=shares(story, when),
        comments=comments(story, when),
        number=story.number,
    )
    template = TEMPLATES.get_template(outlet.template(when))
    return template.render(vars(ctx), json_ld=json_ld(ctx))


def render_feed(
    outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime
) -> str:
    entries = [(s, states[s.key], url_of(s)) for s in listing]
    template = TEMPLATES.get_template(f"{outlet.feed_kind}.xml")
    return template.render(outlet=outlet, entries=entries, when=when)


def json_ld(ctx: PageContext) -> Markup:
    """The page's schema.org data, as JSON for a <script>: not HTML-escaped, so <, > and &
    are written as JSON escapes and no text can close the script."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": ctx.headline,
        "datePublished": iso(ctx.published),
        "dateModified": iso(ctx.updated or ctx.published),
        "author": [{"@type": "Person", "name": name} for name in ctx.byline],
        "publisher": {"@type": "Organization", "name": ctx.outlet.name},
        "mainEntityOfPage": ctx.url,
    }
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def escape(value: object) -> Markup:
    """How templates print every value: escaped with html.escape, as these papers' pages
    always were ("&quot;", "&#x27;"; markupsafe would write "&#34;", "&#39;"). Markup (from
    |safe, |xml or an include) is already escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def xml_text(text: str) -> Markup:
    """Escaped for XML text: quotes stay as they are."""
    return Markup(html.escape(text, quote=False))


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def names(byline: tuple[str, ...]) -> str:
    return " and ".join(byline)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def thousands(n: int) -> str:
    return f"{n:,}"


def compact(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def clock(when: datetime) -> str:
    """12-hour time: 9:05 am."""
    return f"{when.hour % 12 or 12}:{when:%M} {'am' if when.hour < 12 else 'pm'}"


def herald_date(when: datetime) -> str:
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when:%H:%M} GMT"


def herald_short_date(when: datetime) -> str:
    day = DAYS[when.weekday()][:3]
    return f"{day} {when.day} {MONTHS[when.month - 1][:3]} {when.year} {when:%H.%M} GMT"


def courier_day(when: datetime) -> str:
    return f"{MONTHS[when.month - 1]} {when.day}, {when.year}"


def courier_date(when: datetime) -> str:
    return f"{courier_day(when)} at {clock(when)}"


def ledger_date(when: datetime) -> str:
    day = f"{when.day} {MONTHS[when.month - 1][:3]} {when.year}"
    return f"{day} • {clock(when).replace(' ', '')}"


def rfc822(when: datetime) -> str:
    day = DAYS[when.weekday()][:3]
    return f"{day}, {when.day:02d} {MONTHS[when.month - 1][:3]} {when.year} {when:%H:%M:%S} +0000"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "pages"),
        autoescape=True,
        finalize=escape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,  # a line holding only a {% tag %} leaves nothing
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    helpers = (names, slugify, iso, thousands, compact, herald_date, herald_short_date)
    helpers += (courier_day, courier_date, ledger_date, rfc822)
    env.filters.update({helper.__name__: helper for helper in helpers}, xml=xml_text)
    env.filters.update(e=escape, escape=escape)  # |e escapes as everything else does
    return env


TEMPLATES = environment()


# --- checks and output ---------------------------------------------------------------------


def check(files: dict[str, bytes]) -> None:
    """The promises the demo relies on: capture times at least 3 hours apart, every case's
    captures where CASES says they are."""
    times = sorted({name.split("/", 1)[0] for name in files})
    parsed = [datetime.strptime(s, TIME_FORMAT).replace(tzinfo=UTC) for s in times]
    for earlier, later in itertools.pairwise(parsed):
        if later - earlier < timedelta(hours=3):
            raise ValueError(f"captures {stamp(earlier)} and {stamp(later)} are too close")
    for kind, case in CASES.items():
        path = file_of(case.url)
        before, after = f"{case.before}/{path}", f"{case.after}/{path}"
        if kind in RETURNS:
            before += GONE_SUFFIX
        if kind in REMOVAL:
            after += GONE_SUFFIX
        if kind == "unchanged":
            written = [name for name in files if name.split("/", 1)[1] == path]
            if written != [before] or case.after != times[-1]:
                raise ValueError("unchanged: one capture at `before`; `after` the last time")
            continue
        for name in (before, after):
            if name not in files:
                raise ValueError(f"{kind}: {name} is not a capture")
    for kind in RETURNS:
        gone, back = CASES[kind].before, CASES[kind].after
        between = [s for s in times if gone <= s < back]
        if len(between) < 3 or parsed[times.index(between[-1])] - parsed[times.index(gone)] < (
            timedelta(hours=6)
        ):
            raise ValueError(f"{kind}: the removal must last 3 capture times and 6 hours")


def write(out: Path) -> int:
    files = build()
    if out.exists():
        strays = [p.name for p in out.iterdir() if not re.fullmatch(r"\d{4}-.*Z", p.name)]
        if strays:
            raise SystemExit(f"{out}: not a captures directory (holds {strays[0]})")
        shutil.rmtree(out)
    for name, data in sorted(files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "captures", help="output directory")
    args = parser.parse_args(argv)
    try:
        count = write(args.out)
    except ValueError as error:  # a story that does not apply: name it, no traceback
        raise SystemExit(str(error)) from None
    print(f"{count} files written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

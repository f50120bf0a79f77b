"""Generate the sample archive's captures: invented local news, edited over five days.

    python make_captures.py [--out DIR]      # default: captures/ next to this file

Three invented papers publish 25 invented stories between Monday 3 and Friday 7 March 2025.
Each story is a data file, stories/<outlet>/<key>.toml: its first text, then dated edits (a
headline, a byline, a substitution, a paragraph inserted, dropped, moved or appended, a
removal, a return, or a re-render that changes only the page around the article). Each paper
has its own page template, and one paper is redesigned mid-week. At every capture time the
generator writes what changed:

    captures/<YYYY-MM-DDTHH:MMZ>/<host>/<path>        a page, feed or sitemap, new or changed
    captures/<YYYY-MM-DDTHH:MMZ>/<host>/<path>.gone   from then on, <path> answers 404

A URL path ending in "/" is stored as ".../index.html". Files accumulate: a file is served
from its capture time until a later capture replaces it or marks it gone.

The output is a pure function of this file and the story files: no clock, no randomness.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

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


# --- loading the stories: stories/<outlet>/<key>.toml ----------------------------------------

# The edit operations that take pairs, as tables: [[edits.sub]] old = "…" new = "…".
PAIRS = {"sub": ("old", "new"), "move": ("paragraph", "after"), "insert": ("after", "text")}
STORY_FIELDS = ("path", "section", "first", "number", "byline", "role", "headline", "summary")


def load_edit(table: dict[str, Any]) -> Edit:
    fields = dict(table)
    for name in ("byline", "drop", "append"):
        if name in fields:
            fields[name] = tuple(fields[name])
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
        edits = tuple(load_edit(table) for table in data.pop("edits", ()))
        byline = tuple(data.pop("byline"))
        return Story(key=path.stem, outlet=path.parent.name, byline=byline, edits=edits, **data)
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


def load_stories(folder: Path) -> list[Story]:
    """Every story, in the outlets' order and then by number (which decides nothing else)."""
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
    story = next(s for s in STORIES if s.key == key)
    return f"http://{OUTLETS[story.outlet].host}{story.path}"


# Filled in after OUTLETS is defined (the URLs need hosts): see the end of the templates.
CASES: dict[str, Change] = {}

# Kinds whose two captures must extract to the same document: no new version.
SAME_TEXT = frozenset({"redesign", "boilerplate_only", "restamped", "restored"})
# A change of punctuation only: a new version, marked minor.
MINOR = frozenset({"minor_fix"})
# The article answers 404 at `after`.
REMOVAL = frozenset({"removed"})
# The article comes back at `after` (`before` is the time it went).
RETURNS = frozenset({"restored", "restored_with_edit"})


# --- outlets and their page templates ---------------------------------------------------------

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


@dataclass(frozen=True)
class Outlet:
    key: str  # the source name in archiver.toml
    name: str
    host: str
    feed_path: str
    feed_kind: str  # "rss", "atom" or "news-sitemap"
    templates: dict[datetime, Callable[[PageContext], str]] = field(default_factory=dict)

    def template(self, when: datetime) -> Callable[[PageContext], str]:
        """The template in use at a time: the latest one introduced at or before it."""
        return self.templates[max(start for start in self.templates if start <= when)]

    @property
    def redesigns(self) -> list[datetime]:
        return sorted(self.templates)[1:]


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def names(byline: tuple[str, ...]) -> str:
    return " and ".join(byline)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def thousands(n: int) -> str:
    return f"{n:,}"


def body_html(paragraphs: list[str], indent: str = "") -> str:
    lines = []
    for text in paragraphs:
        if text.startswith("## "):
            lines.append(f"{indent}<h2>{esc(text[3:])}</h2>")
        else:
            lines.append(f"{indent}<p>{esc(text)}</p>")
    return "\n".join(lines)


def json_ld(ctx: PageContext) -> str:
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
    return json.dumps(data, ensure_ascii=False, indent=1)


# The Northgate Herald, until Thursday 6 March 06:00 --------------------------------------------


def herald_date(when: datetime) -> str:
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when:%H:%M} GMT"


HERALD_SECTIONS = ("News", "Sport", "Business", "Opinion", "What's On", "Obituaries")


def herald_v1(ctx: PageContext) -> str:
    nav = "".join(f'<li><a href="/{slugify(s)}/">{esc(s)}</a></li>' for s in HERALD_SECTIONS)
    updated = ""
    if ctx.updated:
        updated = (
            f' · Updated <time datetime="{iso(ctx.updated)}">{herald_date(ctx.updated)}</time>'
        )
        modified = f'<meta property="article:modified_time" content="{iso(ctx.updated)}">\n'
    else:
        modified = ""
    authors = ", ".join(
        f'<a rel="author" href="/authors/{slugify(n)}/">{esc(n)}</a>' for n in ctx.byline
    )
    related = "\n".join(
        f'<li><a href="{esc(url)}">{esc(title)}</a></li>' for url, title, _ in ctx.related
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(ctx.headline)} | Northgate Herald</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{esc(ctx.story.summary)}">
<meta name="author" content="{esc(names(ctx.byline))}">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:site_name" content="Northgate Herald">
<meta property="article:published_time" content="{iso(ctx.published)}">
{modified}<link rel="canonical" href="{esc(ctx.url)}">
<link rel="alternate" type="application/rss+xml" title="Northgate Herald" href="/rss.xml">
<link rel="stylesheet" href="/static/herald.7c1f.css">
<script src="/static/consent.js" defer></script>
</head>
<body class="article-page section-{slugify(ctx.story.section)}">
<a class="skip-link" href="#main">Skip to content</a>
<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>We and our partners use cookies to personalise content and adverts and to analyse our
traffic. You can change your choices at any time in Privacy settings.</p>
<button type="button">Accept all</button> <button type="button">Manage preferences</button>
</div>
<header class="site-header">
<a class="logo" href="/">Northgate Herald</a>
<p class="tagline">Serving Northgate and the Lenn Valley since 1859</p>
<nav class="main-nav" aria-label="Sections">
<ul>{nav}</ul>
</nav>
</header>
<main id="main">
<nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">Home</a> › <a href="/news/">News</a> \
› <a href="/news/{slugify(ctx.story.section)}/">{esc(ctx.story.section)}</a></nav>
<article class="story">
<h1 class="story-headline">{esc(ctx.headline)}</h1>
<div class="story-meta">
<p class="byline">By {authors}, {esc(ctx.story.role)}</p>
<p class="dateline">Published <time datetime="{iso(ctx.published)}">\
{herald_date(ctx.published)}</time>{updated}</p>
<div class="share-bar"><span class="share-count">{thousands(ctx.shares)} shares</span> \
<a href="#comments" class="comment-count">{ctx.comments} comments</a> \
<a href="https://social.example/share?u={esc(ctx.url)}">Share</a> \
<a href="mailto:?subject={esc(ctx.headline)}">Email</a></div>
</div>
<figure class="lead-image"><img src="/images/{ctx.number}.jpg" alt="">\
<figcaption>Photograph: Northgate Herald</figcaption></figure>
<div class="story-body">
{body_html(ctx.paragraphs)}
</div>
</article>
<aside class="related" aria-labelledby="related-title">
<h2 id="related-title">Related stories</h2>
<ul>
{related}
</ul>
</aside>
<section class="newsletter"><h2>Get the Herald in your inbox</h2>
<p>Our free morning briefing, every weekday at 7am.</p>
<form action="/newsletter/"><input type="email" name="email" placeholder="Email address">
<button>Sign up</button></form></section>
<section id="comments" class="comments"><h2>Comments ({ctx.comments})</h2>
<p>Comments are moderated. Please read our community guidelines before posting.</p></section>
</main>
<footer class="site-footer">
<ul><li><a href="/about/">About us</a></li><li><a href="/contact/">Contact</a></li>\
<li><a href="/privacy/">Privacy notice</a></li><li><a href="/terms/">Terms</a></li>\
<li><a href="/rss.xml">RSS</a></li></ul>
<p>© 2025 Northgate Herald Media Ltd. All rights reserved.</p>
</footer>
</body>
</html>
"""


# The Northgate Herald from Thursday 6 March 06:00: a redesign ---------------------------------


def herald_short_date(when: datetime) -> str:
    day = DAYS[when.weekday()][:3]
    return f"{day} {when.day} {MONTHS[when.month - 1][:3]} {when.year} {when:%H.%M} GMT"


HERALD_V2_SECTIONS = (
    "News",
    "Lenn Valley",
    "Sport",
    "Business",
    "Opinion",
    "What's On",
    "Podcasts",
    "Puzzles",
    "Jobs",
)


def compact(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def herald_v2(ctx: PageContext) -> str:
    nav = "\n".join(
        f'<li class="primary-nav__item"><a href="/{slugify(s)}/">{esc(s)}</a></li>'
        for s in HERALD_V2_SECTIONS
    )
    updated = ""
    if ctx.updated:
        updated = (
            f'\n<span class="article__updated">Last updated <time itemprop="dateModified" '
            f'datetime="{iso(ctx.updated)}">{herald_short_date(ctx.updated)}</time></span>'
        )
    authors = " and ".join(
        f'<a class="article__author" href="/profile/{slugify(n)}">{esc(n)}</a>' for n in ctx.byline
    )
    related = "\n".join(
        f'<li class="rail-list__item"><a href="{esc(url)}">{esc(title)}</a></li>'
        for url, title, _ in ctx.related
    )
    most_read = "\n".join(
        f'<li class="rail-list__item"><span class="rank">{i}</span> '
        f'<a href="{esc(url)}">{esc(title)}</a></li>'
        for i, (url, title, _) in enumerate(ctx.most_read[:5], 1)
    )
    section = slugify(ctx.story.section)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(ctx.headline)} – Northgate Herald</title>
<meta name="description" content="{esc(ctx.story.summary)}">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:description" content="{esc(ctx.story.summary)}">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:type" content="article">
<meta property="og:image" content="http://northgate-herald.example/img/og/{ctx.number}.jpg">
<meta name="author" content="{esc(names(ctx.byline))}">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{esc(ctx.url)}">
<link rel="preload" href="/assets/fonts/herald-serif.woff2" as="font" crossorigin>
<link rel="stylesheet" href="/assets/app.3e91b0.css">
<script type="application/ld+json">
{json_ld(ctx)}
</script>
<script src="/assets/app.3e91b0.js" defer></script>
</head>
<body class="t-article t-{section}">
<div id="consent-root">
<div class="consent-modal" role="dialog" aria-modal="true" aria-labelledby="consent-title">
<h2 id="consent-title">Your privacy</h2>
<p>We use cookies and similar technologies to run this site, measure our audience and show
you relevant advertising. Choose "Agree and continue" to accept them, or manage your
choices.</p>
<button class="btn btn--primary">Agree and continue</button>
<button class="btn">Reject non-essential</button>
<a href="/privacy-settings/">Privacy settings</a>
</div>
</div>
<div class="top-strip"><a href="/subscribe/">Subscribe from £1 a week</a> \
<a href="/account/login/">Sign in</a></div>
<header class="masthead">
<a class="masthead__brand" href="/"><span class="masthead__the">The</span> Northgate Herald</a>
<button class="menu-toggle" aria-expanded="false">Menu</button>
<nav class="primary-nav" aria-label="Main">
<ul class="primary-nav__list">
{nav}
</ul>
</nav>
</header>
<main class="layout layout--article" id="content">
<div class="layout__main">
<article class="article article--{section}">
<header class="article__header">
<a class="article__kicker" href="/news/{section}/">{esc(ctx.story.section)}</a>
<h1 class="article__title">{esc(ctx.headline)}</h1>
<div class="article__meta">
<div class="article__byline">By {authors} <span class="article__role">{esc(ctx.story.role)}\
</span></div>
<div class="article__timestamps"><time itemprop="datePublished" \
datetime="{iso(ctx.published)}">{herald_short_date(ctx.published)}</time>{updated}</div>
</div>
<ul class="share-tools">
<li><button class="share-tools__button" data-share="native">Share</button></li>
<li><span class="share-tools__count">{compact(ctx.shares)}</span> shares</li>
<li><a class="share-tools__comments" href="#comments">{ctx.comments}</a></li>
</ul>
</header>
<div class="article__body">
{body_html(ctx.paragraphs)}
</div>
<footer class="article__footer">
<p class="article__topics">More on: <a href="/topics/{section}/">{esc(ctx.story.section)}</a> \
<a href="/topics/northgate/">Northgate</a></p>
</footer>
</article>
<section class="comments-cta" id="comments">
<h2>Join the conversation</h2>
<p>{ctx.comments} readers have commented. <a href="/account/login/">Sign in</a> to have your \
say.</p>
</section>
</div>
<aside class="layout__rail">
<section class="rail-box rail-box--related">
<h2 class="rail-box__title">Related stories</h2>
<ol class="rail-list">
{related}
</ol>
</section>
<section class="rail-box rail-box--most-read">
<h2 class="rail-box__title">Most read</h2>
<ol class="rail-list rail-list--ranked">
{most_read}
</ol>
</section>
<div class="ad-slot ad-slot--mpu" data-slot="rail-1">Advertisement</div>
</aside>
</main>
<footer class="site-footer site-footer--v2">
<div class="site-footer__brand">The Northgate Herald</div>
<nav class="site-footer__links" aria-label="Footer">
<a href="/about/">About</a> <a href="/contact/">Contact us</a> <a href="/advertise/">Advertise</a>
<a href="/privacy/">Privacy</a> <a href="/cookies/">Cookies</a> <a href="/terms/">Terms</a>
<a href="/rss.xml">RSS</a>
</nav>
<p class="site-footer__legal">© Northgate Herald Media Ltd 2025. Registered in England and \
Wales.</p>
</footer>
</body>
</html>
"""


# The Fenmouth Courier: a blog-style publishing system ------------------------------------------


def courier_date(when: datetime) -> str:
    hour = when.hour % 12 or 12
    half = "am" if when.hour < 12 else "pm"
    return f"{MONTHS[when.month - 1]} {when.day}, {when.year} at {hour}:{when:%M} {half}"


COURIER_MENU = ("News", "Harbour", "Business", "Transport", "Health", "Arts", "Letters", "Tides")


def courier(ctx: PageContext) -> str:
    menu = "\n".join(
        f'<li class="menu-item"><a href="/category/{slugify(m)}/">{esc(m)}</a></li>'
        for m in COURIER_MENU
    )
    modified = iso(ctx.updated or ctx.published)
    authors = ", ".join(
        f'<span class="author vcard"><a class="url fn n" href="/author/{slugify(n)}/">'
        f"{esc(n)}</a></span>"
        for n in ctx.byline
    )
    related = "\n".join(
        f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
        f'<a href="{esc(url)}">{esc(title)}</a></h4>'
        f'<p class="jp-relatedposts-post-date">{courier_date(when).split(" at ")[0]}</p></div>'
        for url, title, when in ctx.related
    )
    recent = "\n".join(
        f'<li><a href="{esc(url)}">{esc(title)}</a></li>' for url, title, _ in ctx.latest[:5]
    )
    category = slugify(ctx.story.section)
    return f"""<!DOCTYPE html>
<html lang="en-GB" class="no-js">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(ctx.headline)} &#8211; Fenmouth Courier</title>
<meta name="description" content="{esc(ctx.story.summary)}">
<link rel="canonical" href="{esc(ctx.url)}">
<meta property="og:locale" content="en_GB">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:description" content="{esc(ctx.story.summary)}">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:site_name" content="Fenmouth Courier">
<meta property="article:published_time" content="{iso(ctx.published)}">
<meta property="article:modified_time" content="{modified}">
<meta name="author" content="{esc(names(ctx.byline))}">
<link rel="alternate" type="application/atom+xml" title="Fenmouth Courier &raquo; Feed" \
href="http://fenmouth-courier.example/feed/atom.xml">
<link rel="stylesheet" id="courier-style-css" href="/wp-content/themes/courier/style.css?ver=3.2.1">
<link rel="stylesheet" id="jetpack-css" href="/wp-content/plugins/jetpack/css/jetpack.css?ver=13.9">
</head>
<body class="post-template-default single single-post postid-{ctx.number} single-format-standard">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#primary">Skip to content</a>
<header id="masthead" class="site-header">
<div class="site-branding">
<p class="site-title"><a href="/" rel="home">Fenmouth Courier</a></p>
<p class="site-description">News from the harbour town since 1871</p>
</div>
<nav id="site-navigation" class="main-navigation">
<button class="menu-toggle" aria-controls="primary-menu" aria-expanded="false">Menu</button>
<ul id="primary-menu" class="menu">
{menu}
</ul>
</nav>
</header>
<div id="content" class="site-content">
<main id="primary" class="site-main">
<article id="post-{ctx.number}" class="post-{ctx.number} post type-post status-publish \
format-standard hentry category-{category}">
<header class="entry-header">
<span class="cat-links"><a href="/category/{category}/" rel="category tag">\
{esc(ctx.story.section)}</a></span>
<h1 class="entry-title">{esc(ctx.headline)}</h1>
<div class="entry-meta">
<span class="byline">by {authors}</span>
<span class="posted-on">Posted on <time class="entry-date published" \
datetime="{iso(ctx.published)}">{courier_date(ctx.published)}</time>\
<time class="updated" datetime="{modified}">{courier_date(ctx.updated or ctx.published)}\
</time></span>
<span class="comments-link"><a href="#comments">{ctx.comments} Comments</a></span>
</div>
</header>
<div class="entry-content">
{body_html(ctx.paragraphs)}
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social">
<h3 class="sd-title">Share this:</h3>
<div class="sd-content"><ul>
<li class="share-facebook"><a href="?share=facebook" target="_blank">Facebook</a></li>
<li class="share-x"><a href="?share=x" target="_blank">X</a></li>
<li class="share-jetpack-whatsapp"><a href="?share=jetpack-whatsapp">WhatsApp</a></li>
<li class="share-email"><a href="?share=email">Email</a></li>
<li class="share-end"></li>
</ul><span class="sd-share-count">{thousands(ctx.shares)} shares</span></div>
</div></div>
<div id="jp-relatedposts" class="jp-relatedposts">
<h3 class="jp-relatedposts-headline"><em>Related</em></h3>
<div class="jp-relatedposts-items jp-relatedposts-items-visual">
{related}
</div>
</div>
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/{category}/" \
rel="category tag">{esc(ctx.story.section)}</a></span></footer>
</article>
<div id="comments" class="comments-area">
<h2 class="comments-title">{ctx.comments} responses</h2>
<div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-notes">Your email address will not be published.</p>
<p class="comment-form-comment"><label for="comment">Comment</label>
<textarea id="comment" name="comment"></textarea></p>
<p class="form-submit"><input name="submit" type="submit" value="Post Comment"></p>
</form>
</div>
</div>
</main>
<aside id="secondary" class="widget-area">
<section id="recent-posts-2" class="widget widget_recent_entries">
<h2 class="widget-title">Latest news</h2>
<ul>
{recent}
</ul>
</section>
<section id="text-3" class="widget widget_text">
<h2 class="widget-title">Advertise with us</h2>
<div class="textwidget"><p>Reach readers across Fenmouth and Skerran. Call the sales desk
on 01632 960 400.</p></div>
</section>
</aside>
</div>
<footer id="colophon" class="site-footer">
<div class="site-info">© 2025 Fenmouth Courier Ltd · <a href="/privacy-policy/">Privacy \
Policy</a> · <a href="/feed/atom.xml">Feed</a></div>
</footer>
</div>
<div class="cmplz-cookiebanner cmplz-show" role="dialog" aria-live="polite" \
aria-labelledby="cmplz-header">
<div class="cmplz-header" id="cmplz-header">Manage Cookie Consent</div>
<div class="cmplz-message"><p>To provide the best experiences, we use technologies like
cookies to store and access device information.</p></div>
<div class="cmplz-buttons"><button class="cmplz-accept">Accept</button>
<button class="cmplz-deny">Deny</button> <button class="cmplz-view-preferences">View
preferences</button></div>
</div>
<script src="/wp-includes/js/wp-emoji-release.min.js?ver=6.7.2" defer></script>
</body>
</html>
"""


# The Vale Ledger --------------------------------------------------------------------------------


def ledger_date(when: datetime) -> str:
    hour = when.hour % 12 or 12
    half = "am" if when.hour < 12 else "pm"
    return f"{when.day} {MONTHS[when.month - 1][:3]} {when.year} • {hour}:{when:%M}{half}"


LEDGER_NAV = (
    "News",
    "Police & Courts",
    "Environment",
    "Business",
    "Politics",
    "Transport",
    "Weather",
    "Sport",
    "Notices",
)


def ledger(ctx: PageContext) -> str:
    nav = "\n".join(f'<a href="/{slugify(s)}/">{esc(s)}</a>' for s in LEDGER_NAV)
    updated = ""
    if ctx.updated:
        updated = (
            f'<br><span class="label">Updated:</span> <time datetime="{iso(ctx.updated)}">'
            f"{ledger_date(ctx.updated)}</time>"
        )
    authors = " and ".join(f'<a href="/staff/{slugify(n)}">{esc(n)}</a>' for n in ctx.byline)
    cards = "\n".join(
        f'<a class="card" href="{esc(url)}"><span class="card__title">{esc(title)}</span>'
        f'<span class="card__time">{ledger_date(when)}</span></a>'
        for url, title, when in ctx.related
    )
    ticker_url, ticker_title, _ = ctx.latest[0]
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(ctx.headline)} | The Vale Ledger</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{esc(ctx.story.summary)}">
<meta property="og:title" content="{esc(ctx.headline)}">
<meta property="og:url" content="{esc(ctx.url)}">
<meta property="og:site_name" content="The Vale Ledger">
<meta name="twitter:card" content="summary_large_image">
<link rel="canonical" href="{esc(ctx.url)}">
<link rel="stylesheet" href="/css/ledger.min.css?v=2025.02">
<script type="application/ld+json">
{json_ld(ctx)}
</script>
</head>
<body>
<div class="cookie-notice" id="cookie-notice" role="region" aria-label="Cookies">
<p>This website uses cookies to improve your experience and to help us understand how it is
used. <a href="/cookies/">Find out more</a></p>
<button type="button" class="cookie-notice__ok">OK</button>
</div>
<header class="header">
<div class="header__inner">
<a class="brand" href="/">The Vale Ledger</a>
<span class="edition">Kelmere · Tolsby · Marrowby · Corriby</span>
<a class="header__donate" href="/support/">Support local journalism</a>
</div>
<nav class="nav" aria-label="Sections">
{nav}
</nav>
</header>
<div class="container">
<div class="ticker"><strong>Latest:</strong> <a href="{esc(ticker_url)}">\
{esc(ticker_title)}</a></div>
<article class="news-article">
<div class="news-article__section"><a href="/{slugify(ctx.story.section)}/">\
{esc(ctx.story.section)}</a></div>
<h1 class="news-article__headline">{esc(ctx.headline)}</h1>
<div class="news-article__author">By {authors}<span class="role">{esc(ctx.story.role)}</span>\
</div>
<div class="news-article__dates"><span class="label">Published:</span> \
<time datetime="{iso(ctx.published)}">{ledger_date(ctx.published)}</time>{updated}</div>
<div class="news-article__social"><a href="https://social.example/share?u={esc(ctx.url)}">\
Share</a> <button type="button">Copy link</button> <span class="count">\
{thousands(ctx.shares)} shares</span></div>
<div class="news-article__body">
{body_html(ctx.paragraphs)}
</div>
</article>
<section class="related-content" aria-labelledby="related-heading">
<h2 id="related-heading">Related stories</h2>
<div class="cards">
{cards}
</div>
</section>
</div>
<footer class="footer">
<p>The Vale Ledger is published by Vale Ledger Media, a community interest company.
<a href="/about/">About us</a> · <a href="/complaints/">Complaints</a> ·
<a href="/privacy/">Privacy</a></p>
<p>© 2025 Vale Ledger Media</p>
</footer>
</body>
</html>
"""


OUTLETS: dict[str, Outlet] = {
    "herald": Outlet(
        key="northgate-herald",
        name="Northgate Herald",
        host="northgate-herald.example",
        feed_path="/rss.xml",
        feed_kind="rss",
        templates={t(3, 6): herald_v1, t(6, 6): herald_v2},
    ),
    "courier": Outlet(
        key="fenmouth-courier",
        name="Fenmouth Courier",
        host="fenmouth-courier.example",
        feed_path="/feed/atom.xml",
        feed_kind="atom",
        templates={t(3, 6): courier},
    ),
    "ledger": Outlet(
        key="vale-ledger",
        name="The Vale Ledger",
        host="vale-ledger.example",
        feed_path="/sitemap-news.xml",
        feed_kind="news-sitemap",
        templates={t(3, 6): ledger},
    ),
}

try:
    STORIES: list[Story] = load_stories(HERE / "stories")
except ValueError as error:
    if __name__ != "__main__":
        raise
    raise SystemExit(str(error)) from None

CASES.update(
    {
        # Real edits: each must become a new version.
        "headline_softened": Change(_url("flood-report"), "2025-03-03T09:00Z", "2025-03-03T18:00Z"),
        "qualifier_added": Change(_url("bridge"), "2025-03-03T06:00Z", "2025-03-03T12:00Z"),
        "quote_added": Change(_url("school-merger"), "2025-03-03T12:00Z", "2025-03-03T21:00Z"),
        "quote_removed": Change(_url("school-merger"), "2025-03-03T21:00Z", "2025-03-04T15:00Z"),
        "paragraph_inserted": Change(_url("bridge"), "2025-03-03T12:00Z", "2025-03-03T18:00Z"),
        "paragraph_moved": Change(
            _url("hospital-parking"), "2025-03-04T06:00Z", "2025-03-04T12:00Z"
        ),
        "name_expanded": Change(_url("market-traders"), "2025-03-04T09:00Z", "2025-03-04T18:00Z"),
        "correction_appended": Change(
            _url("evening-buses"), "2025-03-04T15:00Z", "2025-03-05T12:00Z"
        ),
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
)


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


def url_of(story: Story) -> str:
    return f"http://{OUTLETS[story.outlet].host}{story.path}"


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
    return outlet.template(when)(ctx)


# --- feeds ---------------------------------------------------------------------------------------


def rfc822(when: datetime) -> str:
    day = DAYS[when.weekday()][:3]
    return f"{day}, {when.day:02d} {MONTHS[when.month - 1][:3]} {when.year} {when:%H:%M:%S} +0000"


def xml_text(text: str) -> str:
    return html.escape(text, quote=False)


def render_feed(
    outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime
) -> str:
    if outlet.feed_kind == "rss":
        return rss(outlet, listing, states, when)
    if outlet.feed_kind == "atom":
        return atom(outlet, listing, states, when)
    return news_sitemap(outlet, listing, states)


def rss(outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime) -> str:
    items = "".join(
        f"""    <item>
      <title>{xml_text(states[s.key].headline)}</title>
      <link>{xml_text(url_of(s))}</link>
      <guid isPermaLink="true">{xml_text(url_of(s))}</guid>
      <description>{xml_text(s.summary)}</description>
      <dc:creator>{xml_text(names(states[s.key].byline))}</dc:creator>
      <category>{xml_text(s.section)}</category>
      <pubDate>{rfc822(s.published)}</pubDate>
    </item>
"""
        for s in listing
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{xml_text(outlet.name)}</title>
    <link>http://{outlet.host}/</link>
    <atom:link href="http://{outlet.host}{outlet.feed_path}" rel="self" \
type="application/rss+xml"/>
    <description>News from Northgate and the Lenn Valley</description>
    <language>en-gb</language>
    <lastBuildDate>{rfc822(when)}</lastBuildDate>
    <ttl>15</ttl>
{items}  </channel>
</rss>
"""


def atom_authors(byline: tuple[str, ...]) -> str:
    return "".join(f"    <author><name>{xml_text(n)}</name></author>\n" for n in byline)


def atom(
    outlet: Outlet, listing: list[Story], states: dict[str, StoryState], when: datetime
) -> str:
    entries = "".join(
        f"""  <entry>
    <title type="text">{xml_text(states[s.key].headline)}</title>
    <link rel="alternate" type="text/html" href="{esc(url_of(s))}"/>
    <id>tag:{outlet.host},2025:post-{s.number}</id>
    <published>{iso(s.published)}</published>
    <updated>{iso(states[s.key].updated or s.published)}</updated>
{atom_authors(states[s.key].byline)}\
    <category term="{esc(s.section)}"/>
    <summary type="text">{xml_text(s.summary)}</summary>
  </entry>
"""
        for s in listing
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">
  <title type="text">{xml_text(outlet.name)}</title>
  <subtitle type="text">News from the harbour town since 1871</subtitle>
  <id>tag:{outlet.host},2025:feed</id>
  <updated>{iso(when)}</updated>
  <link rel="alternate" type="text/html" href="http://{outlet.host}/"/>
  <link rel="self" type="application/atom+xml" href="http://{outlet.host}{outlet.feed_path}"/>
  <generator>Courier CMS</generator>
{entries}</feed>
"""


def news_sitemap(outlet: Outlet, listing: list[Story], states: dict[str, StoryState]) -> str:
    urls = "".join(
        f"""  <url>
    <loc>{xml_text(url_of(s))}</loc>
    <lastmod>{iso(states[s.key].updated or s.published)}</lastmod>
    <news:news>
      <news:publication>
        <news:name>{xml_text(outlet.name)}</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>{iso(s.published)}</news:publication_date>
      <news:title>{xml_text(states[s.key].headline)}</news:title>
    </news:news>
  </url>
"""
        for s in listing
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" \
xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}</urlset>
"""


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

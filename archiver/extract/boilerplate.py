"""Removing the parts of a page that change while the article does not.

Built in: relative timestamps ("2 hours ago"), live "last updated" lines, share and comment
counts, lone interface labels ("Published", "Share"), "related stories" / "more on
this" blocks, and the labels of follow and share links in bylines ("Twitter", "Email").
Per source, in archiver.toml: `drop_selectors` (CSS selectors removed from the page
before extraction) and `drop_lines` (regexes; a paragraph they match is dropped).

The rules are part of a fingerprint recorded with every version (see `rules_fingerprint`),
so a rule change is never silently taken for an edit of the article.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from lxml.html import HtmlElement

BOILERPLATE_VERSION = 2  # 2: social-link labels dropped from bylines

_I = re.IGNORECASE
_UNIT = r"(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?)"
_VOLATILE = [
    # "2 hours ago", "Updated 5 mins ago", "Published: about an hour ago"
    re.compile(
        rf"^((last )?updated|published|posted|edited)?:?\s*(about |around )?"
        rf"(\d+|an?|one)\s+{_UNIT}\s+ago\.?$",
        _I,
    ),
    re.compile(r"^((last )?updated|published|posted)?:?\s*just now\.?$", _I),
    # Live-page stamps: "Last updated: 14:32 GMT", "Updated 3 March 2025, 09:12"
    re.compile(r"^(page )?(last )?updated( at| on)?:?\s+[\w ,:./+-]{0,60}\d[\w ,:./+-]{0,40}$", _I),
    # Counters: "1,204 comments", "Share 45", "3.2K shares", "Comments (17)"
    re.compile(r"^\d[\d,.]*\s*[km]?\s+(comments?|shares?|likes?|reactions?|views?|reads?)$", _I),
    re.compile(r"^(comments?|shares?|likes?|reactions?)\s*[:(]?\s*\d[\d,.]*\s*[km]?\)?$", _I),
    # Interface labels left alone on a line.
    re.compile(
        r"^(published|updated|share|share this( article| story)?|save|comments?|"
        r"copy link|print|email|advertisement|listen|follow|skip to (main )?content)$",
        _I,
    ),
    # Site footers that trafilatura sometimes keeps.
    re.compile(r"^(copyright\b|©|\(c\) \d{4}|all rights reserved|powered by )", _I),
]
_RELATED = re.compile(
    r"^(related( story| stories| articles?| content| coverage| links| topics)?|"
    r"must read( stories)?|more on this( story)?|"
    r"more on this topic|read more|read next|you may also like|recommended( for you)?|"
    r"most read|most popular|top stories|more stories|more from [\w .'-]{1,40})[:.]?$",
    _I,
)
_MARKER = re.compile(r"^(## |- |\d+\. |> )")
_TEASER_MAX = 160  # a "related" block's items are headlines, not paragraphs


def _bare(block: str) -> str:
    return _MARKER.sub("", block).strip()


def is_volatile(block: str) -> bool:
    text = _bare(block)
    return any(pattern.match(text) for pattern in _VOLATILE)


def clean_blocks(blocks: Sequence[str], drop_lines: Sequence[re.Pattern[str]] = ()) -> list[str]:
    """The blocks of a normalized body without volatile lines and related-story boxes."""
    kept: list[str] = []
    in_related = False
    for block in blocks:
        bare = _bare(block)
        if _RELATED.match(bare):
            in_related = True
            continue
        if in_related:
            teaser = block.startswith("- ") or (len(bare) <= _TEASER_MAX and not bare.endswith("."))
            if teaser:
                continue
            in_related = False
        if is_volatile(block) or any(p.search(block) for p in drop_lines):
            continue
        kept.append(block)
    return _without_trailing_headings(kept)


def _without_trailing_headings(blocks: Sequence[str]) -> list[str]:
    """A heading with nothing after it heads a box trafilatura cut off, not the article."""
    end = len(blocks)
    while end and blocks[end - 1].startswith("## "):
        end -= 1
    return list(blocks[:end])


# Labels of the follow and share links that byline markup often wraps with the names.
_SOCIAL_LABELS = frozenset(
    [
        "twitter",
        "x",
        "email",
        "e-mail",
        "facebook",
        "linkedin",
        "instagram",
        "bluesky",
        "threads",
        "rss",
        "whatsapp",
        "mastodon",
        "tiktok",
        "youtube",
        "reddit",
        "telegram",
        "pinterest",
        "substack",
        "follow",
    ]
)
_FOLLOW_WORDS = frozenset(["me", "us", "him", "her", "them", "on"])  # "Follow me on X"
_NAME_TOKEN = re.compile(r"[^\s|·•,/]+")


def clean_byline_name(name: str) -> str:
    """One byline name without the link labels trailing it ("Jo Lee Twitter Email" →
    "Jo Lee"); "" when it is labels only. A lone trailing "X" stays: it may be a name's
    ("Malcolm X"), and as a link label it comes with others or after "Follow on"."""
    tokens = [(m.group().lower(), m.start()) for m in _NAME_TOKEN.finditer(name)]
    words = [word for word, _ in tokens]
    keep = len(tokens)
    while keep and _is_label(words, keep - 1):
        keep -= 1
    if keep == len(tokens) or (keep and words[keep:] == ["x"]):
        return name
    return name[: tokens[keep][1]].rstrip(" |·•,/-") if keep else ""


def _is_label(words: list[str], i: int) -> bool:
    word = words[i]
    if word in _SOCIAL_LABELS or (word.startswith("@") and len(word) > 1):
        return True
    # "on", "me": link labels only in "follow … on", at most two such words after it
    j = i
    while j and i - j < 2 and words[j] in _FOLLOW_WORDS:
        j -= 1
    return word in _FOLLOW_WORDS and words[j] == "follow"


def drop_elements(tree: HtmlElement, selectors: Sequence[str]) -> None:
    """Remove the elements a source's CSS selectors name, keeping the text that follows."""
    for selector in selectors:
        for element in tree.cssselect(selector):
            parent = element.getparent()
            if parent is not None:
                element.drop_tree()


def rules_fingerprint(drop_selectors: Sequence[str], drop_lines: Sequence[str]) -> str:
    """A short id of the rules that shaped a version's text."""
    text = "\n".join([str(BOILERPLATE_VERSION), *drop_selectors, "--", *drop_lines])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]

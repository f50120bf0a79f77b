"""What changed between two versions: sentence counts and characters (describe), the
sentence edits they count (describe_edits), and whether the change is minor (is_minor)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from archiver.diff.align import _match, moves_of
from archiver.diff.text import _collapse
from archiver.diff.words import ALWAYS_DIFFABLE, _changed_chars, _few_repeats, _guard

# --- data model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of an article. `body` holds one markdown block per paragraph."""

    title: str
    body: list[str]
    byline: str = ""
    date: str = ""


@dataclass(frozen=True)
class ChangeStats:
    """What changed between two versions, counted in sentences and characters.

    A sentence paired across the backbone counts once, as moved, even when also edited.
    Fields are compared with whitespace collapsed, so re-spacing alone is no change.
    """

    sentences_added: int = 0
    sentences_removed: int = 0
    sentences_edited: int = 0
    sentences_moved: int = 0
    title_changed: bool = False
    byline_changed: bool = False
    date_changed: bool = False
    chars_added: int = 0
    chars_removed: int = 0
    # Paragraphs can be re-split without any sentence changing: that is still a body change.
    body_changed: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.changed_fields or self._counts_any())

    @property
    def changed_fields(self) -> list[str]:
        flags = (self.title_changed, self.byline_changed, self.date_changed, self.body_changed)
        return [name for name, flag in zip(_FIELDS, flags, strict=True) if flag]

    def _counts_any(self) -> bool:
        return any(getattr(self, attr) for attr in _COUNTS)

    def summary(self) -> str:
        """One line on what the change did, e.g. "headline changed; 2 sentences added;
        +120/−4 characters" (the site's lists and the notifications say it so)."""
        flags = (
            ("headline", self.title_changed),
            ("byline", self.byline_changed),
            ("date", self.date_changed),
        )
        parts = [f"{name} changed" for name, flag in flags if flag]
        for count, verb in (
            (self.sentences_added, "added"),
            (self.sentences_removed, "removed"),
            (self.sentences_edited, "edited"),
            (self.sentences_moved, "moved"),
        ):
            if count:
                parts.append(f"{count} sentence{'s' if count != 1 else ''} {verb}")
        moved_text = self.chars_added or self.chars_removed or self.sentences_moved
        if self.body_changed and not moved_text:
            parts.append("paragraphs re-split")
        if self.chars_added or self.chars_removed:
            parts.append(f"+{self.chars_added}/−{self.chars_removed} characters")
        return "; ".join(parts) or "no change in the text"


_FIELDS = ("title", "byline", "date", "body")
_COUNTS = (
    "sentences_added",
    "sentences_removed",
    "sentences_edited",
    "sentences_moved",
    "chars_added",
    "chars_removed",
)


# --- sentence splitting -----------------------------------------------------------------

_BOUNDARY = re.compile(r"[.?!]+[\"'”’»)\]]*\s+")
_OPENERS = frozenset("\"'“‘«([")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "st", "prof", "sr", "jr", "rev", "fr", "gen", "col",
        "lt", "sgt", "capt", "cmdr", "adm", "gov", "sen", "rep", "hon", "mt", "ft", "no",
        "nos", "vs", "fig", "approx", "dept", "est", "inc", "ltd", "corp", "co", "bros",
    }
)  # fmt: skip
# A lone letter or dotted initials before the final dot: "J.", "U.S.", "e.g.".
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")


def split_sentences(text: str) -> list[str]:
    """Split on . ? ! followed by whitespace and an uppercase letter or an opening quote.

    Titles and other common abbreviations ("Mr.", "Dr.", "St.") and initials ("J.", "U.S.")
    do not end a sentence; decimals never do since no space follows their dot. The price:
    a sentence ending on a single letter ("Plan B.") runs on into the next one.
    """
    found: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        following = text[match.end() : match.end() + 1]
        if not following or not (following.isupper() or following in _OPENERS):
            continue
        if match.group().startswith(".") and _is_abbreviation(text, match.start()):
            continue
        found.append(text[start : match.end()].strip())
        start = match.end()
    if tail := text[start:].strip():
        found.append(tail)
    return found


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the word just before the dot at `dot` is an abbreviation or initials."""
    word = text[:dot].rsplit(None, 1)[-1] if text[:dot].strip() else ""
    word = word.lstrip("\"'“‘«([")
    return word.casefold() in _ABBREVIATIONS or bool(_INITIALS.fullmatch(word))


# --- change statistics ------------------------------------------------------------------


class SentenceEdit(NamedTuple):
    """One sentence-level action between two versions, as in the NewsEdits corpus.

    kind: "added" (new only), "removed" (old only), "edited" (rewritten in place) or
    "moved" (out of order against the backbone, its text perhaps edited too). Indices are
    0-based positions in each version's list of sentences; None on the side it lacks.
    """

    kind: str
    old_index: int | None
    new_index: int | None
    old_text: str = ""
    new_text: str = ""


EDIT_KINDS = ("added", "removed", "edited", "moved")


def _describe(old: Version, new: Version) -> tuple[ChangeStats, list[SentenceEdit]]:
    """Count sentence changes between two versions, in the manner of the NewsEdits corpus:
    unchanged, edited (similar enough to be one sentence rewritten), moved (out of order
    against the backbone, whether edited or not), added and removed. Characters added and
    removed come from word diffs of edited and moved sentences plus whole added and
    removed sentences, so moving or re-splitting text adds no characters. The counts are
    those of the sentence edits returned with them."""
    old_sentences = _sentences(old.body)
    new_sentences = _sentences(new.body)
    matching = _match(old_sentences, new_sentences)
    # A sentence that travelled with its paragraph moved, even where the sentences around
    # it were rewritten too much to show it at the sentence level.
    paragraph_moves = {(i, j) for j, (i, _) in moves_of(old.body, new.body).items()}
    if paragraph_moves:  # most versions move none: no need to know sentences' paragraphs
        old_owner, new_owner = _owners(old.body), _owners(new.body)
        for i, j, sim in list(matching.chain):
            if (old_owner[i], new_owner[j]) in paragraph_moves:
                matching.chain.remove((i, j, sim))
                matching.moves[j] = (i, sim)

    edits: list[SentenceEdit] = []
    chars_added = chars_removed = 0
    pairs = [(i, j, False) for i, j, _ in matching.chain]
    pairs += [(i, j, True) for j, (i, _) in matching.moves.items()]
    for i, j, moved in pairs:
        before, after = old_sentences[i], new_sentences[j]
        if before != after:
            added, removed = _changed_chars(before, after)
            chars_added += added
            chars_removed += removed
        if moved or before != after:
            edits.append(SentenceEdit("moved" if moved else "edited", i, j, before, after))
    matched_old = {i for i, _, _ in pairs}
    matched_new = {j for _, j, _ in pairs}
    for i, text in enumerate(old_sentences):
        if i not in matched_old:
            edits.append(SentenceEdit("removed", i, None, old_text=text))
            chars_removed += len(text)
    for j, text in enumerate(new_sentences):
        if j not in matched_new:
            edits.append(SentenceEdit("added", None, j, new_text=text))
            chars_added += len(text)
    # Removals in old order first, then everything else in new order.
    edits.sort(key=lambda e: (-1, e.old_index) if e.new_index is None else (e.new_index, 0))
    counts = Counter(edit.kind for edit in edits)

    stats = ChangeStats(
        sentences_added=counts["added"],
        sentences_removed=counts["removed"],
        sentences_edited=counts["edited"],
        sentences_moved=counts["moved"],
        title_changed=_collapse(old.title) != _collapse(new.title),
        byline_changed=_collapse(old.byline) != _collapse(new.byline),
        date_changed=_collapse(old.date) != _collapse(new.date),
        chars_added=chars_added,
        chars_removed=chars_removed,
        body_changed=_bodies_differ(old.body, new.body),
    )
    return stats, edits


def _sentences(body: Sequence[str]) -> list[str]:
    """The body's sentences, paragraph after paragraph."""
    return list(chain.from_iterable(map(_paragraph_sentences, body)))


def _owners(body: Sequence[str]) -> list[int]:
    """For each of the body's sentences, the index of its paragraph."""
    owners: list[int] = []
    for index, paragraph in enumerate(body):
        owners += [index] * len(_paragraph_sentences(paragraph))
    return owners


@lru_cache(maxsize=1 << 14)  # consecutive versions share most paragraphs
def _paragraph_sentences(paragraph: str) -> tuple[str, ...]:
    return tuple(split_sentences(paragraph))


def _bodies_differ(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether two bodies differ once whitespace is collapsed (most paragraphs are equal
    as they stand, and need no collapsing)."""
    if len(old) != len(new):
        return True
    return any(a != b and _collapse(a) != _collapse(b) for a, b in zip(old, new, strict=True))


# --- minor changes ----------------------------------------------------------------------

# Quote-like characters Unicode files as symbols rather than punctuation.
_QUOTE_SYMBOLS = dict.fromkeys(map(ord, "`´"), None)


class _Ignored(dict[int, int | None]):
    """The translation table of the minor-change filter: whitespace and punctuation map
    to None (dropped), everything else to itself. Filled in as characters are met, so it
    costs nothing to start and str.translate finds each known character in C."""

    def __missing__(self, point: int) -> int | None:
        char = chr(point)
        value = None if char.isspace() or unicodedata.category(char).startswith("P") else point
        self[point] = value
        return value


_IGNORED = _Ignored()


def _minor_key(text: str) -> str:
    """Letters, digits and symbols only, casefolded: punctuation (quotes and dashes of
    any style) and whitespace are removed entirely."""
    folded = unicodedata.normalize("NFKC", text.translate(_QUOTE_SYMBOLS)).casefold()
    return folded.translate(_IGNORED)


def is_minor(old: Version, new: Version) -> bool:
    """Whether two differing versions differ only in whitespace, punctuation, quote or dash
    style, or letter case, or in a byline that only gained or lost names. Whitespace is
    removed entirely, so joining or splitting words ("e-mail" → "email") counts as minor
    too. Identical versions are no change: False."""
    if (old.title, list(old.body), old.byline, old.date) == (
        new.title,
        list(new.body),
        new.byline,
        new.date,
    ):
        return False
    return (
        all(
            _minor_key(a) == _minor_key(b)
            for a, b in ((old.title, new.title), (old.date, new.date))
        )
        and (
            _minor_key(old.byline) == _minor_key(new.byline)
            or _bylines_nested(old.byline, new.byline)
        )
        and "".join(map(_minor_key, old.body)) == "".join(map(_minor_key, new.body))
    )


def _bylines_nested(old: str, new: str) -> bool:
    """Whether one byline's names are all in the other: a co-author added or dropped with
    the text unchanged is not an edit."""
    old_names, new_names = _byline_names(old), _byline_names(new)
    return old_names <= new_names or new_names <= old_names


def _byline_names(byline: str) -> frozenset[str]:
    names = (_minor_key(name) for name in byline.split(","))
    return frozenset(name for name in names if name)


# --- describe, with costly texts as whole units -----------------------------------------


def _guarded(version: Version) -> tuple[Version, dict[str, str]]:
    """The version with every text too costly to compare replaced by its stand-in."""
    originals: dict[str, str] = {}
    guarded = Version(
        title=_guard(version.title, originals),
        # Most paragraphs are short enough or cheap enough (a cached answer): no call then.
        body=[
            p if len(p) <= ALWAYS_DIFFABLE or _few_repeats(p) else _guard(p, originals)
            for p in version.body
        ],
        byline=_guard(version.byline, originals),
        date=_guard(version.date, originals),
    )
    return guarded, originals


def describe(old: Version, new: Version) -> ChangeStats:
    """Count sentence changes between two versions (see _describe); texts too costly to
    compare word by word count as whole units, at their real length."""
    return describe_edits(old, new)[0]


def describe_edits(old: Version, new: Version) -> tuple[ChangeStats, list[SentenceEdit]]:
    """What describe counts, and the sentence edits it counted: one pass, so the counts
    and the edits agree by construction. A paragraph too costly to compare word by word
    is one sentence here, its text whole."""
    safe_old, old_originals = _guarded(old)
    safe_new, new_originals = _guarded(new)
    stats, edits = _describe(safe_old, safe_new)
    if not old_originals and not new_originals:
        return stats, edits
    edits = [
        edit._replace(
            old_text=old_originals.get(edit.old_text, edit.old_text),
            new_text=new_originals.get(edit.new_text, edit.new_text),
        )
        for edit in edits
    ]
    old_body, new_body = Counter(safe_old.body), Counter(safe_new.body)
    added = sum(len(new_originals[p]) - len(p) for p in (new_body - old_body) if p in new_originals)
    removed = sum(
        len(old_originals[p]) - len(p) for p in (old_body - new_body) if p in old_originals
    )
    stats = replace(
        stats, chars_added=stats.chars_added + added, chars_removed=stats.chars_removed + removed
    )
    return stats, edits

"""Word diffs of two texts, and the guards that keep hostile input cheap to compare."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import NamedTuple

from archiver.diff.text import _TOKEN, _WORD


# Span, Row and the site's rows are named tuples, not frozen dataclasses: the site builds
# millions, and a frozen dataclass costs three times as much to make.
class Span(NamedTuple):
    """A piece of a word diff: op is "equal", "delete" or "insert"."""

    op: str
    text: str


# --- word diff --------------------------------------------------------------------------


def _word_diff(old: str, new: str) -> list[Span]:
    """A readable word-level diff of two texts.

    Tokens are words, runs of whitespace and single other characters, so the equal and
    delete spans join to `old` and the equal and insert spans join to `new`. Short equal
    stretches caught between two changes (only spaces or punctuation, or no longer than the
    changes around them) are folded into the change, so a replaced phrase reads as one
    replacement rather than alternating fragments. Within a change, the deletion comes first.
    """
    if old == new:
        return [Span("equal", old)] if old else []
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    # Edits are local: the matcher searches only between the tokens both texts start and
    # end with, which is most of a word diff's cost saved on a long paragraph.
    head, tail = _common_ends(a, b)
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    # Whitespace as junk: matches cannot start on a bare space, but still extend over one.
    matcher = SequenceMatcher(str.isspace, middle_a, middle_b, autojunk=False)
    pieces: list[list[str]] = [["".join(a[:head])]] if head else []  # [equal] or [old, new]
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(["".join(middle_a[i1:i2])])
        else:
            pieces.append(["".join(middle_a[i1:i2]), "".join(middle_b[j1:j2])])
    if tail:
        pieces.append(["".join(a[len(a) - tail :])])
    return _spans(_merge_changes(_absorb_small_equalities(_merge_changes(pieces))))


def _common_ends(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many leading and trailing items two lists share (never overlapping)."""
    head = _common_head(a, b)
    return head, _common_head(a[head:][::-1], b[head:][::-1])


def _common_head(a: Sequence[str], b: Sequence[str]) -> int:
    """How many leading tokens two token lists share."""
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _merge_changes(pieces: list[list[str]]) -> list[list[str]]:
    merged: list[list[str]] = []
    for piece in pieces:
        if merged and len(piece) == len(merged[-1]):
            merged[-1] = ["".join(parts) for parts in zip(merged[-1], piece, strict=True)]
        else:
            merged.append(piece)
    return merged


def _absorb_small_equalities(pieces: list[list[str]]) -> list[list[str]]:
    """Fold an equality between two changes into them when it is punctuation or spacing
    only, or no longer than the larger side of each neighbouring change."""
    changed = True
    while changed:
        changed = False
        for k in range(1, len(pieces) - 1):
            before, equal, after = pieces[k - 1], pieces[k], pieces[k + 1]
            if len(equal) != 1 or len(before) != 2 or len(after) != 2:
                continue
            text = equal[0]
            small = len(text) <= min(max(map(len, before)), max(map(len, after)))
            if small or not _WORD.search(text):
                joined = [before[0] + text + after[0], before[1] + text + after[1]]
                pieces[k - 1 : k + 2] = [joined]
                changed = True
                break
    return pieces


def _spans(pieces: list[list[str]]) -> list[Span]:
    spans: list[Span] = []
    for piece in pieces:
        if len(piece) == 1:
            spans.append(Span("equal", piece[0]))
            continue
        if piece[0]:
            spans.append(Span("delete", piece[0]))
        if piece[1]:
            spans.append(Span("insert", piece[1]))
    return spans


def _changed_chars(old: str, new: str) -> tuple[int, int]:
    """(characters added, characters removed) by the word diff."""
    added = removed = 0
    for span in word_diff(old, new):
        if span.op == "insert":
            added += len(span.text)
        elif span.op == "delete":
            removed += len(span.text)
    return added, removed


# --- hostile input ----------------------------------------------------------------------

# Word diffs cost the product of repeated words: text from the internet can make one
# paragraph take minutes. Past these bounds a text is compared as one opaque unit.
MAX_DIFF_CHARS = 20_000
MAX_WORD_REPEAT_PRODUCT = 20_000


# A text this short has at most isqrt(bound) words (words are separated by at least one
# other character), so it is within the bound however they repeat: no need to count.
ALWAYS_DIFFABLE = 2 * math.isqrt(MAX_WORD_REPEAT_PRODUCT) - 1


def diffable(text: str) -> bool:
    """Whether word-level comparison of this text stays cheap."""
    return len(text) <= ALWAYS_DIFFABLE or _few_repeats(text)


@lru_cache(maxsize=1 << 16)
def _few_repeats(text: str) -> bool:
    if len(text) > MAX_DIFF_CHARS:
        return False
    counts = Counter(_WORD.findall(text))
    return sum(n * n for n in counts.values()) <= MAX_WORD_REPEAT_PRODUCT


def _opaque(text: str) -> str:
    """A one-word stand-in: equal texts keep equal stand-ins, different ones share no word."""
    return "¶" + hashlib.sha1(text.encode("utf-8")).hexdigest()


def _guard(text: str, originals: dict[str, str]) -> str:
    """The text, or when it is too costly to compare its stand-in (noted in originals)."""
    if diffable(text):
        return text
    stand_in = _opaque(text)
    originals[stand_in] = text
    return stand_in


def word_diff(old: str, new: str) -> list[Span]:
    """The word diff of two texts (see _word_diff), or a whole replacement when they are
    too costly to compare."""
    if old == new or (diffable(old) and diffable(new)):
        return _word_diff(old, new)
    return [s for s in (Span("delete", old), Span("insert", new)) if s.text]

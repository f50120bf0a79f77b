"""Comparing two versions of an article: paragraph alignment, word diffs, change statistics.

Pure standard library and deterministic. The same matcher serves paragraphs (for the
side-by-side view) and sentences (for the change statistics):

1. an in-order backbone of identical items (normalized keys) from SequenceMatcher;
2. identical items left over on both sides are out of order against that backbone: moves;
3. inside each gap between backbone anchors, similar items are paired in order: edits;
4. items still unpaired that are similar to each other across gaps: edited moves.

Everything else is added or removed. Similarity is the word-level SequenceMatcher ratio,
reached only through cheap upper bounds (length, then multiset overlap) so long articles
never pay for a full ratio() on every pair.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

__all__ = [
    "EDIT_THRESHOLD",
    "MOVE_THRESHOLD",
    "ChangeStats",
    "Row",
    "Span",
    "Version",
    "align",
    "describe",
    "is_minor",
    "paragraphs",
    "split_sentences",
    "word_diff",
]

# Word-level similarity at which two items count as one edited item rather than a deletion
# plus an unrelated insertion. A qualifier or a clause added to a sentence stays well above
# it; two different sentences on the same subject rarely reach it.
EDIT_THRESHOLD = 0.5
# A pairing across the backbone claims the item travelled, a stronger statement than an edit
# in place, so it needs more evidence.
MOVE_THRESHOLD = 0.6

# Above this many candidate pairs, candidates come from an index of rarer words instead.
_ENUMERATE_LIMIT = 10_000


# --- data model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of an article. `body` holds one markdown block per paragraph."""

    title: str
    body: list[str]
    byline: str = ""
    date: str = ""


# Span, Row and the site's rows are named tuples, not frozen dataclasses: the site builds
# millions, and a frozen dataclass costs three times as much to make.
class Span(NamedTuple):
    """A piece of a word diff: op is "equal", "delete" or "insert"."""

    op: str
    text: str


class Row(NamedTuple):
    """One row of the side-by-side view.

    kind:
      "same"       identical paragraph in both columns;
      "changed"    edited in place (old_text beside new_text);
      "removed"    old column only, against a blank;
      "added"      new column only, against a blank;
      "moved"      the paragraph at its NEW position, with both indices: `moved_from` is its
                   old index, and old_text may differ from new_text (an edited move);
      "moved-away" a marker at the OLD position of a moved paragraph: old_index and old_text
                   are set, new_index is None and `moved_to` is its new index, so a viewer
                   can say "moved down to paragraph {moved_to + 1}".
    Indices are 0-based. Along the rows, old indices increase over every row except
    "moved" ones, and new indices increase over every row that has one.
    """

    kind: str
    old_index: int | None
    new_index: int | None
    old_text: str = ""
    new_text: str = ""
    moved_from: int | None = None
    moved_to: int | None = None
    similarity: float = 1.0

    @property
    def spans(self) -> list[Span]:
        """The word diff between the columns: all insert for "added", all delete for
        "removed", and all equal for "moved-away" (its text lives on elsewhere)."""
        if self.kind == "moved-away":
            return [Span("equal", self.old_text)] if self.old_text else []
        return word_diff(self.old_text, self.new_text)


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


_FIELDS = ("title", "byline", "date", "body")
_COUNTS = (
    "sentences_added",
    "sentences_removed",
    "sentences_edited",
    "sentences_moved",
    "chars_added",
    "chars_removed",
)


# --- text helpers -----------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\w+")
# Every character falls in exactly one branch, so the tokens always join back to the text.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def paragraphs(markdown_body: str) -> list[str]:
    """Split a markdown body on blank lines into stripped, non-empty blocks."""
    text = markdown_body.replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip() for block in _BLANK_LINE.split(text) if block.strip()]


def _collapse(text: str) -> str:
    return " ".join(text.split())


@lru_cache(maxsize=1 << 14)  # consecutive versions share most paragraphs
def _key(text: str) -> str:
    """Matching key: differences of case, width or spacing alone never break a match."""
    return _collapse(unicodedata.normalize("NFKC", text).casefold())


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


# --- matching ---------------------------------------------------------------------------


class _Item:
    """A paragraph or sentence, with what the matcher needs computed on first use."""

    __slots__ = ("_bag", "_words", "key", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.key = _key(text)
        self._words: tuple[str, ...] | None = None
        self._bag: frozenset[tuple[str, int]] | None = None

    @property
    def words(self) -> tuple[str, ...]:
        if self._words is None:
            self._words = tuple(_WORD.findall(self.key))
        return self._words

    @property
    def bag(self) -> frozenset[tuple[str, int]]:
        """The words as a multiset: the n-th repeat of a word is its own element, so a set
        intersection counts shared words exactly."""
        if self._bag is None:
            seen: dict[str, int] = {}
            for word in self.words:
                seen[word] = seen.get(word, 0) + 1
            self._bag = frozenset((w, n) for w, count in seen.items() for n in range(count))
        return self._bag


@dataclass
class _Matching:
    """Pairs between old items (i) and new items (j), with their word similarity."""

    chain: list[tuple[int, int, float]] = field(default_factory=list)  # in order, both sides
    moves: dict[int, tuple[int, float]] = field(default_factory=dict)  # new j -> (old i, sim)


def _match(old: Sequence[str], new: Sequence[str]) -> _Matching:
    """Pairs of old and new items: the runs of identical items both lists start and end
    with pair up as they stand, as in any diff; the items between are matched below."""
    head, tail = _common_ends([_key(t) for t in old], [_key(t) for t in new])
    middle = _match_middle(old[head : len(old) - tail], new[head : len(new) - tail])
    result = _Matching(
        chain=[
            *((k, k, 1.0) for k in range(head)),
            *((i + head, j + head, sim) for i, j, sim in middle.chain),
            *((len(old) - tail + k, len(new) - tail + k, 1.0) for k in range(tail)),
        ],
        moves={j + head: (i + head, sim) for j, (i, sim) in middle.moves.items()},
    )
    _mark_displaced(result, len(old), len(new))
    return result


def _match_middle(old: Sequence[str], new: Sequence[str]) -> _Matching:
    a, b = [_Item(t) for t in old], [_Item(t) for t in new]
    matcher = SequenceMatcher(None, [x.key for x in a], [y.key for y in b], autojunk=False)
    anchors = [
        (block.a + k, block.b + k)
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]
    old_free = set(range(len(a))) - {i for i, _ in anchors}
    new_free = set(range(len(b))) - {j for _, j in anchors}
    result = _Matching(chain=[(i, j, 1.0) for i, j in anchors])

    # Identical but unanchored: the backbone recursion leaves no identical pair inside one
    # gap, so these sit in different gaps and travelled.
    for i, j in _identical_pairs(a, b, old_free, new_free):
        result.moves[j] = (i, 1.0)
        old_free.discard(i)
        new_free.discard(j)

    bounds = [(-1, -1), *anchors, (len(a), len(b))]
    for (i0, j0), (i1, j1) in pairwise(bounds):
        olds = [i for i in range(i0 + 1, i1) if i in old_free]
        news = [j for j in range(j0 + 1, j1) if j in new_free]
        if not olds or not news:
            continue
        for sim, i, j in _best_chain(_similar_pairs(a, b, olds, news, EDIT_THRESHOLD)):
            result.chain.append((i, j, sim))
            old_free.discard(i)
            new_free.discard(j)

    candidates = _similar_pairs(a, b, sorted(old_free), sorted(new_free), MOVE_THRESHOLD)
    for sim, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i in old_free and j in new_free:
            result.moves[j] = (i, sim)
            old_free.discard(i)
            new_free.discard(j)

    result.chain.sort()
    return result


# An in-order pair still reads as moved when it lands in another part of the article: far
# from where the article's other pairs shifted, and at a clearly different relative place
# (the seed's paragraph that travels from the middle to the closing section).
DISPLACED_MIN = 5  # items
DISPLACED_SHARE = 0.2  # of the article


def _mark_displaced(result: _Matching, n_old: int, n_new: int) -> None:
    if len(result.chain) < 3 or not n_old or not n_new:
        return
    shifts = sorted(j - i for i, j, _ in result.chain)
    middle = len(shifts) // 2
    median = (shifts[middle] + shifts[~middle]) / 2
    far = max(DISPLACED_MIN, DISPLACED_SHARE * max(n_old, n_new))
    kept = []
    for i, j, sim in result.chain:
        travelled = abs(j / n_new - i / n_old) >= DISPLACED_SHARE
        if abs(j - i - median) >= far and travelled:
            result.moves[j] = (i, sim)
        else:
            kept.append((i, j, sim))
    result.chain = kept


def _identical_pairs(
    a: list[_Item], b: list[_Item], olds: Iterable[int], news: Iterable[int]
) -> list[tuple[int, int]]:
    waiting: dict[str, list[int]] = {}
    for i in sorted(olds):
        waiting.setdefault(a[i].key, []).append(i)
    pairs = []
    for j in sorted(news):
        if queue := waiting.get(b[j].key):
            pairs.append((queue.pop(0), j))
    return pairs


def _similar_pairs(
    a: list[_Item], b: list[_Item], olds: list[int], news: list[int], threshold: float
) -> list[tuple[float, int, int]]:
    """(similarity, i, j) for every pair at or above threshold. Each pair must first pass
    two upper bounds of the ratio (lengths, then shared words) before the real ratio."""
    found: list[tuple[float, int, int]] = []
    candidates = _candidates(a, b, olds, news)
    for j in news:
        y = b[j]
        if not y.words:
            continue
        matcher: SequenceMatcher[str] | None = None
        for i in candidates(j):
            x = a[i]
            total = len(x.words) + len(y.words)
            if 2 * min(len(x.words), len(y.words)) < threshold * total:
                continue
            if 2 * len(x.bag & y.bag) < threshold * total:
                continue
            if matcher is None:
                matcher = SequenceMatcher(None, autojunk=False)
                matcher.set_seq2(y.words)  # the costly side, indexed once per new item
            matcher.set_seq1(x.words)
            if (ratio := matcher.ratio()) >= threshold:
                found.append((ratio, i, j))
    return found


def _candidates(
    a: list[_Item], b: list[_Item], olds: list[int], news: list[int]
) -> Callable[[int], list[int]]:
    """A function giving, for a new item, the old items worth comparing with it."""
    if len(olds) * len(news) <= _ENUMERATE_LIMIT:
        return lambda j: olds
    # Too many pairs: only those sharing a word that is not everywhere. Similar texts
    # share their distinctive words; sharing only "the" and "of" never makes a match.
    postings: dict[str, list[int]] = {}
    for i in olds:
        for word in set(a[i].words):
            postings.setdefault(word, []).append(i)
    cap = max(16, len(olds) // 20)

    def lookup(j: int) -> list[int]:
        hits: set[int] = set()
        for word in set(b[j].words):
            posting = postings.get(word, ())
            if len(posting) <= cap:
                hits.update(posting)
        return sorted(hits)

    return lookup


def _best_chain(pairs: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """The set of pairs, increasing in both i and j, with the greatest total similarity:
    a weighted longest increasing subsequence, O(n log n) with a prefix-maximum tree."""
    if not pairs:
        return []
    order = sorted(pairs, key=lambda p: (p[1], -p[2]))  # same i never chains with itself
    ranks = {j: r + 1 for r, j in enumerate(sorted({p[2] for p in order}))}
    size = len(ranks)
    tree: list[tuple[float, int]] = [(0.0, -1)] * (size + 1)  # (best total, ending pair)
    back = [-1] * len(order)
    best: tuple[float, int] = (0.0, -1)
    for n, (sim, _i, j) in enumerate(order):
        prior: tuple[float, int] = (0.0, -1)
        r = ranks[j] - 1
        while r > 0:  # best chain ending strictly left of j
            prior = max(prior, tree[r], key=lambda t: t[0])
            r -= r & -r
        total = (prior[0] + sim, n)
        back[n] = prior[1]
        best = max(best, total, key=lambda t: t[0])
        r = ranks[j]
        while r <= size:
            if total[0] > tree[r][0]:
                tree[r] = total
            r += r & -r
    chain = []
    n = best[1]
    while n >= 0:
        chain.append(order[n])
        n = back[n]
    return chain[::-1]


# --- 1. alignment -----------------------------------------------------------------------


def _align(old: list[str], new: list[str]) -> list[Row]:
    """Rows of a two-column view of two paragraph lists, in reading order (see Row).

    In-place pairs (same, changed) keep both columns in order; between two of them come
    the old-only rows (removed, moved-away) in old order, then the new-only rows (added,
    moved) in new order. A moved paragraph appears at its new position as "moved" and at
    its old position as "moved-away".
    """
    matching = _match(old, new)
    moved_to = {i: j for j, (i, _) in matching.moves.items()}
    rows: list[Row] = []
    prev_i = prev_j = -1
    for i, j, sim in [*matching.chain, (len(old), len(new), 0.0)]:
        for k in range(prev_i + 1, i):
            rows.append(_old_only_row(k, old[k], moved_to.get(k)))
        for k in range(prev_j + 1, j):
            rows.append(_new_only_row(k, new[k], old, matching.moves.get(k)))
        if i < len(old):
            kind = "same" if old[i] == new[j] else "changed"
            rows.append(Row(kind, i, j, old[i], new[j], similarity=sim))
        prev_i, prev_j = i, j
    return rows


def _old_only_row(i: int, text: str, moved_to: int | None) -> Row:
    if moved_to is None:
        return Row("removed", i, None, old_text=text, similarity=0.0)
    return Row("moved-away", i, None, old_text=text, moved_to=moved_to)


def _new_only_row(j: int, text: str, old: list[str], move: tuple[int, float] | None) -> Row:
    if move is None:
        return Row("added", None, j, new_text=text, similarity=0.0)
    i, sim = move
    return Row("moved", i, j, old[i], text, moved_from=i, similarity=sim)


# --- 3. change statistics ---------------------------------------------------------------


def _describe(old: Version, new: Version) -> ChangeStats:
    """Count sentence changes between two versions, in the manner of the NewsEdits corpus:
    unchanged, edited (similar enough to be one sentence rewritten), moved (out of order
    against the backbone, whether edited or not), added and removed. Characters added and
    removed come from word diffs of edited and moved sentences plus whole added and
    removed sentences, so moving or re-splitting text adds no characters."""
    old_sentences, old_owner = _sentences_with_paragraph(old.body)
    new_sentences, new_owner = _sentences_with_paragraph(new.body)
    matching = _match(old_sentences, new_sentences)
    # A sentence that travelled with its paragraph moved, even where the sentences around
    # it were rewritten too much to show it at the sentence level.
    paragraph_moves = {(i, j) for j, (i, _) in _match(old.body, new.body).moves.items()}
    for i, j, sim in list(matching.chain):
        if (old_owner[i], new_owner[j]) in paragraph_moves:
            matching.chain.remove((i, j, sim))
            matching.moves[j] = (i, sim)

    edited = chars_added = chars_removed = 0
    pairs = [(i, j) for i, j, _ in matching.chain]
    pairs += [(i, j) for j, (i, _) in matching.moves.items()]
    for i, j in pairs:
        if old_sentences[i] != new_sentences[j]:
            added, removed = _changed_chars(old_sentences[i], new_sentences[j])
            chars_added += added
            chars_removed += removed
            edited += j not in matching.moves
    matched_old = {i for i, _ in pairs}
    matched_new = {j for _, j in pairs}
    removed_sentences = [s for i, s in enumerate(old_sentences) if i not in matched_old]
    added_sentences = [s for j, s in enumerate(new_sentences) if j not in matched_new]

    return ChangeStats(
        sentences_added=len(added_sentences),
        sentences_removed=len(removed_sentences),
        sentences_edited=edited,
        sentences_moved=len(matching.moves),
        title_changed=_collapse(old.title) != _collapse(new.title),
        byline_changed=_collapse(old.byline) != _collapse(new.byline),
        date_changed=_collapse(old.date) != _collapse(new.date),
        chars_added=chars_added + sum(map(len, added_sentences)),
        chars_removed=chars_removed + sum(map(len, removed_sentences)),
        body_changed=[_collapse(p) for p in old.body] != [_collapse(p) for p in new.body],
    )


def _sentences_with_paragraph(body: Sequence[str]) -> tuple[list[str], list[int]]:
    """The body's sentences, and for each the index of its paragraph."""
    sentences: list[str] = []
    owners: list[int] = []
    for index, paragraph in enumerate(body):
        for sentence in split_sentences(paragraph):
            sentences.append(sentence)
            owners.append(index)
    return sentences, owners


# --- 4. minor changes -------------------------------------------------------------------

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


# --- 5. hostile input ---------------------------------------------------------------------

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


def _guarded(version: Version) -> tuple[Version, dict[str, str]]:
    """The version with every text too costly to compare replaced by its stand-in."""
    originals: dict[str, str] = {}
    guarded = Version(
        title=_guard(version.title, originals),
        body=[_guard(p, originals) for p in version.body],
        byline=_guard(version.byline, originals),
        date=_guard(version.date, originals),
    )
    return guarded, originals


def describe(old: Version, new: Version) -> ChangeStats:
    """Count sentence changes between two versions (see _describe); texts too costly to
    compare word by word count as whole units, at their real length."""
    safe_old, old_originals = _guarded(old)
    safe_new, new_originals = _guarded(new)
    stats = _describe(safe_old, safe_new)
    if not old_originals and not new_originals:
        return stats
    old_body, new_body = Counter(safe_old.body), Counter(safe_new.body)
    added = sum(len(new_originals[p]) - len(p) for p in (new_body - old_body) if p in new_originals)
    removed = sum(
        len(old_originals[p]) - len(p) for p in (old_body - new_body) if p in old_originals
    )
    return replace(
        stats, chars_added=stats.chars_added + added, chars_removed=stats.chars_removed + removed
    )


def align(old: list[str], new: list[str]) -> list[Row]:
    """Rows of a two-column view (see _align); costly paragraphs compare as opaque units.
    Those both versions start or end with pair up as they stand (see _match): only the
    paragraphs between need checking."""
    head, tail = _common_ends(old, new)
    old_originals: dict[str, str] = {}
    new_originals: dict[str, str] = {}
    aligned = _align(
        _guarded_between(old, head, tail, old_originals),
        _guarded_between(new, head, tail, new_originals),
    )
    if not old_originals and not new_originals:
        return aligned
    return [
        row._replace(
            old_text=old_originals.get(row.old_text, row.old_text),
            new_text=new_originals.get(row.new_text, row.new_text),
        )
        for row in aligned
    ]


def _guarded_between(
    texts: list[str], head: int, tail: int, originals: dict[str, str]
) -> list[str]:
    stop = len(texts) - tail
    return [*texts[:head], *(_guard(t, originals) for t in texts[head:stop]), *texts[stop:]]


def word_diff(old: str, new: str) -> list[Span]:
    """The word diff of two texts (see _word_diff), or a whole replacement when they are
    too costly to compare."""
    if old == new or (diffable(old) and diffable(new)):
        return _word_diff(old, new)
    return [s for s in (Span("delete", old), Span("insert", new)) if s.text]

"""Matching two lists of items, and the side-by-side rows of two versions' paragraphs.

Pure standard library and deterministic. The same matcher serves paragraphs (for the
side-by-side view) and sentences (for the change statistics, in stats.py):

1. an in-order backbone of identical items (normalized keys) from SequenceMatcher;
2. identical items left over on both sides are out of order against that backbone: moves;
3. inside each gap between backbone anchors, similar items are paired in order: edits;
4. items still unpaired that are similar to each other across gaps: edited moves.

Everything else is added or removed. Similarity is the word-level SequenceMatcher ratio,
reached only through cheap upper bounds (length, then multiset overlap) so long articles
never pay for a full ratio() on every pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

from archiver.diff.text import _WORD, _key
from archiver.diff.words import Span, _common_ends, _common_head, _guard, word_diff

# Word-level similarity at which two items count as one edited item rather than a deletion
# plus an unrelated insertion. A qualifier or a clause added to a sentence stays well above
# it; two different sentences on the same subject rarely reach it.
EDIT_THRESHOLD = 0.5
# A pairing across the backbone claims the item travelled, a stronger statement than an edit
# in place, so it needs more evidence.
MOVE_THRESHOLD = 0.6

# Above this many candidate pairs, candidates come from an index of rarer words instead.
_ENUMERATE_LIMIT = 10_000


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
                   can say "moved down to paragraph {moved_to + 1}";
      "replaced"   only from `compact`: a removed paragraph beside an unrelated one added
                   in its stretch of a rewrite, no word diff between them.
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
        if self.kind == "replaced":
            return [Span("delete", self.old_text), Span("insert", self.new_text)]
        return word_diff(self.old_text, self.new_text)


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
            self._words = _words(self.key)
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


@lru_cache(maxsize=1 << 15)  # consecutive versions share most items
def _words(key: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(key))


@dataclass
class _Matching:
    """Pairs between old items (i) and new items (j), with their word similarity."""

    chain: list[tuple[int, int, float]] = field(default_factory=list)  # in order, both sides
    moves: dict[int, tuple[int, float]] = field(default_factory=dict)  # new j -> (old i, sim)


def _match(
    old: Sequence[str], new: Sequence[str], ends: tuple[int, int] | None = None
) -> _Matching:
    """Pairs of old and new items: the runs of identical items both lists start and end
    with pair up as they stand, as in any diff; the items between are matched below.
    `ends`: those runs' lengths, when the caller has them already."""
    head, tail = ends or _keyed_ends(old, new)
    middle = _match_middle(old[head : len(old) - tail], new[head : len(new) - tail])
    result = _Matching(
        chain=[
            *((k, k, 1.0) for k in range(head)),
            *((i + head, j + head, sim) for i, j, sim in middle.chain),
            *((len(old) - tail + k, len(new) - tail + k, 1.0) for k in range(tail)),
        ],
        moves={j + head: (i + head, sim) for j, (i, sim) in middle.moves.items()},
    )
    _mark_displaced(result, len(old), len(new), head, tail)
    return result


def _match_middle(old: Sequence[str], new: Sequence[str]) -> _Matching:
    if not old or not new:
        return _Matching()  # all added or all removed
    a, b = [_Item(t) for t in old], [_Item(t) for t in new]
    anchors = _backbone(a, b)
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
    nearest_first = sorted(
        candidates, key=lambda c: (-c[0], _distance(c[1], c[2], len(a), len(b)), c[1], c[2])
    )
    for sim, i, j in nearest_first:
        if i in old_free and j in new_free:
            result.moves[j] = (i, sim)
            old_free.discard(i)
            new_free.discard(j)

    result.chain.sort()
    return result


# A text repeated more often than this on both sides (in products) pairs only its n-th
# occurrence with its n-th: "Advertisement" a thousand times must not make a million pairs.
_REPEAT_PAIRS = 64


def _backbone(a: list[_Item], b: list[_Item]) -> list[tuple[int, int]]:
    """The in-order identical pairs that keep the most words in place: a weighted longest
    common subsequence. SequenceMatcher's longest-block-first choice anchors on whatever
    short run repeats earliest (a box of three subheadings shown twice), and the story
    around it then reads as moved; weighing each item by its words anchors on the text."""
    old_at: dict[str, list[int]] = {}
    new_at: dict[str, list[int]] = {}
    for i, x in enumerate(a):
        old_at.setdefault(x.key, []).append(i)
    for j, y in enumerate(b):
        new_at.setdefault(y.key, []).append(j)
    if in_order := _unique_in_order(old_at, new_at):
        return in_order
    pairs: list[tuple[float, int, int]] = []
    for key, olds in old_at.items():
        news = new_at.get(key)
        if not news:
            continue
        weight = 1.0 + len(a[olds[0]].words)
        if len(olds) * len(news) > _REPEAT_PAIRS:
            pairs += [(weight, i, j) for i, j in zip(olds, news, strict=False)]
        else:
            pairs += [(weight, i, j) for i in olds for j in news]
    return [(i, j) for _, i, j in sorted(_best_chain(pairs), key=lambda p: p[1])]


def _unique_in_order(
    old_at: dict[str, list[int]], new_at: dict[str, list[int]]
) -> list[tuple[int, int]]:
    """The identical pairs, when each text is once on each side and the pairs keep the same
    order on both: then every pair chains, and with weights above 0 all of them is the best
    chain, whatever the weights (most versions: no words need counting). Else none."""
    pairs: list[tuple[int, int]] = []
    for key, olds in old_at.items():
        news = new_at.get(key)
        if news is None:
            continue
        if len(olds) > 1 or len(news) > 1:
            return []
        pairs.append((olds[0], news[0]))
    if not all(j < k for (_, j), (_, k) in pairwise(pairs)):  # dicts keep the old order
        return []
    return pairs


# An in-order pair still reads as moved when it lands in another part of the article: far
# from where the article's other pairs shifted, and at a clearly different relative place
# (the seed's paragraph that travels from the middle to the closing section).
DISPLACED_MIN = 5  # items
DISPLACED_SHARE = 0.2  # of the article


def _mark_displaced(
    result: _Matching, n_old: int, n_new: int, head: int = 0, tail: int = 0
) -> None:
    """Move the chain's displaced pairs to the moves. The chain starts with `head` pairs
    (k, k) and ends with `tail` pairs shifted by n_new - n_old, the common ends: their
    shifts are known without reading them, and they are checked one by one only when their
    shift is far from the median (most versions edit a few items, and none are)."""
    chain = result.chain
    if len(chain) < 3 or not n_old or not n_new:
        return
    stop = len(chain) - tail
    middle_pairs = chain[head:stop]
    shifts = sorted([j - i for i, j, _ in middle_pairs] + [0] * head + [n_new - n_old] * tail)
    middle = len(shifts) // 2
    median = (shifts[middle] + shifts[~middle]) / 2
    far = _far(n_old, n_new)
    kept = []
    for pairs, shift in ((chain[:head], 0), (middle_pairs, None), (chain[stop:], n_new - n_old)):
        if shift is not None and abs(shift - median) < far:
            kept += pairs  # none of these is displaced
            continue
        for i, j, sim in pairs:
            travelled = abs(j / n_new - i / n_old) >= DISPLACED_SHARE
            if abs(j - i - median) >= far and travelled:
                result.moves[j] = (i, sim)
            else:
                kept.append((i, j, sim))
    result.chain = kept


def moves_of(old: Sequence[str], new: Sequence[str]) -> dict[int, tuple[int, float]]:
    """The moves `_match` finds (new index -> old index and similarity), without matching
    when there can be none: the items between the common ends missing on one side (an
    insertion or a cut) shift the rest by too little to displace it, or one on each side
    (an edit: a lone pair is never across the backbone)."""
    head, tail = _keyed_ends(old, new)
    between_old, between_new = len(old) - head - tail, len(new) - head - tail
    if between_old == between_new == 1:
        return {}
    # With nothing between on one side, every pair shifts by 0 (the head) or by the
    # difference in length (the tail), and the median is one of those: none is `far` from it.
    if not (between_old and between_new) and abs(len(new) - len(old)) < _far(len(old), len(new)):
        return {}
    return _match(old, new, (head, tail)).moves


def _keyed_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many items the lists start and end with alike, compared by their keys (never
    overlapping). Equal texts have equal keys: the texts are compared first, and keys are
    made only from where they differ, instead of for every item of both versions."""
    shorter = min(len(old), len(new))
    head = _common_head(old, new)
    while head < shorter and _key(old[head]) == _key(new[head]):
        head += 1
    left = shorter - head
    tail = 0
    while tail < left and old[~tail] == new[~tail]:
        tail += 1
    while tail < left and _key(old[~tail]) == _key(new[~tail]):
        tail += 1
    return head, tail


def _far(n_old: int, n_new: int) -> float:
    """How far a pair's shift must be from the median shift to read as displaced."""
    return max(DISPLACED_MIN, DISPLACED_SHARE * max(n_old, n_new))


def _identical_pairs(
    a: list[_Item], b: list[_Item], olds: Iterable[int], news: Iterable[int]
) -> list[tuple[int, int]]:
    waiting: dict[str, list[int]] = {}
    for i in sorted(olds):
        waiting.setdefault(a[i].key, []).append(i)
    pairs = []
    for j in sorted(news):
        if queue := waiting.get(b[j].key):
            # A text the old version had twice travelled from its nearer copy.
            nearest = min(queue, key=lambda i: _distance(i, j, len(a), len(b)))
            queue.remove(nearest)
            pairs.append((nearest, j))
    return pairs


def _distance(i: int, j: int, n_old: int, n_new: int) -> float:
    """How far apart two items sit, as shares of their versions."""
    return abs(i / max(n_old, 1) - j / max(n_new, 1))


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
    if all(p[1] < q[1] and p[2] < q[2] for p, q in pairwise(order)):
        return order  # all pairs chain (the usual backbone): with weights > 0, all is best
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


# --- alignment --------------------------------------------------------------------------


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


# --- rewrites ---------------------------------------------------------------------------

# A new version that keeps less than this share of the old one's paragraphs (same, edited
# or moved) is a rewrite, not a list of edits, once it replaced at least REWRITE_MIN.
REWRITE_KEPT = 0.5
REWRITE_MIN = 4


def replaced_count(rows: Sequence[Row]) -> int:
    """How many old paragraphs a rewrite replaced; 0 when the rows read as edits."""
    olds = [r for r in rows if r.old_index is not None and r.kind != "moved"]
    gone = sum(r.kind in ("removed", "replaced") for r in olds)
    if gone < REWRITE_MIN or len(olds) - gone >= REWRITE_KEPT * len(olds):
        return 0
    return gone


def compact(rows: Sequence[Row]) -> list[Row]:
    """The rows of a rewrite with each stretch's removed paragraphs beside the added ones
    that took their place, as "replaced" rows: a rewritten article reads as two texts side
    by side instead of a long column of deletions followed by one of insertions. Both
    columns keep their order, every paragraph still shows once."""
    out: list[Row] = []
    olds: list[Row] = []
    news: list[Row] = []
    for row in [*rows, None]:
        if row is not None and row.kind in ("removed", "moved-away"):
            olds.append(row)
        elif row is not None and row.kind in ("added", "moved"):
            news.append(row)
        else:
            out += _side_by_side(olds, news)
            olds, news = [], []
            if row is not None:
                out.append(row)
    return out


def _side_by_side(olds: list[Row], news: list[Row]) -> list[Row]:
    """One stretch's old-only rows and new-only rows merged, in both orders: a removed
    paragraph and an added one share a row; markers and moves keep rows of their own."""
    out: list[Row] = []
    p = q = 0
    while p < len(olds) and q < len(news):
        old, new = olds[p], news[q]
        if old.kind == "removed" and new.kind == "added":
            out.append(
                Row(
                    "replaced",
                    old.old_index,
                    new.new_index,
                    old.old_text,
                    new.new_text,
                    similarity=0.0,
                )
            )
            p, q = p + 1, q + 1
        elif old.kind != "removed":
            out.append(old)
            p += 1
        else:
            out.append(new)
            q += 1
    return [*out, *olds[p:], *news[q:]]

"""The sentence matcher and describe_edits as they were before their fast paths (common
ends known without reading them, chains already in order, sentences' paragraphs only when
paragraphs moved): the plain algorithm the package's must agree with, edit for edit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

from archiver.diff.align import (
    _REPEAT_PAIRS,
    DISPLACED_MIN,
    DISPLACED_SHARE,
    EDIT_THRESHOLD,
    MOVE_THRESHOLD,
    _distance,
    _identical_pairs,
    _Item,
    _Matching,
    _similar_pairs,
)
from archiver.diff.stats import (
    ChangeStats,
    SentenceEdit,
    Version,
    _bodies_differ,
    _paragraph_sentences,
)
from archiver.diff.text import _collapse, _key
from archiver.diff.words import _changed_chars, _common_ends, _guard


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


def _describe(old: Version, new: Version) -> tuple[ChangeStats, list[SentenceEdit]]:
    """Count sentence changes between two versions, in the manner of the NewsEdits corpus:
    unchanged, edited (similar enough to be one sentence rewritten), moved (out of order
    against the backbone, whether edited or not), added and removed. Characters added and
    removed come from word diffs of edited and moved sentences plus whole added and
    removed sentences, so moving or re-splitting text adds no characters. The counts are
    those of the sentence edits returned with them."""
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


def _sentences_with_paragraph(body: Sequence[str]) -> tuple[list[str], list[int]]:
    """The body's sentences, and for each the index of its paragraph."""
    sentences: list[str] = []
    owners: list[int] = []
    for index, paragraph in enumerate(body):
        found = _paragraph_sentences(paragraph)
        sentences.extend(found)
        owners.extend([index] * len(found))
    return sentences, owners


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

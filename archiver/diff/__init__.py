"""diff: two versions of an article → side-by-side rows, word spans, change statistics.

Standard library only, and nothing of the rest of the archive: words.py (word diffs and the
guards against costly input), align.py (matching, moves, rows), stats.py (what changed, and
whether it is minor), text.py (the one `paragraphs`, and the keys items are matched on).
"""

from archiver.diff.align import (
    EDIT_THRESHOLD,
    MOVE_THRESHOLD,
    REWRITE_KEPT,
    REWRITE_MIN,
    Row,
    align,
    compact,
    replaced_count,
)
from archiver.diff.stats import (
    EDIT_KINDS,
    ChangeStats,
    SentenceEdit,
    Version,
    describe,
    describe_edits,
    is_minor,
    split_sentences,
)
from archiver.diff.text import paragraphs
from archiver.diff.words import (
    ALWAYS_DIFFABLE,
    MAX_DIFF_CHARS,
    MAX_WORD_REPEAT_PRODUCT,
    Span,
    diffable,
    word_diff,
)

__all__ = [
    "ALWAYS_DIFFABLE",
    "EDIT_KINDS",
    "EDIT_THRESHOLD",
    "MAX_DIFF_CHARS",
    "MAX_WORD_REPEAT_PRODUCT",
    "MOVE_THRESHOLD",
    "REWRITE_KEPT",
    "REWRITE_MIN",
    "ChangeStats",
    "Row",
    "SentenceEdit",
    "Span",
    "Version",
    "align",
    "compact",
    "describe",
    "describe_edits",
    "diffable",
    "is_minor",
    "paragraphs",
    "replaced_count",
    "split_sentences",
    "word_diff",
]

"""Rewrites and travelling paragraphs: the shapes of two real BBC captures years apart,
in invented text, and the real pair from the corpus when it is present."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from archiver.diff import align, compact, paragraphs, replaced_count
from archiver.extract.page import extract_page
from archiver.fetch.charset import decode_html
from archiver.site.model import Captured
from archiver.site.views import diff_rows, rewritten
from archiver.store.document import Document

from .test_compare import check_columns

# Every paragraph of the invented shapes has words of its own, so only the same paragraph
# (or its edit) can match; an edit swaps one word of twelve.
_WORDS = 12


def _text(name: str) -> str:
    if name.startswith("#"):  # a subheading: one or two words, as a box of pledges has
        return f"## {name[1:]}"
    return " ".join(f"{name.lower()}w{k}" for k in range(_WORDS)).capitalize() + "."


def _edited(name: str) -> str:
    return _text(name).replace("w3 ", "changed ", 1)


def _body(names: list[str]) -> list[str]:
    """Names as paragraphs: "X'" is X edited."""
    return [_edited(n[:-1]) if n.endswith("'") else _text(n) for n in names]


# The 2015 capture: a box of pledges (three subheadings, four bullets) before the story's
# headline lines and again in the middle, an analysis box, the story around them.
BOX = ["#Levies", "#Party", "#Pledges", "B1", "B2", "B3", "B4"]
OLD_2015 = [
    *BOX, "E", "#Title", "D", "F",
    "S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11", "S12", "S13",
    "S14", "S15", *BOX, "S16", "S17", "S18", "S19", "S20", "S21",
    "A0", "A1", "A2", "A3", "A4", "S22", "S23", "S24", "L", "S25", "S26",
]  # fmt: skip
# The 2020 capture: the headline lines and first box gone, the story kept with edits, the
# box once with new bullets, three paragraphs that travelled (L up, S6 down, the analysis
# above S19–S21) and new paragraphs between.
NEW_2020 = [
    "S0'", "S1", "N0", "S3", "S4", "S5", "S7", "S8", "S9", "S10'", "S11", "N1", "L", "N2",
    "N3", "#Levies", "#Party", "#Pledges", "N4", "N5", "N6", "B4'", "N7", "S6'", "S12",
    "S13'", "N8", "S16'", "S17", "A0", "A1", "A2", "A3", "A4'", "S19", "S20", "S21", "S22",
    "S23", "S24", "S25'", "S26",
]  # fmt: skip
# What really travelled: L, the box, its last bullet, S6 and the analysis (or, the same
# reading, the three paragraphs it swapped with).
TRAVELLED = {"L", "#Levies", "#Party", "#Pledges", "B4'", "S6'"}
SWAPPED = ({"A0", "A1", "A2", "A3", "A4'"}, {"S19", "S20", "S21"})


def _captured(body: list[str]) -> Captured:
    return Captured(Document(url="https://n.test/a", source="n", title="T", body="\n\n".join(body)))


def test_a_story_kept_around_a_repeated_box_is_not_read_as_moved():
    old, new = _body(OLD_2015), _body(NEW_2020)
    rows = align(old, new)
    check_columns(rows, old, new)
    moved = {NEW_2020[r.new_index] for r in rows if r.kind == "moved"}
    assert moved >= TRAVELLED
    assert moved - TRAVELLED in SWAPPED, moved
    # The story's opening (S0–S11) stays where it was: edits and same rows, no moves.
    opening = {NEW_2020.index(n) for n in ("S0'", "S1", "S3", "S5", "S7", "S9", "S10'", "S11")}
    assert {r.kind for r in rows if r.new_index in opening} <= {"same", "changed"}
    # The box the new version keeps is the old one nearest its place, not the first.
    box = next(r for r in rows if r.kind == "moved" and r.new_text == "## Levies")
    assert box.moved_from == OLD_2015.index("S15") + 1
    assert not replaced_count(rows)  # most of the story is kept: edits, not a rewrite


def test_no_paragraph_shows_twice_and_no_move_is_empty():
    old, new = _body(OLD_2015), _body(NEW_2020)
    rows = diff_rows(_captured(old), _captured(new))
    shown_old = Counter(
        (row.old.number, "".join(s.text for s in row.old.spans))
        for row in rows
        if row.old is not None and row.old.spans and row.old.number
    )
    assert all(count == 1 for count in shown_old.values()), shown_old
    assert sorted(number for number, _ in shown_old) == list(range(1, len(old) + 1))
    for row in rows:
        if row.kind == "moved":
            assert row.old is not None and row.old.spans  # never a cell with a note alone
            assert row.old.number != row.new.number or row.old.spans != row.new.spans
        if row.kind == "moved-away":
            assert row.old is not None and not row.old.spans  # the text shows at its new place


# The shape of the other pair: the same story rewritten five years on. Four paragraphs
# survive as edits; the rest of 23 was replaced by 29 new ones.
OLD_REWRITE = ["D", "F", "P0", "P1'", "P2", *(f"R{k}" for k in range(15)), "P3", "R15", "P4"]
NEW_REWRITE = [
    "Q0", "Q1", "P1", "P2'", *(f"Q{k}" for k in range(2, 23)), "P3'", "P4'",
    *(f"Q{k}" for k in range(23, 29)),
]  # fmt: skip


def test_a_rewrite_reads_as_paragraphs_replaced_side_by_side():
    old, new = _body(OLD_REWRITE), _body(NEW_REWRITE)
    rows = align(old, new)
    assert replaced_count(rows) == len(old) - 4
    shown = compact(rows)
    check_columns(shown, old, new)
    kinds = Counter(r.kind for r in shown)
    assert kinds["replaced"] >= 15 and kinds["moved"] == 0
    assert len(shown) <= max(len(old), len(new)) + 2
    page = diff_rows(_captured(old), _captured(new))
    assert rewritten(page) == len(old) - 4
    replaced = next(r for r in page if r.kind == "replaced")
    assert [s.op for s in replaced.inline] == ["delete", "insert"]


def test_edits_are_not_a_rewrite():
    old, new = _body(OLD_2015), _body(NEW_2020)
    assert rewritten(diff_rows(_captured(old), _captured(new))) == 0


def _corpus_body(corpus: Path, name: str) -> list[str]:
    raw = (corpus / "web-page-parser" / "fixtures" / "bbc_news" / name).read_bytes()
    page = extract_page(decode_html(raw, None, "https://n.test/a"), "https://n.test/a", "c", 1)
    return paragraphs(page.document.body)


@pytest.mark.corpus
def test_the_real_rewrites(corpus: Path):
    old, new = _corpus_body(corpus, "32271505.html"), _corpus_body(corpus, "32271505-2020.html")
    rows = align(old, new)
    check_columns(rows, old, new)
    moved = [r for r in rows if r.kind == "moved"]
    assert len(moved) <= 15 and all(r.moved_from != r.new_index for r in moved)
    assert not replaced_count(rows)
    old, new = _corpus_body(corpus, "32275608.html"), _corpus_body(corpus, "32275608-2020.html")
    rows = align(old, new)
    assert replaced_count(rows) >= len(old) // 2
    assert not any(r.kind == "moved" for r in rows)

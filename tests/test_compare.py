import math
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.diff import (
    ALWAYS_DIFFABLE,
    EDIT_KINDS,
    EDIT_THRESHOLD,
    MAX_WORD_REPEAT_PRODUCT,
    MOVE_THRESHOLD,
    ChangeStats,
    Row,
    SentenceEdit,
    Span,
    Version,
    align,
    describe,
    describe_edits,
    diffable,
    is_minor,
    paragraphs,
    split_sentences,
    word_diff,
)
from archiver.store.format import read_stats, stats_trailers

OLD = [
    "A group of MPs is calling for a stronger message.",
    "The group has requested a meeting with the leader.",
    "A poll suggested the party is one point ahead.",
    "Para X about funding.",
    "Para Y about jobs.",
    "Para Z about energy.",
]
NEW = [
    "A group of around 40 MPs is calling for a stronger message.",
    "The group - formed last autumn - has requested a meeting with the leader, and its "
    "members have been expressing concerns.",
    "A poll suggested the party is one point ahead.",
    'A brand new paragraph quoting the convenor: "We are not telling a strong story."',
    "Para Y about jobs.",
    "Para Z about energy.",
    "Para X about funding.",
]

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "bbc-red-wall-versions-2-3.txt"

# An invented article, ten paragraphs of two sentences each.
ARTICLE = [
    f"Paragraph {n} opens on the harbour works in Eastwick number {n}. "
    f"The council expects the {n} phase to finish before the storm season."
    for n in range(10)
]


def check_columns(rows: list[Row], old: list[str], new: list[str]) -> None:
    """Both columns in order (old except for moved rows), every paragraph shown once."""
    old_seen = [r.old_index for r in rows if r.kind != "moved" and r.old_index is not None]
    new_seen = [r.new_index for r in rows if r.new_index is not None]
    assert old_seen == list(range(len(old)))
    assert new_seen == list(range(len(new)))
    for row in rows:
        if row.old_index is not None:
            assert row.old_text == old[row.old_index]
        if row.new_index is not None:
            assert row.new_text == new[row.new_index]
    moved_from = sorted(r.moved_from for r in rows if r.kind == "moved")
    moved_away = sorted(r.old_index for r in rows if r.kind == "moved-away")
    assert moved_from == moved_away


# --- align ----------------------------------------------------------------------------


def test_align_example():
    rows = align(OLD, NEW)
    shown = [r.kind for r in rows if r.kind != "moved-away"]
    assert shown == ["changed", "changed", "same", "added", "same", "same", "moved"]
    moved = rows[-1]
    assert (moved.old_index, moved.new_index, moved.moved_from) == (3, 6, 3)
    assert moved.new_text == "Para X about funding."
    away = [r for r in rows if r.kind == "moved-away"]
    assert len(away) == 1
    assert (away[0].old_index, away[0].new_index, away[0].moved_to) == (3, None, 6)
    # The marker sits at X's old place: after the "same" poll row, before Y.
    assert [r.kind for r in rows].index("moved-away") == 3
    check_columns(rows, OLD, NEW)


def test_align_changed_rows_carry_word_diff():
    first = align(OLD, NEW)[0]
    assert first.kind == "changed"
    assert EDIT_THRESHOLD <= first.similarity < 1
    assert [s for s in first.spans if s.op != "equal"] == [Span("insert", "around 40 ")]


def test_align_identical_and_empty():
    assert [r.kind for r in align(OLD, OLD)] == ["same"] * len(OLD)
    assert align([], []) == []
    assert [r.kind for r in align([], ["x"])] == ["added"]
    assert [r.kind for r in align(["x"], [])] == ["removed"]


def test_align_unrelated_paragraphs_are_removed_and_added():
    rows = align(["Rain fell on the coast."], ["The mayor opened a library."])
    assert [r.kind for r in rows] == ["removed", "added"]


def test_align_edited_move():
    old = [*ARTICLE]
    new = [*ARTICLE[:2], *ARTICLE[3:], ARTICLE[2].replace("harbour works", "new harbour works")]
    rows = align(old, new)
    moved = [r for r in rows if r.kind == "moved"]
    assert len(moved) == 1
    assert moved[0].moved_from == 2 and moved[0].new_index == len(new) - 1
    assert MOVE_THRESHOLD <= moved[0].similarity < 1
    assert Span("insert", "new ") in moved[0].spans
    check_columns(rows, old, new)


def test_align_case_only_change_is_changed_not_same():
    rows = align(["Hello world."], ["hello world."])
    assert [r.kind for r in rows] == ["changed"]


paragraph_lists = st.lists(
    st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "eps", "zeta"]), max_size=5).map(
        " ".join
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(paragraph_lists, paragraph_lists)
def test_align_keeps_column_order(old, new):
    check_columns(align(old, new), old, new)


def test_align_400_paragraphs_with_scattered_edits():
    rng = random.Random(4)
    words = [f"word{n}" for n in range(2000)] + ["the", "of", "and", "in"] * 100

    def paragraph() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(15, 60))) + "."

    old = [paragraph() for _ in range(400)]
    new = list(old)
    for k in range(0, 400, 9):
        new[k] = new[k].replace(" ", " extra ", 1)
    for k in range(3, 380, 41):
        new.insert(k, paragraph())
    for k in (12, 150):
        new.append(new.pop(k))
    del new[200]
    rows = align(old, new)
    check_columns(rows, old, new)
    assert sum(r.kind == "moved" for r in rows) >= 2
    stats = describe(Version("t", old), Version("t", new))
    assert stats.sentences_moved >= 2


# --- word_diff ------------------------------------------------------------------------


def test_word_diff_name_change_is_one_replacement():
    assert word_diff("Jonathan Ashworth said", "Jon Ashworth said") == [
        Span("delete", "Jonathan"),
        Span("insert", "Jon"),
        Span("equal", " Ashworth said"),
    ]


def test_word_diff_short_equality_between_changes_is_absorbed():
    spans = word_diff("the cat sat on the mat", "a dog sat on a rug")
    assert spans == [
        Span("delete", "the cat"),
        Span("insert", "a dog"),
        Span("equal", " sat on "),
        Span("delete", "the mat"),
        Span("insert", "a rug"),
    ]


def test_word_diff_punctuation_between_changes_is_absorbed():
    spans = word_diff("red, blue", "green; yellow")
    assert spans == [Span("delete", "red, blue"), Span("insert", "green; yellow")]


def test_word_diff_identical_and_empty():
    assert word_diff("same text", "same text") == [Span("equal", "same text")]
    assert word_diff("", "") == []
    assert word_diff("", "new") == [Span("insert", "new")]
    assert word_diff("old", "") == [Span("delete", "old")]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_word_diff_reconstructs_both_sides(old, new):
    spans = word_diff(old, new)
    assert "".join(s.text for s in spans if s.op in ("equal", "delete")) == old
    assert "".join(s.text for s in spans if s.op in ("equal", "insert")) == new
    assert all(s.text for s in spans)
    assert all(s.op in ("equal", "delete", "insert") for s in spans)


words_text = st.lists(
    st.sampled_from(["cat", "dog", "the", " ", ", ", ". ", "Mr", "ran", "\n"]), max_size=20
).map("".join)


@settings(max_examples=300, deadline=None)
@given(words_text, words_text)
def test_word_diff_reconstructs_wordy_text(old, new):
    spans = word_diff(old, new)
    assert "".join(s.text for s in spans if s.op != "insert") == old
    assert "".join(s.text for s in spans if s.op != "delete") == new


# --- sentences ------------------------------------------------------------------------


def test_split_sentences():
    text = (
        "Mr. Stone met Dr. Vale at St. Anne's. The U.S. team paid 3.5 million! "
        'Why? "We agreed," she said. J. R. Holt left.'
    )
    assert split_sentences(text) == [
        "Mr. Stone met Dr. Vale at St. Anne's.",
        "The U.S. team paid 3.5 million!",
        "Why?",
        '"We agreed," she said.',
        "J. R. Holt left.",
    ]
    assert split_sentences("no capital. after this") == ["no capital. after this"]
    assert split_sentences("") == []


# --- describe -------------------------------------------------------------------------


def version(body: list[str], title: str = "Harbour works delayed", **kw: str) -> Version:
    return Version(title=title, body=body, **kw)


def test_describe_identical_is_empty():
    stats = describe(version(ARTICLE), version(list(ARTICLE)))
    assert stats == ChangeStats()
    assert stats.is_empty
    assert stats_trailers(stats)["Archiver-Changed-Fields"] == "none"


def test_describe_qualifier_is_one_edit():
    old = version(["A group of Eastwick councillors is calling for a new sea wall. It met today."])
    new = version(
        ["A group of around 40 Eastwick councillors is calling for a new sea wall. It met today."]
    )
    stats = describe(old, new)
    assert (stats.sentences_edited, stats.sentences_added, stats.sentences_removed) == (1, 0, 0)
    assert stats.sentences_moved == 0
    assert (stats.chars_added, stats.chars_removed) == (len("around 40 "), 0)
    assert stats.body_changed and not stats.title_changed


def test_describe_paragraph_moved_far_down():
    new = [*ARTICLE[:1], *ARTICLE[2:], ARTICLE[1]]
    stats = describe(version(ARTICLE), version(new))
    assert stats.sentences_moved >= 1
    assert (stats.sentences_added, stats.sentences_removed, stats.sentences_edited) == (0, 0, 0)
    assert (stats.chars_added, stats.chars_removed) == (0, 0)


def test_describe_new_paragraph_of_two_sentences():
    extra = "A ferry captain welcomed the plan. Fishermen were less sure."
    new = [*ARTICLE[:4], extra, *ARTICLE[4:]]
    stats = describe(version(ARTICLE), version(new))
    assert stats.sentences_added == 2
    assert (stats.sentences_removed, stats.sentences_edited, stats.sentences_moved) == (0, 0, 0)
    assert stats.chars_added == len(extra) - 1  # the space between the sentences is not counted


def test_describe_removed_paragraph():
    stats = describe(version(ARTICLE), version(ARTICLE[:-1]))
    assert stats.sentences_removed == 2
    assert stats.sentences_added == 0


def test_describe_metadata_changes():
    old = version(ARTICLE, byline="By A Writer", date="2024-01-01")
    retitled = version(
        ARTICLE, title="Harbour works delayed again", byline="By A Writer", date="2024-01-01"
    )
    stats = describe(old, retitled)
    assert stats.title_changed and not stats.byline_changed and not stats.date_changed
    assert not stats.body_changed and not stats.is_empty
    assert stats_trailers(stats)["Archiver-Changed-Fields"] == "title"
    stats = describe(old, version(ARTICLE, byline="By B Writer", date="2024-01-02"))
    assert stats.changed_fields == ["byline", "date"]


def test_describe_paragraph_resplit_is_body_change_without_sentence_changes():
    joined = [ARTICLE[0] + " " + ARTICLE[1], *ARTICLE[2:]]
    stats = describe(version(ARTICLE), version(joined))
    assert stats.body_changed and not stats.is_empty
    assert (stats.sentences_added, stats.sentences_removed, stats.chars_added) == (0, 0, 0)


def _sentences(body: list[str]) -> list[str]:
    return [s for paragraph in body for s in split_sentences(paragraph)]


def check_edits(old: Version, new: Version, texts: bool = True) -> list[SentenceEdit]:
    """The edits describe_edits gives: counted by describe's numbers, every sentence of
    each side accounted for once, and each edit's text the sentence at its index."""
    stats, edits = describe_edits(old, new)
    assert stats == describe(old, new)
    kinds = [e.kind for e in edits]
    counts = (stats.sentences_added, stats.sentences_removed)
    assert (kinds.count("added"), kinds.count("removed")) == counts
    assert (kinds.count("edited"), kinds.count("moved")) == (
        stats.sentences_edited,
        stats.sentences_moved,
    )
    assert set(kinds) <= set(EDIT_KINDS)
    before, after = _sentences(old.body), _sentences(new.body)
    for edit in edits:
        assert (edit.old_index is None) == (edit.kind == "added")
        assert (edit.new_index is None) == (edit.kind == "removed")
        if not texts:
            continue
        if edit.old_index is not None:
            assert edit.old_text == before[edit.old_index]
        if edit.new_index is not None:
            assert edit.new_text == after[edit.new_index]
        if edit.kind == "edited":
            assert edit.old_text != edit.new_text
    for side in ("old_index", "new_index"):
        seen = [getattr(e, side) for e in edits if getattr(e, side) is not None]
        assert len(seen) == len(set(seen))
    return edits


def test_sentence_edits_of_a_rewrite():
    edits = check_edits(version(OLD), version(NEW))
    assert SentenceEdit("edited", 0, 0, OLD[0], NEW[0]) in edits
    assert SentenceEdit("edited", 1, 1, OLD[1], NEW[1]) in edits
    assert SentenceEdit("moved", 3, 6, OLD[3], NEW[6]) in edits
    assert [e.new_index for e in edits if e.kind == "added"] == [3]
    assert [e.kind for e in edits] == ["edited", "edited", "added", "moved"]  # in new order


def test_sentence_edits_of_a_removed_paragraph_and_a_moved_one():
    removed = check_edits(version(ARTICLE), version(ARTICLE[:-1]))
    assert [(e.kind, e.old_index) for e in removed] == [("removed", 18), ("removed", 19)]
    moved = check_edits(version(ARTICLE), version([*ARTICLE[:1], *ARTICLE[2:], ARTICLE[1]]))
    assert {e.kind for e in moved} == {"moved"}
    assert all(e.old_text == e.new_text for e in moved)


def test_identical_versions_have_no_sentence_edits():
    assert describe_edits(version(ARTICLE), version(list(ARTICLE)))[1] == []


def test_sentence_edits_keep_a_costly_paragraph_whole():
    costly = " ".join(["Harbour works."] * 2_000)  # too repetitive to compare word by word
    edits = check_edits(version(ARTICLE[:2]), version([*ARTICLE[:2], costly]), texts=False)
    assert edits == [SentenceEdit("added", None, 4, new_text=costly)]


@given(
    st.lists(st.sampled_from(ARTICLE + OLD + NEW), max_size=8),
    st.lists(st.sampled_from(ARTICLE + OLD + NEW), max_size=8),
)
@settings(max_examples=60, deadline=None)
def test_sentence_edits_agree_with_the_counts(old: list[str], new: list[str]):
    check_edits(version(old), version(new))


def test_trailers_round_trip():
    stats = ChangeStats(3, 1, 4, 1, True, False, True, 592, 65, True)
    trailers = stats_trailers(stats)
    assert trailers == {
        "Archiver-Sentences-Added": "3",
        "Archiver-Sentences-Removed": "1",
        "Archiver-Sentences-Edited": "4",
        "Archiver-Sentences-Moved": "1",
        "Archiver-Chars-Added": "592",
        "Archiver-Chars-Removed": "65",
        "Archiver-Changed-Fields": "title,date,body",
    }
    assert read_stats(trailers) == stats
    assert read_stats(stats_trailers(ChangeStats())) == ChangeStats()
    real = describe(version(ARTICLE), version([*ARTICLE[1:], ARTICLE[0]], title="New"))
    assert read_stats(stats_trailers(real)) == real


def test_from_trailers_rejects_bad_values():
    with pytest.raises(ValueError):
        read_stats({"Archiver-Sentences-Added": "many"})
    with pytest.raises(ValueError):
        read_stats({"Archiver-Changed-Fields": "title,colour"})
    assert read_stats({"archiver-sentences-added": " 2 "}).sentences_added == 2


# --- is_minor -------------------------------------------------------------------------


def test_is_minor():
    base = version(['He said: "It\'s done." The wall - built in 1990 - stands.'], byline="By X")
    curly = version(["He said: “It’s done.” The wall — built in 1990 — stands."], byline="By X")
    cased = version(['he said: "it\'s DONE." the wall - built in 1990 - stands'], byline="by x")
    spaced = version(
        ['He  said: "It\'s done."', "The wall - built in 1990 - stands."], byline="By X"
    )
    worded = version(['He said: "It\'s done." The wall - built in 1991 - stands.'], byline="By X")
    retitled = version(base.body, title="Harbour works halted", byline="By X")
    assert is_minor(base, curly)
    assert is_minor(base, cased)
    assert is_minor(base, spaced)
    assert not is_minor(base, worded)
    assert not is_minor(base, retitled)
    assert not is_minor(base, version(list(base.body), byline="By X"))  # identical: no change


def test_a_byline_that_only_gains_or_loses_names_is_minor():
    body = ["The ferry timetable changes on Monday, the operator said."]
    one = version(body, byline="Maya Lindqvist")
    two = version(body, byline="Maya Lindqvist, Tomas Berg")
    assert is_minor(one, two)  # a co-author added
    assert is_minor(two, one)  # … or dropped
    assert is_minor(version(body), one)  # a byline where there was none
    assert not is_minor(one, version(body, byline="Tomas Berg"))  # another writer
    assert not is_minor(one, version(["The ferry timetable changes on Tuesday."], byline=""))


# --- helpers --------------------------------------------------------------------------


def test_paragraphs():
    body = "## Heading\n\nFirst line\ncontinued.  \n \n\n- item\r\n\r\n> quote\n\n\n"
    assert paragraphs(body) == ["## Heading", "First line\ncontinued.", "- item", "> quote"]
    assert paragraphs("") == []


def test_seed_page_paragraph_moved_far_down():
    if not SEED.exists():
        pytest.skip("seed page not present")
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    blocks = [line for line in lines if len(line.split()) >= 8]
    assert len(blocks) >= 10
    moved = [*blocks[:2], *blocks[3:], blocks[2]]
    rows = align(blocks, moved)
    check_columns(rows, blocks, moved)
    assert [r.kind for r in rows if r.kind not in ("same",)] == ["moved-away", "moved"]
    stats = describe(version(blocks), version(moved))
    assert stats.sentences_moved >= 1
    assert (stats.sentences_added, stats.sentences_removed) == (0, 0)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab ,", max_size=ALWAYS_DIFFABLE))
def test_short_texts_are_always_diffable(text: str) -> None:
    assert diffable(text)


def test_the_shortest_undiffable_text_is_past_the_always_diffable_length() -> None:
    words = math.isqrt(MAX_WORD_REPEAT_PRODUCT) + 1
    text = " ".join(["a"] * words)
    assert not diffable(text)
    assert len(text) == ALWAYS_DIFFABLE + 2

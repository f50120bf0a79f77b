"""describe_edits' fast paths against the plain algorithm (tests/describe_reference.py) on
random edits of random articles: the same counts and the same edits, every time."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.diff import Version, describe_edits
from tests import describe_reference as plain

WORDS = "the mayor said council plan city water rain new old budget vote police Mr. U.S. street"
SENTENCES = [
    " ".join(random.Random(n).choices(WORDS.split(), k=3 + n % 9)).capitalize() + "."
    for n in range(40)
]
EDITS = ("insert", "delete", "move", "reword", "recase", "split", "duplicate", "swap")


def _article(rng: random.Random, paragraphs: int) -> list[str]:
    return [
        " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 3))) for _ in range(paragraphs)
    ]


def _edited(rng: random.Random, body: list[str], edits: list[str]) -> list[str]:
    body = list(body)
    for edit in edits:
        at = rng.randrange(len(body) + 1)
        if edit == "insert" or not body:
            body.insert(at, " ".join(rng.sample(SENTENCES, rng.randint(1, 3))))
            continue
        at = min(at, len(body) - 1)
        if edit == "delete":
            del body[at]
        elif edit == "move":
            body.insert(rng.randrange(len(body)), body.pop(at))
        elif edit == "reword":
            words = body[at].split()
            words[rng.randrange(len(words))] = rng.choice(WORDS.split())
            body[at] = " ".join(words)
        elif edit == "recase":
            body[at] = body[at].upper()
        elif edit == "split" and ". " in body[at]:
            first, rest = body[at].split(". ", 1)
            body[at : at + 1] = [first + ".", rest]
        elif edit == "duplicate":
            body.insert(rng.randrange(len(body) + 1), body[at])
        elif edit == "swap" and len(body) > 1:
            other = rng.randrange(len(body))
            body[at], body[other] = body[other], body[at]
    return body


@settings(max_examples=600, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(0, 60),
    st.lists(st.sampled_from(EDITS), min_size=0, max_size=6),
    st.booleans(),
)
def test_fast_paths_give_the_plain_algorithms_edits(seed, paragraphs, edits, retitle):
    rng = random.Random(seed)
    old_body = _article(rng, paragraphs)
    new_body = _edited(rng, old_body, edits)
    old = Version(title="A plan for the city", body=old_body, byline="By A. Writer")
    new = Version(
        title="A new plan for the city" if retitle else old.title, body=new_body, byline=old.byline
    )
    assert describe_edits(old, new) == plain.describe_edits(old, new)


def test_far_moves_at_either_end_agree_with_the_plain_algorithm():
    """Pairs of the common ends are displaced when the article around them shifts far (a
    long stretch added or cut in the middle, a section moved): the case the fast path must
    check pair by pair."""
    rng = random.Random(7)
    body = [f"Paragraph {n} is here. It says {rng.choice(SENTENCES)}" for n in range(80)]
    added = [f"New paragraph {n}. {rng.choice(SENTENCES)}" for n in range(100)]
    cases = [
        body[:40] + added + body[40:],  # the common ends shift apart: some read as moved
        body[:20] + body[70:],
        body[:10] + body[40:70] + body[10:40] + body[70:],
        body[:5] + body[60:] + body[5:60],
        body[:30] + body[30:75][::-1] + body[75:],
        body[20:] + body[:20],
    ]
    for new_body in cases:
        old, new = Version("T", body), Version("T", new_body)
        fast, reference = describe_edits(old, new), plain.describe_edits(old, new)
        assert fast == reference
        assert fast[0].sentences_moved  # the case does exercise moves

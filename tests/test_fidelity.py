"""Change fidelity, through the real pipeline: every real edit is one version, described;
layout and boilerplate changes are none; reverts and minor changes are marked as such."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.capture.model import Outcome
from archiver.diff import Version, align, describe
from archiver.store.format import read_stats
from archiver.store.history import CommitRecord, iter_commits
from archiver.sync import add, sync

from .conftest import SEED
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED

GATES = json.loads((Path(__file__).parent / "gates" / "fidelity.json").read_text())


def _capture(
    archive: Archive, server: NewsServer, path: str, pages: list[bytes | str]
) -> list[Outcome]:
    outcomes = []
    for index, page in enumerate(pages):
        server.set(path, page, content_type="text/html")
        archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        report = add(archive, [server.url(path)]) if index == 0 else sync(archive, True)
        outcomes.append(next(r.outcome for r in report.results if r.url == server.url(path)))
    return outcomes


def _last_commit(archive: Archive, url: str) -> CommitRecord:
    return [c for c in iter_commits(archive.repo) if c.url == url][-1]


def test_minor_changes_and_reverts_are_marked(archive: Archive, server: NewsServer):
    title = "Old bridge to close for repairs"
    flipped = "Old bridge shut as repair bill soars"
    punctuation = [BRIDGE[0].replace("repairs that", "repairs, that"), *BRIDGE[1:]]
    pages = [
        article_html(title, BRIDGE),
        article_html(title, punctuation),  # a comma: stored, but minor
        article_html(flipped, punctuation),  # an A/B headline
        article_html(title, punctuation),  # … flipping back: a revert to version 2
    ]
    assert _capture(archive, server, "/news/bridge", pages) == [
        Outcome.NEW,
        Outcome.CHANGED,
        Outcome.CHANGED,
        Outcome.CHANGED,
    ]
    commits = [c for c in iter_commits(archive.repo) if c.url]
    changes = [c.trailers["Archiver-Change"] for c in commits]
    assert changes == ["new", "minor", "edit", "edit"]
    assert "Archiver-Revert-Of" not in commits[2].trailers
    assert commits[3].trailers["Archiver-Revert-Of"] == "2"
    assert read_stats(commits[2].trailers).title_changed


def test_edits_are_described_in_trailers(archive: Archive, server: NewsServer):
    pages = [
        article_html("Old bridge to close", BRIDGE),
        article_html("Old bridge to close", BRIDGE_EDITED),
    ]
    _capture(archive, server, "/news/bridge", pages)
    stats = read_stats(_last_commit(archive, server.url("/news/bridge")).trailers)
    # "The council voted" → "The town council voted narrowly": one edited sentence; one quote added.
    assert (stats.sentences_edited, stats.sentences_added, stats.sentences_removed) == (1, 1, 0)
    assert not stats.title_changed and stats.chars_added > 40


def test_volatile_page_parts_make_no_version(archive: Archive, server: NewsServer):
    base = article_html("Harbour quotas cut catch", BRIDGE)
    noisy = [
        base.replace("</article>", f"<p>{n} hours ago</p><p>{n * 37} comments</p></article>")
        for n in (1, 2)
    ]
    related = base.replace(
        '<li><a href="/other">Another story entirely</a></li>',
        '<li><a href="/else">A different teaser headline</a></li>',
    )
    outcomes = _capture(archive, server, "/news/harbour", [base, *noisy, related])
    assert outcomes == [Outcome.NEW, Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.UNCHANGED]


def _with_byline(byline_html: str, paragraphs: list[str]) -> str:
    """A page whose byline is markup only (no author meta tag), as many sites write it."""
    page = article_html("Ferry timetable to change", paragraphs, byline="Maya Lindqvist")
    page = page.replace('<meta name="author" content="Maya Lindqvist">', "")
    return page.replace("By Maya Lindqvist", byline_html)


def test_social_link_labels_in_a_byline_are_no_version(archive: Archive, server: NewsServer):
    author = '<a href="/author/maya-lindqvist">Maya Lindqvist</a>'
    pages = [
        _with_byline(
            f'By {author} <a href="https://twitter.com/mlindqvist">Twitter</a> '
            '<a href="mailto:maya@example.org">Email</a>',
            BRIDGE,
        ),
        _with_byline(f"By {author}", BRIDGE),  # the widget gone, the text the same
        _with_byline(f'By {author} <a href="https://bsky.app/">Follow on X</a> Bluesky', BRIDGE),
        _with_byline(f"By {author} and Tomas Berg", BRIDGE),  # a co-author named
    ]
    outcomes = _capture(archive, server, "/news/ferry", pages)
    assert outcomes == [Outcome.NEW, Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.CHANGED]
    commits = [c for c in iter_commits(archive.repo) if c.url]
    assert [c.trailers["Archiver-Change"] for c in commits] == ["new", "minor"]
    stored = (archive.root / archive.state.get(server.url("/news/ferry")).path).read_text()
    assert "authors:\n- Maya Lindqvist\n- Tomas Berg\n" in stored


@pytest.mark.corpus
def test_version_groups_gate(archive: Archive, server: NewsServer, corpus: Path):
    groups = json.loads((corpus / "version-groups.json").read_text())["groups"]
    counts = dict.fromkeys(GATES, 0)
    counts.pop("comment")
    for number, group in enumerate(groups):
        for index, pair in enumerate(group["pairs"]):
            path = f"/group-{number}-{index}"
            pages = [(corpus / pair["a"]).read_bytes(), (corpus / pair["b"]).read_bytes()]
            outcome = _capture(archive, server, path, pages)[1]
            name = group["group"]
            if pair["identical_extracted_text"]:
                counts["identical_text_pairs_without_version"] += outcome is Outcome.UNCHANGED
            if name in REAL_EDITS:
                counts["real_edits_stored"] += outcome is Outcome.CHANGED
            if name in HEADLINE_CHANGES and outcome is Outcome.CHANGED:
                trailers = _last_commit(archive, server.url(path)).trailers
                counts["headline_changes_marked"] += read_stats(trailers).title_changed
            if name == "deadline-boeing":
                minor = (
                    outcome is Outcome.CHANGED
                    and _last_commit(archive, server.url(path)).trailers.get("Archiver-Change")
                    == "minor"
                )
                counts["boilerplate_pairs_without_edit"] += outcome is Outcome.UNCHANGED or minor
            if name == "bbc-7984711-invalid":
                assert outcome is Outcome.FAILED
    print("fidelity counts:", counts)
    for key, value in counts.items():
        assert value >= GATES[key], (key, value, GATES[key])


REAL_EDITS = {
    "bbc-election-2015-32271505",
    "bbc-hillary-clinton-32275608",
    "wapo-boom-britain",
    "bbc-7984711-synthetic-edit",
}
HEADLINE_CHANGES = {"bbc-hillary-clinton-32275608", "wapo-boom-britain"}

# The seed is a tracker's view of versions 2 and 3 of one BBC article, one row per line:
# the old paragraph, then the new one. Where each line's new half starts was decided by
# reading it (offsets only: the article's words stay in ../shared/seed). Rows 9–28 hold
# both halves (row 12, the poll, and row 40, the newsletter, repeat unchanged); rows 29–39
# hold new paragraphs only.
SEED_SPLITS = {
    9: 158, 10: 66, 11: 187, 13: 206, 14: 95, 15: 120, 16: 215, 17: 123, 18: 109, 19: 126,
    20: 153, 21: 200, 22: 196, 23: 100, 24: 193, 25: 159, 26: 164, 27: 208, 28: 94,
}  # fmt: skip


def _seed_versions() -> tuple[Version, Version]:
    path = SEED / "bbc-red-wall-versions-2-3.txt"
    if not path.exists():
        pytest.skip(f"the seed page is absent ({path})")
    lines = path.read_text(encoding="utf-8").split("\n")
    title_line = lines[7]
    title = title_line[: len(title_line) // 2].strip()
    old, new = [], []
    for number in range(9, 41):
        line = lines[number]
        if number in (12, 40):  # unchanged rows: the same paragraph twice
            half = line[: len(line) // 2]
            old.append(half.strip())
            new.append(half.strip())
        elif number in SEED_SPLITS:
            old.append(line[: SEED_SPLITS[number]].strip())
            new.append(line[SEED_SPLITS[number] :].strip())
        else:
            new.append(line.strip())
    return Version(title, old), Version(title, new)


def test_seed_change_matches_a_careful_reading():
    """A careful reading of version 2 → 3:
    - the headline is unchanged;
    - the first sentence gains a qualifier ("a group of MPs" → "a group of around 40 MPs")
      and the second gains a clause ("- formed last autumn -", "and its members …"): edits;
    - the paragraph on what Farage said (row 18, the 10th of version 2) moves far down, to
      the 22nd paragraph of version 3, lightly reworded ("said" → "has said"): a move;
    - whole paragraphs are inserted (the convenor's quotes, an analysis section of eleven
      paragraphs at the end), and the paragraphs on the Environment Secretary's speech are
      dropped: additions and deletions, many more added than removed;
    - the think tank's chief executive's name is shortened in a rewritten paragraph.
    """
    old, new = _seed_versions()
    stats = describe(old, new)
    assert not stats.title_changed
    assert stats.sentences_edited >= 2
    assert stats.sentences_moved >= 1
    assert stats.sentences_added >= 12 and stats.sentences_removed >= 4
    assert stats.sentences_added > stats.sentences_removed
    rows = align(old.body, new.body)
    assert any(r.kind == "changed" and r.old_index == 0 and r.new_index == 0 for r in rows)
    assert any(r.kind == "changed" and r.old_index == 1 and r.new_index == 1 for r in rows)
    moved = [r for r in rows if r.kind == "moved"]
    assert any(r.moved_from == 9 and r.new_index == 21 for r in moved), moved

"""The demo end to end: the sample's captures replayed through the real pipeline give the
same commits on every run, and every kind of change reads as it should."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from archiver.archive import Archive
from archiver.clock import parse_iso
from archiver.compare import ChangeStats
from archiver.demo import run_demo, sample_folder
from archiver.history import CommitRecord, iter_commits

from .conftest import git


def _sample_cases() -> ModuleType:
    path = sample_folder() / "make_captures.py"
    spec = importlib.util.spec_from_file_location("make_captures", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_captures"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return run_demo(tmp_path_factory.mktemp("demo"))


def _commits(archive: Archive, url: str) -> list[CommitRecord]:
    return [c for c in iter_commits(archive.repo) if c.url == url]


def _at(archive: Archive, url: str, when: str) -> CommitRecord:
    found = [c for c in _commits(archive, url) if c.when == parse_iso(when.replace("Z", ":00Z"))]
    assert len(found) == 1, (url, when, [(c.when, c.subject) for c in _commits(archive, url)])
    return found[0]


def test_the_same_captures_give_the_same_commits(demo: Archive, tmp_path: Path):
    again = run_demo(tmp_path)
    assert git(again.root, "log", "--format=%H") == git(demo.root, "log", "--format=%H")
    assert git(demo.root, "status", "--porcelain") == ""
    git(demo.root, "fsck", "--strict")


EDITS = {
    "headline_softened": lambda s, t: s.title_changed,
    "qualifier_added": lambda s, t: s.sentences_edited >= 1 and not s.sentences_added,
    "quote_added": lambda s, t: s.sentences_added >= 1,
    "quote_removed": lambda s, t: s.sentences_removed >= 1,
    "paragraph_inserted": lambda s, t: s.sentences_added >= 1 and not s.sentences_removed,
    "paragraph_moved": lambda s, t: s.sentences_moved >= 1 and not s.sentences_added,
    "name_expanded": lambda s, t: s.sentences_edited >= 1,
    "correction_appended": lambda s, t: s.sentences_added >= 1 and not s.sentences_removed,
    "byline_changed": lambda s, t: s.byline_changed,
    "headline_flip": lambda s, t: s.title_changed and "Archiver-Revert-Of" not in t,
    "headline_revert": lambda s, t: s.title_changed and "Archiver-Revert-Of" in t,
    "minor_fix": lambda s, t: t["Archiver-Change"] == "minor",
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_each_edit_is_one_described_version(demo: Archive, kind: str):
    case = _sample_cases().CASES[kind]
    commit = _at(demo, case.url, case.after)
    stats = ChangeStats.from_trailers(commit.trailers)
    assert EDITS[kind](stats, commit.trailers), (kind, commit.trailers)
    if kind != "minor_fix":
        assert commit.trailers["Archiver-Change"] == "edit"


@pytest.mark.parametrize("kind", ["redesign", "boilerplate_only", "restamped", "unchanged"])
def test_page_changes_around_an_unchanged_article_make_no_version(demo: Archive, kind: str):
    case = _sample_cases().CASES[kind]
    start, end = (parse_iso(t.replace("Z", ":00Z")) for t in (case.before, case.after))
    during = [c for c in _commits(demo, case.url) if start < c.when <= end]
    assert during == [], [(c.when, c.subject) for c in during]


def test_removal_and_returns(demo: Archive):
    cases = _sample_cases().CASES
    removed = cases["removed"]
    events = [c.trailers.get("Archiver-Event") for c in _commits(demo, removed.url)]
    assert events.count("removed") == 1 and events[-1] == "returned"
    returned = _at(demo, cases["restored"].url, cases["restored"].after)
    assert returned.trailers["Archiver-Event"] == "returned"
    with_edit = _commits(demo, cases["restored_with_edit"].url)
    assert with_edit[-2].trailers["Archiver-Event"] == "removed"
    assert with_edit[-1].version == with_edit[-2].version + 1

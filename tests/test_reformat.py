"""Extraction rules and extractor upgrades never pass for edits: a sync refuses to mix them,
and `archiver reformat` records the new form as a reformat commit, not a version."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture.model import Outcome
from archiver.cli import app
from archiver.site.build import build_site
from archiver.store.history import iter_commits
from archiver.sync import add, reformat, sync

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED

runner = CliRunner()
RULE = '\n[sources.daily]\ndrop_lines = ["^A temporary footbridge"]\n'


def test_a_rule_change_becomes_a_reformat_not_an_edit(
    archive: Archive, server: NewsServer, tmp_path
):
    server.set("/news/bridge", article_html("Old bridge to close", BRIDGE), etag=False)
    add(archive, [server.url("/news/bridge")], source="daily")
    config = archive.root / "archiver.toml"
    config.write_text(config.read_text() + RULE)
    git(archive.root, "commit", "-qam", "Drop the footbridge line")
    archive.close()
    archive = Archive.open(archive.root, archive.clock)

    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    refused = sync(archive, check_all=True)
    assert [r.outcome for r in refused.results] == [Outcome.FAILED]
    assert "archiver reformat" in refused.results[0].reason

    done = reformat(archive)
    assert [r.outcome for r in done.results] == [Outcome.REFORMATTED]
    commits = [c for c in iter_commits(archive.repo) if c.url]
    assert [c.trailers.get("Archiver-Event") for c in commits] == [None, "reformat"]
    assert [c.version for c in commits] == [1, 1]
    path = archive.state.get(server.url("/news/bridge")).path
    assert "temporary footbridge" not in (archive.root / path).read_text()

    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    assert reformat(archive).checked == 0

    report = build_site(archive, tmp_path / "site", search=False)
    assert report.versions == 1
    result = runner.invoke(app, ["log", server.url("/news/bridge"), "--archive", str(archive.root)])
    assert [line[:3] for line in result.output.splitlines()] == ["v1 "]
    archive.close()


SELECTOR = '\n[sources.daily]\ndrop_selectors = ["p.aside"]\n'


def _serve(server: NewsServer, paragraphs: list[str], modified: str) -> None:
    """The bridge story as a site with validators serves it: ETag and Last-Modified, and
    304 to a conditional request that names them."""
    page = article_html("Old bridge to close", paragraphs)
    page = page.replace("<p>A temporary footbridge", '<p class="aside">A temporary footbridge')
    server.set("/news/bridge", page, headers={"Last-Modified": modified})


def _change_rules(archive: Archive, rule: str) -> Archive:
    config = archive.root / "archiver.toml"
    config.write_text(config.read_text() + rule)
    git(archive.root, "commit", "-qam", "Drop the footbridge line")
    archive.close()
    archive = Archive.open(archive.root, archive.clock)
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    return archive


def _without_captures(archive: Archive) -> Archive:
    """An archive as made before captures were kept: reformat has to fetch its pages."""
    config = archive.root / "archiver.toml"
    text = re.sub(r"(?m)^captures = .*$", 'captures = "none"', config.read_text())
    config.write_text(text)
    git(archive.root, "commit", "-qam", "Keep no captures")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def _log(archive: Archive, url: str) -> list[str]:
    result = runner.invoke(app, ["log", url, "--archive", str(archive.root)])
    return [line[:3] for line in result.output.splitlines()]


def test_reformat_fetches_in_full_so_a_later_edit_is_a_version(
    archive: Archive, server: NewsServer
):
    archive = _without_captures(archive)
    url = server.url("/news/bridge")
    _serve(server, BRIDGE, "Sat, 01 Mar 2025 08:00:00 GMT")
    add(archive, [url], source="daily")
    archive = _change_rules(archive, RULE)

    done = reformat(archive)
    assert [r.outcome for r in done.results] == [Outcome.REFORMATTED]
    last = server.hits("/news/bridge")[-1].headers
    assert "if-none-match" not in last and "if-modified-since" not in last

    _serve(server, BRIDGE_EDITED, "Sat, 01 Mar 2025 11:00:00 GMT")
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.CHANGED]
    commits = [c for c in iter_commits(archive.repo) if c.url]
    assert [(c.version, c.trailers.get("Archiver-Event")) for c in commits] == [
        (1, None),
        (1, "reformat"),
        (2, None),
    ]
    assert _log(archive, url) == ["v1 ", "v2 "]
    archive.close()


@pytest.mark.parametrize("rule", [RULE, SELECTOR], ids=["drop_lines", "drop_selectors"])
def test_an_edit_found_by_reformat_is_a_version_after_the_reformat(
    archive: Archive, server: NewsServer, rule: str
):
    archive = _without_captures(archive)
    url = server.url("/news/bridge")
    _serve(server, BRIDGE, "Sat, 01 Mar 2025 08:00:00 GMT")
    add(archive, [url], source="daily")
    archive = _change_rules(archive, rule)
    _serve(server, BRIDGE_EDITED, "Sat, 01 Mar 2025 10:00:00 GMT")  # edited, not yet seen

    done = reformat(archive)
    assert [(r.outcome, r.version) for r in done.results] == [(Outcome.CHANGED, 2)]
    commits = [c for c in iter_commits(archive.repo) if c.url]
    assert [(c.version, c.trailers.get("Archiver-Event")) for c in commits] == [
        (1, None),
        (1, "reformat"),
        (2, None),
    ]
    assert commits[2].trailers["Archiver-Change"] == "edit"
    path = archive.state.get(url).path
    reformatted = git(archive.root, "show", f"{commits[1].sha}:{path}")
    assert BRIDGE[0] in reformatted and "temporary footbridge" not in reformatted
    assert "Ana Ortiz" not in reformatted  # the old text in the new form
    edited = (archive.root / path).read_text()
    assert "Ana Ortiz" in edited and "temporary footbridge" not in edited
    assert _log(archive, url) == ["v1 ", "v2 "]

    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    assert reformat(archive).checked == 0

    before = archive.state.get(url)
    archive.close()
    (archive.root / ".archiver" / "state.db").unlink()  # the state is rebuilt from git alike
    archive = Archive.open(archive.root, archive.clock)
    after = archive.state.get(url)
    assert (after.versions, after.blob, after.blobs, after.rules) == (
        before.versions,
        before.blob,
        before.blobs,
        before.rules,
    )
    archive.close()


def test_reformat_reads_the_current_version_from_its_capture_not_the_web(
    archive: Archive, server: NewsServer
):
    """The page has been edited since, but a reformat is of the version stored: it reads
    the response that version was made from, fetches nothing, and names that capture; the
    edit is the next sync's to find, as a version under the new rules."""
    url = server.url("/news/bridge")
    _serve(server, BRIDGE, "Sat, 01 Mar 2025 08:00:00 GMT")
    add(archive, [url], source="daily")
    archive = _change_rules(archive, RULE)
    _serve(server, BRIDGE_EDITED, "Sat, 01 Mar 2025 10:00:00 GMT")  # edited, not yet seen
    hits = len(server.hits("/news/bridge"))

    done = reformat(archive)

    assert [(r.outcome, r.version) for r in done.results] == [(Outcome.REFORMATTED, 1)]
    assert (done.refetched, len(server.hits("/news/bridge"))) == (0, hits)
    first, reformed = [c for c in iter_commits(archive.repo) if c.url]
    assert reformed.trailers["Archiver-Event"] == "reformat"
    assert reformed.trailers["Archiver-Capture"] == first.trailers["Archiver-Capture"]
    path = archive.state.get(url).path
    text = (archive.root / path).read_text()
    assert BRIDGE[0] in text and "temporary footbridge" not in text and "Ana Ortiz" not in text

    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.CHANGED]
    assert _log(archive, url) == ["v1 ", "v2 "]
    archive.close()


def test_a_broken_capture_fails_the_reformat_and_changes_nothing(
    archive: Archive, server: NewsServer
):
    url = server.url("/news/bridge")
    _serve(server, BRIDGE, "Sat, 01 Mar 2025 08:00:00 GMT")
    add(archive, [url], source="daily")
    for capture in (archive.root / "captures").rglob("*.warc.gz"):
        capture.unlink()
    archive = _change_rules(archive, RULE)
    head = git(archive.root, "rev-parse", "HEAD")

    done = reformat(archive)

    assert [r.outcome for r in done.results] == [Outcome.FAILED]
    assert "broken capture" in done.results[0].reason and "missing" in done.results[0].reason
    assert git(archive.root, "rev-parse", "HEAD") == head
    archive.close()

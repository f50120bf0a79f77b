"""Extraction rules and extractor upgrades never pass for edits: a sync refuses to mix them,
and `archiver reformat` records the new form as a reformat commit, not a version."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture import Outcome
from archiver.cli import app
from archiver.history import iter_commits
from archiver.site import build_site
from archiver.sync import add, reformat, sync

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE

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

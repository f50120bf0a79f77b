"""`archiver reformat --history`: every version read again from its capture with today's
rules, recorded as reformat commits in order, so plain git and the site both tell the story
in the new form, with no edit invented; articles without captures are left as they are."""

from __future__ import annotations

import re
from datetime import timedelta

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture.model import Outcome
from archiver.cli import app
from archiver.site.build import build_site
from archiver.store.history import iter_commits
from archiver.store.state import STATE_DIR, STATE_FILE
from archiver.sync import add, reformat, sync
from archiver.verify import verify

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED

runner = CliRunner()
RULE = '\n[sources.daily]\ndrop_lines = ["^A temporary footbridge"]\n'
FOOTBRIDGE = "A temporary footbridge"


def _two_versions(archive: Archive, server: NewsServer) -> tuple[Archive, str]:
    url = server.url("/news/bridge")
    server.set("/news/bridge", article_html("Old bridge to close", BRIDGE), etag=False)
    add(archive, [url], source="daily")
    archive.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    server.set("/news/bridge", article_html("Old bridge to close", BRIDGE_EDITED), etag=False)
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.CHANGED]
    return archive, url


def _change_rules(archive: Archive) -> Archive:
    config = archive.root / "archiver.toml"
    config.write_text(config.read_text() + RULE)
    git(archive.root, "commit", "-qam", "Drop the footbridge line")
    archive.close()
    archive = Archive.open(archive.root, archive.clock)
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    return archive


def test_every_version_is_read_again_and_git_tells_the_story_in_the_new_form(
    archive: Archive, server: NewsServer, tmp_path
):
    archive, url = _two_versions(archive, server)
    archive = _change_rules(archive)
    server.set("/news/bridge", "<p>gone</p>", status=500)  # nothing is fetched
    hits = len(server.hits("/news/bridge"))

    done = reformat(archive, history=True)

    assert [(r.outcome, r.version) for r in done.results] == [(Outcome.REFORMATTED, 2)]
    assert len(server.hits("/news/bridge")) == hits
    commits = [c for c in iter_commits(archive.repo) if c.url]
    v1, v2, r1, r2 = commits
    assert [(c.version, c.trailers.get("Archiver-Event")) for c in commits] == [
        (1, None),
        (2, None),
        (1, "reformat"),
        (2, "reformat"),
    ]
    # Each reformat names the version it re-reads and that version's own capture.
    for version, reformed in ((v1, r1), (v2, r2)):
        assert reformed.trailers["Archiver-Reformat-Of"] == version.sha
        assert reformed.trailers["Archiver-Capture"] == version.trailers["Archiver-Capture"]
    path = archive.state.get(url).path
    assert FOOTBRIDGE not in git(archive.root, "show", f"{r1.sha}:{path}")
    now = (archive.root / path).read_text()
    assert FOOTBRIDGE not in now and "Ana Ortiz" in now

    # Plain git: between the two reformats, exactly the edit between the two versions.
    edit = git(archive.root, "diff", f"{v1.sha}", f"{v2.sha}", "--", path)
    again = git(archive.root, "diff", f"{r1.sha}", f"{r2.sha}", "--", path)
    assert _changed_lines(again) == {
        line for line in _changed_lines(edit) if FOOTBRIDGE not in line
    }
    subjects = git(archive.root, "log", "--format=%s", "--", path).splitlines()
    assert subjects[:2] == [
        "daily: reformat of version 2: Old bridge to close",
        "daily: reformat of version 1: Old bridge to close",
    ]

    # The site: the same two versions, each in its new form.
    report = build_site(archive, tmp_path / "site", search=False)
    assert report.versions == 2
    folder = next((tmp_path / "site").glob("articles/daily/*/*/*/*/index.html")).parent
    assert FOOTBRIDGE not in (folder / "v1.html").read_text()
    assert FOOTBRIDGE not in (folder / "v2.html").read_text()
    assert "Ana Ortiz" in (folder / "v2.html").read_text()
    result = runner.invoke(app, ["log", url, "--archive", str(archive.root)])
    assert [line[:3] for line in result.output.splitlines()] == ["v1 ", "v2 "]

    # Nothing left to do, no edit found, every commit verifies, the state rebuilds alike.
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert reformat(archive, history=True).checked == 0
    assert reformat(archive).checked == 0
    server.set("/news/bridge", article_html("Old bridge to close", BRIDGE_EDITED), etag=False)
    assert [r.outcome for r in sync(archive, check_all=True).results] == [Outcome.UNCHANGED]
    assert verify(archive).ok
    before = archive.state.get(url)
    archive.close()
    (archive.root / STATE_DIR / STATE_FILE).unlink()
    archive = Archive.open(archive.root, archive.clock)
    after = archive.state.get(url)
    assert (after.versions, after.blob, after.blobs, after.rules) == (
        before.versions,
        before.blob,
        before.blobs,
        before.rules,
    )
    archive.close()


def _changed_lines(diff: str) -> set[str]:
    return {
        line for line in diff.splitlines() if re.match(r"^[+-](?![+-])", line) and line[1:].strip()
    }


def test_an_incremental_build_shows_earlier_versions_in_their_new_form(
    archive: Archive, server: NewsServer, tmp_path
):
    archive, _ = _two_versions(archive, server)
    site = tmp_path / "site"
    build_site(archive, site, search=False)
    folder = next(site.glob("articles/daily/*/*/*/*/index.html")).parent
    assert FOOTBRIDGE in (folder / "v1.html").read_text()
    archive = _change_rules(archive)
    reformat(archive, history=True)

    report = build_site(archive, site, search=False)

    assert report.incremental
    assert FOOTBRIDGE not in (folder / "v1.html").read_text()
    assert FOOTBRIDGE not in (folder / "v2.html").read_text()
    archive.close()


def test_articles_without_captures_are_left_as_they_are_and_counted(
    archive: Archive, server: NewsServer
):
    archive, url = _two_versions(archive, server)
    config = archive.root / "archiver.toml"
    config.write_text(re.sub(r"(?m)^captures = .*$", 'captures = "none"', config.read_text()))
    git(archive.root, "commit", "-qam", "Keep no captures")
    archive.close()
    archive = Archive.open(archive.root, archive.clock)
    older = server.url("/news/older")
    server.set("/news/older", article_html("An older story", BRIDGE[:3]), etag=False)
    add(archive, [older], source="daily")  # stored with no capture
    archive = _change_rules(archive)
    head = git(archive.root, "rev-parse", "HEAD").strip()
    root = str(archive.root)
    archive.close()

    quiet = runner.invoke(app, ["reformat", "--history", "-a", root])
    assert quiet.exit_code == 0, quiet.output
    assert "1 articles have a version with no capture and were left as they are" in quiet.output
    assert older not in quiet.output
    listed = runner.invoke(app, ["reformat", "--history", "--verbose", "-a", root])
    assert f"left as it is: {older}: version 1 has no capture" in listed.output
    # The captured article was reformatted by the first run; the other one never is.
    archive = Archive.open(archive.root, archive.clock)
    changed = git(archive.root, "diff", "--name-only", head, "HEAD").split()
    assert changed == [archive.state.get(url).path]
    archive.close()

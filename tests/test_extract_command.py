"""`archiver extract` shows what a sync would store: in an archive, the page's source is
found as a sync finds it, and that source's rules and fetch settings apply."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import app
from archiver.sync import add

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import HARBOUR

runner = CliRunner()
PROMO = "Sign up to our morning briefing and never miss a harbour story again"


def _with_rules(archive: Archive, server: NewsServer) -> Archive:
    """A source for the test site's host that drops a promotion box and a line."""
    config = archive.root / "archiver.toml"
    config.write_text(
        config.read_text()
        + f'\n[sources.harbour-news]\nfeeds = ["{server.url("/feed.xml")}"]\n'
        + 'drop_selectors = ["div.promo"]\ndrop_lines = ["^Photographs by"]\n'
        + 'user_agent = "harbour-check/1.0"\n'
    )
    git(archive.root, "commit", "-qam", "A source with rules")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def _page() -> str:
    promo = f'<div class="promo"><p>{PROMO}, delivered before seven every weekday.</p></div>'
    paragraphs = [*HARBOUR, "Photographs by the harbour office, used with permission."]
    return article_html("Harbour quotas cut catch", paragraphs).replace(
        "<p>A meeting", promo + "<p>A meeting"
    )


def test_extract_in_an_archive_shows_what_a_sync_stores(
    archive: Archive, server: NewsServer, monkeypatch: pytest.MonkeyPatch
):
    archive = _with_rules(archive, server)
    url = server.url("/news/harbour")
    server.set("/news/harbour", _page())

    shown = runner.invoke(app, ["extract", url, "--archive", str(archive.root)])
    assert shown.exit_code == 0, shown.output
    assert "source: harbour-news" in shown.stdout
    assert PROMO not in shown.stdout and "Photographs by" not in shown.stdout
    assert server.hits("/news/harbour")[-1].headers["user-agent"] == "harbour-check/1.0"

    monkeypatch.chdir(archive.root)  # in the archive's folder, no --archive needed
    assert runner.invoke(app, ["extract", url]).stdout == shown.stdout

    add(archive, [url])
    stored = archive.root / archive.state.get(url).path
    assert stored.read_text(encoding="utf-8") == shown.stdout
    archive.close()


def test_extract_of_a_saved_page_takes_the_source_of_its_url(
    archive: Archive, server: NewsServer, tmp_path: Path
):
    archive = _with_rules(archive, server)
    url = server.url("/news/harbour")
    saved = tmp_path / "harbour.html"
    saved.write_text(_page(), encoding="utf-8")
    args = ["extract", str(saved), "--url", url, "--archive", str(archive.root)]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "source: harbour-news" in shown.stdout and PROMO not in shown.stdout
    archive.close()


def test_extract_outside_an_archive_keeps_every_paragraph(
    server: NewsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    server.set("/news/harbour", _page())
    shown = runner.invoke(app, ["extract", server.url("/news/harbour")])
    assert shown.exit_code == 0, shown.output
    assert PROMO in shown.stdout and "Photographs by" in shown.stdout


def test_extract_of_a_missing_page_is_one_line(archive: Archive, server: NewsServer):
    result = runner.invoke(app, ["extract", server.url("/gone"), "--archive", str(archive.root)])
    assert result.exit_code == 4
    assert result.output == f"error: {server.url('/gone')}: HTTP 404\n"


def test_extract_of_a_tracked_article_keeps_its_url(archive: Archive, server: NewsServer):
    archive = _with_rules(archive, server)
    url = server.url("/news/harbour")
    server.set("/news/harbour", _page())
    add(archive, [url])
    renamed = '<link rel="canonical" href="/news/harbour-quotas">'
    server.set("/news/harbour", _page().replace("</head>", renamed + "</head>"))
    shown = runner.invoke(app, ["extract", url, "--archive", str(archive.root)])
    assert shown.exit_code == 0, shown.output
    stored = archive.root / archive.state.get(url).path
    assert stored.read_text(encoding="utf-8") == shown.stdout
    archive.close()

"""Feed entries as a feed reader shows them: the site's stylesheet dropped, basic HTML and
inline styles kept. Checked on every entry of the demo's feeds, and in Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from archiver.demo import run_demo
from archiver.site import build_site

from .sitetools import launch_browser

RUN_INS = re.compile(r"(deleted|inserted|old headline|new headline):", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-feeds")
    with run_demo(folder) as archive:
        build_site(archive, folder / "site", full=True, search=False)
    return folder / "site"


def entry_contents(site: Path) -> dict[str, str]:
    """Every entry's HTML content in every feed of the site, by feed and entry id."""
    found = {}
    for feed in sorted(site.rglob("feed.atom")):
        for entry in feedparser.parse(feed.read_bytes()).entries:
            found[f"{feed.relative_to(site)} {entry.id}"] = entry.content[0].value
    return found


class _Marks(HTMLParser):
    """The text of a fragment, and where a <del> or <ins> starts or ends inside a word."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.glued: list[str] = []
        self.unstyled: list[str] = []
        self.hidden: list[str] = []
        self._edge = False  # a mark opened or closed at the end of the text so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "vh" in (found.get("class") or "").split():
            self.hidden.append(self.text[-40:])
        if tag in ("del", "ins"):
            if "background-color" not in (found.get("style") or ""):
                self.unstyled.append(tag)
            self._edge = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("del", "ins"):
            self._edge = True
        elif tag == "p":
            self.text += "\n"

    def handle_data(self, data: str) -> None:
        if self._edge and self.text[-1:].isalnum() and data[:1].isalnum():
            self.glued.append(self.text[-20:] + "|" + data[:20])
        self._edge = False
        self.text += data


def test_every_demo_entry_reads_without_the_sites_stylesheet(site: Path):
    contents = entry_contents(site)
    assert len(contents) > 100
    for where, html in contents.items():
        marks = _Marks()
        marks.feed(html)
        assert not RUN_INS.search(marks.text), (where, marks.text)
        assert marks.hidden == [], where  # no text meant for screen readers alone
        assert marks.glued == [], (where, marks.glued)  # a change never cuts a word in two
        assert marks.unstyled == [], where  # its colours inline: readers drop stylesheets
        summary = marks.text.split("\n", 1)[0]
        assert summary and len(summary) < 200 and "\n" not in summary.strip(), where


def test_an_entry_with_a_headline_change_names_the_old_and_new_headline(site: Path):
    contents = entry_contents(site)
    headline = [html for html in contents.values() if "headline changed" in html.split("</p>")[0]]
    assert headline
    for html in headline:
        assert re.search(r"<strong>Headline:</strong> <del [^>]+>[^<]+</del> → <ins ", html)


@pytest.mark.browser
def test_an_entry_reads_right_in_chromium_with_no_site_css(site: Path):
    feed = feedparser.parse((site / "feed.atom").read_bytes())
    # The demo's edits that change a stated date: in the old entries "updated 2025-03-05"
    # became "updated 2025-03-deleted: 05inserted: 07" once the site's CSS was gone.
    contents = [entry.content[0].value for entry in feed.entries]
    dated = [html for html in contents if re.search(r"Date:<[^>]+> [^<]*updated [^<]*<del", html)]
    assert dated
    with launch_browser() as browser:
        page = browser.new_page()
        for html in dated:
            page.set_content(f"<!DOCTYPE html><html><body>{html}</body></html>")
            text = page.locator("body").inner_text()
            assert "deleted" not in text and "inserted" not in text, text
            assert re.search(r"updated (2025-03-\d\d) (2025-03-\d\d)", text), text
            assert not re.search(r"2025-03-\d\d\d", text), text
            colours = page.locator("del, ins").evaluate_all(
                "marks => marks.map(m => getComputedStyle(m).backgroundColor)"
            )
            assert colours and "rgba(0, 0, 0, 0)" not in colours

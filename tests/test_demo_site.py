"""The demo's site, as a reader meets it: opened in a real browser over loopback, checked
by the Nu Html Checker, axe-core and LinkChecker, with screenshots in test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest

from archiver.demo import run_demo
from archiver.site import build_site

from .sitetools import (
    artifact_path,
    axe_violations,
    broken_links,
    launch_browser,
    serve_folder,
    vnu_errors,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-site")
    with run_demo(folder) as archive:
        report = build_site(archive, folder / "site", full=True)
    assert report.warnings == []
    return folder / "site"


def test_every_page_is_valid_html(site: Path):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 100
    assert vnu_errors(pages) == []


def test_no_broken_internal_link(site: Path):
    with serve_folder(site) as base:
        assert broken_links(base) == []


def _article_link(page, text: str) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_role("link", name=re.compile(text)).first.get_attribute("href")


def test_a_reader_follows_a_story_through_its_changes(site: Path):
    with serve_folder(site) as base, launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))

        page.goto(base)
        page.screenshot(path=artifact_path("demo-home.png"), full_page=True)
        assert axe_violations(page) == []
        page.get_by_role("link", name="Most changed").first.click()
        page.wait_for_load_state()
        assert axe_violations(page) == []
        page.locator("main a.title").first.click()  # the most-changed article
        page.wait_for_load_state()
        assert re.search(r"\d+ versions", page.locator("main").inner_text())
        assert "Next check" in page.locator("main").inner_text()
        page.screenshot(path=artifact_path("demo-article.png"), full_page=True)
        assert axe_violations(page) == []

        page.locator(".timeline a[href='v2.html']").first.click()
        page.wait_for_load_state()
        table = page.locator("section.changes table.diff")
        old_column = table.locator("td:not(.io)").first
        assert old_column.is_visible() and table.locator("ins, del").count()
        page.screenshot(path=artifact_path("demo-diff-side.png"), full_page=True)
        assert axe_violations(page) == []
        page.click(".view-switch button[data-view=inline]")
        assert table.is_visible() and not old_column.is_visible()
        page.screenshot(path=artifact_path("demo-diff-inline.png"), full_page=True)
        page.click(".view-switch button[data-view=text]")
        # The new text alone: nothing deleted, no paragraph numbers, insertions unmarked.
        assert table.locator("del:visible, .pn:visible").count() == 0
        assert table.locator("tbody").inner_text().strip()
        marks = table.locator("ins").evaluate_all(
            "marks => marks.map(m => getComputedStyle(m).backgroundColor"
            " + ' ' + getComputedStyle(m).textDecorationLine)"
        )
        assert marks and set(marks) == {"rgba(0, 0, 0, 0) none"}
        page.screenshot(path=artifact_path("demo-diff-text.png"), full_page=True)

        page.goto(page.url.rsplit("/", 1)[0] + "/compare.html?a=1&b=3")
        page.click("#compare-form button[type=submit]")
        page.wait_for_url("**/compare-1-3.html")
        assert page.locator("table.diff ins, table.diff del").count() > 0
        assert axe_violations(page) == []

        page.goto(f"{base}search/index.html")
        page.fill(".pagefind-ui__search-input", "councillors")
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15_000)
        assert page.locator(".pagefind-ui__result-link").count() >= 1
        page.screenshot(path=artifact_path("demo-search.png"), full_page=True)
        assert problems == []


def test_moved_paragraph_and_reverted_headline_read_as_such(site: Path):
    pages = [p.read_text(encoding="utf-8") for p in site.rglob("v*.html")]
    assert any("moved" in text and 'class="note"' in text for text in pages)
    assert any(re.search(r"[Rr]everted to version \d", text) for text in pages)
    assert any("minor" in text.lower() for text in pages)


PIER = "articles/fenmouth-courier/2025/03/03/fenmouth-pier-for-sale-70960049b7e3"


def test_the_taken_down_and_restored_article_reads_as_such(site: Path):
    """The demo's pier story answered 404 for a day, then came back: its page, the lists of
    changes and the feeds tell it, not "not changed since it was first seen"."""
    with serve_folder(site) as base, launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}{PIER}/index.html")
        timeline = page.locator("ol.timeline").inner_text()
        assert re.search(r"Back at its address · 2025-03-05 09:00 UTC", timeline), timeline
        assert re.search(r"Removed from its address · 2025-03-04 \d\d:00 UTC", timeline)
        assert (
            timeline.index("Back at") < timeline.index("Removed from") < timeline.index("Version 1")
        )
        facts = page.locator("dl.facts").inner_text()
        assert re.search(r"removed on 2025-03-04 \d\d:00 UTC, back on 2025-03-05 09:00 UTC", facts)
        assert page.locator("#text-heading ~ .text p").count() > 0  # its text still reads
        page.screenshot(path=artifact_path("demo-returned-article.png"), full_page=True)
        assert axe_violations(page) == []

        page.goto(f"{base}changes/index.html")
        pier = page.locator("li.event", has_text="Fenmouth pier put up for sale")
        assert pier.count() == 2
        assert "back at its address" in pier.first.inner_text()
        assert axe_violations(page) == []
        pier.first.locator("a.title").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"{PIER}/index.html")

        page.goto(f"{base}removed/index.html")
        assert "No article is gone from its address now." in page.locator("main").inner_text()
        assert axe_violations(page) == []

    for feed in ("feed.atom", "sources/fenmouth-courier/feed.atom", f"{PIER}/feed.atom"):
        entries = feedparser.parse((site / feed).read_bytes()).entries
        titles = [e.title for e in entries if e.title.startswith("Fenmouth pier put up for sale")]
        assert titles[:2] == [
            "Fenmouth pier put up for sale for £1 (back at its address)",
            "Fenmouth pier put up for sale for £1 (removed from its address)",
        ], feed


# Dropped from the care-home story in its second version (sample-archive/stories).
DELETED = (
    "A relative of one resident, who asked not to be named, said families had raised "
    "concerns about staffing with the home last summer and had been ignored."
)


def test_a_deleted_sentence_is_found_and_leads_to_the_version_that_had_it(site: Path):
    with serve_folder(site) as base, launch_browser() as browser:
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.emulate_media(color_scheme=scheme)
            page.goto(f"{base}search/index.html")
            page.fill(".pagefind-ui__search-input", "relative asked not to be named")
            result = page.locator(".pagefind-ui__result", has_text="gone since version 2")
            result.first.wait_for(timeout=15_000)
            assert result.count() == 1
            assert "Found in: version 1 of 2, gone since version 2" in result.inner_text()
            page.screenshot(path=artifact_path(f"demo-search-{scheme}.png"), full_page=True)
            # Results and the box in the page's colours, readable in either scheme.
            assert axe_violations(page) == []
            colours = page.evaluate(
                "() => [document.body, document.querySelector('.pagefind-ui__search-input')]"
                ".map(e => getComputedStyle(e).backgroundColor)"
            )
            assert colours[0] == colours[1]
        # The filter keeps only wording the current text no longer holds.
        page.fill(".pagefind-ui__search-input", "councillors")
        page.wait_for_selector(".pagefind-ui__result", timeout=15_000)
        page.get_by_label(re.compile("^changed or deleted since")).check()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.pagefind-ui__result-tag')].every("
            "tag => tag.textContent.includes('gone since'))",
            timeout=15_000,
        )
        assert page.locator(".pagefind-ui__result").count() >= 1
        page.fill(".pagefind-ui__search-input", "relative asked not to be named")
        result.first.wait_for(timeout=15_000)
        result.locator(".pagefind-ui__result-link").click()
        page.wait_for_load_state()
        assert page.url.endswith("/v1.html")
        assert DELETED in " ".join(page.locator("main").inner_text().split())
        page.goto(page.url.removesuffix("v1.html") + "index.html")
        assert "asked not to be named" not in page.locator("main").inner_text()

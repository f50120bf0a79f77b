"""The demo's site, as a reader meets it: opened in a real browser over loopback, checked
by the Nu Html Checker, axe-core and LinkChecker, with screenshots in test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

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

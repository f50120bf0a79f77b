"""The site's quality harness checked on small hand-written pages: each tool must pass a clean
page and catch a known fault, or a green site test would prove nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .sitetools import (
    ToolMissing,
    artifact_path,
    axe_violations,
    broken_links,
    launch_browser,
    missing,
    serve_folder,
    vnu_errors,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The same policy as the site's pages: the harness must work with it in force.
CSP = "default-src 'self'; script-src 'self'"


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{title}</title>\n</head>\n"
        f"<body>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for name, html in pages.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    return root


# --- Skipping and failing ---------------------------------------------------------------------


def test_missing_tool_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(ToolMissing, match=r"bash \.ci/install-test-tools"):
        missing("vnu-jar", "absent")
    assert issubclass(ToolMissing, pytest.skip.Exception)


def test_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run vnu-jar"):
        missing("vnu-jar", "absent")


# --- Nu Html Checker --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vnu_report(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """One vnu run over both pages: the JVM's start is most of its cost."""
    root = write_site(
        tmp_path_factory.mktemp("vnu"),
        {
            "valid.html": page("Valid", '<p id="lede">Fine.</p>'),
            "invalid.html": page("Invalid", '<p id="x">One</p>\n<p id="x">Two</p>\n</div>'),
        },
    )
    return vnu_errors([root / "valid.html", root / "invalid.html"])


def test_vnu_passes_a_valid_page(vnu_report: list[str]) -> None:
    assert [line for line in vnu_report if "valid.html:" in line and "invalid" not in line] == []


def test_vnu_reports_duplicate_id_and_stray_end_tag(vnu_report: list[str]) -> None:
    invalid = [line for line in vnu_report if "invalid.html:" in line]
    assert any("invalid.html:12: Duplicate ID" in line for line in invalid), vnu_report
    assert any("invalid.html:13: Stray end tag" in line for line in invalid), vnu_report


def test_vnu_with_nothing_to_check_starts_no_jvm() -> None:
    assert vnu_errors([]) == []


# --- LinkChecker ------------------------------------------------------------------------------


def test_broken_links_passes_a_clean_site(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            "index.html": page("Home", '<a href="a/">A</a> <a href="b.html#top">B</a>'),
            "a/index.html": page(
                "A", '<a href="../">Home</a> <a href="mailto:x@example.org">M</a>'
            ),
            "b.html": page("B", '<a href="https://example.org/">elsewhere</a>'),
        },
    )
    with serve_folder(site) as base:
        assert broken_links(base) == []


def test_broken_links_reports_missing_pages_with_their_parent(tmp_path: Path) -> None:
    # The other-origin link points at a closed loopback port: reported, it would mean that
    # LinkChecker fetched a URL outside the site.
    site = write_site(
        tmp_path,
        {
            "index.html": page(
                "Home",
                '<a href="gone.html">gone</a> <a href="empty/">no index</a>\n'
                '<img src="missing.png" alt="x"> <a href="http://127.0.0.1:9/">other</a>',
            ),
            "empty/readme.txt": "a folder with no index.html",
        },
    )
    with serve_folder(site) as base:
        broken = broken_links(base)
    assert len(broken) == 3, broken
    for name in ("gone.html", "empty/", "missing.png"):
        assert any(f"{base}{name} (linked from {base})" in line for line in broken), broken


def test_broken_links_refuses_a_remote_site() -> None:
    with pytest.raises(ValueError, match="loopback"):
        broken_links("https://example.org/")


# --- Chromium and axe -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def axe_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = write_site(
        tmp_path_factory.mktemp("axe"),
        {
            "clean.html": page(
                "Clean",
                '<p>Readable text.</p>\n<label for="q">Search</label> <input id="q" type="search">',
            ),
            # A stylesheet, not a style attribute: the CSP blocks inline styles too.
            "faulty.html": page(
                "Faulty",
                '<link rel="stylesheet" href="faint.css">\n'
                '<p class="faint">Faint text.</p>\n<input type="text">',
            ),
            "faint.css": ".faint { color: #bbb; background: #fff; }\n",
            # An inline script the page's CSP must block, even while axe is injected.
            "inline.html": page("Inline", "<script>window.inlineRan = true;</script>"),
        },
    )
    with serve_folder(root) as base:
        yield base


@pytest.mark.browser
def test_axe_passes_a_clean_page(browser: Browser, axe_site: str) -> None:
    tab = browser.new_page()
    tab.goto(axe_site + "clean.html")
    assert axe_violations(tab) == []
    tab.close()


@pytest.mark.browser
def test_axe_reports_unlabeled_input_and_low_contrast(browser: Browser, axe_site: str) -> None:
    tab = browser.new_page()
    tab.goto(axe_site + "faulty.html")
    violations = axe_violations(tab)
    tab.close()
    rules = {line.split(":", 1)[0] for line in violations}
    assert {"label", "color-contrast"} <= rules, violations
    assert any("color-contrast:" in line and "1 nodes: p" in line for line in violations)


@pytest.mark.browser
def test_axe_runs_with_the_pages_csp_in_force(browser: Browser, axe_site: str) -> None:
    tab = browser.new_page()
    tab.goto(axe_site + "inline.html")
    assert axe_violations(tab) == []
    assert tab.evaluate("() => window.inlineRan") is None
    tab.close()


@pytest.mark.browser
def test_browser_follows_a_link_and_takes_a_screenshot(browser: Browser, tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            "index.html": page("Front page", '<p><a href="story.html">Read the story</a></p>'),
            "story.html": page("The story", "<p>Version 2 of the article, changed on Monday.</p>"),
        },
    )
    shot = artifact_path("sitetools-story.png")
    shot.unlink(missing_ok=True)
    with serve_folder(site) as base:
        tab = browser.new_page(viewport={"width": 800, "height": 400})
        tab.goto(base)
        tab.get_by_role("link", name="Read the story").click()
        tab.wait_for_url(base + "story.html")
        assert tab.get_by_role("heading", level=1).inner_text() == "The story"
        tab.screenshot(path=shot)
        tab.close()
    assert shot.stat().st_size > 1000

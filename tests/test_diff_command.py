"""`archiver diff` and the site compare any two versions with one diff: the command's rows
and counts are the site's pages', for consecutive versions (a version's page) and others
(the pages made in advance), on the terminal in colour and piped without."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from archiver.archive import Archive
from archiver.articles import diff
from archiver.demo import run_demo
from archiver.site import build_site
from archiver.site.articles import pair_page

from .sitetools import launch_browser, serve_folder

# A demo story of four versions: its headline, date line and paragraphs all change.
STORY = "wrenfield-warehouse-fire"
PAIRS = [(1, 2), (2, 3), (3, 4), (1, 3), (1, 4), (2, 4)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo's archive and its site."""
    folder = tmp_path_factory.mktemp("demo")
    with run_demo(folder) as archive:
        build_site(archive, folder / "site", full=True, search=False)
    return folder / "archive", folder / "site"


def _run(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "archiver", "diff", STORY, *args, "-a", str(root)],
        capture_output=True,
        text=True,
        check=True,
        env=environment | env,
    )


def _story_folder(site: Path) -> Path:
    return next(site.glob(f"articles/*/*/*/*/{STORY}-*"))


def _cell_inserts(cell: lxml_html.HtmlElement) -> list[str]:
    """The inserted words a cell shows side by side (its one-column reading left out)."""
    shown = cell.find_class("w") or [cell]
    return [
        "".join(ins.itertext()).removeprefix("inserted: ")
        for part in shown
        for ins in part.iter("ins")
    ]


def _site_rows(page: Path) -> tuple[str, list[tuple[str, int | None, int | None, list[str]]]]:
    """A diff page's summary line, and per row: its kind, the paragraph numbers of both
    cells and the words the new cell inserts."""
    tree = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    summary = tree.find_class("change-summary")[0].text_content().strip()
    rows = []
    for tr in tree.xpath("//table[@class='diff']/tbody/tr"):
        old, new = tr.xpath("./td")
        numbers = [
            int(found[0].text_content().lstrip("¶")) if (found := cell.find_class("pn")) else None
            for cell in (old, new)
        ]
        rows.append((tr.get("class"), *numbers, _cell_inserts(new)))
    return summary, rows


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_command_shows_the_rows_and_counts_of_the_sites_page(
    demo: tuple[Path, Path], a: int, b: int
):
    root, site = demo
    shown = json.loads(_run(root, str(a), str(b), "--json").stdout)
    summary, rows = _site_rows(_story_folder(site) / pair_page(a, b))
    assert shown["summary"] == summary
    assert [
        (
            r["kind"],
            r["old"],
            r["new"],
            [text for op, text in r["spans"] if op == "insert"],
        )
        for r in shown["rows"]
    ] == [(kind, old, new, inserts) for kind, old, new, inserts in rows]


def test_log_counts_are_the_sites_counts(demo: tuple[Path, Path]):
    root, site = demo
    log = subprocess.run(
        [sys.executable, "-m", "archiver", "log", STORY, "-a", str(root)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    folder = _story_folder(site)
    for number in (2, 3, 4):
        summary, _ = _site_rows(folder / f"v{number}.html")
        counts = re.search(r"\+(\d+)/−(\d+) characters", summary)
        assert counts is not None
        assert f"+{counts[1]}/-{counts[2]}" in log[number - 1].split()


def test_piped_output_marks_changes_without_colour(demo: tuple[Path, Path]):
    root, _ = demo
    text = _run(root, "1", "4").stdout
    lines = text.splitlines()
    assert lines[0].startswith("version 1 (") and "→ version 4 (" in lines[0]
    assert "+" in lines[1] and "characters" in lines[1]
    assert "\x1b[" not in text
    assert "[-" in text and "{+" in text
    assert any(line.startswith("~ Date: ") for line in lines)
    assert not re.search(r"(?m)^[+-]?(title|url|source|byline): ", text)  # no front matter
    assert "## " not in text


def test_a_terminal_gets_colour_and_no_color_turns_it_off(demo: tuple[Path, Path]):
    root, _ = demo
    coloured = _run(root, "1", "4", FORCE_COLOR="1", TERM="xterm-256color").stdout
    assert re.search(r"\x1b\[[0-9;]*3[12]m", coloured)  # red deletions, green insertions
    assert "{+" not in coloured and "[-" not in coloured
    plain = _run(root, "1", "4", FORCE_COLOR="1", NO_COLOR="1", TERM="xterm-256color").stdout
    assert not re.search(r"\x1b\[[0-9;]*3[12]m", plain)
    assert "{+" in plain and "[-" in plain


@pytest.mark.browser
def test_the_compare_page_in_a_browser_shows_the_python_diff(demo: tuple[Path, Path]):
    root, site = demo
    folder = _story_folder(site).relative_to(site).as_posix()
    archive = Archive.open(root)
    try:
        expected = diff(archive, STORY, 1, 4).comparison
    finally:
        archive.close()
    with serve_folder(site) as base, launch_browser() as browser:
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base}{folder}/compare.html?a=1&b=4")
        page.click("#compare-form button[type=submit]")
        page.wait_for_url("**/compare-1-4.html")
        kinds = page.eval_on_selector_all(
            "table.diff tbody tr", "rows => rows.map(r => r.className)"
        )
        assert kinds == [row.kind for row in expected.rows]
        table = page.locator("table.diff tbody").inner_text()
        assert "## " not in table
        labels = page.locator("table.diff tbody tr.field .label").all_text_contents()
        assert "Date" in labels and "Headline" in labels
        assert page.locator(".change-summary").first.inner_text() == expected.summary

        # A pair the site has no page for says so and offers the nearest ones.
        page.goto(f"{base}{folder}/compare.html")
        page.select_option("#compare-a", "2")
        page.select_option("#compare-b", "2")
        page.click("#compare-form button[type=submit]")
        assert "same version" in page.locator("#compare-result").inner_text()
        assert problems == []

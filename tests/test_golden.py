"""The demo's site still reads exactly as its committed golden copy (see tests/golden.py)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from .golden import GOLDEN, PAGES, build_demo_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_site(tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("page", PAGES)
def test_the_page_equals_its_golden_copy(site: Path, page: str):
    expected = (GOLDEN / page).read_text(encoding="utf-8")
    actual = (site / page).read_text(encoding="utf-8")
    if actual != expected:
        lines = expected.splitlines(), actual.splitlines()
        diff = difflib.unified_diff(*lines, f"golden/{page}", f"site/{page}", lineterm="")
        shown = "\n".join(list(diff)[:60])
        pytest.fail(f"{page} differs from its golden copy (run `make golden` if meant):\n{shown}")

"""The documentation keeps up with the code: every command is in the README, every
setting in docs/configuration.md, every trailer in docs/archive-format.md."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import typer

from archiver.cli import app
from archiver.config import ClusterConfig, FetchConfig, NotifyConfig, ScheduleConfig, SourceConfig
from archiver.store import format as archive_format

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
FORMAT = (ROOT / "docs" / "archive-format.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names = [prefix + (c.name or c.callback.__name__) for c in group.registered_commands]  # type: ignore[union-attr]
    for sub in group.registered_groups:
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


@pytest.mark.parametrize("command", _commands(app))
def test_every_command_is_in_the_readme(command: str):
    assert f"archiver {command}" in README


@pytest.mark.parametrize(
    "key",
    sorted(
        {
            f.name
            for cls in (FetchConfig, ScheduleConfig, SourceConfig, NotifyConfig, ClusterConfig)
            for f in fields(cls)
        }
        - {"name", "schedule"}
    ),
)
def test_every_setting_is_documented(key: str):
    assert re.search(rf"^{key} = ", CONFIGURATION, re.MULTILINE), key


@pytest.mark.parametrize("key", archive_format.TRAILERS)
def test_every_trailer_of_the_format_is_documented(key: str):
    assert f"`{key}`" in FORMAT


def test_no_trailer_is_spelt_outside_the_format_module():
    """Every module writes and reads trailers through archiver.store.format's names."""
    spelt = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "archiver").rglob("*.py")
        if path.name != "format.py" and re.search(r'"Archiver-[A-Za-z-]+"', path.read_text())
    }
    assert spelt == set()


def test_the_format_page_names_its_module():
    assert "archiver/store/format.py" in FORMAT

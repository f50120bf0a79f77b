"""The documentation keeps up with the code: every command is in the README, every
setting in docs/configuration.md, every trailer in docs/archive-format.md."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import typer

from archiver.cli import app
from archiver.config import FetchConfig, ScheduleConfig, SourceConfig

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
        {f.name for cls in (FetchConfig, ScheduleConfig, SourceConfig) for f in fields(cls)}
        - {"name", "schedule"}
    ),
)
def test_every_setting_is_documented(key: str):
    assert re.search(rf"^{key} = ", CONFIGURATION, re.MULTILINE), key


def test_every_trailer_written_is_documented():
    written = set()
    for module in ("capture.py", "store.py", "compare.py"):
        written |= set(
            re.findall(r'"(Archiver-[A-Za-z-]+)"', (ROOT / "archiver" / module).read_text())
        )
    missing = sorted(t for t in written if f"`{t}`" not in FORMAT)
    assert missing == []

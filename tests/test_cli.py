"""The command line as a terminal user meets it: help that fits 80 columns, one-line errors
for expected failures, articles named the way people name them, output for scripts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer.main
from typer.testing import CliRunner

from archiver.cli import app

runner = CliRunner()


def _command_paths(command: object, prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Every command and subcommand, as the words that name it."""
    yield list(prefix)
    for name, sub in sorted(getattr(command, "commands", {}).items()):  # a group's
        yield from _command_paths(sub, (*prefix, name))


COMMANDS = list(_command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "archiver")
def test_help_fits_80_columns_and_flags_take_no_value(command: list[str]):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "<bool>" not in result.output
    long = [line for line in result.output.splitlines() if len(line) > 80]
    assert not long, "\n".join(long)


def test_shell_completion_is_offered():
    result = runner.invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0, result.output
    assert "_ARCHIVER_COMPLETE" in result.output  # the script bash sources

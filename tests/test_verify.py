"""`archiver verify` on real archives: every version backed and verified after real syncs;
a changed byte in a capture, a deleted capture file and a commit whose text its capture
does not give each caught with one line naming the article file and the commit."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import ExitStatus, app
from archiver.clock import FixedClock
from archiver.store import format as archive_format
from archiver.store.history import iter_commits
from archiver.sync import add, sync

from .conftest import git
from .newsserver import NewsServer, article_html
from .pages import BRIDGE, BRIDGE_EDITED, HARBOUR
from .test_sync_captures import set_captures

runner = CliRunner()
TITLE = "Old bridge to close for repairs"


def verify(archive: Archive, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["verify", *args, "--archive", str(archive.root)])


def two_versions(archive: Archive, server: NewsServer, clock: FixedClock) -> list:  # type: ignore[type-arg]
    server.set("/news/bridge", article_html(TITLE, BRIDGE))
    server.set("/news/harbour", article_html("Harbour quotas cut catch", HARBOUR))
    add(archive, [server.url("/news/bridge"), server.url("/news/harbour")])
    clock.advance(timedelta(hours=1))
    server.set("/news/bridge", article_html(TITLE, BRIDGE_EDITED))
    sync(archive, check_all=True)
    return [c for c in iter_commits(archive.repo) if c.url]


def test_every_version_is_backed_and_verified(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    assert len(two_versions(archive, server, clock)) == 3
    result = verify(archive)
    assert result.exit_code == ExitStatus.OK, result.output
    assert result.output == "3 versions, 3 backed, 3 verified\n"
    one = verify(archive, server.url("/news/harbour"))
    assert one.output == "1 versions, 1 backed, 1 verified\n"


def test_a_changed_byte_in_a_capture_is_one_line(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    commits = two_versions(archive, server, clock)
    ref = archive_format.read_capture(commits[-1].trailers)
    assert ref is not None
    path = archive.root / ref.path
    data = bytearray(path.read_bytes())
    data[len(data) - 200] ^= 0x01  # inside the last record: the edit's response
    path.write_bytes(bytes(data))
    result = verify(archive)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    problems = [line for line in lines[:-1] if not line.startswith("warning: ")]
    article = commits[-1].changes[0].path
    assert len(problems) == 1, result.output
    assert problems[0].startswith(
        f"{article} @ {commits[-1].sha[:12]} (version 2): capture unreadable: "
        f"{ref.path}: record {ref.record_id}: not found: the file is damaged at offset "
    )
    assert f"warning: {ref.path}: unreadable from offset " in result.output
    assert result.output.splitlines()[-1] == "3 versions, 2 backed, 2 verified, 1 problems"


def test_a_deleted_capture_file_is_one_line_per_version(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    commits = two_versions(archive, server, clock)
    refs = [archive_format.read_capture(c.trailers) for c in commits]
    first = refs[0]
    assert first is not None
    (archive.root / first.path).unlink()
    result = verify(archive)
    assert result.exit_code == 1
    lost = [c for c, r in zip(commits, refs, strict=True) if r and r.path == first.path]
    lines = result.output.splitlines()
    assert len(lines) == len(lost) + 1
    for commit, line in zip(lost, lines, strict=False):
        assert line.startswith(f"{commit.changes[0].path} @ {commit.sha[:12]} ")
        assert f"capture missing: {first.path}: record " in line
        assert line.endswith("capture file missing")


def test_text_the_capture_does_not_give_is_caught(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    """A commit naming a capture whose page reads otherwise (text edited by hand)."""
    commits = two_versions(archive, server, clock)
    last = commits[-1]
    article = last.changes[0].path
    file = archive.root / article
    file.write_text(file.read_text().replace("bridge", "tunnel"))
    trailers = "\n".join(f"{k}: {v}" for k, v in last.trailers.items())
    git(archive.root, "commit", "-qm", f"{last.subject}\n\n{trailers}", "--", article)
    sha = git(archive.root, "rev-parse", "HEAD").strip()
    result = verify(archive)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{article} @ {sha[:12]} (version 2): {archive_format.read_capture(last.trailers).path}:"
        f" record {archive_format.read_capture(last.trailers).record_id}:"
        " re-extracts to other text than the commit's"
    )


def test_versions_from_before_captures_are_not_backed_unless_strict(
    archive: Archive, server: NewsServer
) -> None:
    archive = set_captures(archive, "none")
    server.set("/news/bridge", article_html(TITLE, BRIDGE))
    add(archive, [server.url("/news/bridge")])
    result = verify(archive)
    assert result.exit_code == ExitStatus.OK, result.output
    assert (
        result.output.splitlines()[0]
        == "1 versions, 0 backed, 0 verified, 1 not backed (no capture)"
    )
    assert "not errors (--strict makes them errors)" in result.output
    strict = verify(archive, "--strict")
    assert strict.exit_code == 1
    assert strict.output.splitlines()[0].endswith("(version 1): no capture (the commit names none)")


def test_other_rules_are_counted_not_failed(
    archive: Archive, server: NewsServer, clock: FixedClock
) -> None:
    two_versions(archive, server, clock)
    config = archive.root / "archiver.toml"
    text = (
        config.read_text()
        + '\n[sources.127-0-0-1]\npages = ["http://127.0.0.1/"]\ndrop_lines = ["^Nothing$"]\n'
    )
    config.write_text(text)
    result = verify(archive)
    assert result.exit_code == ExitStatus.OK, result.output
    assert result.output == (
        "3 versions, 3 backed, 0 verified, 3 made under other rules (not re-extracted)\n"
    )


def test_a_trailer_pointing_outside_the_archive_is_a_problem(
    archive: Archive, server: NewsServer, tmp_path: Path
) -> None:
    server.set("/news/bridge", article_html(TITLE, BRIDGE))
    add(archive, [server.url("/news/bridge")])
    (last,) = [c for c in iter_commits(archive.repo) if c.url]
    article = last.changes[0].path
    file = archive.root / article
    file.write_text(file.read_text() + "\nMore.\n")
    trailers = dict(last.trailers)
    value = trailers[archive_format.CAPTURE]
    trailers[archive_format.CAPTURE] = re.sub(r"^\S+", "../../etc/passwd.warc.gz", value)
    message = "\n".join(f"{k}: {v}" for k, v in trailers.items())
    git(archive.root, "commit", "-qm", f"{last.subject}\n\n{message}", "--", article)
    result = verify(archive)
    assert result.exit_code == 1
    assert "Archiver-Capture: not a capture file path: '../../etc/passwd.warc.gz'" in result.output

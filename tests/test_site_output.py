"""Where `archiver build` writes: the output folder holds only the site, the build state
lives in the archive, and a bad place for the site is refused with one line, losing nothing.

Every test drives the real command line against a real archive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import app
from archiver.clock import FixedClock
from archiver.site import build_site, workers
from archiver.site.buildstate import BuildPlace
from archiver.store.document import Document
from archiver.sync import sync

from .conftest import git
from .newsserver import NewsServer
from .test_site_archives import commit_versions, news_archive, site_files
from .test_site_incremental import edit_flood

runner = CliRunner()
ARCHIVER = Path(sys.executable).with_name("archiver")
BUILDS = Path(".archiver") / "builds"


def archiver_build(archive: Archive, out: Path | str, *options: str) -> tuple[int, str, str]:
    """`archiver build` as a user runs it: (exit status, stdout, stderr)."""
    result = runner.invoke(
        app, ["build", "--out", str(out), "--archive", str(archive.root), *options]
    )
    return result.exit_code, result.stdout, result.stderr


def assert_as_a_fresh_build(archive: Archive, out: Path, fresh: Path) -> None:
    """The site in `out` is exactly what a build into a new folder `fresh` makes."""
    assert archiver_build(archive, fresh, "--no-search")[0] == 0
    assert site_files(out) == site_files(fresh)


def small_archive(archive: Archive, clock: FixedClock, articles: int = 2) -> None:
    for n in range(articles):
        document = Document(
            url=f"https://example.org/story-{n}", source="web", title=f"Story {n}", body="One.\n"
        )
        path = f"articles/web/2025/03/01/story-{n}-{n:012x}.md"
        versions = [document, document.with_body(f"One, edited {n}.\n")]
        commit_versions(archive, path, versions, clock.now(), timedelta(minutes=n + 1))


def snapshot(out: Path) -> dict[str, tuple[str, int, str]]:
    """Everything a copy to a web host would see: each entry's kind, mtime and contents."""
    entries = {".": ("folder", out.stat().st_mtime_ns, "")}
    for folder, folders, names in os.walk(out):
        for name in folders + names:
            path = Path(folder, name)
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            kind = "file" if path.is_file() else "folder"
            entries[path.relative_to(out).as_posix()] = (kind, info.st_mtime_ns, digest)
    return entries


def state_folders(archive: Archive) -> list[Path]:
    builds = archive.root / BUILDS
    return sorted(builds.iterdir()) if builds.is_dir() else []


def assert_one_error_line(stderr: str, *parts: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])


# --- the output holds only the site ---------------------------------------------------------


def test_a_rebuild_with_nothing_new_leaves_the_output_byte_for_byte_unchanged(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    status, printed, _ = archiver_build(archive, out)
    assert status == 0, printed
    before = snapshot(out)
    assert [n for n in before if n != "." and n.rsplit("/", 1)[-1].startswith(".")] == []
    assert (out / "index.html").is_file()
    # The build state is kept in the archive, out of the git history.
    [state] = state_folders(archive)
    assert (state / "build.db").is_file()
    assert git(archive.root, "status", "--porcelain") == ""

    time.sleep(0.01)  # a rewrite would show in the modification times
    status, printed, _ = archiver_build(archive, out)
    assert status == 0 and "incremental build" in printed and " 0 files written" in printed
    assert snapshot(out) == before


def test_an_old_build_state_in_the_output_is_moved_out_of_it(
    archive: Archive, server: NewsServer, clock: FixedClock, tmp_path: Path
) -> None:
    news_archive(archive, server, clock)
    out = tmp_path / "site"
    assert archiver_build(archive, out, "--no-search")[0] == 0
    # As earlier versions left it: the state beside the pages, none in the archive.
    [state] = state_folders(archive)
    shutil.move(state / "build.db", out / ".archiver-build.db")
    shutil.rmtree(archive.root / BUILDS)
    clock.advance(timedelta(hours=5))
    edit_flood(server)
    sync(archive, check_all=True, discover_new=False)

    status, printed, _ = archiver_build(archive, out, "--no-search")
    assert status == 0 and "incremental build" in printed, printed
    assert not (out / ".archiver-build.db").exists()
    [state] = state_folders(archive)
    assert (state / "build.db").is_file()
    assert_as_a_fresh_build(archive, out, tmp_path / "fresh")


def test_an_old_build_state_left_by_a_stopped_build_is_removed_and_a_full_build_follows(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    small_archive(archive, clock)
    out = tmp_path / "site"
    assert archiver_build(archive, out, "--no-search")[0] == 0
    expected = site_files(out)
    [state] = state_folders(archive)
    shutil.move(state / "build.db", out / ".archiver-build.db")
    (out / ".archiver-build.unfinished").touch()
    shutil.rmtree(archive.root / BUILDS)

    status, printed, _ = archiver_build(archive, out, "--no-search")
    assert status == 0 and "full build" in printed, printed
    assert site_files(out) == expected
    assert archiver_build(archive, out, "--no-search")[1].count("incremental build") == 1


def test_an_output_folder_deleted_since_the_last_build_is_built_in_full(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    small_archive(archive, clock)
    out = tmp_path / "site"
    assert archiver_build(archive, out, "--no-search")[0] == 0
    expected = site_files(out)
    shutil.rmtree(out)
    status, printed, _ = archiver_build(archive, out, "--no-search")
    assert status == 0 and "full build" in printed, printed
    assert site_files(out) == expected


# --- bad places for the site ----------------------------------------------------------------


def test_an_output_folder_that_cannot_be_made_is_one_error_line(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    small_archive(archive, clock)
    in_the_way = tmp_path / "notes.txt"
    in_the_way.write_text("mine\n", encoding="utf-8")
    # /sys refuses new folders even to root; a file cannot hold one.
    for out, reason in ((Path("/sys/archiver-site"), "cannot create"), (in_the_way / "site", "")):
        status, _, stderr = archiver_build(archive, out, "--no-search")
        assert status == 4
        assert_one_error_line(stderr, str(out), reason)
    assert in_the_way.read_text(encoding="utf-8") == "mine\n"


def test_an_output_that_is_a_file_is_refused(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    small_archive(archive, clock)
    out = tmp_path / "site"
    out.write_text("mine\n", encoding="utf-8")
    status, _, stderr = archiver_build(archive, out, "--no-search")
    assert status == 4
    assert_one_error_line(stderr, str(out), "not a folder")
    assert out.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(
    "place", [".", "..", ".git", ".git/site", ".archiver/site", "articles", "articles/new"]
)
def test_the_archive_itself_is_no_place_for_the_site(
    archive: Archive, clock: FixedClock, place: str
) -> None:
    small_archive(archive, clock)
    files = sorted(str(p) for p in archive.root.parent.rglob("*"))
    out = (archive.root / place).resolve()
    status, _, stderr = archiver_build(archive, archive.root / place, "--no-search")
    assert status == 4
    assert_one_error_line(stderr, str(out))
    assert sorted(str(p) for p in archive.root.parent.rglob("*")) == files
    assert git(archive.root, "status", "--porcelain") == ""


def test_a_folder_of_other_files_is_never_written_into_unless_forced(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    small_archive(archive, clock)
    out = tmp_path / "www"
    (out / "old").mkdir(parents=True)
    mine = {"notes.txt": "mine\n", "index.html": "<p>my page</p>\n", "old/a.css": "p {}\n"}
    for name, text in mine.items():
        (out / name).write_text(text, encoding="utf-8")
    before = snapshot(out)

    status, _, stderr = archiver_build(archive, out, "--no-search")
    assert status == 4
    assert_one_error_line(
        stderr, str(out), "holds 3 files archiver did not write, e.g. index.html", "--force"
    )
    assert snapshot(out) == before
    assert state_folders(archive) == []

    status, printed, _ = archiver_build(archive, out, "--no-search", "--force")
    assert status == 0, printed
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert "Story 0" in (out / "index.html").read_text(encoding="utf-8")
    # From then on the folder holds a build archiver knows.
    status, printed, _ = archiver_build(archive, out, "--no-search")
    assert status == 0 and "incremental build" in printed, printed


def test_a_second_build_into_the_same_folder_waits_its_turn(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    """A build stopped (SIGSTOP) while it writes holds the folder; once it is killed, the
    next build takes the folder over and builds it in full."""
    small_archive(archive, clock, articles=300)
    out = tmp_path / "site"
    command = [str(ARCHIVER), "build", "--out", str(out), "--archive", str(archive.root)]
    command.append("--no-search")
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _stop_once_it_holds_the_lock(first, archive)
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 4
        assert_one_error_line(second.stderr, f"another build is writing {out} (pid {first.pid})")
    finally:
        first.kill()
        first.wait(timeout=60)

    third = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert "full build" in third.stdout
    assert_as_a_fresh_build(archive, out, tmp_path / "fresh")


def test_a_second_build_in_the_same_process_is_kept_out_too(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    small_archive(archive, clock)
    out = tmp_path / "site"
    with BuildPlace(archive.state_path.parent, out).locked():
        status, _, stderr = archiver_build(archive, out, "--no-search")  # in this process
        assert status == 4
        assert_one_error_line(stderr, f"another build is writing {out} (pid {os.getpid()})")
    assert archiver_build(archive, out, "--no-search")[0] == 0


def _stop_once_it_holds_the_lock(build: subprocess.Popen[bytes], archive: Archive) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        locks = list((archive.root / BUILDS).glob("*/lock"))
        if locks and locks[0].read_text(encoding="utf-8").strip() == str(build.pid):
            build.send_signal(signal.SIGSTOP)
            assert build.poll() is None, "the build finished before it could be stopped"
            return
        assert build.poll() is None, build.communicate()
        time.sleep(0.001)
    raise AssertionError("the build never took its lock")


# --- a site inside the archive --------------------------------------------------------------


def test_a_site_built_inside_the_archive_stays_out_of_git_status(
    archive: Archive, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_archive(archive, clock)
    monkeypatch.chdir(archive.root)
    for _ in range(2):
        result = runner.invoke(app, ["build", "--no-search"])  # --out site, the default
        assert result.exit_code == 0, result.output
        assert (archive.root / "site" / "index.html").is_file()
        assert git(archive.root, "status", "--porcelain", "--untracked-files=all") == ""
    exclude = (archive.root / ".git" / "info" / "exclude").read_text(encoding="utf-8")
    assert exclude.splitlines().count("/site/") == 1
    # Ignored in the archive's own git config, not in a commit.
    assert "site" not in git(archive.root, "show", "HEAD:.gitignore")


def test_a_pooled_build_renders_in_its_workers_alone(
    archive: Archive, clock: FixedClock, tmp_path: Path
) -> None:
    """Enough articles for the render pool: every one is rendered, by forked workers whose
    renderer never exists in the builder's own process."""
    small_archive(archive, clock, articles=workers.BATCH * 3)
    report = build_site(archive, tmp_path / "site", search=False, workers=2)
    assert report.articles_rendered == report.articles == workers.BATCH * 3
    assert workers._RENDERER is None
    fresh = tmp_path / "fresh"
    assert build_site(archive, fresh, search=False, workers=1).articles_rendered == report.articles
    assert site_files(tmp_path / "site") == site_files(fresh)

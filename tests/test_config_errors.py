"""Bad settings, a damaged state store and a read-only archive end in one line that names
the key or file and what is wrong (or are handled), never in a traceback or a hang."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.sync import add

from .newsserver import NewsServer, article_html
from .pages import HARBOUR

SOURCE = '[sources.daily]\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n'
LONG = "x" * 5000


def archiver(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process, with a bound on how long it may take."""
    command = [*prefix, sys.executable, "-m", "archiver", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode not in (0, None), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert len(lines[0]) < 600, f"{len(lines[0])} characters"  # long values are cut short
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        pytest.param(
            SOURCE + 'drop_selectors = ["div[["]\n',
            ["sources.daily.drop_selectors", "'div[['"],
            id="css",
        ),
        pytest.param("[fetch]\ntimeout = 0\n", ["fetch.timeout", "from 1 to 300"], id="timeout-0"),
        pytest.param(
            "[fetch]\ntimeout = inf\n", ["fetch.timeout", "from 1 to 300"], id="timeout-inf"
        ),
        pytest.param(
            "[fetch]\ntimeout = nan\n", ["fetch.timeout", "got number nan"], id="timeout-nan"
        ),
        pytest.param(
            "[fetch]\nretries = 1000000\n", ["fetch.retries", "from 0 to 10"], id="retries"
        ),
        pytest.param("[fetch]\nper_host = 0\n", ["fetch.per_host", "from 1 to 100"], id="per-host"),
        pytest.param(
            "[fetch]\nmin_delay = 1e9\n", ["fetch.min_delay", "from 0 to 600"], id="delay"
        ),
        pytest.param(
            "[fetch]\nmax_bytes = 0\n", ["fetch.max_bytes", "from 1,000 to"], id="max-bytes"
        ),
        pytest.param(
            "[schedule]\nmin_interval = 0\n", ["schedule.min_interval"], id="min-interval"
        ),
        pytest.param(
            "[schedule]\nmax_interval = 5\n", ["schedule.max_interval", "at least"], id="intervals"
        ),
        pytest.param(
            "[schedule]\nmax_per_run = 100000000\n", ["schedule.max_per_run"], id="per-run"
        ),
        pytest.param(
            SOURCE + "[sources.daily.schedule]\nstop_after_days = 1e9\n",
            ["sources.daily.schedule.stop_after_days", "days"],
            id="source-schedule",
        ),
        pytest.param(SOURCE + "min_delay = 1e6\n", ["sources.daily.min_delay"], id="source-delay"),
        pytest.param(f'[fetch]\ntimeout = "{LONG}"\n', ["fetch.timeout", "…"], id="long-value"),
        pytest.param(f"[fetch]\n{LONG} = 1\n", ["fetch.xxx", "…", "unknown key"], id="long-key"),
        pytest.param("[fetch\n", ["not valid TOML"], id="not-toml"),
    ],
)
def test_bad_settings_are_one_line_naming_the_key(
    archive: Archive, settings: str, named: list[str]
):
    config = archive.root / "archiver.toml"
    config.write_text(settings, encoding="utf-8")
    line = one_error_line(archiver("sync", "--archive", str(archive.root)))
    assert str(config) in line
    for words in named:
        assert words in line


def test_a_long_url_is_cut_short_in_its_error(archive: Archive):
    url = f"http://example.org:99999999/{'a' * 1500}/end"  # under the URL length cap
    line = one_error_line(archiver("source", "add", "x", "--feed", url, "-a", str(archive.root)))
    assert "http://example.org:99999999/aaa" in line and "aaa/end" in line
    assert "port is not a number" in line


def _archive_with_articles(archive: Archive, server: NewsServer) -> list[str]:
    urls = []
    for n in range(12):
        server.set(f"/story/{n}", article_html(f"Story {n} of the harbour", HARBOUR))
        urls.append(server.url(f"/story/{n}"))
    add(archive, urls)
    archive.close()
    return urls


@pytest.mark.parametrize("damage", ["random bytes", "truncated"])
def test_a_damaged_state_store_is_set_aside_and_rebuilt(
    archive: Archive, server: NewsServer, damage: str
):
    urls = _archive_with_articles(archive, server)
    state = archive.root / ".archiver" / "state.db"
    if damage == "random bytes":
        state.write_bytes(bytes(range(256)) * 64)
    else:
        state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    bad = state.read_bytes()

    done = archiver("status", urls[3], "--archive", str(archive.root))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"warning: {state}: damaged (") and "rebuilding it from git" in line
    (kept,) = state.parent.glob("state.db.corrupt-*")
    assert kept.name in line and kept.read_bytes() == bad  # kept aside, as it was
    assert "versions:     1" in done.stdout  # rebuilt from git
    assert archiver("status", "--archive", str(archive.root)).stderr == ""  # once only


def _read_only_prefix(folder: Path) -> tuple[str, ...]:
    """Run a command with `folder` bind-mounted read-only in a private mount namespace: a
    read-only file system stops root too, where permission bits do not."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare and mount are needed to make a folder read-only for root")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    prefix = ("unshare", "-m", "--propagation", "private", "sh", "-c", script, str(folder))
    if subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no private mount namespace here (unshare -m or mount is not permitted)")
    touch = [*prefix, "sh", "-c", 'touch "$0/probe" 2>/dev/null', str(folder)]
    if subprocess.run(touch, check=False).returncode == 0 or (folder / "probe").exists():
        pytest.skip("the read-only bind mount did not stop writes here")
    return prefix


@pytest.mark.parametrize("command", ["sync", "add"])
def test_a_read_only_archive_is_one_line(archive: Archive, server: NewsServer, command: str):
    urls = _archive_with_articles(archive, server)
    prefix = _read_only_prefix(archive.root)
    args = [command, "--archive", str(archive.root)] + (urls[:1] if command == "add" else [])
    line = one_error_line(archiver(*args, prefix=prefix))
    assert line.startswith(f"error: {archive.root}: the archive folder is not writable"), line


def test_an_empty_state_store_is_rebuilt_as_a_missing_one(archive: Archive, server: NewsServer):
    urls = _archive_with_articles(archive, server)
    (archive.root / ".archiver" / "state.db").write_bytes(b"")
    done = archiver("status", urls[3], "--archive", str(archive.root))
    assert done.returncode == 0, done.stderr
    assert "versions:     1" in done.stdout


@pytest.mark.parametrize("command", ["status", "log"])
def test_a_read_only_archive_can_still_be_read(archive: Archive, server: NewsServer, command: str):
    urls = _archive_with_articles(archive, server)
    done = archiver(
        command, urls[3], "--archive", str(archive.root), prefix=_read_only_prefix(archive.root)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (
        "Story 3 of the harbour" in done.stdout
        if command == "log"
        else "versions:     1" in done.stdout
    )

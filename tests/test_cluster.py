"""`archiver sync --scheduler`: the checks on a real Dask cluster of worker processes (a
LocalCluster, and `dask scheduler` / `dask worker` started as commands), the loopback news
site as the sources. A cluster run makes the commits a local run makes; politeness, robots
and Retry-After pauses hold across workers; a killed worker loses no article."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archiver.archive import Archive, init_archive
from archiver.capture.model import Outcome, RunReport
from archiver.cli import ExitStatus, app
from archiver.clock import FixedClock
from archiver.config import add_source
from archiver.errors import ClusterError, ConfigError
from archiver.sync import sync

from .conftest import START, configure, git
from .newsserver import NewsServer
from .test_sync import serve_stories, story
from .webarchive import stop_group

distributed = pytest.importorskip("distributed")

runner = CliRunner()
BIN = Path(sys.executable).parent
ARTICLE = "/news/s"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two worker processes, two threads each, shared by the tests that kill nothing."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
    ) as local:
        yield local.scheduler_address


def source_archive(root: Path, server: NewsServer, **fetch: object) -> Archive:
    """An archive following the server's /feed.xml, with [fetch] settings."""
    archive = configure(init_archive(root, FixedClock(START)), **{"min_delay": 0, **fetch})
    add_source(archive.root, "daily", feeds=[server.url("/feed.xml")])
    git(archive.root, "commit", "-qam", "Add source daily")
    archive.close()
    return Archive.open(root, FixedClock(START))


def twin(archive: Archive, root: Path) -> Archive:
    """The same archive, commit for commit, in another folder."""
    git(archive.root.parent, "clone", "-q", str(archive.root), str(root))
    return Archive.open(root, FixedClock(START))


def head(archive: Archive) -> str:
    return git(archive.root, "rev-parse", "HEAD").strip()


def article_requests(server: NewsServer) -> list[float]:
    return sorted(r.at for r in server.requests if r.path.startswith(ARTICLE))


def test_a_cluster_sync_makes_the_commits_a_local_sync_makes(
    tmp_path: Path, server: NewsServer, cluster: str
):
    serve_stories(server, 12)
    local = source_archive(tmp_path / "local", server)
    remote = twin(local, tmp_path / "remote")
    first = sync(local), sync(remote, scheduler=cluster)
    assert [r.outcome for r in first[1].results] == [Outcome.NEW] * 12
    assert head(remote) == head(local)  # same trees, messages, trailers and dates
    # Some pages edited, one gone; the next run compares with the stored text sent along.
    for n in range(0, 12, 3):
        server.set(f"{ARTICLE}{n}", story(n, edition=1))
    server.remove(f"{ARTICLE}11")
    for archive in (local, remote):
        archive.clock.advance(timedelta(hours=2))
    second = sync(local), sync(remote, scheduler=cluster)
    assert second[1].count(Outcome.CHANGED) == 4
    assert _outcomes(second[1]) == _outcomes(second[0])
    assert head(remote) == head(local)
    assert git(remote.root, "log", "--format=%H%n%B") == git(local.root, "log", "--format=%H%n%B")


def _outcomes(report: RunReport) -> list[tuple[str, Outcome]]:
    return [(r.url, r.outcome) for r in report.results]


def test_politeness_and_robots_hold_across_the_cluster(
    tmp_path: Path, server: NewsServer, cluster: str
):
    """Four checks at once on two workers: still one request to the host at a time, 0.25 s
    apart, and robots.txt read once for the whole run."""
    server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    serve_stories(server, 8)
    archive = source_archive(tmp_path / "archive", server, min_delay=0.25, per_host=1)
    report = sync(archive, scheduler=cluster)
    assert report.count(Outcome.NEW) == 8
    assert len(server.hits("/robots.txt")) == 1
    times = sorted(r.at for r in server.requests)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.24, gaps


def test_a_retry_after_on_one_worker_pauses_the_host_for_all(
    tmp_path: Path, server: NewsServer, cluster: str
):
    serve_stories(server, 8)
    busy = server.routes[f"{ARTICLE}2"]
    server.set(f"{ARTICLE}2", b"busy", status=429, headers={"Retry-After": "1"}, then=busy)
    archive = source_archive(tmp_path / "archive", server, per_host=1)
    report = sync(archive, scheduler=cluster)
    assert report.count(Outcome.NEW) == 8
    refused = server.hits(f"{ARTICLE}2")[0]
    # Four checks at once on two workers, and none asked the host during the second the
    # 429 asked for.
    during = [r for r in server.requests if refused.answered < r.at < refused.answered + 0.95]
    assert during == [], during


def test_a_killed_worker_loses_no_article_and_stores_none_twice(tmp_path: Path, server: NewsServer):
    serve_stories(server, 16)
    for n in range(16):
        server.routes[f"{ARTICLE}{n}"].delay = 0.15  # the run lasts long enough to kill in
    local = source_archive(tmp_path / "local", server)
    remote = twin(local, tmp_path / "remote")
    sync(local)
    before = len(article_requests(server))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = sorted(client.run(os.getpid).values())
        killed = threading.Event()

        def kill_one() -> None:
            deadline = time.monotonic() + 60
            while len(article_requests(server)) < before + 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(pids[0], signal.SIGKILL)
            killed.set()

        killer = threading.Thread(target=kill_one, daemon=True)
        killer.start()
        report = sync(remote, scheduler=cluster.scheduler_address)
        killer.join()
    assert killed.is_set()
    assert report.count(Outcome.NEW) == 16, [r.reason for r in report.failures]
    assert head(remote) == head(local)
    messages = git(remote.root, "log", "--format=%s").splitlines()
    assert len(messages) == len(set(messages))  # no article stored twice


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def commands(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """`dask scheduler` on loopback and a way to add `dask worker`s to it, as a user would."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "dask.log").open("wb")
    command = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port)]
    scheduler = subprocess.Popen(
        [*command, "--no-dashboard"], stdout=log, stderr=log, start_new_session=True
    )
    started.append(scheduler)
    try:
        yield address, started
    finally:
        for process in reversed(started):  # workers first, then their scheduler
            stop_group(process, timeout=30)  # a nanny may outlive SIGTERM: its group is killed
        log.close()


def start_worker(
    address: str, started: list[subprocess.Popen[bytes]], env: dict[str, str] | None = None
) -> None:
    command = [BIN / "dask", "worker", address, "--nworkers", "2", "--nthreads", "2"]
    command += ["--no-dashboard"]
    started.append(
        subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopped whole, nanny and workers
        )
    )


def archiver(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "archiver", *args], capture_output=True, text=True, timeout=180, check=False
    )


def test_dask_scheduler_and_worker_commands_run_a_sync(
    tmp_path: Path, server: NewsServer, commands: tuple[str, list[subprocess.Popen[bytes]]]
):
    address, started = commands
    start_worker(address, started)
    serve_stories(server, 6)
    local = source_archive(tmp_path / "local", server)
    (local.root / "archiver.toml").write_text(
        (local.root / "archiver.toml").read_text() + "\n[cluster]\ntimeout = 60\n"
    )
    git(local.root, "commit", "-qam", "Wait for the workers longer")
    remote = twin(local, tmp_path / "remote")
    sync(local)
    sync(remote, scheduler=address)
    assert head(remote) == head(local)
    server.set(f"{ARTICLE}4", story(4, edition=1))
    done = archiver("sync", "--scheduler", address, "--archive", str(remote.root))
    assert done.returncode == ExitStatus.OK, done.stderr
    assert "1 changed" in done.stdout, done.stdout


def test_workers_without_archiver_are_one_error_line(
    tmp_path: Path, server: NewsServer, commands: tuple[str, list[subprocess.Popen[bytes]]]
):
    address, started = commands
    shadow = tmp_path / "shadow" / "archiver"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('archiver is not installed here')\n")
    start_worker(address, started, env={**os.environ, "PYTHONPATH": str(shadow.parent)})
    archive = source_archive(tmp_path / "archive", server)
    serve_stories(server, 2)
    with pytest.raises(ClusterError, match="this Dask worker cannot run archiver's checks"):
        sync(archive, scheduler=address)
    assert server.requests == []  # nothing fetched, nothing committed
    assert git(archive.root, "log", "--format=%s", "-1").strip() == "Add source daily"


def test_an_unreachable_scheduler_is_one_error_line(tmp_path: Path, server: NewsServer):
    archive = source_archive(tmp_path / "archive", server)
    (archive.root / "archiver.toml").write_text(
        (archive.root / "archiver.toml").read_text()
        + f'\n[cluster]\nscheduler = "tcp://127.0.0.1:{free_port()}"\ntimeout = 2\n'
    )
    git(archive.root, "commit", "-qam", "Cluster settings")
    started = time.monotonic()
    result = runner.invoke(app, ["sync", "--archive", str(archive.root)])
    assert result.exit_code == ExitStatus.ERROR
    assert "cannot reach the Dask scheduler" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('scheduler = "localhost:8786"', "cluster.scheduler: expected a Dask scheduler address"),
        ("timeout = 0", "cluster.timeout: expected a number from 1 to 600 seconds"),
        ('schedulers = "tcp://a:1"', "cluster.schedulers: unknown key"),
    ],
)
def test_cluster_settings_are_checked(tmp_path: Path, setting: str, message: str):
    archive = init_archive(tmp_path / "archive")
    path = archive.root / "archiver.toml"
    path.write_text(path.read_text() + f"\n[cluster]\n{setting}\n")
    with pytest.raises(ConfigError, match=message):
        Archive.open(archive.root)


def test_a_scheduler_option_that_is_no_address_is_refused(archive: Archive):
    result = runner.invoke(app, ["sync", "--scheduler", "8786", "--archive", str(archive.root)])
    assert result.exit_code == ExitStatus.ERROR
    assert "--scheduler: expected a Dask scheduler address like tcp://HOST:PORT" in result.output


MISSING_DASK = """
import sys
sys.modules["distributed"] = None  # as when the cluster extra is not installed
from archiver.cli import main
sys.argv = ["archiver", "sync", "--scheduler", "tcp://127.0.0.1:1", "--archive", sys.argv[1]]
main()
"""

LOCAL_SYNC = """
import sys
from pathlib import Path
from archiver.archive import Archive
from archiver.sync import sync
report = sync(Archive.open(Path(sys.argv[1])))
print(report.checked, sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")))
"""


def test_without_the_extra_the_scheduler_option_says_what_to_install(archive: Archive):
    done = subprocess.run(
        [sys.executable, "-c", MISSING_DASK, str(archive.root)], capture_output=True, text=True
    )
    assert done.returncode == ExitStatus.ERROR
    assert done.stderr.strip() == (
        "error: --scheduler needs Dask distributed: pip install 'archiver[cluster]'"
    )


def test_a_local_sync_never_imports_dask(tmp_path: Path, server: NewsServer):
    serve_stories(server, 2)
    archive = source_archive(tmp_path / "archive", server)
    done = subprocess.run(
        [sys.executable, "-c", LOCAL_SYNC, str(archive.root)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split(" ", 1) == ["2", "[]\n"]

"""The web-archive tools the capture tests drive: pywb (`wb-manager`, `wayback`) and the wacz
package's validator, from their own venv under .tools/webarchive/ (`bash .ci/install-test-tools`).

As with the browser tests (tests/sitetools.py), a missing tool skips the test on a developer's
machine and fails it with CI set: CI must really replay, not pass by skipping.

`Collection` is a pywb collection in a folder of its own; `wayback(collection)` serves it on
a free loopback port for the length of a `with` block, in a process group of its own that is
stopped, children and all, when the block ends. `record_versions` makes an archive whose
versions name their captures: pages served on loopback, really fetched, written by the
capture writer and committed with their Archiver-Capture trailers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from archiver.archive import Archive
from archiver.config import FetchConfig
from archiver.fetch.client import Exchange, open_fetcher, user_agent
from archiver.store import format as fmt
from archiver.store.captures import Captured, CaptureWriter
from archiver.store.commits import Change, CommitStream
from archiver.store.format import CaptureRef
from tests.newsserver import NewsServer
from tests.sitetools import ROOT, TOOL_TIMEOUT, ToolMissing, missing

__all__ = [
    "Collection",
    "ToolMissing",
    "Wayback",
    "fetch",
    "record_versions",
    "stop_group",
    "validate_wacz",
    "wayback",
]

WEBARCHIVE_BIN = ROOT / ".tools" / "webarchive" / "bin"
START_TIMEOUT = 60.0  # seconds for wayback to answer; gevent and its imports are slow to start
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before the group is killed


def tool(name: str) -> Path:
    """The path of `wayback`, `wb-manager` or `wacz`; skips (fails in CI) when missing."""
    path = WEBARCHIVE_BIN / name
    if not os.access(path, os.X_OK):
        missing(name, f"no {path}")
    return path


def run_tool(name: str, *args: str | Path, cwd: Path | None = None) -> str:
    """Runs a tool to completion; its output, or a test failure quoting it."""
    command = [str(tool(name)), *map(str, args)]
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}:\n{output}")
    return output


def validate_wacz(path: Path) -> str:
    """`wacz validate -f PATH`: its output, or a test failure quoting it."""
    output = run_tool("wacz", "validate", "-f", path)
    assert "Validation succeeded" in output, output
    return output


@dataclass(frozen=True)
class Collection:
    """A pywb collection: `root/collections/<name>/` with its archive/ and indexes/."""

    root: Path
    name: str

    @classmethod
    def create(cls, root: Path, name: str = "archive") -> Collection:
        root.mkdir(parents=True, exist_ok=True)
        run_tool("wb-manager", "init", name, cwd=root)
        return cls(root, name)

    def add(self, *files: Path) -> None:
        """Adds WARC files, or WACZ files (their WARCs and their own index, unpacked)."""
        for file in files:
            unpack = ("--unpack-wacz",) if file.suffix == ".wacz" else ()
            run_tool("wb-manager", "add", *unpack, self.name, file.resolve(), cwd=self.root)

    @property
    def index(self) -> Path:
        return self.root / "collections" / self.name / "indexes" / "index.cdxj"


@dataclass(frozen=True)
class Wayback:
    """A running pywb: the addresses of its collection's replays."""

    base: str  # http://127.0.0.1:<port>
    collection: str
    pid: int  # wayback's, which leads its process group

    def raw_url(self, timestamp: str, url: str) -> str:
        """The capture as it was served (`id_`: no rewriting, no banner)."""
        return f"{self.base}/{self.collection}/{timestamp}id_/{url}"

    def content_url(self, timestamp: str, url: str) -> str:
        """The capture rewritten for browsing, without the banner's frame around it (`mp_`:
        what the frame loads; its redirects come back with their Location rewritten)."""
        return f"{self.base}/{self.collection}/{timestamp}mp_/{url}"

    def replay_url(self, timestamp: str, url: str) -> str:
        """The capture rewritten for browsing, as a reader of the archive sees it."""
        return f"{self.base}/{self.collection}/{timestamp}/{url}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def wayback(collection: Collection) -> Iterator[Wayback]:
    """`wayback -p PORT -b 127.0.0.1` serving the collection's folder; stopped on exit."""
    port = free_port()
    log_path = collection.root / "wayback.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(tool("wayback")), "-p", str(port), "-b", "127.0.0.1"],
            cwd=collection.root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, nothing leaks
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_serving(process, base, log_path)
        yield Wayback(base, collection.name, process.pid)
    finally:
        stop_group(process)


def _wait_until_serving(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")
            raise AssertionError(f"wayback exited {process.returncode} before serving:\n{log}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: serving
        except OSError:
            time.sleep(0.2)
    log = log_path.read_text(errors="replace")
    raise AssertionError(f"wayback did not answer on {base} in {START_TIMEOUT:.0f} s:\n{log}")


def stop_group(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """Stops a process started with start_new_session=True, children and all: SIGTERM to
    its group, SIGKILL after `timeout` seconds, and SIGKILL to any child left behind."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # any child left behind in the group


def fetch(url: str, accept_encoding: str = "identity") -> tuple[int, dict[str, str], bytes]:
    """GET on loopback: status, headers and the body as received (not decoded). pywb
    decodes a gzip'd capture for a client that does not accept gzip."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


# --- an archive whose versions name their captures ---------------------------------------

FAST = FetchConfig(timeout=5, min_delay=0, retries=0)


def fetched(url: str) -> list[Exchange]:
    """What a real fetch of `url` sent and received, every hop, as the capture writer gets it."""
    record: list[Exchange] = []

    async def run() -> None:
        async with open_fetcher(FAST, user_agent()) as fetcher:
            await fetcher.fetch(url, record=record)

    asyncio.run(run())
    return record


def record_versions(
    archive: Archive,
    server: NewsServer,
    path: str,
    source: str,
    pages: list[bytes],
    digest: dict[int, str] | None = None,
) -> list[Captured]:
    """Each page served on loopback (the second gzip'd), fetched, captured by the capture
    writer and committed as the next version with its Archiver-Capture trailer (`digest`
    overrides the digest a version's trailer states)."""
    url = server.url(path)
    file = f"articles/{source}/2025/03/01/{path.rsplit('/', 1)[-1]}-0123456789ab.md"
    captured: list[Captured] = []
    start = archive.clock.now()
    with CaptureWriter(archive.root, start) as writer, CommitStream(archive.repo) as stream:
        for number, body in enumerate(pages, 1):
            when = start + timedelta(hours=number)
            server.set(path, body, gzip=number == 2)
            capture = writer.write(source, fetched(url), when, captured)
            captured.append(capture)
            ref = capture.ref
            if digest and number in digest:
                ref = CaptureRef(ref.path, ref.record_id, digest[number])
            front = f"---\nurl: {url}\nsource: {source}\ntitle: Story {number}\n---\n"
            text = f"{front}\nText {number}.\n"
            trailers = {
                fmt.URL: url,
                fmt.SOURCE: source,
                fmt.VERSION: str(number),
                fmt.STATUS: "200",
                **fmt.capture_trailer(ref),
            }
            stream.commit(Change(source, f"{source}: Story {number}", trailers, when, {file: text}))
    return captured

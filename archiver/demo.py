"""`archiver demo`: recorded captures of invented news sites, replayed on loopback through
the real pipeline with a clock that steps through the capture times.

The replay server is an HTTP proxy on 127.0.0.1: the fetcher asks it for
http://northgate-herald.example/…, and it answers with the latest capture of that path at
or before the demo clock, with ETags so unchanged pages cost a 304. The archive keeps the
sites' own URLs, so the same captures give the same commits, byte for byte, on every run.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from archiver.archive import Archive, init_archive
from archiver.capture.model import RunReport
from archiver.clock import FixedClock, parse_iso
from archiver.config import CONFIG_FILE
from archiver.errors import ArchiverError
from archiver.store.repository import commit_files

MARKER = ".archiver/demo"  # inside the git-ignored state folder
GONE = ".gone"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain; charset=utf-8",
}


def sample_folder() -> Path:
    """The embedded sample: `sample-archive/` of the checkout, installed as archiver.sample."""
    folder = resources.files("archiver.sample")
    if not isinstance(folder, Path):  # installed in a zip: the replay reads plain files
        raise ArchiverError(f"{folder}: the demo's sample is not a folder; install unzipped")
    return folder


@dataclass(frozen=True)
class Capture:
    when: datetime
    file: Path | None  # None: from this time on the path answers 404


class Replay:
    """The captured sites as they were at `now`."""

    def __init__(self, captures: Path) -> None:
        self.times: list[datetime] = []
        self.paths: dict[tuple[str, str], list[Capture]] = {}
        for folder in sorted(p for p in captures.iterdir() if p.is_dir()):
            when = parse_iso(folder.name)
            self.times.append(when)
            for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                host, *parts = file.relative_to(folder).parts
                path = "/" + "/".join(parts)
                gone = path.endswith(GONE)
                path = path.removesuffix(GONE)
                self.paths.setdefault((host, path), []).append(
                    Capture(when, None if gone else file)
                )
        if not self.times:
            raise ArchiverError(f"{captures}: no captures found")
        self.now = self.times[0]

    def lookup(self, host: str, path: str) -> Path | None:
        if path.endswith("/"):
            path += "index.html"
        current = None
        for capture in self.paths.get((host, path), []):
            if capture.when > self.now:
                break
            current = capture.file
        return current


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)  # a proxy is asked for absolute URLs
            host = url.hostname or self.headers.get("Host") or ""
            file = replay.lookup(host, url.path or "/")
            if file is None:
                self._send(404, b"Not found", "text/plain", {})
                return
            body = file.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, {"ETag": etag})
                return
            kind = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            if file.name.startswith("feed") or file.name.endswith(("rss.xml", "atom.xml")):
                kind = "application/rss+xml" if "rss" in file.name else kind
            self._send(200, body, kind, {"ETag": etag})

        def _send(
            self, status: int, body: bytes, kind: str | None, headers: dict[str, str]
        ) -> None:
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler


class _ProxyServer(ThreadingHTTPServer):
    # A sync connects to many pages at once: a short listen queue turns them into 1 s retries.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up (a closed keep-alive connection, a fetch that timed out) is
        # routine; anything else is a bug in the replay and keeps its traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def replay_proxy(replay: Replay) -> Iterator[str]:
    """Serve the replay as an HTTP proxy on loopback; yields its URL."""
    server = _ProxyServer(("127.0.0.1", 0), _handler(replay))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


Step = Callable[[datetime, RunReport], None]


def run_demo(folder: Path, sample: Path | None = None, step: Step | None = None) -> Archive:
    """Replay the sample's captures into a fresh archive at folder/archive; returns it."""
    from archiver.sync import sync

    sample = sample or sample_folder()
    if not (sample / "captures").is_dir():
        raise ArchiverError(f"{sample}: no captures to replay (is the sample installed?)")
    replay = Replay(sample / "captures")
    root = _fresh(folder / "archive")
    clock = FixedClock(replay.times[0])
    archive = init_archive(root, clock)
    shutil.copyfile(sample / CONFIG_FILE, root / CONFIG_FILE)
    _commit_config(archive)
    archive.close()
    archive = Archive.open(root, clock)
    with replay_proxy(replay) as proxy:
        for when in replay.times:
            clock.set(when)
            replay.now = when
            report = sync(archive, proxy=proxy)
            if step:
                step(when, report)
    return archive


def _fresh(root: Path) -> Path:
    """An empty folder for the demo archive; only a previous demo's folder is replaced."""
    if root.exists():
        if not (root / MARKER).exists():
            raise ArchiverError(f"{root}: exists and is not a demo archive; choose another folder")
        shutil.rmtree(root)
    (root / MARKER).parent.mkdir(parents=True)
    (root / MARKER).write_text("made by `archiver demo`; replaced on the next run\n")
    return root


def _commit_config(archive: Archive) -> None:
    commit_files(archive.root, [CONFIG_FILE], "Configure the demo's sources", archive.clock.now())

"""The real quality tools the site tests drive: Debian's Chromium through Playwright, the Nu Html
Checker (vnu), axe-core and LinkChecker. `bash .ci/install-test-tools` installs all of them.

Where a tool is missing the helper raises ToolMissing, which pytest reports as a skip, so a
developer without the tools still runs the rest. With CI set it fails the test instead: CI must
really run every tool, not pass by skipping them.

Nothing here reaches beyond 127.0.0.1: pages are served from a folder on loopback, Chromium runs
with its background networking off, and LinkChecker only checks the syntax of other hosts' URLs.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlsplit

import pytest

from tests.newsserver import QuietServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / ".tools" / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
INSTALL_HINT = "bash .ci/install-test-tools"

# The background-networking flags matter: without them Chromium keeps calling Google's services,
# which this machine's closed network refuses many times a second.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Where axe is served from inside the page's own origin; see _inject_axe.
AXE_ROUTE = "/__sitetools__/axe.min.js"
# Flags that shorten the JVM's start, which dominates a vnu run over a few dozen pages.
JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss2m"]
TOOL_TIMEOUT = 600  # seconds; a hung tool must fail the test, not CI's whole run


class ToolMissing(pytest.skip.Exception):
    """A quality tool is not installed. A skip to pytest; catch it to fall back by hand."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(tool: str, reason: str) -> NoReturn:
    """Skip on a developer's machine, fail in CI."""
    message = f"{tool} is not installed ({reason}); install it with: {INSTALL_HINT}"
    if in_ci():
        pytest.fail(f"CI must run {tool}: {message}", pytrace=False)
    raise ToolMissing(message)


def artifact_path(name: str) -> Path:
    """A file under test-artifacts/ (git-ignored), kept after the run for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


# --- Chromium ---------------------------------------------------------------------------------


def chromium_available() -> bool:
    """True when browser tests can run: Debian's chromium and Playwright are both installed."""
    playwright = importlib.util.find_spec("playwright") is not None
    return playwright and os.access(CHROMIUM, os.X_OK)


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright's sync API; closed on exit.

    Pages keep their Content-Security-Policy: open them with `browser.new_page()`. A test that
    must inject its own inline scripts can use `browser.new_context(bypass_csp=True)`.
    """
    if importlib.util.find_spec("playwright") is None:
        missing("playwright", "not importable from this Python")
    if not os.access(CHROMIUM, os.X_OK):
        missing("chromium", f"no {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- Serving a folder -------------------------------------------------------------------------


class _StaticHandler(SimpleHTTPRequestHandler):
    """Serves files like a static host: a folder without index.html is a 404, not a listing,
    so a link to it counts as broken."""

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "No index.html in this folder")

    def end_headers(self) -> None:
        # LinkChecker waits 0.1-0.6 s between two requests to one host unless the host answers
        # with this header; politeness towards our own loopback server only costs time.
        self.send_header("LinkChecker", "unthrottled")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown pytest's output


@contextmanager
def serve_folder(path: Path) -> Iterator[str]:
    """Serves `path` on 127.0.0.1 at a free port; yields the base URL, ending in '/'."""
    handler = partial(_StaticHandler, directory=str(path))
    httpd = QuietServer(("127.0.0.1", 0), handler)  # a browser cancels requests it no longer needs
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# --- Nu Html Checker --------------------------------------------------------------------------


def vnu_errors(paths: Sequence[Path]) -> list[str]:
    """HTML errors in the given files or folders, as 'file:line: message' lines.

    All paths go to one java call: the JVM's start costs more than checking dozens of pages.
    """
    java = shutil.which("java")
    if java is None:
        missing("java", "no java on PATH; vnu.jar needs Java 11 or newer")
    if not VNU_JAR.is_file():
        missing("vnu-jar", f"no {VNU_JAR}")
    if not paths:
        return []
    command = [java, *JVM_FLAGS, "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html"]
    command += ["--format", "json", "--stdout", *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    # 0: no errors, 1: errors found; anything else (a crash, a bad option) has no JSON to read.
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"vnu failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return [_vnu_line(message) for message in json.loads(done.stdout)["messages"]]


def _vnu_line(message: dict[str, Any]) -> str:
    where = unquote(message.get("url", "?").removeprefix("file:"))
    line = message.get("lastLine", message.get("firstLine", "?"))
    return f"{where}:{line}: {message.get('message', '').strip()}"


# --- axe-core ---------------------------------------------------------------------------------


def axe_violations(page: Page) -> list[str]:
    """WCAG 2.1 A and AA violations on the page as it is now, one line per rule:
    'rule id: help (n nodes: selectors…)'."""
    if not AXE_JS.is_file():
        missing("axe-core", f"no {AXE_JS}")
    _inject_axe(page)
    script = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
    result = page.evaluate(script, AXE_TAGS)
    return [_axe_line(violation) for violation in result["violations"]]


def _inject_axe(page: Page) -> None:
    """Loads axe into the page without switching off its Content-Security-Policy.

    The site's CSP says `script-src 'self'`, which blocks the inline script that
    `add_script_tag(path=...)` writes. Instead the page is told to load axe from a URL of its own
    origin, and Playwright answers that request from the local file: the CSP stays in force, so
    the tests still see what it blocks. Pages with no http origin (about:blank, file:) get the
    inline script, which only a CSP of theirs could block; such a test should open its page in
    `browser.new_context(bypass_csp=True)`.
    """
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    parts = urlsplit(page.url)
    if parts.scheme not in ("http", "https"):
        page.add_script_tag(path=AXE_JS)
        return
    url = f"{parts.scheme}://{parts.netloc}{AXE_ROUTE}"
    page.route(url, lambda route: route.fulfill(path=AXE_JS, content_type="text/javascript"))
    try:
        page.add_script_tag(url=url)
    finally:
        page.unroute(url)


def _axe_line(violation: dict[str, Any]) -> str:
    targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
    shown = ", ".join(targets[:5]) + (", …" if len(targets) > 5 else "")
    return f"{violation['id']}: {violation['help']} ({len(targets)} nodes: {shown})"


# --- LinkChecker ------------------------------------------------------------------------------


def broken_links(base_url: str) -> list[str]:
    """Broken links found by crawling the site at `base_url` (a loopback server), as
    'url (linked from parent): reason' lines.

    Only URLs under `base_url`'s origin are fetched; every other URL, other hosts and mailto:
    alike, is matched by --ignore-url, which makes LinkChecker check its syntax only.
    """
    linkchecker = _linkchecker()
    parts = urlsplit(base_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"broken_links crawls loopback servers only, not {base_url}")
    origin = f"{parts.scheme}://{parts.netloc}/"
    with tempfile.TemporaryDirectory(prefix="linkchecker-") as home:
        # A config of its own: a developer's ~/.config/linkchecker must not change the results.
        config = Path(home, "linkcheckerrc")
        # The request rate is capped at 1000/s, not 10: the server is ours (see _StaticHandler).
        config.write_text("[checking]\nmaxrequestspersecond=1000\n", encoding="utf-8")
        command = [linkchecker, "--config", str(config), "--no-status", "--no-warnings"]
        command += ["--output", "csv/utf-8", "--timeout", "20", "--threads", "4"]
        command += ["--ignore-url", f"^(?!{re.escape(origin)})", base_url]
        env = _no_proxy_env() | {"HOME": home, "XDG_CONFIG_HOME": home, "XDG_DATA_HOME": home}
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TOOL_TIMEOUT, env=env
        )
    # 0: all links fine, 1: broken links found, 2: LinkChecker itself failed.
    if done.returncode not in (0, 1):
        raise RuntimeError(f"linkchecker failed ({done.returncode}): {done.stderr.strip()}")
    return _broken_rows(done.stdout)


def _linkchecker() -> str:
    # The venv running the tests first: its bin/ is often not on PATH.
    beside = Path(sys.executable).parent / "linkchecker"
    found = str(beside) if beside.is_file() else shutil.which("linkchecker")
    if found is None:
        missing("linkchecker", "no linkchecker beside this Python or on PATH")
    return found


def _no_proxy_env() -> dict[str, str]:
    # A proxy set for package installs must not see, or break, requests to loopback.
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {key: value for key, value in os.environ.items() if key.lower() not in proxies}


def _broken_rows(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if line and not line.startswith("#")]
    broken = []
    for row in csv.DictReader(lines, delimiter=";"):
        if row.get("valid", "").lower() in ("true", "1"):
            continue  # --no-warnings should leave only errors; this keeps it so if it changes
        url = row.get("url") or row.get("urlname", "?")
        broken.append(f"{url} (linked from {row.get('parentname', '?')}): {row.get('result')}")
    return broken

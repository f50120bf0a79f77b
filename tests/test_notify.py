"""Notifications: Apprise delivering to a real HTTP receiver on loopback (its json:// and
form:// targets) and to a real SMTP server (aiosmtpd), after real syncs of the test news
site: what a message says, retries, a dead receiver, the outbox, filters and digests."""

from __future__ import annotations

import contextlib
import email
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from archiver.archive import Archive
from archiver.capture.model import Observer, Outcome
from archiver.cli import app
from archiver.clock import FixedClock
from archiver.config import parse_config
from archiver.errors import ConfigError
from archiver.notify.outbox import OUTBOX_FILE
from archiver.store import format as trailer
from archiver.store.history import head_commit, iter_commits
from archiver.store.state import STATE_DIR
from archiver.sync import add, sync

from .conftest import git
from .newsserver import NewsServer, QuietServer, article_html
from .pages import HARBOUR

SITE = "https://archive.example.org/news"
runner = CliRunner()


# --- receivers ----------------------------------------------------------------------------


class Receiver:
    """An HTTP endpoint on loopback that records what is posted to it and answers with the
    statuses it is given, one per request (200 once they run out)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.bodies: list[tuple[str, str, bytes]] = []  # path, content type, body
        self.statuses = list(statuses)
        self.posted = threading.Event()
        self.on_post: Callable[[], None] | None = None  # run as each post comes, before the answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "")
                receiver.bodies.append((self.path, kind, body))
                if receiver.on_post is not None:
                    receiver.on_post()
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.posted.set()

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, kind: str = "json", path: str = "/hook") -> str:
        return f"{kind}://127.0.0.1:{self.port}{path}"

    def json(self) -> list[dict[str, str]]:
        return [json.loads(body) for _, _, body in self.bodies]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


class Mailbox:
    """aiosmtpd's handler: every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(16)
        yield int(listening.getsockname()[1])


def text_of(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


# --- an archive with [[notify]] tables and an article that changes --------------------------


def with_notify(archive: Archive, tables: str, base_url: str = SITE) -> Archive:
    path = archive.root / "archiver.toml"
    text = path.read_text(encoding="utf-8").replace(
        "[archive]\n", f'[archive]\nbase_url = "{base_url}"\n', 1
    )
    path.write_text(text + "\n" + tables, encoding="utf-8")
    git(archive.root, "commit", "-qam", "Notify")
    archive.close()
    return Archive.open(archive.root, archive.clock)


def table(*urls: str, **keys: object) -> str:
    lines = ["[[notify]]", f"urls = {json.dumps(list(urls))}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def page(title: str, extra: list[str] = ()) -> str:  # type: ignore[assignment]
    return article_html(title, [*HARBOUR, *extra])


def edited(archive: Archive, server: NewsServer, path: str, title: str, extra: list[str]) -> None:
    """The page changes, and an hour later a sync checks it."""
    server.set(path, page(title, extra))
    assert isinstance(archive.clock, FixedClock)
    archive.clock.advance(timedelta(hours=1))
    results = sync(archive, check_all=True, discover_new=False).results
    assert [r.outcome for r in results if r.url.endswith(path)] == [Outcome.CHANGED]


def article_folder(archive: Archive) -> str:
    paths = [p for p in git(archive.root, "ls-files", "articles").split() if p.endswith(".md")]
    assert len(paths) == 1
    return paths[0].removesuffix(".md")


def outbox(archive: Archive) -> dict[str, object]:
    return json.loads((archive.root / STATE_DIR / OUTBOX_FILE).read_text(encoding="utf-8"))


# --- messages ----------------------------------------------------------------------------


def test_a_new_headline_reaches_a_json_webhook_with_its_counts_and_version_page(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    archive = with_notify(archive, table(receiver.url("json")))
    server.set("/story", page("Ministers back harbour plan"))
    add(archive, [server.url("/story")], source="daily")
    assert receiver.bodies == []  # a new article is no change

    edited(archive, server, "/story", "Ministers soften stance on harbour plan", ["A new line."])

    [posted] = receiver.json()
    message = posted["message"]
    assert "Headline: Ministers back harbour plan → Ministers soften stance on harbour plan" in (
        message
    )
    trailers = list(iter_commits(archive.repo))[-1].trailers  # the counts the commit records
    added, chars = trailers[trailer.SENTENCES_ADDED], trailers[trailer.CHARS_ADDED]
    assert (added, trailers[trailer.CHARS_REMOVED]) == ("1", "0")
    assert f"Changed: headline changed; 1 sentence added; +{chars}/−0 characters\n" in message
    assert f"Version page: {SITE}/{article_folder(archive)}/v2.html" in message
    assert f"Article: {server.url('/story')}" in message
    assert posted["title"] == "daily: Ministers soften stance on harbour plan"


def test_form_targets_and_mail_get_the_same_message(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        mail = (
            f"mailto://archiver@example.org?smtp=127.0.0.1&port={smtp.port}&mode=insecure"
            "&to=desk@example.org"
        )
        archive = with_notify(archive, table(receiver.url("form", "/form"), mail))
        server.set("/story", page("Harbour quotas announced"))
        add(archive, [server.url("/story")], source="daily")
        edited(archive, server, "/story", "Harbour quotas cut", ["Crews protest."])
    finally:
        smtp.stop()

    [(path, kind, body)] = receiver.bodies
    assert path == "/form" and kind == "application/x-www-form-urlencoded"
    form = parse_qs(body.decode())
    assert form["title"] == ["daily: Harbour quotas cut"]
    assert "Headline: Harbour quotas announced → Harbour quotas cut" in form["message"][0]
    [mailed] = mailbox.messages
    assert mailed["To"] == "desk@example.org"
    text = text_of(mailed)
    assert "Headline: Harbour quotas announced → Harbour quotas cut" in text
    assert "1 sentence added" in text
    assert f"{SITE}/{article_folder(archive)}/v2.html" in text


def test_a_receiver_that_fails_once_is_retried_and_gets_the_message_once(
    archive: Archive, server: NewsServer
):
    with Receiver(statuses=(500,)) as flaky:
        archive = with_notify(archive, table(flaky.url(), retries=2))
        server.set("/story", page("First headline"))
        add(archive, [server.url("/story")], source="daily")
        edited(archive, server, "/story", "Second headline", [])
        assert len(flaky.bodies) == 2  # the 500, then the 200
        assert flaky.bodies[0][2] == flaky.bodies[1][2]
    assert outbox(archive)["messages"] == []


def test_nothing_is_sent_for_checks_that_made_no_commit(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    archive = with_notify(archive, table(receiver.url(), on=["edit", "minor", "headline"]))
    server.set("/story", page("A headline"))
    add(archive, [server.url("/story")], source="daily")
    for _ in range(2):  # unchanged, then failing: neither is a commit
        archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        sync(archive, check_all=True, discover_new=False)
        server.set("/story", "", status=503)
    assert receiver.bodies == []
    assert outbox(archive)["head"] == head_commit(archive.repo)


def test_messages_are_sent_only_once_the_commit_is_on_the_branch(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    """When the message arrives, the branch already holds the commit it tells of."""
    archive = with_notify(archive, table(receiver.url()))
    server.set("/story", page("Before"))
    add(archive, [server.url("/story")], source="daily")
    branch_at_receipt: list[list[str]] = []
    receiver.on_post = lambda: branch_at_receipt.append(
        git(archive.root, "log", "--format=%s", "HEAD").splitlines()
    )
    at_check: list[int] = []

    class Watch(Observer):
        def checked(self, result: object) -> None:
            at_check.append(len(receiver.bodies))

    server.set("/story", page("After", ["More."]))
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False, progress=Watch())
    assert at_check == [0]
    [branch] = branch_at_receipt
    assert branch[0] == "daily: After"
    assert json.loads(receiver.bodies[0][2])["title"] == "daily: After"
    assert outbox(archive)["head"] == head_commit(archive.repo)


def test_filters_choose_sources_kinds_and_a_size(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    tables = (
        table(receiver.url("json", "/headlines"), on=["headline"])
        + table(receiver.url("json", "/big"), on=["edit"], min_chars_changed=100)
        + table(receiver.url("json", "/other-source"), sources=["elsewhere"])
        + table(receiver.url("json", "/minor"), on=["minor"])
    )
    archive = with_notify(archive, tables)
    server.set("/story", page("Same headline"))
    add(archive, [server.url("/story")], source="daily")
    edited(archive, server, "/story", "Same headline", ["A short line."])  # 13 chars
    edited(archive, server, "/story", "Same headline", ["A short line.", "x " * 80])
    edited(archive, server, "/story", "New headline", ["A short line.", "x " * 80])
    server.set("/story", page("New Headline", ["A short line.", "x " * 80]))  # case only
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)

    by_path: dict[str, list[str]] = {}
    for path, _, body in receiver.bodies:
        by_path.setdefault(path, []).append(json.loads(body)["message"].split("\n")[0])
    assert by_path == {
        "/headlines": ["daily · new headline · version 4"],
        "/big": ["daily · edited · version 3"],
        "/minor": ["daily · minor edit · version 5"],
    }


def test_a_removal_and_a_return_are_told_with_the_article_s_pages(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    archive = with_notify(archive, table(receiver.url(), on=["removal", "return"]))
    server.set("/story", page("A story that goes"))
    add(archive, [server.url("/story")], source="daily")
    edited(archive, server, "/story", "A story that goes", ["More."])  # not asked for
    server.set("/story", b"gone", status=404)
    for _ in range(4):  # gone for long enough to count as removed
        archive.clock.advance(timedelta(hours=2, minutes=30))  # type: ignore[attr-defined]
        sync(archive, check_all=True, discover_new=False)
    server.set("/story", page("A story that goes", ["More."]))
    archive.clock.advance(timedelta(hours=6))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)

    removed, back = receiver.json()
    folder = archive.state.get(server.url("/story")).path.removesuffix(".md")  # type: ignore[union-attr]
    assert removed["title"] == "daily: A story that goes"
    assert "daily · removed · version 2" in removed["message"]
    assert "Changed: removed from the site (HTTP 404)" in removed["message"]
    assert f"Article page: {SITE}/{folder}/index.html" in removed["message"]
    assert "daily · back · version 2" in back["message"]
    assert f"{SITE}/{folder}/v2.html" in back["message"]


def test_many_changes_in_one_run_come_as_one_digest(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    archive = with_notify(archive, table(receiver.url(), digest_after=3))
    paths = [f"/story/{n}" for n in range(5)]
    for n, path in enumerate(paths):
        server.set(path, page(f"Story {n}"))
    add(archive, [server.url(p) for p in paths], source="daily")
    for n, path in enumerate(paths):
        server.set(path, page(f"Story {n} updated", ["Added."]))
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)

    [posted] = receiver.json()
    assert posted["title"] == "News archive: 5 changes"
    for n in range(5):
        assert f"Story {n} → Story {n} updated" in posted["message"]
    assert posted["message"].count("/v2.html") == 5

    # A run with as many as digest_after changes sends them one by one.
    for n, path in enumerate(paths[:3]):
        server.set(path, page(f"Story {n} again", ["Added."]))
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)
    titles = [p["title"] for p in receiver.json()[1:]]
    assert sorted(titles) == [f"daily: Story {n} again" for n in range(3)]


# --- a dead receiver, the outbox and the run log ---------------------------------------------


def _sync_cli(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "archiver",
            "sync",
            "--all",
            "--no-discover",
            "--archive",
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("dead", ["closed", "silent"])
def test_a_dead_receiver_does_not_hold_up_the_sync_and_its_message_waits(
    archive: Archive, server: NewsServer, dead: str
):
    with contextlib.ExitStack() as stack:
        port = stack.enter_context(silent_port()) if dead == "silent" else free_port()
        url = f"json://127.0.0.1:{port}/hook?cto=1&rto=1"
        archive = with_notify(archive, table(url, retries=1))
        server.set("/story", page("Old headline"))
        add(archive, [server.url("/story")], source="daily")
        server.set("/story", page("New headline", ["Added."]))
        started = time.monotonic()
        done = _sync_cli(archive.root)
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert took < 15
    versions = [c.version for c in iter_commits(archive.repo) if c.url]
    assert versions == [1, 2]  # the change is committed
    kept = outbox(archive)["messages"]
    assert [m["change"]["title"] for m in kept] == ["New headline"]  # type: ignore[index]
    assert "kept for the next run" in done.stderr
    assert "cto=" not in done.stderr  # the target is named as Apprise prints it, privately


def test_kept_messages_go_out_with_the_next_run(archive: Archive, server: NewsServer):
    port = free_port()
    archive = with_notify(archive, table(f"json://127.0.0.1:{port}/hook", retries=0))
    server.set("/story", page("Old headline"))
    add(archive, [server.url("/story")], source="daily")
    edited(archive, server, "/story", "New headline", ["Added."])
    assert len(outbox(archive)["messages"]) == 1  # type: ignore[arg-type]

    # The receiver is up on the same address for the next run, which checks nothing new.
    receiver = Receiver()
    receiver._httpd.server_close()
    receiver._httpd = QuietServer(("127.0.0.1", port), receiver._httpd.RequestHandlerClass)
    receiver._thread = threading.Thread(target=receiver._httpd.serve_forever, daemon=True)
    with receiver:
        archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        sync(archive, check_all=True, discover_new=False)
    [posted] = receiver.json()
    assert posted["title"] == "daily: New headline"
    assert outbox(archive)["messages"] == []


def test_outgoing_messages_are_in_the_run_log(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    archive = with_notify(archive, table(receiver.url()))
    server.set("/story", page("Old headline"))
    add(archive, [server.url("/story")], source="daily")
    server.set("/story", page("New headline", ["Added."]))
    done = _sync_cli(archive.root)
    assert done.returncode == 0, done.stderr
    [log] = (archive.root / STATE_DIR / "logs").glob("sync-*.log")
    text = log.read_text(encoding="utf-8")
    assert f"notify: notify[1].urls[1] json://127.0.0.1:{receiver.port}/hook: sent" in text
    assert "daily: New headline" in text and "/v2.html" in text
    assert len(receiver.bodies) == 1


def test_an_outbox_that_cannot_be_read_does_not_fail_the_sync(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    archive = with_notify(archive, table(receiver.url()))
    server.set("/story", page("Old headline"))
    add(archive, [server.url("/story")], source="daily")
    path = archive.root / STATE_DIR / OUTBOX_FILE
    path.unlink()
    path.mkdir()  # neither readable nor replaceable
    server.set("/story", page("New headline", ["Added."]))
    done = _sync_cli(archive.root)
    assert done.returncode == 0, done.stderr
    assert "warning: notify: not started" in done.stderr
    assert [c.version for c in iter_commits(archive.repo) if c.url] == [1, 2]
    assert receiver.bodies == []


def test_a_killed_run_s_commits_are_told_by_the_next(
    archive: Archive, server: NewsServer, receiver: Receiver
):
    """Commits on the branch that no run told (one killed between its commit and its
    messages) are read from the outbox's last commit on, up to a day back."""
    archive = with_notify(archive, table(receiver.url()))
    server.set("/story", page("Old headline"))
    add(archive, [server.url("/story")], source="daily")
    told = outbox(archive)["head"]
    server.set("/story", page("New headline", ["Added."]))
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)
    assert len(receiver.bodies) == 1
    # As if the message had never been written: the outbox's head back where it was.
    path = archive.root / STATE_DIR / OUTBOX_FILE
    path.write_text(json.dumps({"head": told, "messages": []}), encoding="utf-8")
    archive.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)
    assert len(receiver.bodies) == 2
    assert receiver.bodies[0][2] == receiver.bodies[1][2]

    # Commits more than a day old that no run told are left to the site.
    path.write_text(json.dumps({"head": told, "messages": []}), encoding="utf-8")
    archive.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    sync(archive, check_all=True, discover_new=False)
    assert len(receiver.bodies) == 2
    assert outbox(archive)["head"] == head_commit(archive.repo)


# --- configuration and `archiver notify test` --------------------------------------------------


@pytest.mark.parametrize(
    ("tables", "error"),
    [
        (
            [{"urls": ["json://127.0.0.1/", "slak://T1234/B5678/secrettoken"]}],
            "notify[1].urls[2]: slak://… names no service Apprise",
        ),
        (
            [{"urls": ["json://h/"]}, {"urls": ["tgram://secretbottoken"]}],
            "notify[2].urls[1]: tgram://… is not a URL Apprise can send to",
        ),
        ([{"urls": []}], "notify[1].urls: no URL to send to"),
        ([{"urls": ["json://h/"], "on": ["headlines"]}], "notify[1].on: 'headlines' is not one"),
        ([{"urls": ["json://h/"], "when": 1}], "notify[1].when: unknown key"),
        ([{"urls": ["json://h/"], "digest_after": 0}], "notify[1].digest_after: expected a"),
        ([{"urls": "json://h/", "sources": ["Bad Name"]}], "notify[1].sources: 'Bad Name'"),
        (
            [{"urls": ["json://h/"]}, {"urls": ["json://other/", "json://h/"]}],
            "notify[2].urls[2]: the same URL as notify[1].urls[1]",
        ),
    ],
)
def test_a_bad_notify_table_is_one_line_naming_it_without_secrets(
    tables: list[dict[str, object]], error: str
):
    with pytest.raises(ConfigError) as raised:
        parse_config({"notify": tables})
    message = str(raised.value)
    assert error in message and "\n" not in message
    assert "secret" not in message


def test_notify_test_reports_each_target(archive: Archive, receiver: Receiver):
    dead = f"json://127.0.0.1:{free_port()}/hook?cto=1"
    archive = with_notify(archive, table(receiver.url(), dead))
    archive.close()
    result = runner.invoke(app, ["notify", "test", "--archive", str(archive.root)])
    assert result.exit_code == 1
    assert f"sent: notify[1].urls[1] json://127.0.0.1:{receiver.port}/hook" in result.output
    assert "failed: notify[1].urls[2] json://127.0.0.1:" in result.output
    [posted] = receiver.json()
    assert posted["title"].startswith("Test: ")
    assert "Headline: Ministers back harbour plan → Ministers soften stance" in posted["message"]
    assert f"{SITE}/articles/example/" in posted["message"]


def test_notify_test_without_tables_says_so(archive: Archive):
    result = runner.invoke(app, ["notify", "test", "--archive", str(archive.root)])
    assert result.exit_code != 0
    assert "no [[notify]] table" in result.output

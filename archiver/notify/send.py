"""Sending: one thread per target, so that a slow or dead receiver holds up neither the
sync nor the other targets. The recorder's thread only reads the new commits and puts
their messages in the outbox; each target's thread sends them, retried with a growing
pause, and takes them out once delivered. When the run ends, a target that has had
more than `digest_after` messages in a run gets those past the ones already sent in
digests; the run then waits at most
WAIT seconds, and whatever is still unsent stays in the outbox for the next run."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from archiver.capture.model import Observer, Published
from archiver.clock import Clock
from archiver.config import Config, NotifyConfig, notify_name, quiet_apprise
from archiver.notify.changes import (
    SAMPLE,
    Change,
    digest,
    in_digests,
    message,
    read_changes,
    wanted,
)
from archiver.notify.outbox import OUTBOX_FILE, Outbox
from archiver.store.history import head_commit, is_ancestor
from archiver.store.repository import Repo
from archiver.store.state import STATE_DIR

log = logging.getLogger(__name__)

WAIT = 15.0  # seconds a run waits at its end for messages still being sent
FIRST_PAUSE = 1.0  # seconds before the first retry; doubled for each one after
LONGEST_PAUSE = 30.0
# Commits no run told (a run killed before telling them, or runs while the [[notify]]
# tables were gone) are told when at most this old: older news is on the site.
CATCH_UP = timedelta(days=1)


class _Reasons(logging.Handler):
    """Apprise says why a send failed only in its log: the last warning each thread got."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: dict[int, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.last[threading.get_ident()] = record.getMessage()

    def take(self) -> str:
        return self.last.pop(threading.get_ident(), "")


_reasons = _Reasons()


def _apprise() -> Any:
    apprise = quiet_apprise()
    logger = logging.getLogger("apprise")
    if _reasons not in logger.handlers:
        logger.addHandler(_reasons)
    return apprise


class Target:
    """One URL of a [[notify]] table: what Apprise sends with, and how it is named without
    its secrets."""

    def __init__(self, table: NotifyConfig, index: int, position: int, url: str) -> None:
        self.table = table
        self.name = f"{notify_name(index)}.urls[{position}]"
        self.key = hashlib.sha256(url.encode()).hexdigest()[:24]
        self._plugin = _apprise().Apprise.instantiate(url)
        assert self._plugin is not None, "checked when the configuration was loaded"
        self.shown = self._plugin.url(privacy=True).split("?", 1)[0]

    def __str__(self) -> str:
        return f"{self.name} {self.shown}"

    def send_once(self, title: str, body: str) -> str | None:
        """One attempt; None when delivered, else why not."""
        _reasons.take()
        try:
            delivered = self._plugin.notify(body=body, title=title, body_format="text")
        except Exception as error:  # a plugin's bug must not end the run: it is one failure
            return f"{type(error).__name__}: {error}"
        if delivered:
            return None
        return _reasons.take() or "Apprise could not send it"

    def send(self, title: str, body: str, stopping: threading.Event | None = None) -> str | None:
        """Sent with the table's retries, pausing 1, 2, 4… seconds between (at most 30);
        None when delivered, else the last reason. A run that is ending stops the pauses."""
        reason = None
        for attempt in range(self.table.retries + 1):
            if attempt:
                pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (attempt - 1))
                log.info("%s: %s; trying again in %g s", self, reason, pause)
                if stopping is not None and stopping.wait(pause):
                    break
            reason = self.send_once(title, body)
            if reason is None:
                return None
        return reason


@dataclass(frozen=True)
class Tried:
    """How the sample went to one target."""

    target: str
    error: str | None


def send_sample(config: Config) -> list[Tried]:
    """`archiver notify test`: the sample message once to every target, one attempt each."""
    tried = []
    for target in targets(config):
        title, body = message(SAMPLE, config.base_url)
        tried.append(Tried(str(target), target.send_once(f"Test: {title}", body)))
    return tried


def targets(config: Config) -> list[Target]:
    return [
        Target(table, index, position, url)
        for index, table in enumerate(config.notify)
        for position, url in enumerate(table.urls, 1)
    ]


class Notifier(Observer):
    """Tells the [[notify]] targets of the changes a run published: an observer of the
    recorder, told after each checkpoint, once the commits are on the branch."""

    def __init__(self, root: Path, repo: Repo, config: Config, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self.config = config
        self.outbox = Outbox(root / STATE_DIR / OUTBOX_FILE)
        self.targets = targets(config)
        self._wake = threading.Condition()
        self._ended = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Send what earlier runs kept, and catch up with commits published since the
        outbox was last written that no run told (a run killed between its commits and
        their messages)."""
        dropped = self.outbox.drop_targets({t.key for t in self.targets})
        if dropped:
            log.warning(
                "notify: %d kept message(s) for targets no longer configured dropped", dropped
            )
        head = self.outbox.head
        current = head_commit(self.repo)
        if head is None or current is None or not is_ancestor(self.repo, head, current):
            if head is not None:
                log.warning("notify: the history told up to %s is gone; telling from now", head)
            self.outbox.add([], current)
        else:
            self._read_on(self.clock.now() - CATCH_UP)
        for target in self.targets:
            thread = threading.Thread(
                target=self._sender, args=(target,), name=f"notify {target.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def published(self, changes: list[Published]) -> None:
        try:
            self._read_on()
        except Exception as error:  # the commits are safe: the next checkpoint reads on
            log.warning("notify: could not read or keep new messages (%s)", error)

    def _read_on(self, not_before: datetime | None = None) -> None:
        """Messages for the commits after the outbox's head, into the outbox."""
        current = head_commit(self.repo)
        if current is None or current == self.outbox.head:
            return
        found = read_changes(self.repo, self.outbox.head, not_before)
        messages = [(t.key, c) for c in found for t in self.targets if wanted(t.table, c)]
        self.outbox.add(messages, current)
        with self._wake:
            self._wake.notify_all()

    def close(self, wait: float = WAIT) -> None:
        """The run is over: digests go out, and the run waits at most `wait` seconds for the
        senders; what they have not delivered by then stays in the outbox."""
        with self._wake:
            self._ended = True
            self._wake.notify_all()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        kept = self.outbox.close()
        if kept:
            log.warning(
                "notify: %d message(s) not sent yet, kept in %s for the next run",
                kept,
                self.outbox.path,
            )

    # -- in each target's thread

    def _sender(self, target: Target) -> None:
        try:
            self._send_all(target)
        except Exception as error:  # what is not delivered stays in the outbox
            log.warning("notify: %s: stopped (%s); its messages are kept", target, error)

    def _send_all(self, target: Target) -> None:
        singles = 0
        while not self._stopping.is_set():
            pending = self._next(target, singles)
            if not pending:
                return
            single = singles + len(pending) <= target.table.digest_after
            if single:
                batch = pending[:1]
                title, body = message(batch[0], self.config.base_url)
            else:
                batch = next(in_digests(pending))
                title, body = digest(batch, self.config.base_url, self.config.title)
            reason = target.send(title, body, self._stopping)
            if reason is not None:
                log.warning(
                    "notify: %s: not sent (%s); %d message(s) kept for the next run",
                    target,
                    reason,
                    len(self.outbox.pending(target.key)),
                )
                return  # a target down stays down for this run: its messages wait
            self.outbox.remove(target.key, {c.commit for c in batch})
            singles += single
            log.info("notify: %s: sent %r%s", target, title, _about(batch, self.config.base_url))

    def _next(self, target: Target, singles: int) -> list[Change]:
        """What to send next, once there is something the target may have now: one by one
        while the run's messages to it number at most digest_after, else all in digests once
        the run has ended. Empty: done."""
        with self._wake:
            while True:
                pending = self.outbox.pending(target.key)
                if self._stopping.is_set():
                    return []
                if pending and (singles + len(pending) <= target.table.digest_after or self._ended):
                    return pending
                if self._ended:
                    return []
                self._wake.wait()


def _about(batch: list[Change], base_url: str) -> str:
    if len(batch) == 1:
        return f" ({batch[0].link(base_url)})"
    return f" (a digest of {len(batch)} changes)"

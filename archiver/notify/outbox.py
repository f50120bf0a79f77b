"""The outbox: every message not yet delivered, on disk before it is sent, so that a target
that is down, a run that ends first or a killed process loses none. Also the last commit
whose changes are in it, from which the next run reads on.

One JSON file under .archiver/ (private: never in the site), written whole and renamed into
place. Only a run holding the archive's lock writes it; within a run, the recorder's thread
adds and each target's sender removes what it delivered, under one lock.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from archiver.notify.changes import Change

log = logging.getLogger(__name__)

OUTBOX_FILE = "notify-outbox.json"


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._closed = False
        self.head: str | None = None
        self._messages: list[tuple[str, Change]] = []  # (target key, change), oldest first
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.head = data.get("head") or None
            self._messages = [
                (m["target"], Change.from_dict(m["change"])) for m in data["messages"]
            ]
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError) as error:
            # Damaged by hand or by a full disk: start afresh from here, and say so.
            log.warning("%s: unreadable (%s); its messages are dropped", self.path, error)
            self.head, self._messages = None, []

    def pending(self, target: str) -> list[Change]:
        with self._lock:
            return [change for key, change in self._messages if key == target]

    def targets(self) -> set[str]:
        with self._lock:
            return {key for key, _ in self._messages}

    def add(self, messages: list[tuple[str, Change]], head: str | None) -> None:
        """Messages to send, and the commit up to which changes have been read."""
        with self._lock:
            if self._closed:
                return
            known = {(key, change.commit) for key, change in self._messages}
            self._messages += [m for m in messages if (m[0], m[1].commit) not in known]
            self.head = head
            self._write()

    def remove(self, target: str, commits: set[str]) -> None:
        """Messages delivered. After close (a send that outlived its run's wait), nothing is
        written: the next run may own the file by then, and sends them again."""
        with self._lock:
            if self._closed:
                return
            self._messages = [
                (key, change)
                for key, change in self._messages
                if key != target or change.commit not in commits
            ]
            self._write()

    def drop_targets(self, keep: set[str]) -> int:
        """Forget messages for targets no longer configured; how many there were."""
        with self._lock:
            before = len(self._messages)
            self._messages = [m for m in self._messages if m[0] in keep]
            if len(self._messages) != before:
                self._write()
            return before - len(self._messages)

    def close(self) -> int:
        """No more writes; how many messages stay for the next run."""
        with self._lock:
            self._closed = True
            return len(self._messages)

    def _write(self) -> None:
        data: dict[str, Any] = {
            "head": self.head,
            "messages": [{"target": k, "change": c.to_dict()} for k, c in self._messages],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        with partial.open("w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)

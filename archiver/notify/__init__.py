"""notify: word of changes to people, through Apprise (email, chat, webhooks), after the
commits are on the branch. changes.py (what a commit tells, which [[notify]] tables want
it, the messages), outbox.py (what is not delivered yet, on disk), send.py (a thread per
target, retries, digests, the observer a run reports to)."""

from __future__ import annotations

from archiver.archive import Archive
from archiver.notify.send import WAIT, Notifier, Tried, send_sample


def open_notifier(archive: Archive) -> Notifier | None:
    """The running notifier of an archive with [[notify]] tables, else None."""
    if not archive.config.notify:
        return None
    notifier = Notifier(archive.root, archive.repo, archive.config)
    notifier.start()
    return notifier


__all__ = ["WAIT", "Notifier", "Tried", "open_notifier", "send_sample"]

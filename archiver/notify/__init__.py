"""notify: word of changes to people, through Apprise (email, chat, webhooks), after the
commits are on the branch. changes.py (what a commit tells, which [[notify]] tables want
it, the messages), outbox.py (what is not delivered yet, on disk), send.py (a thread per
target, retries, digests, the observer a run reports to)."""

from __future__ import annotations

import logging

from archiver.archive import Archive
from archiver.notify.send import WAIT, Notifier, Tried, send_sample

log = logging.getLogger(__name__)


def open_notifier(archive: Archive) -> Notifier | None:
    """The running notifier of an archive with [[notify]] tables, else None. One that cannot
    start (its outbox unreadable, say) is a warning, and the run goes on without it."""
    if not archive.config.notify:
        return None
    try:
        notifier = Notifier(archive.root, archive.repo, archive.config, archive.clock)
        notifier.start()
    except Exception as error:  # whatever it is, it must not stop the run
        log.warning("notify: not started (%s); this run sends nothing", error)
        return None
    return notifier


__all__ = ["WAIT", "Notifier", "Tried", "open_notifier", "send_sample"]

"""When to check an article next: often while it is fresh or changing, rarely when quiet,
never once it has been quiet for long.

The interval grows with the time since the article last changed (as NewsDiffs does) and is
bounded by the source's schedule; it depends only on facts git holds (first seen, last
changed), so a rebuilt state store gives the same schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from archiver.config import ScheduleConfig

# The interval is this fraction of the time since the last change.
QUIET_FRACTION = 0.25
MAX_FAILURE_BACKOFF = 6


def next_check(
    now: datetime, last_changed: datetime, schedule: ScheduleConfig, failures: int = 0
) -> datetime | None:
    """The next time to check, or None when the article is no longer tracked."""
    quiet = now - last_changed
    if quiet > timedelta(days=schedule.stop_after_days):
        return None
    minutes = max(schedule.min_interval, quiet.total_seconds() / 60 * QUIET_FRACTION)
    if quiet < timedelta(minutes=schedule.first_check):
        minutes = schedule.first_check
    if failures:
        minutes = max(minutes, schedule.min_interval * 2 ** min(failures, MAX_FAILURE_BACKOFF))
    return now + timedelta(minutes=min(minutes, schedule.max_interval))

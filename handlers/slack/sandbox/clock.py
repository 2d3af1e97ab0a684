"""The sandbox's clock: real time moved by an offset, so a month can be played through in minutes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services import utc_now
from bot.settings import parse_schedule


class SandboxClock:
    """What time it is in the sandbox: the wall clock plus how far the page has moved it.

    It runs on like a real clock between moves, so leases and timings keep working; the bot's
    services read it as `clock` (what is due, when things happen) beside the real one.
    """

    def __init__(self, wall: Callable[[], datetime] = utc_now) -> None:
        self.wall = wall
        self.offset = timedelta(0)
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.wall() + self.offset

    def set(self, moment: datetime) -> datetime:
        """Make it `moment` now (earlier or later), and carry on from there."""
        with self.lock:
            self.offset = moment.astimezone(UTC) - self.wall()
            return moment.astimezone(UTC)


def next_working_morning(
    now: datetime, tz: ZoneInfo, *, opening: time = time(8), days: str = "01234"
) -> datetime:
    """The next working day's opening after `now`, in `tz` (Mon–Fri 08:00 unless told otherwise)."""
    local = now.astimezone(tz)
    day = local.date() + timedelta(days=1)
    while str(day.weekday()) not in days:
        day += timedelta(days=1)
    return datetime.combine(day, opening, tzinfo=tz).astimezone(UTC)


def next_digest(now: datetime, schedule: str, tz: ZoneInfo) -> datetime:
    """A minute after the next weekly digest's slot, so the run that follows finds it due."""
    weekday, at = parse_schedule(schedule)
    local = now.astimezone(tz)
    day: date = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    slot = datetime.combine(day, at, tzinfo=tz)
    if slot <= local:
        slot = datetime.combine(day + timedelta(days=7), at, tzinfo=tz)
    return (slot + timedelta(minutes=1)).astimezone(UTC)

"""Working hours in a technician's own time zone: when a nudge may arrive, and working-time arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONDAY_TO_FRIDAY = frozenset(range(5))


@dataclass(frozen=True)
class WorkingHours:
    """When a technician works: local start and end of day, which weekdays, and an optional pause.

    `paused_until` is a local date: nothing is delivered before it (a vacation ending the day before).
    The pause holds delivery only (`is_working`, `next_open`); the arithmetic of when something falls
    due (`add`, `between`, `opening_on`) ignores it, so what fell due during a pause is delivered the
    morning it ends rather than counted again from that morning.
    """

    tz: ZoneInfo
    start: time = time(8)
    end: time = time(18)
    days: frozenset[int] = field(default=MONDAY_TO_FRIDAY)
    paused_until: date | None = None
    # `opening_on`, and each day's start and end (UTC), by local date. The hours never change, so
    # neither do these: the planner asks the same few days of a technician for each of their nudges,
    # and works each out once.
    _openings: dict[date, datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _spans: dict[date, tuple[datetime, datetime]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def _span(self, day: date) -> tuple[datetime, datetime]:
        span = self._spans.get(day)
        if span is None:
            opens = datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)
            closes = datetime.combine(day, self.end, tzinfo=self.tz).astimezone(UTC)
            span = self._spans[day] = (opens, closes)
        return span

    def _opens(self, day: date) -> datetime:
        return self._span(day)[0]

    def _closes(self, day: date) -> datetime:
        return self._span(day)[1]

    def works_on(self, day: date) -> bool:
        """True when `day` (local) is a working day and not within a pause."""
        paused = self.paused_until is not None and day < self.paused_until
        return day.weekday() in self.days and not paused

    def _unpaused(self) -> WorkingHours:
        return self if self.paused_until is None else replace(self, paused_until=None)

    def local_day(self, at: datetime) -> date:
        """The technician's calendar date at an instant."""
        return at.astimezone(self.tz).date()

    def is_working(self, at: datetime) -> bool:
        """True when `at` falls inside working hours."""
        day = self.local_day(at)
        if not self.works_on(day):
            return False
        opens, closes = self._span(day)
        return opens <= at < closes

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when it is working time, else the moment working time next begins (UTC)."""
        day = self.local_day(at)
        if self.paused_until is not None:
            # Search from the end of the pause, so a long pause never exhausts the search below.
            day = max(day, self.paused_until)
        for offset in range(0, 400):
            candidate = day + timedelta(days=offset)
            if not self.works_on(candidate):
                continue
            opens, closes = self._span(candidate)
            if at < opens:
                return opens
            if at < closes:
                return at.astimezone(UTC)
        raise ValueError("no working time within 400 days; check the working days and the pause")

    def first_working_moment(self, at: datetime) -> datetime:
        """`at` in working time, else the next opening, ignoring a pause: when something due is first seen."""
        return self._unpaused().next_open(at)

    def add(self, at: datetime, delta: timedelta) -> datetime:
        """The instant `delta` of working time after `at` ("4 working hours after the visit")."""
        plain = self._unpaused()
        moment = plain.next_open(at)
        remaining = delta
        while True:
            closes = plain._closes(plain.local_day(moment))
            available = closes - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
            moment = plain.next_open(closes)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero when `end` is not later)."""
        if self.paused_until is not None:
            return self._unpaused().between(start, end)
        total = timedelta()
        day = self.local_day(start)
        last = self.local_day(end)
        # Bounded: a subject open for years counts its first few hundred days, far past any reminder.
        for _ in range(400):
            if day > last:
                break
            if self.works_on(day):
                opens, closes = max(self._opens(day), start), min(self._closes(day), end)
                if closes > opens:
                    total += closes - opens
            day += timedelta(days=1)
        return total

    def working_days_between(self, first: date, last: date) -> int:
        """How many working days lie after `first` up to and including `last`."""
        # Counted no further than 400 days after `first`, far past any reminder that asks.
        span = min((last - first).days, 400)
        if span <= 0:
            return 0
        weeks, rest = divmod(span, 7)
        per_week = sum(weekday in self.days for weekday in range(7))
        start = first.weekday()
        return weeks * per_week + sum((start + offset) % 7 in self.days for offset in range(1, rest + 1))

    def working_day_before(self, day: date) -> date:
        """The last working day before a local date (Friday for a Monday)."""
        for offset in range(1, 400):
            candidate = day - timedelta(days=offset)
            if candidate.weekday() in self.days:
                return candidate
        raise ValueError("no working day in the year before; check the working days")

    def opening_on(self, day: date) -> datetime:
        """When working time begins on a local date, or on the next working day after it (UTC)."""
        opening = self._openings.get(day)
        if opening is None:
            midnight = datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)
            opening = self._openings[day] = self._unpaused().next_open(midnight)
        return opening

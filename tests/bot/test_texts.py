"""How days, windows, due dates and spans of time are written in replies, in the technician's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import texts

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 Nov 2026, 09:00 in Chicago.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "tz", "now", "written"),
    [
        (utc(2026, 11, 27, 14), CHICAGO, None, "Fri 27 Nov"),
        (utc(2026, 11, 27, 14), CHICAGO, NOW, "Fri 27 Nov"),
        # 03:00 UTC on Saturday is still Friday evening in Chicago, already Saturday in Berlin.
        (utc(2026, 11, 28, 3), CHICAGO, NOW, "Fri 27 Nov"),
        (utc(2026, 11, 28, 3), BERLIN, NOW, "Sat 28 Nov"),
        (utc(2027, 1, 4, 15), CHICAGO, NOW, "Mon 4 Jan 2027"),
        (utc(2027, 1, 4, 15), CHICAGO, None, "Mon 4 Jan"),
        (utc(2027, 1, 1, 3), CHICAGO, NOW, "Thu 31 Dec"),
        (utc(2025, 12, 31, 15), CHICAGO, NOW, "Wed 31 Dec 2025"),
    ],
)
def test_day(moment: datetime, tz: ZoneInfo, now: datetime | None, written: str) -> None:
    assert texts.day(moment, tz, now=now) == written


@pytest.mark.parametrize(
    ("start", "end", "written"),
    [
        (utc(2026, 11, 27, 14), utc(2026, 11, 27, 15), "Fri 27 Nov, 8–9am"),
        (utc(2026, 11, 27, 14), utc(2026, 11, 27, 18), "Fri 27 Nov, 8am–12pm"),
        (utc(2026, 11, 27, 17), utc(2026, 11, 27, 19), "Fri 27 Nov, 11am–1pm"),
        (utc(2026, 11, 27, 18), utc(2026, 11, 27, 19), "Fri 27 Nov, 12–1pm"),
        (utc(2026, 11, 27, 14, 30), utc(2026, 11, 27, 15, 15), "Fri 27 Nov, 8:30–9:15am"),
        (utc(2026, 11, 27, 20), utc(2026, 11, 27, 21, 30), "Fri 27 Nov, 2–3:30pm"),
        (utc(2026, 11, 27, 6), utc(2026, 11, 27, 7), "Fri 27 Nov, 12–1am"),
        # Sunday 1 Nov 2026 is the day Chicago falls back to CST (-6).
        (utc(2026, 11, 1, 14), utc(2026, 11, 1, 15), "Sun 1 Nov, 8–9am"),
        (utc(2027, 1, 4, 14), utc(2027, 1, 4, 15), "Mon 4 Jan 2027, 8–9am"),
    ],
)
def test_window(start: datetime, end: datetime, written: str) -> None:
    assert texts.window(start, end, CHICAGO, now=NOW) == written


def test_window_in_berlin() -> None:
    assert texts.window(utc(2026, 11, 27, 7), utc(2026, 11, 27, 8), BERLIN, now=NOW) == "Fri 27 Nov, 8–9am"


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 11, 27, 23, 59, tzinfo=CHICAGO), "Fri 27 Nov"),
        (datetime(2026, 11, 27, 17, 0, tzinfo=CHICAGO), "Fri 27 Nov, 5pm"),
        (datetime(2026, 11, 27, 17, 30, tzinfo=CHICAGO), "Fri 27 Nov, 5:30pm"),
        (datetime(2026, 11, 27, 0, 0, tzinfo=CHICAGO), "Fri 27 Nov, 12am"),
        (datetime(2026, 11, 27, 12, 0, tzinfo=CHICAGO), "Fri 27 Nov, 12pm"),
        (utc(2026, 11, 28, 5, 59), "Fri 27 Nov"),
        (datetime(2027, 1, 1, 23, 59, tzinfo=CHICAGO), "Fri 1 Jan 2027"),
    ],
)
def test_due_shows_only_the_date_for_an_end_of_day_due_date(moment: datetime, written: str) -> None:
    assert texts.due(moment, CHICAGO, now=NOW) == written


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (utc(2026, 11, 27, 14), utc(2026, 11, 27, 15), 60),
        (utc(2026, 11, 27, 14), utc(2026, 11, 27, 14, 59, 59), 59),
        (utc(2026, 11, 27, 14), datetime(2026, 11, 27, 9, tzinfo=CHICAGO), 60),
        # Same zone on both sides across the clock changes: real minutes, not wall-clock minutes.
        (datetime(2026, 11, 1, 1, tzinfo=CHICAGO), datetime(2026, 11, 1, 2, tzinfo=CHICAGO), 120),
        (datetime(2026, 3, 8, 1, tzinfo=CHICAGO), datetime(2026, 3, 8, 3, tzinfo=CHICAGO), 60),
        (datetime(2026, 10, 25, 1, tzinfo=BERLIN), datetime(2026, 10, 25, 4, tzinfo=BERLIN), 240),
    ],
)
def test_minutes_span_counts_real_minutes(start: datetime, end: datetime, minutes: int) -> None:
    assert texts.minutes_span(start, end) == minutes


@pytest.mark.parametrize(
    ("minutes", "phrase"),
    [
        (0, "0 minutes"),
        (1, "1 minute"),
        (45, "45 minutes"),
        (60, "1 hour"),
        (61, "1 hour 1 minute"),
        (90, "1 hour 30 minutes"),
        (240, "4 hours"),
        (241, "4 hours 1 minute"),
    ],
)
def test_hours_phrase(minutes: int, phrase: str) -> None:
    assert texts.hours_phrase(minutes) == phrase

"""Working-hours arithmetic across weekends, pauses and both daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.hours import WorkingHours

CHICAGO = WorkingHours(ZoneInfo("America/Chicago"))
BERLIN = WorkingHours(ZoneInfo("Europe/Berlin"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_inside_working_hours_is_now() -> None:
    monday_10am_chicago = utc(2026, 11, 23, 16, 0)
    assert CHICAGO.is_working(monday_10am_chicago)
    assert CHICAGO.next_open(monday_10am_chicago) == monday_10am_chicago


def test_a_night_waits_for_the_morning() -> None:
    monday_11pm_chicago = utc(2026, 11, 24, 5, 0)
    assert not CHICAGO.is_working(monday_11pm_chicago)
    assert CHICAGO.next_open(monday_11pm_chicago) == utc(2026, 11, 24, 14, 0)  # Tuesday 8am


def test_a_weekend_waits_for_monday() -> None:
    saturday_noon_berlin = utc(2026, 11, 28, 11, 0)
    assert BERLIN.next_open(saturday_noon_berlin) == utc(2026, 11, 30, 7, 0)  # Monday 8am CET


def test_friday_evening_waits_for_monday() -> None:
    friday_6pm_chicago = utc(2026, 11, 28, 0, 0)
    assert CHICAGO.next_open(friday_6pm_chicago) == utc(2026, 11, 30, 14, 0)


@pytest.mark.parametrize(
    ("hours", "sunday_night", "monday_8am"),
    [
        # Spring forward: Chicago 2026-03-08, Berlin 2026-03-29; Monday 8am is an hour earlier in UTC.
        (CHICAGO, utc(2026, 3, 8, 12, 0), utc(2026, 3, 9, 13, 0)),
        (BERLIN, utc(2026, 3, 29, 12, 0), utc(2026, 3, 30, 6, 0)),
        # Fall back: Chicago 2026-11-01, Berlin 2026-10-25; Monday 8am is an hour later in UTC.
        (CHICAGO, utc(2026, 11, 1, 12, 0), utc(2026, 11, 2, 14, 0)),
        (BERLIN, utc(2026, 10, 25, 12, 0), utc(2026, 10, 26, 7, 0)),
    ],
)
def test_the_first_working_morning_after_a_dst_change_is_8am_local(
    hours: WorkingHours, sunday_night: datetime, monday_8am: datetime
) -> None:
    opens = hours.next_open(sunday_night)

    assert opens == monday_8am
    assert opens.astimezone(hours.tz).time() == time(8)


def test_working_hours_carry_over_the_evening_and_the_weekend() -> None:
    friday_4pm_chicago = utc(2026, 11, 27, 22, 0)

    # 2 hours left on Friday, then 2 more from Monday 8am.
    assert CHICAGO.add(friday_4pm_chicago, timedelta(hours=4)) == utc(2026, 11, 30, 16, 0)


def test_working_hours_from_the_night_start_in_the_morning() -> None:
    assert CHICAGO.add(utc(2026, 11, 24, 5, 0), timedelta(hours=4)) == utc(2026, 11, 24, 18, 0)


def test_a_pause_holds_everything_until_its_date() -> None:
    on_vacation = WorkingHours(ZoneInfo("America/Chicago"), paused_until=date(2026, 12, 7))

    assert on_vacation.next_open(utc(2026, 11, 23, 16, 0)) == utc(2026, 12, 7, 14, 0)


def test_the_working_day_before_a_monday_is_friday() -> None:
    assert CHICAGO.working_day_before(date(2026, 11, 30)) == date(2026, 11, 27)
    assert CHICAGO.working_day_before(date(2026, 11, 25)) == date(2026, 11, 24)


def test_custom_hours_and_days() -> None:
    early_six_days = WorkingHours(
        ZoneInfo("Europe/Berlin"), start=time(7), end=time(15), days=frozenset(range(6))
    )

    assert early_six_days.next_open(utc(2026, 11, 28, 5, 0)) == utc(2026, 11, 28, 6, 0)  # Saturday 7am
    assert not early_six_days.is_working(utc(2026, 11, 28, 14, 30))  # 15:30 CET


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)))
def test_next_open_is_always_working_time_and_never_earlier(at: datetime) -> None:
    for hours in (CHICAGO, BERLIN):
        opens = hours.next_open(at)
        assert opens >= at
        assert hours.is_working(opens)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=60 * 60 * 40),
)
def test_adding_working_time_ends_inside_working_time(at: datetime, seconds: int) -> None:
    later = CHICAGO.add(at, timedelta(seconds=seconds))

    assert later >= at + timedelta(seconds=seconds)
    # The last second counted was working time (the result may be the very moment work ends).
    assert CHICAGO.is_working(later - timedelta(seconds=1))


def test_working_time_between_skips_nights_and_weekends() -> None:
    friday_4pm_chicago = utc(2026, 11, 27, 22, 0)
    monday_10am_chicago = utc(2026, 11, 30, 16, 0)

    assert CHICAGO.between(friday_4pm_chicago, monday_10am_chicago) == timedelta(hours=4)
    assert CHICAGO.between(monday_10am_chicago, friday_4pm_chicago) == timedelta(0)


def test_working_time_between_on_a_dst_day_counts_real_hours() -> None:
    # Monday 2 November 2026, the day after Chicago falls back: 8am-6pm is ten real hours.
    assert CHICAGO.between(utc(2026, 11, 2, 0, 0), utc(2026, 11, 3, 0, 0)) == timedelta(hours=10)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=60 * 60 * 40),
)
def test_between_undoes_add(at: datetime, seconds: int) -> None:
    later = BERLIN.add(at, timedelta(seconds=seconds))

    assert BERLIN.between(at, later) == timedelta(seconds=seconds)


def test_working_days_between() -> None:
    assert CHICAGO.working_days_between(date(2026, 11, 27), date(2026, 12, 2)) == 3  # Mon, Tue, Wed
    assert CHICAGO.working_days_between(date(2026, 11, 27), date(2026, 11, 27)) == 0
